"""Motifs about rates and counts: beta-binomial, gamma-Poisson, gamma-exponential, noisy-OR strength,
change point (held out), population size from serial numbers (held out)."""

from __future__ import annotations

import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import numpy as jnp
from scipy import special, stats

from ppt_bench.programs._motif import (
    Choices,
    Motif,
    Skin,
    bin_masses_from_cdf,
    fmt,
    hypothesis_choices,
    integer_bins,
    normalise,
    percent_bins,
    quantile_integer_starts,
    quantile_real_cuts,
    real_bins,
    softmax_log,
)
from ppt_bench.programs.motifs._names import pick_name

# ============================================================================ rate from counts

def rate_model(n, a, b, successes=None):
    """rate ~ Beta(a, b); successes ~ Binomial(n, rate)."""
    rate = numpyro.sample("rate", dist.Beta(a, b))
    numpyro.sample("successes", dist.Binomial(n, rate), obs=successes)


def _rate_params(rng: np.random.Generator) -> dict:
    mean = float(rng.choice(np.arange(0.1, 0.91, 0.05)).round(2))
    strength = float(rng.choice([2, 4, 6, 10, 20]))
    return {"n": int(rng.integers(4, 41)), "a": mean * strength, "b": (1 - mean) * strength,
            "name": pick_name(rng)}


def _rate_choices(params, observations) -> Choices:
    return percent_bins(np.round(np.arange(0.1, 0.95, 0.1), 2))


def _rate_exact(params, observations) -> np.ndarray:
    """Posterior rate ~ Beta(a + k, b + n - k); choice mass = CDF differences over the bins."""
    k, n = int(observations["successes"]), params["n"]
    post = stats.beta(params["a"] + k, params["b"] + n - k)
    return bin_masses_from_cdf(post.cdf, _rate_choices(params, observations))


def _rate_render(params, observations, skin: Skin) -> str:
    w, a, b = skin.words, params["a"], params["b"]
    mean = a / (a + b)
    return (f"{params['name']} {w['intro']}. From similar cases, a typical {w['rate']} is about "
            f"{round(100 * mean)}%, and that belief is worth roughly {fmt(a + b)} earlier {w['trials']}. "
            f"Out of {params['n']} {w['trials']}, {int(observations['successes'])} {w['success']}.\n"
            f"What is {params['name']}'s true {w['rate']}?")


RATE = Motif(
    name="rate_from_counts", split="train", summary="a success rate from counts (beta-binomial)",
    model=rate_model, observed=("successes",), query="rate", sample_params=_rate_params,
    choices=_rate_choices, exact=_rate_exact, render=_rate_render, nuts_ok=True,
    skins=(
        Skin("free_throws", {"intro": "is a basketball player practising free throws",
                             "rate": "free-throw success rate", "trials": "shots", "success": "went in"}),
        Skin("seeds", {"intro": "is a gardener testing a new batch of tomato seeds",
                       "rate": "germination rate", "trials": "seeds", "success": "sprouted"}),
        Skin("ads", {"intro": "runs an online advert for a bakery",
                     "rate": "click-through rate", "trials": "viewers", "success": "clicked"}),
        Skin("defects", {"intro": "inspects parts from a new machine",
                         "rate": "defect rate", "trials": "parts", "success": "were defective"}),
        Skin("survey", {"intro": "asks neighbours whether they would join a community garden",
                        "rate": "rate of 'yes' answers", "trials": "neighbours", "success": "said yes"}),
    ),
)

# ============================================================================ events per interval

def event_model(alpha, beta, m, counts=None):
    """rate ~ Gamma(alpha, beta); counts[i] ~ Poisson(rate), i < m; next ~ Poisson(rate)."""
    rate = numpyro.sample("rate", dist.Gamma(alpha, beta))
    with numpyro.plate("intervals", m):
        numpyro.sample("counts", dist.Poisson(rate), obs=counts)
    numpyro.sample("next", dist.Poisson(rate))


