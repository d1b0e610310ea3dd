"""Metric functions on hand-computed values."""

import math

import numpy as np
import pytest

from ppt_bench import metrics as m


def test_kl_tv_w1_known_values():
    assert m.kl([0.5, 0.5], [0.5, 0.5]) == 0.0
    assert m.kl([1.0, 0.0], [0.5, 0.5]) == pytest.approx(math.log(2))
    assert m.kl([0.5, 0.5], [1.0, 0.0]) == pytest.approx(0.5 * math.log(0.5) + 0.5 * math.log(0.5 / 1e-12))
    assert m.tv([1, 0], [0, 1]) == 1.0 and m.tv([0.5, 0.5], [0.25, 0.75]) == pytest.approx(0.25)
    assert m.w1([1, 0, 0], [0, 0, 1]) == 1.0
    assert m.w1([1, 0, 0], [0, 1, 0]) == pytest.approx(0.5)
    assert m.w1([0.5, 0, 0.5], [0, 1, 0]) == pytest.approx(0.5)  # each half moves one bin of two
    assert m.w1([1.0], [1.0]) == 0.0


def test_pointwise_scores():
    p = [0.2, 0.7, 0.1]
    assert m.acc(p, 1) == 1.0 and m.acc(p, 0) == 0.0
    assert m.nll(p, 1) == pytest.approx(-math.log(0.7))
    assert m.brier(p, 1) == pytest.approx(0.04 + 0.09 + 0.01)
    assert m.brier([1, 0], 0) == 0.0 and m.brier([0, 1], 0) == 2.0
    assert m.mode_agree([0.1, 0.9], [0.4, 0.6]) == 1.0 and m.mode_agree([0.9, 0.1], [0.4, 0.6]) == 0.0
    assert m.top_label(p) == (0.7, 1)


def test_ece_perfect_and_worst():
    conf = np.full(10, 0.8)
    correct = np.array([1] * 8 + [0] * 2)
    assert m.ece(conf, correct) == pytest.approx(0.0)
    assert m.ece(np.ones(5), np.zeros(5)) == pytest.approx(1.0)
    # Two bins: conf 0.95 (2 items, 1 correct) and 0.55 (2 items, 2 correct): (2*0.45 + 2*0.45) / 4
    assert m.ece([0.95, 0.95, 0.55, 0.55], [1, 0, 1, 1]) == pytest.approx(0.45)


def test_ece_equal_mass_bins():
    conf = np.array([0.1, 0.2, 0.3, 0.9])
    assert m.equal_mass_bins(conf, 2).tolist() == [0, 0, 1, 1]
    # bins {0.1, 0.2} -> |0.5 - 0.15| and {0.3, 0.9} -> |0 - 0.6|, each half the mass
    assert m.ece_equal_mass(conf, [1, 0, 0, 0], n_bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.6)


def test_soft_ece_zero_when_confidence_matches_soft_label():
    probs = np.array([[0.7, 0.3], [0.4, 0.6], [0.9, 0.1]])
    conf = probs.max(axis=1)
    assert m.soft_ece(conf, conf) == 0.0
    assert m.soft_ece([0.9], [0.6]) == pytest.approx(0.3)


def test_temperature_one_changes_nothing_and_fit_recovers_scale():
    rng = np.random.default_rng(0)
    true_logits = rng.normal(size=(4000, 4)) * 2
    labels = np.array([rng.choice(4, p=m.softmax(row)) for row in true_logits])
    assert np.allclose(m.softmax(true_logits, 1.0), m.softmax(true_logits))
    overconfident = true_logits * 3.0
    assert m.fit_temperature(list(overconfident), labels) == pytest.approx(3.0, rel=0.1)
    assert m.fit_temperature(list(true_logits), labels) == pytest.approx(1.0, rel=0.1)
    assert m.mean_nll_at(overconfident, labels, 3.0) < m.mean_nll_at(overconfident, labels, 1.0)


def test_fit_temperature_handles_ragged_choices():
    logits = [np.array([2.0, 0.0]), np.array([0.0, 2.0, 0.0]), np.array([1.0, 0.0, 0.0, 0.0])]
    temperature = m.fit_temperature(logits, [0, 1, 0])
    assert 0.0067 < temperature < 149


def test_cross_fit_never_uses_an_items_own_label():
    rng = np.random.default_rng(1)
    logits = list(rng.normal(size=(50, 3)) * 4)
    labels = rng.integers(0, 3, size=50)
    probs, temps = m.cross_fit(logits, labels, n_folds=5, seed=0)
    folds = np.random.default_rng(0).permutation(50) % 5
    changed = labels.copy()
    changed[folds == 2] = (changed[folds == 2] + 1) % 3  # relabel fold 2 only
    probs2, temps2 = m.cross_fit(logits, changed, n_folds=5, seed=0)
    assert temps2[2] == temps[2]  # fold 2 is scaled by a T that never saw its labels
    assert not np.allclose(temps2[[0, 1, 3, 4]], temps[[0, 1, 3, 4]])
    assert all(np.isclose(p.sum(), 1.0) for p in probs)


def test_spearman():
    assert m.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert m.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(m.spearman([1, 1, 1], [1, 2, 3]))
