"""The netcal wrapper against the plain formulas of `ppt_bench.metrics`, and the hand-written parts."""

from __future__ import annotations

import numpy as np
import pytest

from ppt_bench import calibration, metrics


def synthetic(n_items: int, n_choices: int, sharpen: float, seed: int = 0):
    """Outcomes drawn from softmax(true logits); the model reports true logits * `sharpen`.

    sharpen = 1: perfectly calibrated; sharpen > 1: over-confident (the right T is `sharpen`).
    """
    rng = np.random.default_rng(seed)
    true_logits = rng.normal(scale=1.5, size=(n_items, n_choices))
    probs = metrics.softmax(true_logits)
    outcomes = np.array([rng.choice(n_choices, p=p) for p in probs])
    return true_logits * sharpen, outcomes


def mean_nll(logits, outcomes, temperature: float) -> float:
    """Mean NLL of softmax(logits / T) at the outcomes."""
    return float(np.mean([metrics.nll(metrics.softmax(row, temperature), y)
                          for row, y in zip(logits, outcomes, strict=True)]))


def scipy_fit(logits, outcomes) -> float:
    return calibration.TemperatureScaler("scipy").fit(logits, outcomes).temperature_


@pytest.mark.parametrize("n_choices", [2, 3, 5])
def test_netcal_temperature_matches_plain_fit(n_choices):
    logits, outcomes = synthetic(400, n_choices, sharpen=2.5, seed=n_choices)
    scaler = calibration.TemperatureScaler().fit(logits, outcomes)
    plain = scipy_fit(logits, outcomes)
    assert scaler.backend_ == "netcal"
    assert scaler.temperature_ == pytest.approx(plain, rel=1e-3)
    assert mean_nll(logits, outcomes, scaler.temperature_) == pytest.approx(
        mean_nll(logits, outcomes, plain), abs=1e-3)
    # predict_proba is softmax(logits / T)
    np.testing.assert_allclose(scaler.predict_proba(logits), metrics.softmax(logits, scaler.temperature_))


def test_few_classes_present_still_matches():
    # K = 4 but only labels 0 and 1 occur: netcal must not switch to its binary form.
    logits, outcomes = synthetic(600, 4, sharpen=2.0, seed=1)
    keep = outcomes < 2
    scaler = calibration.TemperatureScaler().fit(logits[keep], outcomes[keep])
    assert scaler.backend_ == "netcal"
    assert scaler.temperature_ == pytest.approx(scipy_fit(logits[keep], outcomes[keep]),
                                                rel=1e-3)


def test_scores_without_signal_hit_the_same_bound():
    rng = np.random.default_rng(1)
    logits, outcomes = rng.normal(size=(200, 4)) * 3, rng.integers(0, 4, 200)
    scaler = calibration.TemperatureScaler().fit(logits, outcomes)
    assert scaler.temperature_ == pytest.approx(scipy_fit(logits, outcomes), rel=1e-3)
    assert "upper bound" in scaler.note_


def test_ragged_choices_fall_back_to_scipy():
    rng = np.random.default_rng(2)
    logits = [rng.normal(size=k) * 4 for k in rng.integers(2, 6, 120)]
    outcomes = [int(rng.integers(0, len(row))) for row in logits]
    scaler = calibration.TemperatureScaler().fit(logits, outcomes)
    assert scaler.backend_ == "scipy" and "different numbers of choices" in scaler.note_
    assert scaler.temperature_ == scipy_fit(logits, outcomes)
    probs = scaler.predict_proba(logits)
    assert isinstance(probs, list) and [len(p) for p in probs] == [len(r) for r in logits]
    with pytest.raises(ValueError, match="same number of choices"):
        calibration.TemperatureScaler(backend="netcal").fit(logits, outcomes)


def test_overconfident_logits_give_t_above_one_and_lower_nll():
    logits, outcomes = synthetic(1000, 4, sharpen=3.0, seed=3)
    calib, test = slice(0, 400), slice(400, None)
    scaler = calibration.TemperatureScaler().fit(logits[calib], outcomes[calib])
    assert scaler.temperature_ > 2.0
    raw = mean_nll(logits[test], outcomes[test], 1.0)
    scaled = mean_nll(logits[test], outcomes[test], scaler.temperature_)
    assert scaled < raw - 0.1


