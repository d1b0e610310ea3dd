"""Metrics of a stated prior over one scalar quantity: OpenEstimate's protocol (numpy and scipy only).

Renda, Ross, Cafarella, Andreas, "OpenEstimate: Evaluating LLMs on Reasoning Under Uncertainty with
Real-World Data", arXiv 2510.15096; github.com/alanarenda/openestimate (analysis/utils.py,
analysis/plotting.py, analysis/compare_models.py). Re-implemented here from their definitions.

A prior is a frozen `Prior`: family "normal" with parameters (mean, std), or "beta" with (alpha, beta)
for a probability. Its mean mu and standard deviation s are (mean, std) for a normal prior and
alpha / (alpha + beta), sqrt(alpha beta / ((alpha + beta)^2 (alpha + beta + 1))) for a Beta prior.

Per item, with m the ground-truth value:
    abs_error     |mu - m|
    error_ratio   abs_error / E|mu_n - m|: the error relative to the paper's statistical baseline, the
                  posterior mean mu_n after n = 5 draws from the true population (`baseline_error`);
                  1 means "as good as five samples of real data", below 1 better
    std_ratio     s / E[s_n], the stated uncertainty relative to the same baseline's (`baseline_std`)
    quartile      q in {1, 2, 3, 4} with F(m) in [(q - 1)/4, q/4), F the prior's CDF: the quartile of
                  the prior that holds the truth (`truth_quartile`)

Aggregate over items:
    quartile_ece  (1/4) sum_q |share_q - 1/4|, share_q the fraction of items whose truth falls in the
                  prior's quartile q (0 for calibrated priors; 0.375 when every truth falls in one
                  quartile; the paper prints it in percentage points, i.e. times 100)
    unc_corr      Spearman correlation between std_ratio and error_ratio across items (positive: the
                  model is less certain where it is further off). The paper correlates error_ratio
                  with the raw std within one domain; std_ratio makes the correlation unit-free, so it
                  can pool domains measured in dollars, centimetres and probabilities.

The statistical baseline (the paper's): a flat prior updated with n i.i.d. draws of the population.
    normal, population sd sigma (the variable's `std`), taken as known:
        mu_n = mean of the draws ~ N(m, sigma^2 / n):  E|mu_n - m| = sigma sqrt(2 / (pi n)),
        s_n = sigma / sqrt(n)
    beta (draws are 0/1 with P(1) = m), prior Beta(1, 1), k ~ Binomial(n, m) ones:
        posterior Beta(1 + k, 1 + n - k),  E|mu_n - m| = sum_k Bin(k; n, m) |(1 + k)/(n + 2) - m|,
        E[s_n] = sum_k Bin(k; n, m) sd(Beta(1 + k, 1 + n - k))
The paper estimates these by resampling 25 times (and plugs in each sample's own sd, with a
N(0, 10^5^2) prior standing in for a flat one); here they are exact expectations.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FAMILIES = ("normal", "beta")
BASELINE_SAMPLES = 5  # the paper's reference: five draws of real data


@dataclass(frozen=True)
class Prior:
    """A stated prior: `family` "normal" (a = mean, b = std) or "beta" (a = alpha, b = beta)."""

    family: str
    a: float
    b: float

    def __post_init__(self) -> None:
        if self.family not in FAMILIES:
            raise ValueError(f"unknown prior family {self.family!r} (expected one of {FAMILIES})")
        if not (math.isfinite(self.a) and math.isfinite(self.b)) or self.b <= 0 or (
                self.family == "beta" and self.a <= 0):
            raise ValueError(f"invalid {self.family} prior parameters ({self.a}, {self.b})")

    @property
    def mean(self) -> float:
        return self.a if self.family == "normal" else self.a / (self.a + self.b)

    @property
    def std(self) -> float:
        if self.family == "normal":
            return self.b
        total = self.a + self.b
        return math.sqrt(self.a * self.b / (total * total * (total + 1)))

    def cdf(self, value: float) -> float:
        from scipy.stats import beta, norm

        if self.family == "normal":
            return float(norm.cdf(value, loc=self.a, scale=self.b))
        return float(beta.cdf(value, self.a, self.b))


# --- per item -----------------------------------------------------------------------------------

def abs_error(prior: Prior, truth: float) -> float:
    """|mean(prior) - truth|."""
    return abs(prior.mean - truth)


def truth_quartile(prior: Prior, truth: float) -> int:
    """The quartile q in {1, 2, 3, 4} of `prior` holding `truth`: F(truth) in [(q - 1)/4, q/4)."""
    return min(4, int(math.floor(4 * prior.cdf(truth))) + 1)


def _binomial_weights(n: int, p: float) -> tuple[np.ndarray, np.ndarray]:
    from scipy.stats import binom

    successes = np.arange(n + 1)
    return successes, binom.pmf(successes, n, p)


def baseline_error(family: str, truth: float, population_std: float, n: int = BASELINE_SAMPLES) -> float:
    """E|mu_n - truth| of the n-sample statistical baseline (formulas in the module docstring)."""
    if family == "normal":
        return population_std * math.sqrt(2.0 / (math.pi * n))
    successes, weights = _binomial_weights(n, truth)
    return float(np.sum(weights * np.abs((1 + successes) / (n + 2) - truth)))


def baseline_std(family: str, truth: float, population_std: float, n: int = BASELINE_SAMPLES) -> float:
    """E[s_n], the n-sample baseline's posterior standard deviation (module docstring)."""
    if family == "normal":
        return population_std / math.sqrt(n)
    successes, weights = _binomial_weights(n, truth)
    alpha, beta = 1.0 + successes, 1.0 + n - successes
    total = alpha + beta
    return float(np.sum(weights * np.sqrt(alpha * beta / (total * total * (total + 1)))))


# --- aggregates ---------------------------------------------------------------------------------

def quartile_ece(quartiles: Sequence[int]) -> float:
    """(1/4) sum_{q=1..4} |share_q - 1/4| over the items' truth quartiles; nan without items."""
    quartiles = np.asarray(quartiles, dtype=int)
    if quartiles.size == 0:
        return float("nan")
    if quartiles.min() < 1 or quartiles.max() > 4:
        raise ValueError(f"quartiles must lie in 1..4, got {sorted(set(quartiles.tolist()))}")
    shares = np.bincount(quartiles - 1, minlength=4) / quartiles.size
    return float(np.abs(shares - 0.25).sum() / 4)


def uncertainty_error_correlation(std_ratios: Sequence[float], error_ratios: Sequence[float]) -> float:
    """Spearman correlation of std_ratio and error_ratio (nan with < 2 items or a constant side)."""
    from ppt_bench.metrics import spearman

    return spearman(std_ratios, error_ratios)
