"""Datasets and scoring of the PPT tasks: `ppt_motifs_heldout` and `ppt_motifs_train`.

Scenarios come from the motif library (`ppt_bench.programs`) with fixed evaluation seeds that no
training command uses by default (training data: `ppt-bench generate scenarios --seed 0`), so the
documents are rebuilt identically on every machine with no download. `ppt_motifs_heldout` holds
only the held-out motifs (never used for training data), `ppt_motifs_train` the training motifs
(in-distribution comparison). Each document's `motif` field gives per-motif breakdowns from the
logged samples.

Each task has a calibration twin, `<task>_calib`: the same motifs generated with another seed
(`CALIB_SEEDS`), scored in the same run, on which `ppt-bench report` fits the temperature, so T is
never fitted on the test items.
"""

from __future__ import annotations

from typing import Any

from ppt_bench.harness.scoring import CALIB_SUFFIX, choice_loglikelihoods, item_metrics

EVAL_SEEDS = {"ppt_motifs_heldout": 1_000_001, "ppt_motifs_train": 1_000_002}
SIZES = {"quick": 60, "full": 2000}  # scenarios per task
CALIB_SEEDS = {"ppt_motifs_heldout": 2_000_001, "ppt_motifs_train": 2_000_002}
CALIB_SIZES = {"quick": 40, "full": 1000}  # scenarios per calibration task


def ppt_documents(task: str, size: str = "full", seed: int | None = None, count: int | None = None) -> list[dict]:
    """The task's scenarios as documents (question = the scenario prompt, labels A..); `task` may be a
    calibration twin (`ppt_motifs_heldout_calib`): same motifs, its own seed and size. `count`
    overrides the size's number of scenarios."""
    from ppt_bench.programs import generate_scenarios

    if size not in SIZES:
        raise ValueError(f"size must be one of {sorted(SIZES)}, not {size!r}")
    family = task.removesuffix(CALIB_SUFFIX)
    calib = family != task
    split = "heldout" if family == "ppt_motifs_heldout" else "train"
    seed = (CALIB_SEEDS if calib else EVAL_SEEDS)[family] if seed is None else seed
    count = (CALIB_SIZES if calib else SIZES)[size] if count is None else count
    return [{"id": scenario.id, "question": scenario.prompt, "answer_prefix": "Answer:",
             "labels": list(scenario.labels), "choices": list(scenario.choices),
             "soft_label": list(scenario.soft_label), "outcome": scenario.outcome,
             "motif": scenario.motif, "skin": scenario.skin}
            for scenario in generate_scenarios(count, seed=seed, split=split)]


def load(task: str, size: str = "full", **metadata: Any):
    """`custom_dataset` entry point; `size` comes from the suite's metadata."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(ppt_documents(task, size))})


def process_results(doc: dict, results: list) -> dict[str, Any]:
    """kl, tv, w1 (over the choice order), mode_agree against the exact posterior; acc, nll, brier
    and the calibration payloads against the outcome the program drew."""
    return item_metrics(choice_loglikelihoods(results), doc["soft_label"], doc["outcome"], ordinal=True)