def _event_params(rng) -> dict:
    mean = float(rng.choice([1.5, 2, 3, 4, 5, 6, 8, 10, 12, 15]))
    alpha = float(rng.choice([1.5, 2, 4, 8]))
    return {"alpha": alpha, "beta": alpha / mean, "m": int(rng.integers(1, 7)), "name": pick_name(rng)}


def _event_choices(params, observations) -> Choices:
    alpha, beta = params["alpha"], params["beta"]
    starts = quantile_integer_starts(stats.nbinom(alpha, beta / (1 + beta)).ppf, 7)
    if len(starts) < 3:
        starts = [0, 1, 2]
    return integer_bins(starts)


def _event_exact(params, observations) -> np.ndarray:
    """Posterior rate ~ Gamma(alpha + S, beta + m); next ~ NegBinomial(alpha + S, (beta+m)/(beta+m+1))."""
    total, m = float(np.sum(observations["counts"])), params["m"]
    a, b = params["alpha"] + total, params["beta"] + m
    return bin_masses_from_cdf(stats.nbinom(a, b / (b + 1)).cdf, _event_choices(params, observations))


def _event_render(params, observations, skin) -> str:
    w, alpha, beta = skin.words, params["alpha"], params["beta"]
    mean, sd = alpha / beta, np.sqrt(alpha) / beta
    counts = ", ".join(str(int(c)) for c in np.atleast_1d(observations["counts"]))
    return (f"{params['name']} {w['intro']}. At comparable {w['places']} the average is about {fmt(round(mean, 1))} "
            f"{w['events']} per {w['interval']}, though the average itself differs from place to place by about "
            f"±{fmt(round(sd, 1))}. Over the last {params['m']} {w['interval']}(s) {params['name']} counted: "
            f"{counts}.\nHow many {w['events']} will there be in the next {w['interval']}?")


EVENTS = Motif(
    name="event_counts", split="train", summary="counts per interval (gamma-Poisson predictive)",
    model=event_model, observed=("counts",), query="next", sample_params=_event_params,
    choices=_event_choices, exact=_event_exact, render=_event_render, nuts_ok=False,
    skins=(
        Skin("help_desk", {"intro": "staffs a small help desk", "places": "help desks",
                           "events": "calls", "interval": "hour"}),
        Skin("meteors", {"intro": "watches the sky from a hill", "places": "observing sites",
                         "events": "meteors", "interval": "night"}),
        Skin("bugs", {"intro": "maintains an open-source library", "places": "similar projects",
                      "events": "bug reports", "interval": "week"}),
        Skin("goals", {"intro": "follows an amateur football team", "places": "teams in the league",
                       "events": "goals", "interval": "match"}),
        Skin("birds", {"intro": "keeps a bird feeder", "places": "gardens nearby",
                       "events": "visiting birds", "interval": "morning"}),
    ),
)

# ============================================================================ waiting times

def waiting_model(alpha, beta, m, waits=None):
    """rate ~ Gamma(alpha, beta); waits[i] ~ Exponential(rate), i < m; next ~ Exponential(rate)."""
    rate = numpyro.sample("rate", dist.Gamma(alpha, beta))
    with numpyro.plate("observed_waits", m):
        numpyro.sample("waits", dist.Exponential(rate), obs=waits)
    numpyro.sample("next", dist.Exponential(rate))


def _wait_params(rng) -> dict:
    alpha = float(rng.choice([3, 4, 6, 10]))
    mean_wait = float(rng.choice([2, 3, 5, 8, 10, 15, 20, 30]))
    return {"alpha": alpha, "beta": mean_wait * (alpha - 1), "m": int(rng.integers(1, 6)),
            "name": pick_name(rng)}


def _lomax_cdf(alpha, beta):
    """Predictive of an exponential wait under a Gamma(alpha, beta) rate: 1 - (beta/(beta+w))^alpha."""
    return lambda w: np.where(np.asarray(w) <= 0, 0.0,
                              1.0 - (beta / (beta + np.clip(w, 0, None))) ** alpha)


