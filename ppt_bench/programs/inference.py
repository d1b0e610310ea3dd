"""Inference: the probability of each answer choice given a scenario's observations.

Two paths, returning the same thing, probs (K,) float64 summing to 1:

- ``exact_choice_probs``: the motif's own closed form / enumeration / quadrature (fast, numpy/scipy).
- ``generic_choice_probs``: numpyro only, works for any program that follows the motif contract:
    * ``method="is"``: likelihood weighting, vectorised. Draw S joint samples of the latent and query
      sites from the prior (``Predictive`` with the observations passed, so everything downstream of
      them is drawn conditionally), weight each by w_s = prod_{observed o} p(o | sample_s) (zero
      outside the site's support, which numpyro's ``log_prob`` does not check for every distribution),
      and return sum_s w_s [query_s in bin k] / sum_s w_s. Chunks are added until the effective sample
      size (sum w)^2 / sum w^2 reaches ``min_ess``.
    * ``method="nuts"``: NUTS on the latent sites (continuous latents only), then the query site from
      ``Predictive`` at the posterior draws.

Both are cross-checked in ``tests/programs/test_inference.py`` (total variation ``metrics.tv`` <= 0.02).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ppt_bench.metrics import check_soft_label
from ppt_bench.programs._motif import Choices, Motif, normalise
from ppt_bench.programs.scenario import model_kwargs


def exact_choice_probs(motif: Motif, params: Mapping, observations: Mapping) -> np.ndarray:
    """The motif's exact posterior over its choices, (K,) float64, checked to sum to 1."""
    choices = motif.choices(params, observations)
    return check_soft_label(motif.exact(params, observations), len(choices.texts))


def _conditioned_kwargs(motif: Motif, params: Mapping, observations: Mapping) -> dict:
    unknown = set(observations) - set(motif.observed)
    if unknown:
        raise KeyError(f"motif {motif.name}: {sorted(unknown)} are not observed sites ({motif.observed})")
    from jax import numpy as jnp

    return {**model_kwargs(motif, params), **{k: jnp.asarray(v) for k, v in observations.items()}}


def _log_likelihood_fn(motif: Motif, kwargs: dict, observed: tuple[str, ...]):
    """sample dict -> sum over observed sites of log p(obs | sample), -inf outside the support."""
    import jax.numpy as jnp
    from numpyro import handlers

    def log_likelihood(sample):
        trace = handlers.trace(handlers.substitute(motif.model, data=sample)).get_trace(**kwargs)
        total = 0.0
        for name in observed:
            site = trace[name]
            if site["type"] != "sample" or not site["is_observed"]:
                raise KeyError(f"motif {motif.name}: {name!r} is not an observed sample site")
            value, fn = site["value"], site["fn"]
            inside = jnp.all(fn.support(value))
            total = total + jnp.where(inside, jnp.sum(fn.log_prob(value)), -jnp.inf)
        return total

    return log_likelihood


def _bin_probs(choices: Choices, query_values, weights) -> np.ndarray:
    index = choices.index_of(np.asarray(query_values, dtype=np.float64).reshape(len(weights), -1)[:, 0])
    return normalise(np.bincount(index, weights=weights, minlength=len(choices.texts)))


def importance_choice_probs(motif: Motif, params: Mapping, observations: Mapping, *, seed: int = 0,
                            chunk: int = 100_000, min_ess: float = 20_000,
                            max_samples: int = 2_000_000) -> tuple[np.ndarray, float]:
    """Likelihood-weighted choice probabilities and the effective sample size (see module docstring)."""
    import jax
    from numpyro.infer import Predictive

    kwargs = _conditioned_kwargs(motif, params, observations)
    observed = tuple(observations)
    log_lik = jax.vmap(_log_likelihood_fn(motif, kwargs, observed))
    choices = motif.choices(params, observations)
    key = jax.random.PRNGKey(seed)
    log_weights, queries = [], []
    total = 0
    while total < max_samples:
        key, draw_key = jax.random.split(key)
        samples = Predictive(motif.model, num_samples=chunk, parallel=True)(draw_key, **kwargs)
        latent = {k: v for k, v in samples.items() if k not in observed}
        log_weights.append(np.asarray(log_lik(latent), dtype=np.float64))
        queries.append(np.asarray(samples[motif.query]).reshape(chunk, -1)[:, 0])
        total += chunk
        lw = np.concatenate(log_weights)
        w = np.exp(lw - lw.max())
        ess = w.sum() ** 2 / (w ** 2).sum()
        if ess >= min_ess:
            break
    return _bin_probs(choices, np.concatenate(queries), w), float(ess)


def nuts_choice_probs(motif: Motif, params: Mapping, observations: Mapping, *, seed: int = 0,
                      num_warmup: int = 500, num_samples: int = 4000) -> np.ndarray:
    """NUTS over the latent sites, then the query from Predictive; continuous latents only."""
    import jax
    from numpyro.infer import MCMC, NUTS, Predictive

    if not motif.nuts_ok:
        raise ValueError(f"motif {motif.name} has discrete latent sites; use method='is'")
    kwargs = _conditioned_kwargs(motif, params, observations)
    mcmc_key, predictive_key = jax.random.split(jax.random.PRNGKey(seed))
    mcmc = MCMC(NUTS(motif.model), num_warmup=num_warmup, num_samples=num_samples, progress_bar=False)
    mcmc.run(mcmc_key, **kwargs)
    posterior = mcmc.get_samples()
    if motif.query in posterior:
        queries = posterior[motif.query]
    else:
        queries = Predictive(motif.model, posterior_samples=posterior)(predictive_key, **kwargs)[motif.query]
    choices = motif.choices(params, observations)
    return _bin_probs(choices, queries, np.ones(num_samples))


def generic_choice_probs(motif: Motif, params: Mapping, observations: Mapping, *, method: str = "is",
                         seed: int = 0, **options) -> np.ndarray:
    """Choice probabilities by generic numpyro inference: method 'is' (any motif) or 'nuts'."""
    if method == "is":
        return importance_choice_probs(motif, params, observations, seed=seed, **options)[0]
    if method == "nuts":
        return nuts_choice_probs(motif, params, observations, seed=seed, **options)
    raise ValueError(f"unknown inference method {method!r}; use 'is' or 'nuts'")
