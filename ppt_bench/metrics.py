"""Per-item and aggregate metrics for distributions over K labelled choices (numpy and scipy only).

Notation: `p` (K,) the model's distribution over the choices, `q` (K,) the soft label (exact
posterior, Bayesian Assistant's predictive or human histogram), `y` the realised outcome (an index).

Per item:
    kl          KL(q || p) = sum_k q_k (log q_k - log max(p_k, 1e-12))     (terms with q_k = 0 vanish)
    tv          0.5 * sum_k |q_k - p_k|
    w1          Wasserstein-1 between p and q on ordinal bins 0..K-1, in bin units, divided by K - 1:
                sum_k |P_k - Q_k| / (K - 1) with P, Q the CDFs (0 when K = 1)
    mode_agree  [argmax p == argmax q]
    acc         [argmax p == y]
    soft_correct q[argmax p], the exact probability that the top choice is right
                (the argmax of q is its first maximal index; when p itself has tied maxima, as a
                uniform model does, acc, mode_agree and soft_correct are their expected values under
                a uniform random choice among p's tied maxima, so a uniform model's acc is exactly 1/K)
    nll         -log max(p_y, 1e-12)
    brier       sum_k (p_k - [k == y])^2
    `per_item` computes all of them for one item; every caller (lm-eval scoring, the calibration
    report) takes its per-item values from it.

Aggregate over items (confidence c_i = max_k p_ik, prediction k_i = argmax_k p_ik):
    ece         top-label ECE, 15 equal-width bins on [0, 1] (Guo et al. 2017):
                sum_b (n_b / n) |mean_{i in b} [k_i == y_i] - mean_{i in b} c_i|
    ece_em      the same with 10 equal-mass bins (HELM): items sorted by confidence, split in 10
                groups of (almost) equal size
    soft_ece    the ECE binning of `ece` comparing c_i with soft_correct_i (lower variance than the
                realised outcome)
    The binned gap sum_b |sum_{i in b} (target_i - c_i)| / n is written once (`binned_gap`);
    `bin_stats` gives the per-bin means that reliability diagrams draw.

Soft labels: `check_soft_label` is the one check that a soft label is a distribution (float64,
non-negative, sum within `SOFT_LABEL_ATOL` of 1), used wherever soft labels are made or read.

Temperature scaling (fitting T, cross-fitting) is `ppt_bench.calibration`'s; this module only
applies a temperature (`softmax(logits, T)`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CLIP = 1e-12


# --- distributions ------------------------------------------------------------------------------

def softmax(logits: np.ndarray, temperature: float = 1.0) -> np.ndarray:
    """softmax(logits / T) over the last axis; `logits` (..., K) may hold log-likelihoods."""
    scaled = np.asarray(logits, dtype=np.float64) / temperature
    scaled = scaled - scaled.max(axis=-1, keepdims=True)
    exp = np.exp(scaled)
    return exp / exp.sum(axis=-1, keepdims=True)


TIE_ATOL = 1e-12


def argmax_set(probs: Sequence[float], atol: float = TIE_ATOL) -> np.ndarray:
    """Indices of the maximal entries (within `atol`, so float noise never splits a tie)."""
    probs = np.asarray(probs, dtype=np.float64)
    return np.flatnonzero(probs >= probs.max() - atol)


def first_argmax(probs: Sequence[float], atol: float = TIE_ATOL) -> int:
    """Index of the largest entry, ties within `atol` to the lowest index."""
    return int(argmax_set(probs, atol)[0])


def _hit(p: Sequence[float], target: int) -> float:
    """P(a uniform choice among p's maxima is `target`) = [target in T] / |T|."""
    tied = argmax_set(p)
    return float(target in tied) / len(tied)


def _pq(p, q) -> tuple[np.ndarray, np.ndarray]:
    p, q = np.asarray(p, dtype=np.float64), np.asarray(q, dtype=np.float64)
    if p.shape != q.shape:
        raise ValueError(f"p and q differ in shape: {p.shape} vs {q.shape}")
    return p, q


# Largest |sum(q) - 1| a soft label may have. Soft labels cross process and file boundaries (the
# sandbox child's JSON, generated JSONL, training files written by other tools): 1e-6 accepts the
# rounding of values stored with 7+ significant digits and still refuses any label that is visibly
# not a distribution. The exact posteriors themselves sum to 1 within ~1e-15.
SOFT_LABEL_ATOL = 1e-6


def check_soft_label(soft_label: Sequence[float], n_choices: int) -> np.ndarray:
    """The soft label as (n_choices,) float64 after checking it is a distribution: finite,
    non-negative, |sum - 1| <= `SOFT_LABEL_ATOL`. Raises ValueError (one line) otherwise."""
    probs = np.asarray(soft_label, dtype=np.float64)
    if probs.shape != (n_choices,):
        raise ValueError(f"soft label has shape {probs.shape}, expected ({n_choices},)")
    if not np.all(np.isfinite(probs)) or np.any(probs < 0) or abs(probs.sum() - 1.0) > SOFT_LABEL_ATOL:
        raise ValueError(f"soft label is not a distribution: {np.array2string(probs, max_line_width=10**6)}")
    return probs


# --- per item -----------------------------------------------------------------------------------

def kl(q: Sequence[float], p: Sequence[float]) -> float:
    """KL(q || p) in nats, with p clipped at 1e-12 and 0 log 0 = 0."""
    p, q = _pq(p, q)
    support = q > 0
    return float(np.sum(q[support] * (np.log(q[support]) - np.log(np.maximum(p[support], CLIP)))))


def tv(q: Sequence[float], p: Sequence[float]) -> float:
    """Total variation distance 0.5 * sum |q - p|."""
    p, q = _pq(p, q)
    return float(0.5 * np.abs(q - p).sum())


def w1(q: Sequence[float], p: Sequence[float]) -> float:
    """Wasserstein-1 on ordinal bins in bin units divided by K - 1, so it lies in [0, 1]."""
    p, q = _pq(p, q)
    if len(p) < 2:
        return 0.0
    return float(np.abs(np.cumsum(p) - np.cumsum(q))[:-1].sum() / (len(p) - 1))


def mode_agree(q: Sequence[float], p: Sequence[float]) -> float:
    """[argmax p == argmax q]: q's argmax is its first maximal index; over p's tied maxima the
    expected value of a uniform pick (1/|ties| when q's mode is among them)."""
    return _hit(p, first_argmax(q))


def acc(p: Sequence[float], y: int) -> float:
    """[argmax p == y], the expected value of a uniform pick among p's tied maxima (a uniform p
    scores exactly 1/K)."""
    return _hit(p, int(y))


def soft_correct(q: Sequence[float], p: Sequence[float]) -> float:
    """q[argmax p], the exact probability that the model's top choice is right: the mean of q over
    p's tied maxima (a uniform pick among them)."""
    p, q = _pq(p, q)
    return float(q[argmax_set(p)].mean())


def nll(p: Sequence[float], y: int) -> float:
    """-log max(p_y, 1e-12) in nats."""
    return float(-np.log(max(float(np.asarray(p)[y]), CLIP)))


def brier(p: Sequence[float], y: int) -> float:
    """Multiclass Brier score sum_k (p_k - [k == y])^2, in [0, 2]."""
    p = np.asarray(p, dtype=np.float64)
    onehot = np.zeros_like(p)
    onehot[y] = 1.0
    return float(np.sum((p - onehot) ** 2))


def per_item(p: Sequence[float], y: int | None = None, q: Sequence[float] | None = None,
             ordinal: bool = False) -> dict[str, float]:
    """Every per-item value of one distribution `p` (K,): `confidence` = max p always; with the
    outcome `y`: acc, nll, brier; with the soft label `q` (K,): kl, tv, mode_agree, soft_correct,
    and w1 when the choices are `ordinal`."""
    p = np.asarray(p, dtype=np.float64)
    values = {"confidence": float(p.max())}
    if y is not None:
        y = int(y)
        values.update(acc=acc(p, y), nll=nll(p, y), brier=brier(p, y))
    if q is not None:
        q = np.asarray(q, dtype=np.float64)
        values.update(kl=kl(q, p), tv=tv(q, p), mode_agree=mode_agree(q, p), soft_correct=soft_correct(q, p))
        if ordinal:
            values["w1"] = w1(q, p)
    return values


# --- aggregate ---------------------------------------------------------------------------------

def equal_width_bins(confidences: Sequence[float], n_bins: int = 15) -> np.ndarray:
    """Bin id of each confidence for `n_bins` equal-width bins on [0, 1] (1.0 goes to the last bin)."""
    return np.minimum((np.asarray(confidences) * n_bins).astype(int), n_bins - 1)


def equal_mass_bins(confidences: Sequence[float], n_bins: int = 10) -> np.ndarray:
    """Bin id of each confidence for min(n_bins, n) groups of (almost) equal size in confidence
    order (ties kept in input order); the first n % groups groups hold one item more."""
    n_items = len(confidences)
    n_groups = min(n_bins, max(n_items, 1))
    sizes = np.full(n_groups, n_items // n_groups)
    sizes[:n_items % n_groups] += 1
    bins = np.empty(n_items, dtype=int)
    bins[np.argsort(np.asarray(confidences), kind="stable")] = np.repeat(np.arange(n_groups), sizes)
    return bins


def bin_stats(confidences: Sequence[float], targets: Sequence[float], bins: np.ndarray,
              n_bins: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(count, mean confidence, mean target) per bin id 0..n_bins-1, each (n_bins,); the means are
    nan in empty bins. What a reliability diagram draws."""
    confidences, targets = np.asarray(confidences, float), np.asarray(targets, float)
    counts = np.bincount(bins, minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_confidence = np.bincount(bins, weights=confidences, minlength=n_bins) / counts
        mean_target = np.bincount(bins, weights=targets, minlength=n_bins) / counts
    return counts, mean_confidence, mean_target


def binned_gap(confidences: Sequence[float], targets: Sequence[float], bins: np.ndarray) -> float:
    """sum_b (n_b / n) |mean_{i in b} target_i - mean_{i in b} c_i| = sum_b |sum_{i in b} (target_i -
    c_i)| / n for bin ids `bins` (n,); nan for no items. Every ECE of ppt-bench is this gap."""
    confidences, targets = np.asarray(confidences, float), np.asarray(targets, float)
    if len(confidences) == 0:
        return float("nan")
    return float(np.abs(np.bincount(bins, weights=targets - confidences)).sum() / len(confidences))


def ece(confidences: Sequence[float], correct: Sequence[float], n_bins: int = 15) -> float:
    """Top-label expected calibration error, `n_bins` equal-width bins (Guo et al. 2017); `correct`
    may be fractional (expected correctness under ties)."""
    return binned_gap(confidences, correct, equal_width_bins(confidences, n_bins))


def ece_equal_mass(confidences: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """Top-label ECE with `n_bins` equal-mass bins (HELM's `ece_10_bin`)."""
    return binned_gap(confidences, correct, equal_mass_bins(confidences, n_bins))


def soft_ece(confidences: Sequence[float], soft_correct: Sequence[float], n_bins: int = 15) -> float:
    """ECE against the soft label: `soft_correct[i]` = q_i[argmax p_i]; equal-width bins as `ece`."""
    return ece(confidences, soft_correct, n_bins)


def top_label(probs: Sequence[float]) -> tuple[float, int]:
    """(confidence, predicted index) of one distribution (first index on ties)."""
    probs = np.asarray(probs, dtype=np.float64)
    k = first_argmax(probs)
    return float(probs[k]), k


def spearman(x: Sequence[float], y: Sequence[float]) -> float:
    """Spearman rank correlation (average ranks for ties); nan when either side is constant."""
    from scipy.stats import spearmanr

    x, y = np.asarray(x, float), np.asarray(y, float)
    if len(x) < 2 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return float("nan")
    return float(spearmanr(x, y).statistic)
