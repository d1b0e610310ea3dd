"""Known values of the stated-prior metrics (OpenEstimate's error ratio and quartile ECE)."""

import math

import numpy as np
import pytest

from ppt_bench import prior_metrics
from ppt_bench.prior_metrics import Prior


def test_prior_moments():
    assert Prior("normal", 3.0, 2.0).mean == 3.0 and Prior("normal", 3.0, 2.0).std == 2.0
    beta = Prior("beta", 2.0, 5.0)
    assert beta.mean == pytest.approx(2 / 7)
    assert beta.std == pytest.approx(math.sqrt(10 / (49 * 8)))
    assert Prior("beta", 2.0, 2.0).cdf(0.5) == pytest.approx(0.5)


@pytest.mark.parametrize("args", [("normal", 1.0, 0.0), ("normal", 1.0, -1.0), ("beta", 0.0, 1.0),
                                  ("beta", 1.0, math.nan), ("gamma", 1.0, 1.0)])
def test_invalid_priors_are_refused(args):
    with pytest.raises(ValueError):
        Prior(*args)


def test_abs_error_and_truth_quartile():
    prior = Prior("normal", 0.0, 1.0)
    assert prior_metrics.abs_error(prior, -1.5) == 1.5
    assert [prior_metrics.truth_quartile(prior, x) for x in (-1.0, -0.1, 0.5, 2.0)] == [1, 2, 3, 4]
    assert prior_metrics.truth_quartile(prior, 50.0) == 4  # F = 1 stays in the top quartile
    assert prior_metrics.truth_quartile(Prior("beta", 1.0, 1.0), 0.6) == 3  # uniform: F(0.6) = 0.6


def test_quartile_ece_known_values():
    assert prior_metrics.quartile_ece([1, 2, 3, 4]) == 0.0
    assert prior_metrics.quartile_ece([1, 1, 1, 1]) == pytest.approx(0.375)  # (0.75 + 3 * 0.25) / 4
    assert prior_metrics.quartile_ece([1, 1, 2, 2]) == pytest.approx(0.25)
    assert math.isnan(prior_metrics.quartile_ece([]))
    with pytest.raises(ValueError):
        prior_metrics.quartile_ece([0, 5])


def test_calibrated_priors_have_small_quartile_ece():
    # A proper Bayesian pair: truth ~ N(0, 1), observation x ~ N(truth, 1), posterior N(x / 2, 1 / 2).
    rng = np.random.default_rng(0)
    truths = rng.normal(size=4000)
    observations = truths + rng.normal(size=truths.size)
    calibrated = [prior_metrics.truth_quartile(Prior("normal", x / 2, math.sqrt(0.5)), t)
                  for x, t in zip(observations, truths, strict=True)]
    assert prior_metrics.quartile_ece(calibrated) < 0.02
    overconfident = [prior_metrics.truth_quartile(Prior("normal", x / 2, 0.05), t)
                     for x, t in zip(observations, truths, strict=True)]
    assert prior_metrics.quartile_ece(overconfident) > 0.2


def test_normal_baseline_error_and_std_closed_form():
    assert prior_metrics.baseline_error("normal", 10.0, 2.0, n=5) == pytest.approx(2 * math.sqrt(2 / (5 * math.pi)))
    assert prior_metrics.baseline_std("normal", 10.0, 2.0, n=5) == pytest.approx(2 / math.sqrt(5))
    rng = np.random.default_rng(1)
    means = rng.normal(10.0, 2.0, size=(200_000, 5)).mean(axis=1)
    assert np.mean(np.abs(means - 10.0)) == pytest.approx(prior_metrics.baseline_error("normal", 10.0, 2.0), rel=0.01)


def test_beta_baseline_by_enumeration_and_simulation():
    p, n = 0.3, 5
    exact = sum(math.comb(n, k) * p**k * (1 - p) ** (n - k) * abs((1 + k) / (n + 2) - p) for k in range(n + 1))
    assert prior_metrics.baseline_error("beta", p, math.sqrt(p * (1 - p)), n=n) == pytest.approx(exact)
    rng = np.random.default_rng(2)
    ones = rng.binomial(n, p, size=200_000)
    alpha, beta = 1 + ones, 1 + n - ones
    simulated_std = np.sqrt(alpha * beta / ((alpha + beta) ** 2 * (alpha + beta + 1))).mean()
    assert prior_metrics.baseline_std("beta", p, 0.0, n=n) == pytest.approx(simulated_std, rel=0.01)


def test_uncertainty_error_correlation():
    assert prior_metrics.uncertainty_error_correlation([1, 2, 3], [0.1, 0.5, 0.9]) == pytest.approx(1.0)
    assert prior_metrics.uncertainty_error_correlation([1, 2, 3], [3, 2, 1]) == pytest.approx(-1.0)
    assert math.isnan(prior_metrics.uncertainty_error_correlation([1], [2]))
