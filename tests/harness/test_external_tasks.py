"""OpenEstimate as multiple choice: no label is a free lunch and the layout hides the truth."""

import math

import numpy as np
import pytest

from ppt_bench.harness import external_tasks
from ppt_bench.harness.external_tasks import (
    BIN_WIDTH,
    LABELS,
    balanced_labels,
    bin_edges,
    openestimate_documents,
    openestimate_variables,
    to_scale,
)

K = len(LABELS)
Z999 = 3.29  # two-sided 99.9% normal quantile


def _binomial_tolerance(n: int) -> float:
    """Half-width of the 99.9% interval of Binomial(n, 1/K) counts (normal approximation)."""
    return Z999 * math.sqrt(n * (1 / K) * (1 - 1 / K))


@pytest.fixture(scope="module")
def documents(data_root):
    return openestimate_documents(data_root)


def test_every_label_is_the_outcome_of_one_kth_of_the_real_variables(documents):
    n = len(documents)
    assert n == 181
    counts = np.bincount([doc["outcome"] for doc in documents], minlength=K)
    # Within binomial sampling tolerance of n/K (36.2 +- 17.7) for every label ...
    assert np.all(np.abs(counts - n / K) <= _binomial_tolerance(n)), counts
    # ... and, since the labels are balanced by construction, floor(n/K) or ceil(n/K) exactly.
    assert set(counts.tolist()) <= {n // K, n // K + 1}, counts


def test_a_constant_answer_scores_one_over_k_in_expectation(data_root):
    # Over the seeded draw of the remainder labels the expected count of each label is exactly n/K.
    rng = np.random.default_rng(0)
    mean_counts = np.mean([np.bincount(balanced_labels(181, K, rng), minlength=K) for _ in range(4000)], axis=0)
    assert mean_counts == pytest.approx(np.full(K, 181 / K), abs=0.03)  # sd of the mean: 0.006
    # and every seed of the real task gives every constant answer an accuracy of 1/K +- 1/n
    for seed in range(5):
        docs = openestimate_documents(data_root, seed=seed)
        outcomes = np.array([doc["outcome"] for doc in docs])
        for label in range(K):
            assert abs(np.mean(outcomes == label) - 1 / K) <= 1 / len(docs) + 1e-12, (seed, label)


def test_the_layout_says_nothing_about_where_the_truth_lies(data_root, documents):
    """From the shown edges alone: constant bin width per scale, truth uniform across the window."""
    positions, widths = [], {"log": [], "logit": []}
    for variable, doc in zip(openestimate_variables(data_root), documents, strict=True):
        scale = external_tasks.scale_of(variable)
        probability = variable.distribution == "beta"
        shown = [float(part.rstrip("%").replace(",", "")) / (100 if probability else 1)
                 for line in doc["question"].splitlines()[-K:] for part in line.split()
                 if part[0].isdigit()]
        inner = to_scale(np.array(sorted(set(shown))), scale)  # the K - 1 shown edges
        assert len(inner) == K - 1
        width = float(np.mean(np.diff(inner)))
        widths[scale].append(width)
        low = inner[0] - width
        positions.append((to_scale(variable.mean, scale) - low) / (K * width))
    for scale, values in widths.items():
        assert np.allclose(values, BIN_WIDTH[scale], rtol=2e-3), scale
    from scipy.stats import kstest

    positions = np.array(positions)
    assert np.all((positions > -0.01) & (positions < 1.01))
    assert kstest(positions, "uniform").pvalue > 1e-3


def test_bin_edges_put_the_truth_in_the_chosen_bin():
    for scale, truth in (("log", 125_000.0), ("logit", 0.07)):
        for label in range(K):
            for position in (0.01, 0.5, 0.99):
                edges = bin_edges(truth, scale, label, position)
                assert int(np.searchsorted(edges[1:-1], truth, side="right")) == label
                steps = np.diff(to_scale(edges, scale))
                assert np.allclose(steps, BIN_WIDTH[scale])
                start = to_scale(edges[label], scale)
                assert (to_scale(truth, scale) - start) / BIN_WIDTH[scale] == pytest.approx(position)


def test_soft_labels_sum_to_one(documents):
    for doc in documents:
        soft = np.asarray(doc["soft_label"], dtype=np.float64)
        assert soft.shape == (K,) and soft.min() >= 0 and soft.sum() == pytest.approx(1.0)