def test_calibrated_logits_give_t_near_one():
    logits, outcomes = synthetic(3000, 4, sharpen=1.0, seed=4)
    assert calibration.TemperatureScaler().fit(logits, outcomes).temperature_ == pytest.approx(1.0, abs=0.08)


def test_scipy_fit_recovers_the_scale_of_overconfident_logits():
    logits, outcomes = synthetic(4000, 4, sharpen=3.0, seed=0)
    assert scipy_fit(logits, outcomes) == pytest.approx(3.0, rel=0.1)
    assert scipy_fit(logits / 3.0, outcomes) == pytest.approx(1.0, rel=0.1)
    assert mean_nll(logits, outcomes, 3.0) < mean_nll(logits, outcomes, 1.0)


def test_scipy_fit_handles_ragged_choices():
    logits = [np.array([2.0, 0.0]), np.array([0.0, 2.0, 0.0]), np.array([1.0, 0.0, 0.0, 0.0])]
    scaler = calibration.TemperatureScaler().fit(logits * 5, [0, 1, 0] * 5)
    assert scaler.backend_ == "scipy" and 0.0067 < scaler.temperature_ < 149


def test_cross_fit_never_uses_an_items_own_label():
    rng = np.random.default_rng(1)
    logits = list(rng.normal(size=(50, 3)) * 4)
    labels = rng.integers(0, 3, size=50)
    probs, temps = calibration.cross_fit(logits, labels, n_folds=5, seed=0)
    folds = np.random.default_rng(0).permutation(50) % 5
    changed = labels.copy()
    changed[folds == 2] = (changed[folds == 2] + 1) % 3  # relabel fold 2 only
    probs2, temps2 = calibration.cross_fit(logits, changed, n_folds=5, seed=0)
    assert temps2[2] == temps[2]  # fold 2 is scaled by a T that never saw its labels
    assert not np.allclose(temps2[[0, 1, 3, 4]], temps[[0, 1, 3, 4]])
    assert all(np.isclose(p.sum(), 1.0) for p in probs)
    few, one = calibration.cross_fit(logits[:9], labels[:9], n_folds=5)
    assert one.tolist() == [1.0] and np.allclose(few[0], metrics.softmax(logits[0]))


def test_temperature_one_changes_nothing():
    logits, _ = synthetic(10, 3, sharpen=1.0)
    scaler = calibration.TemperatureScaler()
    scaler.temperature_ = 1.0
    np.testing.assert_allclose(scaler.predict_proba(logits), metrics.softmax(logits))


def test_netcal_ece_matches_plain_formula():
    logits, outcomes = synthetic(500, 5, sharpen=2.0, seed=5)
    probs = metrics.softmax(logits)
    confidences = probs.max(axis=1)
    correct = (probs.argmax(axis=1) == outcomes).astype(float)
    assert calibration.ece(confidences, correct) == pytest.approx(metrics.ece(confidences, correct), abs=1e-3)
    # top-label form even when only 0/1 "labels" exist: perfect calibration gives 0
    assert calibration.ece(np.full(4, 0.5), np.array([0, 1, 0, 1.0])) == pytest.approx(0.0, abs=1e-9)


def test_fractional_correctness_uses_plain_formula():
    confidences, correct = np.array([1 / 3, 0.5, 0.9]), np.array([1 / 3, 0.5, 1.0])
    assert calibration.ece(confidences, correct) == pytest.approx(metrics.ece(confidences, correct))


