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
    assert m.soft_correct([0.3, 0.5, 0.2], p) == 0.5


def test_ties_give_expected_values():
    uniform = [0.25] * 4
    assert m.acc(uniform, 2) == 0.25 and m.mode_agree([0.1, 0.6, 0.2, 0.1], uniform) == 0.25
    assert m.acc([0.4, 0.4, 0.2], 0) == 0.5 and m.acc([0.4, 0.4, 0.2], 2) == 0.0
    assert m.soft_correct([0.2, 0.5, 0.3], [0.4, 0.4, 0.2]) == pytest.approx(0.35)  # mean of q over the tie


def test_per_item_holds_every_per_item_metric():
    p, q = [0.2, 0.7, 0.1], [0.1, 0.6, 0.3]
    values = m.per_item(p, 1, q, ordinal=True)
    assert values == {"confidence": 0.7, "acc": m.acc(p, 1), "nll": m.nll(p, 1), "brier": m.brier(p, 1),
                      "kl": m.kl(q, p), "tv": m.tv(q, p), "mode_agree": 1.0, "soft_correct": 0.6,
                      "w1": m.w1(q, p)}
    assert values["tv"] == pytest.approx(0.2) and values["brier"] == pytest.approx(0.14)
    assert set(m.per_item(p)) == {"confidence"}
    assert set(m.per_item(p, q=q)) == {"confidence", "kl", "tv", "mode_agree", "soft_correct"}


def test_check_soft_label():
    assert m.check_soft_label([0.25, 0.75], 2).dtype == np.float64
    assert m.check_soft_label([0.5, 0.5 + 0.5 * m.SOFT_LABEL_ATOL], 2).shape == (2,)
    for bad in ([0.5, 0.6], [1.2, -0.2], [float("nan"), 1.0], [0.5, 0.5 + 2 * m.SOFT_LABEL_ATOL]):
        with pytest.raises(ValueError, match="not a distribution"):
            m.check_soft_label(bad, 2)
    with pytest.raises(ValueError, match="shape"):
        m.check_soft_label([1.0], 2)


def test_ece_perfect_and_worst():
    conf = np.full(10, 0.8)
    correct = np.array([1] * 8 + [0] * 2)
    assert m.ece(conf, correct) == pytest.approx(0.0)
    assert m.ece(np.ones(5), np.zeros(5)) == pytest.approx(1.0)
    # Two bins: conf 0.95 (2 items, 1 correct) and 0.55 (2 items, 2 correct): (2*0.45 + 2*0.45) / 4
    assert m.ece([0.95, 0.95, 0.55, 0.55], [1, 0, 1, 1]) == pytest.approx(0.45)
    assert math.isnan(m.ece([], [])) and math.isnan(m.ece_equal_mass([], []))


def test_bin_stats_are_the_per_bin_means_the_ece_weighs():
    conf, correct = np.array([0.95, 0.95, 0.55, 0.55, 0.1]), np.array([1, 0, 1, 1, 0.0])
    bins = m.equal_width_bins(conf, 10)
    assert bins.tolist() == [9, 9, 5, 5, 1]
    counts, mean_conf, mean_correct = m.bin_stats(conf, correct, bins, 10)
    assert counts.tolist() == [0, 1, 0, 0, 0, 2, 0, 0, 0, 2]
    assert mean_conf[[1, 5, 9]] == pytest.approx([0.1, 0.55, 0.95])
    assert mean_correct[[1, 5, 9]] == pytest.approx([0.0, 1.0, 0.5]) and np.isnan(mean_conf[0])
    used = counts > 0
    gap = float((counts[used] * np.abs(mean_correct[used] - mean_conf[used])).sum() / len(conf))
    assert m.ece(conf, correct, 10) == pytest.approx(gap) == pytest.approx((0.1 + 0.9 + 0.9) / 5)


def test_ece_equal_mass_bins():
    conf = np.array([0.1, 0.2, 0.3, 0.9])
    assert m.equal_mass_bins(conf, 2).tolist() == [0, 0, 1, 1]
    # 7 items in 3 groups: sizes 3, 2, 2 in confidence order (np.array_split's)
    assert m.equal_mass_bins([0.7, 0.1, 0.6, 0.2, 0.5, 0.3, 0.4], 3).tolist() == [2, 0, 2, 0, 1, 0, 1]
    assert m.equal_mass_bins([0.3, 0.1], 10).tolist() == [1, 0]  # fewer items than bins
    # bins {0.1, 0.2} -> |0.5 - 0.15| and {0.3, 0.9} -> |0 - 0.6|, each half the mass
    assert m.ece_equal_mass(conf, [1, 0, 0, 0], n_bins=2) == pytest.approx(0.5 * 0.35 + 0.5 * 0.6)


def test_soft_ece_zero_when_confidence_matches_soft_label():
    probs = np.array([[0.7, 0.3], [0.4, 0.6], [0.9, 0.1]])
    conf = probs.max(axis=1)
    assert m.soft_ece(conf, conf) == 0.0
    assert m.soft_ece([0.9], [0.6]) == pytest.approx(0.3)


def test_temperature_one_changes_nothing():
    logits = np.random.default_rng(0).normal(size=(20, 4)) * 2
    assert np.allclose(m.softmax(logits, 1.0), m.softmax(logits))
    assert np.allclose(m.softmax(logits, 2.0), m.softmax(logits / 2.0))


def test_spearman():
    assert m.spearman([1, 2, 3], [10, 20, 30]) == pytest.approx(1.0)
    assert m.spearman([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(m.spearman([1, 1, 1], [1, 2, 3]))
