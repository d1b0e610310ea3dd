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

from ppt_bench.harness.scoring import CALIB_SUFFIX, choice_loglikelihoods, item_metrics, lm_eval_dataset
from ppt_bench.harness.sizes import DEFAULT_SIZE, announce, check_size

EVAL_SEEDS = {"ppt_motifs_heldout": 1_000_001, "ppt_motifs_train": 1_000_002}
# Scenarios per motif (scenario i uses motif i % M, so every motif gets exactly this many):
# >= 100 per held-out motif (`sizes.MIN_PER_MOTIF`, 95% half-width <= 0.098 per motif).
SIZES = {"quick": 100, "full": 400, "paper": 400}  # the paper sizes the BT protocol only
CALIB_SEEDS = {"ppt_motifs_heldout": 2_000_001, "ppt_motifs_train": 2_000_002}
CALIB_SIZES = {"quick": 300, "full": 1000, "paper": 1000}  # scenarios per twin (>= `sizes.MIN_CALIB`)


def scenario_count(task: str, size: str = DEFAULT_SIZE) -> int:
    """Scenarios of a task at a size: SIZES[size] x its motifs, or CALIB_SIZES[size] for a twin."""
    from ppt_bench.programs.motifs import motifs_for_split

    check_size(size, SIZES)
    family = task.removesuffix(CALIB_SUFFIX)
    if family != task:
        return CALIB_SIZES[size]
    split = "heldout" if family == "ppt_motifs_heldout" else "train"
    return SIZES[size] * len(motifs_for_split(split))


def ppt_documents(task: str, size: str = DEFAULT_SIZE, seed: int | None = None,
                  count: int | None = None) -> list[dict]:
    """The task's scenarios as documents (question = the scenario prompt, labels A..); `task` may be a
    calibration twin (`ppt_motifs_heldout_calib`): same motifs, its own seed and size. `count`
    overrides the size's number of scenarios."""
    from ppt_bench.programs import generate_scenarios

    count = scenario_count(task, size) if count is None else count
    family = task.removesuffix(CALIB_SUFFIX)
    calib = family != task
    split = "heldout" if family == "ppt_motifs_heldout" else "train"
    seed = (CALIB_SEEDS if calib else EVAL_SEEDS)[family] if seed is None else seed
    return [{"id": scenario.id, "question": scenario.prompt, "answer_prefix": "Answer:",
             "labels": list(scenario.labels), "choices": list(scenario.choices),
             "soft_label": list(scenario.soft_label), "outcome": scenario.outcome,
             "motif": scenario.motif, "skin": scenario.skin}
            for scenario in generate_scenarios(count, seed=seed, split=split)]


def load(task: str, size: str = DEFAULT_SIZE, **metadata: Any):
    """`custom_dataset` entry point; `size` comes from the suite's metadata; prints the count."""
    docs = ppt_documents(task, size)
    motifs = {doc["motif"] for doc in docs}
    announce(task, size, len(docs), f"{len(motifs)} motifs, "
             f"{min(sum(doc['motif'] == m for doc in docs) for m in motifs):,} or more per motif")
    return lm_eval_dataset(docs)


def process_results(doc: dict, results: list) -> dict[str, Any]:
    """kl, tv, w1 (over the choice order), mode_agree against the exact posterior; acc, nll, brier
    and the calibration payloads against the outcome the program drew."""
    return item_metrics(choice_loglikelihoods(results), doc["soft_label"], doc["outcome"], ordinal=True)
