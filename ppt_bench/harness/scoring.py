"""lm-eval glue for scoring: per-item values from `process_results`, pooled aggregations.

lm-eval 0.4.13 hands `process_results(doc, results)` one `(loglikelihood, is_greedy)` pair per choice;
the model's distribution is p = softmax(loglikelihoods) (`prompting.py`). `item_metrics` returns plain
floats for metrics that are means, and small lists for pooled metrics, which lm-eval gathers and
passes to the aggregation functions below (named in the task YAMLs as `!function utils.<name>`):

    ece, ece_em   [confidence, correct]           -> top-label ECE, equal-width / equal-mass bins
    soft_ece      [confidence, q[argmax p]]        -> ECE against the soft label
    *_cv          [y, ll_1, ..., ll_K]             -> temperature-scaled NLL / ECE / Brier, T cross-fitted
                                                       over 5 folds (never fitted on the scored items)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ppt_bench import metrics

N_FOLDS = 5
# `<task>_calib` is a generated task's calibration twin (same family, another seed, scored in the same
# run): `ppt-bench report` fits the temperature on it; leaderboards and figures leave twins out.
CALIB_SUFFIX = "_calib"
# What `from ppt_bench.harness.scoring import *` gives a task folder's utils.py: the pooled
# aggregations its YAML names as `!function utils.<name>`.
__all__ = ["agg_brier_cv", "agg_ece", "agg_ece_em", "agg_ece_cv", "agg_nll_cv", "agg_soft_ece"]


def lm_eval_dataset(docs: list[dict]):
    """What a task's `custom_dataset` entry point returns: a DatasetDict with one `test` split."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def choice_loglikelihoods(results: Sequence[Any]) -> np.ndarray:
    """lm-eval's `results` ([(loglikelihood, is_greedy), ...] or plain floats) -> (K,) float64."""
    return np.array([r[0] if isinstance(r, (tuple, list)) else r for r in results], dtype=np.float64)


def item_metrics(loglikelihoods: Sequence[float], soft_label: Sequence[float] | None = None,
                 outcome: int | None = None, ordinal: bool = False) -> dict[str, Any]:
    """Every per-item value for one document (see `ppt_bench.metrics` for the definitions).

    Without `outcome` the outcome-based metrics (acc, nll, brier, ece*, *_cv) are left out; without
    `soft_label` the distribution metrics (kl, tv, w1, mode_agree, soft_ece) are.
    """
    lls = np.asarray(loglikelihoods, dtype=np.float64)
    probs = metrics.softmax(lls)
    confidence, _ = metrics.top_label(probs)
    values: dict[str, Any] = {}
    if outcome is not None:
        y = int(outcome)
        values.update(acc=metrics.acc(probs, y), nll=metrics.nll(probs, y), brier=metrics.brier(probs, y))
        correct = values["acc"]  # expected correctness when p has tied maxima
        values.update(ece=[confidence, correct], ece_em=[confidence, correct])
        pooled = [float(y), *lls.tolist()]
        values.update(nll_cv=pooled, ece_cv=pooled, brier_cv=pooled)
    if soft_label is not None:
        q = np.asarray(soft_label, dtype=np.float64)
        values.update(kl=metrics.kl(q, probs), tv=metrics.tv(q, probs),
                      mode_agree=metrics.mode_agree(q, probs),
                      soft_ece=[confidence, float(q[metrics.argmax_set(probs)].mean())])
        if ordinal:
            values["w1"] = metrics.w1(q, probs)
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


def temperature_scaled(items: Sequence[Sequence[float]]) -> tuple[list[np.ndarray], np.ndarray]:
    """Cross-fitted temperature-scaled probabilities and the outcomes from `[y, ll_1..ll_K]` items."""
    labels = np.array([int(item[0]) for item in items], dtype=int)
    logits = [np.asarray(item[1:], dtype=np.float64) for item in items]
    probs, _ = metrics.cross_fit(logits, labels, n_folds=N_FOLDS)
    return probs, labels


def agg_nll_cv(items: Sequence[Sequence[float]]) -> float:
    probs, labels = temperature_scaled(items)
    return float(np.mean([metrics.nll(p, y) for p, y in zip(probs, labels, strict=True)]))


def agg_brier_cv(items: Sequence[Sequence[float]]) -> float:
    probs, labels = temperature_scaled(items)
    return float(np.mean([metrics.brier(p, y) for p, y in zip(probs, labels, strict=True)]))


def agg_ece_cv(items: Sequence[Sequence[float]]) -> float:
    probs, labels = temperature_scaled(items)
    confidences = [metrics.top_label(p)[0] for p in probs]
    return metrics.ece(confidences, [metrics.acc(p, y) for p, y in zip(probs, labels, strict=True)])
