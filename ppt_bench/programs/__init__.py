"""PPT: open-world scenarios as numpyro programs, exact soft labels, generation, authored programs.

Public API (loaded lazily, so `import ppt_bench.programs` imports neither jax nor numpyro):

    MOTIFS                      dict name -> Motif (16 motifs; `motif.split` is 'train' or 'heldout')
    motifs_for_split(split)     the motifs of 'train', 'heldout' or 'all'
    Motif, Choices, Skin, LABELS
    Scenario                    frozen record; .to_json() / Scenario.from_json(line)
    make_scenario(motif, seed)  one scenario (program run + exact soft label)
    generate_scenarios(n, seed, split)                 iterator of Scenario, deterministic
    write_scenarios(path, n, seed, split, ...)         resumable JSONL / parquet writer
    read_scenarios(path)
    exact_choice_probs, generic_choice_probs    (compare them with `ppt_bench.metrics.tv`)
"""

from __future__ import annotations

import importlib

_EXPORTS = {
    "MOTIFS": "ppt_bench.programs.motifs",
    "motifs_for_split": "ppt_bench.programs.motifs",
    "Motif": "ppt_bench.programs._motif",
    "Choices": "ppt_bench.programs._motif",
    "Skin": "ppt_bench.programs._motif",
    "LABELS": "ppt_bench.programs._motif",
    "Scenario": "ppt_bench.programs.scenario",
    "make_scenario": "ppt_bench.programs.scenario",
    "generate_scenarios": "ppt_bench.programs.generate",
    "write_scenarios": "ppt_bench.programs.generate",
    "read_scenarios": "ppt_bench.programs.generate",
    "exact_choice_probs": "ppt_bench.programs.inference",
    "generic_choice_probs": "ppt_bench.programs.inference",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'ppt_bench.programs' has no attribute {name!r}")
