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
                (the argmax of q is its first maximal index; when p itself has tied maxima, as a
                uniform model does, acc and mode_agree are their expected values under a uniform
                random choice among p's tied maxima, so a uniform model scores exactly 1/K)
    nll         -log max(p_y, 1e-12)
    brier       sum_k (p_k - [k == y])^2

Aggregate over items (confidence c_i = max_k p_ik, prediction k_i = argmax_k p_ik):
    ece         top-label ECE, 15 equal-width bins on [0, 1] (Guo et al. 2017):
                sum_b (n_b / n) |mean_{i in b} [k_i == y_i] - mean_{i in b} c_i|
    ece_em      the same with 10 equal-mass bins (HELM): items sorted by confidence, split in 10
                groups of (almost) equal size
    soft_ece    the ECE binning of `ece` comparing c_i with q_i[k_i], the exact probability that the
                top choice is right (lower variance than the realised outcome)

Temperature scaling: p_T = softmax(logits / T), log T fitted by minimising the mean NLL; `cross_fit`
fits T on K-1 folds and scales the held-out fold, so no item is scored with a T fitted on it.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

CLIP = 1e-12
LOG_T_BOUNDS = (-5.0, 5.0)  # T in [0.0067, 148]


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
    """1.0 when the model's most likely choice is the soft label's (first index on ties), else 0.0."""
    return _hit(p, first_argmax(q))


def acc(p: Sequence[float], y: int) -> float:
    """1.0 when the most likely choice (first index on ties) is the outcome."""
    return _hit(p, int(y))


def nll(p: Sequence[float], y: int) -> float:
    return float(-np.log(max(float(np.asarray(p)[y]), CLIP)))


def brier(p: Sequence[float], y: int) -> float:
    """Multiclass Brier score sum_k (p_k - [k == y])^2, in [0, 2]."""
    p = np.asarray(p, dtype=np.float64)
    onehot = np.zeros_like(p)
    onehot[y] = 1.0
    return float(np.sum((p - onehot) ** 2))


# --- aggregate ----------------------------------------------------------------------------------

def _binned_gap(confidences: np.ndarray, targets: np.ndarray, bins: np.ndarray) -> float:
    """sum_b (n_b / n) |mean(targets in b) - mean(confidences in b)| for bin ids `bins`."""
    total = 0.0
    for b in np.unique(bins):
        members = bins == b
        total += members.sum() * abs(targets[members].mean() - confidences[members].mean())
    return float(total / len(confidences))


def equal_width_bins(confidences: np.ndarray, n_bins: int = 15) -> np.ndarray:
    """Bin id of each confidence for `n_bins` equal-width bins on [0, 1] (1.0 goes to the last bin)."""
    return np.minimum((np.asarray(confidences) * n_bins).astype(int), n_bins - 1)


def equal_mass_bins(confidences: np.ndarray, n_bins: int = 10) -> np.ndarray:
    """Bin id of each confidence for `n_bins` groups of (almost) equal size in confidence order."""
    order = np.argsort(confidences, kind="stable")
    bins = np.empty(len(confidences), dtype=int)
    for b, members in enumerate(np.array_split(order, min(n_bins, max(len(confidences), 1)))):
        bins[members] = b
    return bins


def ece(confidences: Sequence[float], correct: Sequence[float], n_bins: int = 15) -> float:
    """Top-label expected calibration error, equal-width bins (Guo et al. 2017)."""
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    if len(confidences) == 0:
        return float("nan")
    return _binned_gap(confidences, correct, equal_width_bins(confidences, n_bins))


def ece_equal_mass(confidences: Sequence[float], correct: Sequence[float], n_bins: int = 10) -> float:
    """Top-label ECE with equal-mass bins (HELM's `ece_10_bin`)."""
    confidences, correct = np.asarray(confidences, float), np.asarray(correct, float)
    if len(confidences) == 0:
        return float("nan")
    return _binned_gap(confidences, correct, equal_mass_bins(confidences, n_bins))


def soft_ece(confidences: Sequence[float], soft_correct: Sequence[float], n_bins: int = 15) -> float:
    """ECE against the soft label: `soft_correct[i]` = q_i[argmax p_i]; equal-width bins as `ece`."""
    return ece(confidences, soft_correct, n_bins)


def top_label(probs: Sequence[float]) -> tuple[float, int]:
    """(confidence, predicted index) of one distribution."""
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


# --- temperature scaling ------------------------------------------------------------------------

def mean_nll_at(logits: Sequence[np.ndarray], labels: Sequence[int], temperature: float) -> float:
    """Mean NLL of softmax(logits_i / T) at labels_i; `logits` may be ragged (K_i per item)."""
    return float(np.mean([nll(softmax(row, temperature), y) for row, y in zip(logits, labels, strict=True)]))


def fit_temperature(logits: Sequence[np.ndarray], labels: Sequence[int]) -> float:
    """T minimising mean NLL of softmax(logits / T) (bounded search over log T; 1.0 if no items)."""
    from scipy.optimize import minimize_scalar

    if len(labels) == 0:
        return 1.0
    rows = [np.asarray(row, dtype=np.float64) for row in logits]
    width = max(len(row) for row in rows)
    # Pad ragged rows with -inf so one vectorised softmax serves every K.
    padded = np.full((len(rows), width), -np.inf)
    for i, row in enumerate(rows):
        padded[i, :len(row)] = row - row.max()
    labels = np.asarray(labels, dtype=int)

    def objective(log_t: float) -> float:
        scaled = padded / np.exp(log_t)
        log_norm = np.log(np.exp(scaled - scaled.max(axis=1, keepdims=True)).sum(axis=1)) \
            + scaled.max(axis=1)
        return float(np.mean(log_norm - scaled[np.arange(len(labels)), labels]))

    result = minimize_scalar(objective, bounds=LOG_T_BOUNDS, method="bounded",
                             options={"xatol": 1e-6})
    return float(np.exp(result.x))


def cross_fit(logits: Sequence[np.ndarray], labels: Sequence[int], n_folds: int = 5,
              seed: int = 0) -> tuple[list[np.ndarray], np.ndarray]:
    """Temperature-scaled probabilities for every item, each with T fitted on the other folds.

    Items are assigned to `n_folds` folds by a seeded permutation. Returns (probs per item, T per
    fold). With fewer than 2 * n_folds items, T = 1 (nothing is fitted on the items it scores).
    """
    n_items = len(labels)
    rows = [np.asarray(row, dtype=np.float64) for row in logits]
    if n_items < 2 * n_folds:
        return [softmax(row) for row in rows], np.ones(1)
    folds = np.random.default_rng(seed).permutation(n_items) % n_folds
    labels = np.asarray(labels, dtype=int)
    probs: list[np.ndarray] = [np.empty(0)] * n_items
    temperatures = np.empty(n_folds)
    for fold in range(n_folds):
        train = np.flatnonzero(folds != fold)
        temperatures[fold] = fit_temperature([rows[i] for i in train], labels[train])
        for i in np.flatnonzero(folds == fold):
            probs[i] = softmax(rows[i], temperatures[fold])
    return probs, temperatures