def _wait_choices(params, observations) -> Choices:
    alpha, beta = params["alpha"], params["beta"]
    ppf = lambda u: beta * ((1 - u) ** (-1 / alpha) - 1)  # noqa: E731
    return real_bins(quantile_real_cuts(ppf, 6), "minutes", lower=0.0)


def _wait_exact(params, observations) -> np.ndarray:
    """Posterior rate ~ Gamma(alpha + m, beta + sum w); next wait ~ Lomax(alpha + m, beta + sum w)."""
    waits = np.atleast_1d(observations["waits"])
    cdf = _lomax_cdf(params["alpha"] + len(waits), params["beta"] + float(waits.sum()))
    return bin_masses_from_cdf(cdf, _wait_choices(params, observations))


def _wait_render(params, observations, skin) -> str:
    w = skin.words
    mean_wait = params["beta"] / (params["alpha"] - 1)
    waits = ", ".join(fmt(round(float(x), 1)) for x in np.atleast_1d(observations["waits"]))
    return (f"{params['name']} {w['intro']}. At places like this the average wait for {w['event']} is about "
            f"{fmt(mean_wait)} minutes, but it varies a lot from place to place. {params['name']} timed "
            f"{params['m']} wait(s) here, in minutes: {waits}.\nHow long will the next wait for {w['event']} be?")


WAITING = Motif(
    name="waiting_time", split="train", summary="the next waiting time (gamma-exponential)",
    model=waiting_model, observed=("waits",), query="next", sample_params=_wait_params,
    choices=_wait_choices, exact=_wait_exact, render=_wait_render, nuts_ok=True,
    skins=(
        Skin("bus", {"intro": "waits at an unfamiliar bus stop", "event": "a bus"}),
        Skin("fishing", {"intro": "is fishing at a new lake", "event": "a bite"}),
        Skin("geyser", {"intro": "is visiting a small geyser", "event": "an eruption"}),
        Skin("taxi", {"intro": "hails taxis on a quiet street", "event": "a free taxi"}),
        Skin("shop", {"intro": "minds a corner shop in a new neighbourhood", "event": "a customer"}),
    ),
)

# ============================================================================ causal strength (noisy-OR)

def causal_model(n_with, n_without, with_cause=None, without_cause=None):
    """background, strength ~ U(0,1); effect with cause ~ Bin(n, 1-(1-bg)(1-s)), without ~ Bin(n, bg)."""
    background = numpyro.sample("background", dist.Uniform(0.0, 1.0))
    strength = numpyro.sample("strength", dist.Uniform(0.0, 1.0))
    p_with = 1.0 - (1.0 - background) * (1.0 - strength)
    numpyro.sample("with_cause", dist.Binomial(n_with, p_with), obs=with_cause)
    numpyro.sample("without_cause", dist.Binomial(n_without, background), obs=without_cause)


def _causal_params(rng) -> dict:
    return {"n_with": int(rng.integers(4, 31)), "n_without": int(rng.integers(4, 31)), "name": pick_name(rng)}


def _causal_choices(params, observations) -> Choices:
    return percent_bins([0.2, 0.4, 0.6, 0.8])


_GRID = (np.arange(200) + 0.5) / 200  # midpoints: bin edges at multiples of 0.2 fall on cell borders


def _causal_exact(params, observations) -> np.ndarray:
    """Midpoint quadrature on a 200 x 200 grid of (background, strength) under the uniform prior."""
    bg, st = _GRID[:, None], _GRID[None, :]
    log_lik = (stats.binom.logpmf(int(observations["with_cause"]), params["n_with"], 1 - (1 - bg) * (1 - st))
               + stats.binom.logpmf(int(observations["without_cause"]), params["n_without"], bg))
    post_strength = np.exp(log_lik - log_lik.max()).sum(axis=0)
    return normalise(post_strength.reshape(5, 40).sum(axis=1))


