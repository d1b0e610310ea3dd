"""Self-consistency statistics used by the tests (top-label ECE against realised outcomes, log score)."""

from __future__ import annotations

import numpy as np


def top_label_ece(soft_labels: list[np.ndarray], outcomes: np.ndarray, n_bins: int = 15) -> float:
    """sum_b |B_b|/N |mean conf - mean [argmax == y]| over 15 equal-width confidence bins (Guo et al. 2017)."""
    conf = np.array([q.max() for q in soft_labels])
    hit = np.array([int(np.argmax(q)) == y for q, y in zip(soft_labels, outcomes, strict=False)], dtype=np.float64)
    bins = np.minimum((conf * n_bins).astype(int), n_bins - 1)
    ece = 0.0
    for b in np.unique(bins):
        sel = bins == b
        ece += sel.mean() * abs(conf[sel].mean() - hit[sel].mean())
    return float(ece)


def mean_log_score_gain(soft_labels, outcomes) -> float:
    """mean_i [log q_i[y_i] - log(1/K_i)]: > 0 means better than the uniform distribution."""
    pairs = zip(soft_labels, outcomes, strict=True)
    return float(np.mean([np.log(max(q[y], 1e-300)) + np.log(len(q)) for q, y in pairs]))


def self_consistency(motif, n: int, seed: int = 0):
    """Soft labels and outcomes of n scenarios of one motif (no redraws: every program run counts)."""
    from ppt_bench.programs.scenario import derive_seed, make_scenario

    scenarios = [make_scenario(motif, derive_seed(seed, i)) for i in range(n)]
    return [np.asarray(s.soft_label) for s in scenarios], np.array([s.outcome for s in scenarios])


def log_score_z(soft_labels, outcomes) -> float:
    """z-statistic of mean log q[y] against its expectation under the soft labels themselves.

    If y ~ q for every item, E[log q_y] = sum_k q_k log q_k (minus the entropy) with variance
    sum_k q_k (log q_k)^2 - (sum_k q_k log q_k)^2; the z-score is approximately N(0, 1). Lower variance
    than ECE, so it can run on a small sample by default.
    """
    scores, means, variances = [], [], []
    for q, y in zip(soft_labels, outcomes, strict=False):
        logq = np.log(np.clip(q, 1e-300, None))
        mean = float(np.sum(q * logq))
        scores.append(logq[y])
        means.append(mean)
        variances.append(float(np.sum(q * logq ** 2)) - mean ** 2)
    return float((np.sum(scores) - np.sum(means)) / np.sqrt(np.sum(variances)))
