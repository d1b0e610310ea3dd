"""lm-eval glue for scoring: per-item values from `process_results`, pooled aggregations.

lm-eval 0.4.13 hands `process_results(doc, results)` one `(loglikelihood, is_greedy)` pair per choice;
the model's distribution is p = softmax(loglikelihoods) (`prompting.py`). `item_metrics` returns plain
floats for metrics that are means, and small lists for pooled metrics, which lm-eval gathers and
passes to the aggregation functions below (named in the task YAMLs as `!function utils.<name>`):

    ece, ece_em   [confidence, correct]           -> top-label ECE, equal-width / equal-mass bins
    soft_ece      [confidence, q[argmax p]]        -> ECE against the soft label
    *_cv          [y, ll_1, ..., ll_K]             -> temperature-scaled NLL / ECE / Brier, T cross-fitted
                                                       over 5 folds (`calibration.cross_fit`; never
                                                       fitted on the scored items)

The per-item values are `metrics.per_item`'s and the aggregates `metrics`' and `calibration`'s:
nothing is computed here, only packed for lm-eval.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ppt_bench import calibration, metrics
from ppt_bench.errors import DataError

N_FOLDS = 5
# `<task>_calib` is a generated task's calibration twin (same family, another seed, scored in the same
# run): `ppt-bench report` fits the temperature on it; leaderboards and figures leave twins out.
CALIB_SUFFIX = "_calib"
# What `from ppt_bench.harness.scoring import *` gives a task folder's utils.py: the pooled
# aggregations its YAML names as `!function utils.<name>`.
__all__ = ["agg_brier_cv", "agg_ece", "agg_ece_em", "agg_ece_cv", "agg_nll_cv", "agg_soft_ece"]


def lm_eval_dataset(docs: list[dict]):
    """What a task's `custom_dataset` entry point returns: a DatasetDict with one `test` split.

    Every document's `soft_label` (where it has one) is checked to be a distribution over its
    `labels` (`metrics.check_soft_label`); DataError naming the document otherwise."""
    import datasets

    for number, doc in enumerate(docs):
        if doc.get("soft_label") is not None:
            try:
                metrics.check_soft_label(doc["soft_label"], len(doc.get("labels") or doc["soft_label"]))
            except ValueError as error:
                raise DataError(f"document {doc.get('id', number)}: {error}") from None

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def choice_loglikelihoods(results: Sequence[Any]) -> np.ndarray:
    """lm-eval's `results` ([(loglikelihood, is_greedy), ...] or plain floats) -> (K,) float64."""
    return np.array([r[0] if isinstance(r, (tuple, list)) else r for r in results], dtype=np.float64)


def item_metrics(loglikelihoods: Sequence[float], soft_label: Sequence[float] | None = None,
                 outcome: int | None = None, ordinal: bool = False) -> dict[str, Any]:
    """Every per-item value for one document (`metrics.per_item` of p = softmax(loglikelihoods)).

    Without `outcome` the outcome-based metrics (acc, nll, brier, ece*, *_cv) are left out; without
    `soft_label` the distribution metrics (kl, tv, w1, mode_agree, soft_ece) are.
    """
    lls = np.asarray(loglikelihoods, dtype=np.float64)
    item = metrics.per_item(metrics.softmax(lls), outcome, soft_label, ordinal)
    confidence = item["confidence"]
    values: dict[str, Any] = {}
    if outcome is not None:
        values.update(acc=item["acc"], nll=item["nll"], brier=item["brier"])
        # lm-eval pools these lists for the aggregations; acc is the expected correctness under ties
        values.update(ece=[confidence, item["acc"]], ece_em=[confidence, item["acc"]])
        pooled = [float(int(outcome)), *lls.tolist()]
        values.update(nll_cv=pooled, ece_cv=pooled, brier_cv=pooled)
    if soft_label is not None:
        values.update(kl=item["kl"], tv=item["tv"], mode_agree=item["mode_agree"],
                      soft_ece=[confidence, item["soft_correct"]])
        if ordinal:
            values["w1"] = item["w1"]
    return values


# --- aggregations (lists of per-item values -> one number) ---------------------------------------

def _pairs(items: Sequence[Sequence[float]]) -> tuple[np.ndarray, np.ndarray]:
    array = np.asarray(items, dtype=np.float64).reshape(-1, 2)
    return array[:, 0], array[:, 1]


def agg_ece(items: Sequence[Sequence[float]]) -> float:
    return metrics.ece(*_pairs(items))


def agg_ece_em(items: Sequence[Sequence[float]]) -> float:
    return metrics.ece_equal_mass(*_pairs(items))


def agg_soft_ece(items: Sequence[Sequence[float]]) -> float:
    return metrics.soft_ece(*_pairs(items))


def temperature_scaled(items: Sequence[Sequence[float]]) -> calibration.ItemValues:
    """Per-item values of the cross-fitted temperature-scaled distributions of `[y, ll_1..ll_K]` items."""
    labels = np.array([int(item[0]) for item in items], dtype=int)
    logits = [np.asarray(item[1:], dtype=np.float64) for item in items]
    probs, _ = calibration.cross_fit(logits, labels, n_folds=N_FOLDS)
    return calibration.item_values(probs, labels)


def agg_nll_cv(items: Sequence[Sequence[float]]) -> float:
    return calibration.aggregate(temperature_scaled(items))["nll"]


def agg_brier_cv(items: Sequence[Sequence[float]]) -> float:
    return calibration.aggregate(temperature_scaled(items))["brier"]


def agg_ece_cv(items: Sequence[Sequence[float]]) -> float:
    return calibration.aggregate(temperature_scaled(items))["ece"]