def _causal_render(params, observations, skin) -> str:
    w = skin.words
    return (f"{params['name']} is testing whether {w['cause']} causes {w['effect']}. {w['effect'].capitalize()} "
            f"can also happen for other reasons. With {w['cause']}: {int(observations['with_cause'])} of "
            f"{params['n_with']} {w['units']} showed {w['effect']}. Without it: "
            f"{int(observations['without_cause'])} of {params['n_without']} {w['units']} did.\n"
            f"If {w['cause']} is given to a {w['unit']} that would not otherwise show {w['effect']}, how likely "
            f"is it to cause {w['effect']} (its causal strength)?")


CAUSAL = Motif(
    name="causal_strength", split="train", summary="noisy-OR causal power from contingency counts",
    model=causal_model, observed=("with_cause", "without_cause"), query="strength",
    sample_params=_causal_params, choices=_causal_choices, exact=_causal_exact, render=_causal_render,
    nuts_ok=True,
    skins=(
        Skin("fertiliser", {"cause": "a new fertiliser", "effect": "early flowering", "units": "plants",
                            "unit": "plant"}),
        Skin("medicine", {"cause": "a herbal tea", "effect": "relief from headache", "units": "patients",
                          "unit": "patient"}),
        Skin("coating", {"cause": "a rust-proof coating", "effect": "a bright sheen", "units": "panels",
                         "unit": "panel"}),
        Skin("music", {"cause": "background music", "effect": "a purchase", "units": "shoppers",
                       "unit": "shopper"}),
        Skin("protein", {"cause": "a protein in the feed", "effect": "extra egg laying", "units": "hens",
                         "unit": "hen"}),
    ),
)

# ============================================================================ change point (held out)

def change_model(periods, alpha, beta, counts=None):
    """change ~ Uniform{0..T-2} (the rate changes after period change+1); two rates ~ Gamma(alpha, beta);
    counts[t] ~ Poisson(rate before if t <= change else rate after)."""
    change = numpyro.sample("change", dist.Categorical(probs=jnp.ones(periods - 1) / (periods - 1)))
    rates = numpyro.sample("rates", dist.Gamma(alpha, beta).expand([2]).to_event(1))
    rate = jnp.where(jnp.arange(periods) <= change, rates[0], rates[1])
    with numpyro.plate("periods", periods):
        numpyro.sample("counts", dist.Poisson(rate), obs=counts)


def _change_params(rng) -> dict:
    mean = float(rng.choice([2, 3, 4, 6, 8, 10]))
    alpha = float(rng.choice([1, 2, 3]))
    return {"periods": int(rng.integers(5, 12)), "alpha": alpha, "beta": alpha / mean, "name": pick_name(rng)}


def _segment_log_marginal(counts, alpha, beta):
    """log of integral of prod Poisson(c | r) Gamma(r | alpha, beta) dr (without the 1/c! terms)."""
    s, n = counts.sum(), len(counts)
    return alpha * np.log(beta) - special.gammaln(alpha) + special.gammaln(alpha + s) - (alpha + s) * np.log(beta + n)


def _change_exact(params, observations) -> np.ndarray:
    """Enumerate the change point; each segment's rate is integrated out in closed form."""
    counts = np.asarray(observations["counts"], dtype=np.float64)
    a, b = params["alpha"], params["beta"]
    return softmax_log([_segment_log_marginal(counts[: t + 1], a, b) + _segment_log_marginal(counts[t + 1:], a, b)
                        for t in range(params["periods"] - 1)])


def _change_render(params, observations, skin) -> str:
    w = skin.words
    counts = ", ".join(f"period {t + 1}: {int(c)}" for t, c in enumerate(observations["counts"]))
    return (f"{params['name']} {w['intro']}. At some point the underlying rate of {w['events']} changed once "
            f"(up or down), equally likely after any period; each period is one {w['unit']}. Counts of "
            f"{w['events']} — {counts}.\nAfter which period did the rate change?")