def test_aggregate_matches_metrics_including_resampled_items():
    rng = np.random.default_rng(6)
    logits, outcomes = synthetic(97, 4, sharpen=2.0, seed=6)
    probs = metrics.softmax(logits)
    soft = metrics.softmax(logits / 2.0)
    values = calibration.item_values(list(probs), outcomes, list(soft))
    for index in (np.arange(97), rng.integers(0, 97, 97)):
        got = calibration.aggregate(values, index)
        p, y, q = probs[index], outcomes[index], soft[index]
        conf = p.max(axis=1)
        correct = np.array([metrics.acc(pi, yi) for pi, yi in zip(p, y, strict=True)])
        top_q = np.array([qi[metrics.first_argmax(pi)] for pi, qi in zip(p, q, strict=True)])
        expected = {"nll": np.mean([metrics.nll(pi, yi) for pi, yi in zip(p, y, strict=True)]),
                    "brier": np.mean([metrics.brier(pi, yi) for pi, yi in zip(p, y, strict=True)]),
                    "ece": metrics.ece(conf, correct), "ece_em": metrics.ece_equal_mass(conf, correct),
                    "soft_ece": metrics.soft_ece(conf, top_q),
                    "kl": np.mean([metrics.kl(qi, pi) for pi, qi in zip(p, q, strict=True)])}
        for name, value in expected.items():
            assert got[name] == pytest.approx(value, abs=1e-12), name


def test_missing_soft_labels_give_nan_for_soft_metrics():
    values = calibration.item_values([np.array([0.7, 0.3])], [0], [None])
    result = calibration.aggregate(values)
    assert np.isnan(result["kl"]) and np.isnan(result["soft_ece"]) and result["nll"] > 0


def test_raw_vs_scaled_intervals():
    logits, outcomes = synthetic(200, 3, sharpen=3.0, seed=7)
    soft = metrics.softmax(logits / 3.0)
    table = calibration.raw_vs_scaled(logits, outcomes, soft, temperature=3.0, n_boot=200, seed=0)
    assert set(table) == set(calibration.TABLE_METRICS)
    for metric, row in table.items():
        for estimate in row.values():
            assert estimate.low <= estimate.high
            assert estimate.low - 1e-3 <= estimate.value <= estimate.high + 1e-3, metric
    assert table["nll"]["scaled"].value < table["nll"]["raw"].value
    assert table["kl"]["scaled"].value == pytest.approx(0.0, abs=1e-12)  # scaled = the soft label
    again = calibration.raw_vs_scaled(logits, outcomes, soft, temperature=3.0, n_boot=200, seed=0)
    assert again == table
    same = calibration.raw_vs_scaled(logits, outcomes, soft, temperature=1.0, n_boot=50)
    assert all(row["raw"] == row["scaled"] for row in same.values())


def test_reliability_diagrams_draw():
    fig = calibration.reliability_diagram([0.9, 0.6, 0.4], [1, 0, 1], "netcal")
    assert len(fig.axes) >= 2
    fig = calibration.reliability_diagram([1 / 3, 0.8], [1 / 3, 1.0], "ties")  # fractional: plain one
    assert len(fig.axes) == 2


def test_the_temperature_fit_counts_its_items_and_flags_a_bound():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(400, 4))  # scores unrelated to the outcomes: T runs to its upper bound
    outcomes = rng.integers(0, 4, 400)
    fit = calibration.fit_temperature(noise * 5, outcomes)
    assert fit.n_items == 400 and fit.at_bound and fit.flags == ("T at its bound",)
    assert "T at its bound" in fit.label()
    small = calibration.fit_temperature(noise[:5], outcomes[:5])
    assert small.temperature == 1.0 and not small.fitted and small.flags[0].startswith("not fitted")


def test_calibration_split_fraction_holds_out_300_items_where_the_data_allow():
    assert calibration.calibration_split_fraction(2000) == 0.3
    assert calibration.calibration_split_fraction(800) == pytest.approx(300 / 800)
    assert calibration.calibration_split_fraction(181) == 0.5
    ids = [f"item-{i}" for i in range(800)]
    held = [i for i in ids if calibration.in_calibration_split(i, calibration.calibration_split_fraction(800))]
    assert 250 <= len(held) <= 350
    assert set(i for i in ids if calibration.in_calibration_split(i, 0.3)) <= set(held)  # nested
