"""Exact Bayesian inference over a finite hypothesis space of user types (pure numpy functions).

After r rounds with option features ``x_1..x_r`` and choices ``c_1..c_r`` the posterior over types is

    p(h | data_r) ∝ prior(h) * prod_{t<=r} p(c_t | h, x_t),     p(c | h, x) = choice_probs(u_h(x))[c]

and the predictive distribution over the options of a new set ``x`` is
``p(k | data_r) = sum_h p(h | data_r) p(k | h, x)``. Everything broadcasts over leading batch axes
(users), so one call serves 624 users x 6 evaluation points x 100 held-out sets.
"""

from __future__ import annotations

import numpy as np

from ppt_bench.recommend._domain import TIE_ATOL, Domain, choice_probs, utilities


def choice_likelihoods(hypotheses: np.ndarray, features: np.ndarray, choices: np.ndarray,
                       temperature: float = 0.0) -> np.ndarray:
    """``p(c_t | h, x_t)`` for each round: ``(H, d), (..., R, K, d), (..., R) -> (..., R, H)``.

    Temperature 0 takes a shortcut with the same result as :func:`choice_probs`:
    ``[c_t in argmax set] / |argmax set|``, without forming the full (..., R, H, K) probabilities.
    """
    index = np.asarray(choices)[..., None, None]
    if temperature > 0:
        probs = choice_probs(utilities(hypotheses, features), temperature)    # (..., R, H, K)
        return np.take_along_axis(probs, index, axis=-1)[..., 0]
    utility = np.asarray(features, dtype=float) @ hypotheses.T                 # (..., R, K, H)
    best = utility >= utility.max(axis=-2, keepdims=True) - TIE_ATOL
    chosen = np.take_along_axis(best, index, axis=-2)[..., 0, :]
    return chosen / best.sum(axis=-2)


def posteriors_by_round(hypotheses: np.ndarray, features: np.ndarray, choices: np.ndarray,
                        temperature: float = 0.0, prior: np.ndarray | None = None) -> np.ndarray:
    """Posterior over user types after 0..R rounds: ``(..., R, K, d), (..., R) -> (..., R+1, H)``.

    Row r conditions on the first r rounds; row 0 is the prior (uniform unless given). A round that no
    hypothesis can explain (zero evidence, e.g. a human user outside the space with temperature 0) is
    skipped rather than producing NaN: the posterior stays where it was.
    """
    n_hypotheses = len(hypotheses)
    likelihoods = choice_likelihoods(hypotheses, features, choices, temperature)
    batch = likelihoods.shape[:-2]
    current = np.broadcast_to(
        np.full(n_hypotheses, 1.0 / n_hypotheses) if prior is None else prior / prior.sum(),
        batch + (n_hypotheses,)).copy()
    rows = [current]
    for t in range(likelihoods.shape[-2]):
        updated = current * likelihoods[..., t, :]
        evidence = updated.sum(axis=-1, keepdims=True)
        current = np.where(evidence > 0, updated / np.where(evidence > 0, evidence, 1.0), current)
        rows.append(current)
    return np.stack(rows, axis=-2)


def option_likelihoods(hypotheses: np.ndarray, option_features: np.ndarray,
                       temperature: float = 0.0) -> np.ndarray:
    """``p(k | h, x_s)`` for option sets ``(S, K, d) -> (H, S, K)``."""
    probs = choice_probs(utilities(hypotheses, option_features), temperature)  # (S, H, K)
    return np.moveaxis(probs, -2, 0)


def predictive(posterior: np.ndarray, hypotheses: np.ndarray, option_features: np.ndarray,
               temperature: float = 0.0) -> np.ndarray:
    """Posterior predictive over options: ``(..., H), (S, K, d) -> (..., S, K)``; rows sum to 1.

    Computed as one matrix product ``posterior @ p(k | h, x).reshape(H, S*K)``.
    """
    likelihood = option_likelihoods(hypotheses, option_features, temperature)  # (H, S, K)
    n_hyp, n_sets, n_options = likelihood.shape
    flat = posterior.reshape(-1, n_hyp) @ likelihood.reshape(n_hyp, n_sets * n_options)
    return flat.reshape(posterior.shape[:-1] + (n_sets, n_options))


def feature_marginals(domain: Domain, posterior: np.ndarray) -> np.ndarray:
    """Per-feature posterior marginals ``(..., H) -> (..., n_features, n_levels)`` (belief elicitation).

    Weight domains: ``out[..., j, g] = p(w_j = weight_grid[g])`` (5 preference levels, strong/weak
    preference for low values, none, weak/strong for high). Goal domains (shopping): ``out[..., j, v]``
    is the probability that value v of attribute j is in the goal (padded with 0 to the widest
    attribute). Each weight-domain row sums to 1.
    """
    posterior = np.asarray(posterior)
    if domain.levels_per_hypothesis is not None:
        n_levels = len(domain.weight_grid)
        one_hot = np.eye(n_levels)[domain.levels_per_hypothesis]             # (H, F, G)
        return np.einsum("...h,hfg->...fg", posterior, one_hot)
    width = max(feature.n_levels for feature in domain.features)
    out = np.zeros(posterior.shape[:-1] + (domain.n_features, width))
    included = domain.hypotheses > 0                                          # (H, dim)
    start = 0
    for j, feature in enumerate(domain.features):
        block = included[:, start:start + feature.n_levels].astype(float)
        out[..., j, :feature.n_levels] = posterior @ block
        start += feature.n_levels
    return out