def _change_choices(params, observations) -> Choices:
    return hypothesis_choices(f"after period {t + 1}" for t in range(params["periods"] - 1))


CHANGE = Motif(
    name="change_point", split="heldout", summary="when a Poisson rate changed (enumeration)",
    model=change_model, observed=("counts",), query="change", sample_params=_change_params,
    choices=_change_choices, exact=_change_exact, render=_change_render,
    skins=(
        Skin("mine", {"intro": "studies records of accidents in an old mine", "events": "accidents",
                      "unit": "year"}),
        Skin("server", {"intro": "looks after a web server", "events": "error alerts", "unit": "day"}),
        Skin("feeder", {"intro": "logs visits to a garden feeder", "events": "bird visits", "unit": "week"}),
        Skin("complaints", {"intro": "handles a shop's customer service", "events": "complaints",
                            "unit": "week"}),
        Skin("tremors", {"intro": "reads a seismograph near a volcano", "events": "small tremors",
                         "unit": "month"}),
    ),
)

# ============================================================================ serial numbers (held out)

def serial_model(max_size, m, serials=None):
    """size ~ Uniform{1..max_size}; serials[i] ~ Uniform{1..size} (with replacement), i < m."""
    index = numpyro.sample("size_index", dist.Categorical(probs=jnp.ones(max_size) / max_size))
    size = numpyro.deterministic("size", index + 1)
    with numpyro.plate("sightings", m):
        numpyro.sample("serials", dist.DiscreteUniform(1, size), obs=serials)


def _serial_params(rng) -> dict:
    return {"max_size": int(rng.choice([100, 200, 300, 500, 1000, 2000])), "m": int(rng.integers(1, 6)),
            "name": pick_name(rng)}


def _serial_choices(params, observations) -> Choices:
    top = params["max_size"]
    return integer_bins([1] + [int(top * f) for f in (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.8)])


def _serial_exact(params, observations) -> np.ndarray:
    """Enumerate N: posterior proportional to N^-m for max(serials) <= N <= max_size."""
    serials = np.atleast_1d(np.asarray(observations["serials"]))
    sizes = np.arange(1, params["max_size"] + 1, dtype=np.float64)
    log_post = np.where(sizes >= serials.max(), -len(serials) * np.log(sizes), -np.inf)
    post = softmax_log(log_post)
    choices = _serial_choices(params, observations)
    return normalise(np.bincount(choices.index_of(sizes), weights=post, minlength=len(choices.texts)))


def _serial_render(params, observations, skin) -> str:
    w = skin.words
    seen = ", ".join(str(int(s)) for s in np.atleast_1d(observations["serials"]))
    return (f"{w['intro']} numbered 1, 2, 3, ... up to an unknown total, which is at most "
            f"{params['max_size']:,} (any total up to that is equally likely beforehand). {params['name']} noted the "
            f"numbers of {params['m']} {w['things']} picked at random (the same one could turn up twice): "
            f"{seen}.\nHow many {w['things']} are there in total?")


SERIALS = Motif(
    name="serial_numbers", split="heldout", summary="population size from serial numbers (German tank)",
    model=serial_model, observed=("serials",), query="size", sample_params=_serial_params,
    choices=_serial_choices, exact=_serial_exact, render=_serial_render,
    skins=(
        Skin("tanks", {"intro": "An army's tanks are", "things": "tanks"}),
        Skin("taxis", {"intro": "A city's licensed taxis are", "things": "taxis"}),
        Skin("bibs", {"intro": "The runners in a marathon wear bibs", "things": "runners"}),
        Skin("library", {"intro": "A village library's books are", "things": "books"}),
        Skin("tickets", {"intro": "The raffle tickets sold at a fair are", "things": "tickets"}),
    ),
)

MOTIFS = (RATE, EVENTS, WAITING, CAUSAL, CHANGE, SERIALS)
