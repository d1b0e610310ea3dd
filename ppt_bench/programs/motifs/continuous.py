"""Motifs with continuous latents: a total from an elapsed part, trend extrapolation (Bayesian linear
regression), fusing two noisy measurements, category membership in a Gaussian mixture."""

from __future__ import annotations

import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import numpy as jnp
from scipy import stats

from ppt_bench.programs._motif import (
    Choices,
    Motif,
    Skin,
    bin_masses_from_cdf,
    fmt,
    hypothesis_choices,
    nice,
    quantile_real_cuts,
    real_bins,
    softmax_log,
)
from ppt_bench.programs.motifs._names import pick_name


def _skin_of(skins, rng) -> Skin:
    return skins[int(rng.integers(len(skins)))]


def _centred_bins(centre: float, width: float, k: int, unit: str) -> Choices:
    """k bins of equal `width` around `centre` (open at both ends); edges at 2 significant figures."""
    width = nice(width, 1)
    start = nice(centre, 3) - width * (k - 2) / 2
    cuts = [round(start + j * width, 10) for j in range(k - 1)]
    return real_bins(cuts, unit)


# ============================================================================ total from elapsed part

def elapsed_model(family, shape, scale, elapsed=None):
    """total ~ LogNormal(log scale, shape) if family == 0 else Gamma(shape, 1/scale);
    elapsed ~ Uniform(0, total) (we meet the process at a random moment)."""
    prior = dist.LogNormal(jnp.log(scale), shape) if family == 0 else dist.Gamma(shape, 1.0 / scale)
    total = numpyro.sample("total", prior)
    numpyro.sample("elapsed", dist.Uniform(0.0, total), obs=elapsed)


_ELAPSED_SKINS = (
    Skin("lifespan", {"family": 1, "shape": (10, 16), "median": (70, 82), "unit": "years",
                      "setup": "{name} meets a man who is {t} years old", "q": "How old will he live to be?",
                      "total": "lifespan of men in this country"}),
    Skin("baking", {"family": 1, "shape": (3, 6), "median": (25, 60), "unit": "minutes",
                    "setup": "{name} walks into a kitchen where a cake has been baking for {t} minutes",
                    "q": "What will its total baking time be?", "total": "baking time of cakes"}),
    Skin("box_office", {"family": 0, "shape": (0.8, 1.4), "median": (20, 60), "unit": "million dollars",
                        "setup": "{name} reads that a new film has taken {t} million dollars so far",
                        "q": "What will its total takings be?", "total": "takings of films"}),
    Skin("reign", {"family": 1, "shape": (2, 3), "median": (10, 20), "unit": "years",
                   "setup": "{name} reads that a king has reigned for {t} years so far",
                   "q": "How long will his reign last in total?", "total": "length of reigns"}),
    Skin("on_hold", {"family": 0, "shape": (0.5, 0.9), "median": (4, 12), "unit": "minutes",
                     "setup": "{name} has been on hold with a helpline for {t} minutes",
                     "q": "How long will the whole wait on hold be?", "total": "time on hold"}),
)


def _elapsed_params(rng) -> dict:
    skin = _skin_of(_ELAPSED_SKINS, rng)
    w = skin.words
    median = nice(float(rng.uniform(*w["median"])))
    shape = round(float(rng.uniform(*w["shape"])), 1)
    # Gamma(shape, rate 1/scale) has median ~ scale * (shape - 1/3) for shape >= 1
    scale = median if w["family"] == 0 else median / (shape - 1 / 3)
    return {"family": int(w["family"]), "shape": shape, "scale": float(scale), "skin": skin.name,
            "name": pick_name(rng)}


def _prior(params):
    if params["family"] == 0:
        return stats.lognorm(params["shape"], scale=params["scale"])
    return stats.gamma(params["shape"], scale=params["scale"])


def _size_biased(params):
    """p(T)/T renormalised: LogNormal(mu - s^2, s) for the log-normal, Gamma(k - 1, theta) for the gamma."""
    if params["family"] == 0:
        s = params["shape"]
        return stats.lognorm(s, scale=params["scale"] * np.exp(-s * s))
    return stats.gamma(params["shape"] - 1, scale=params["scale"])


def _elapsed_choices(params, observations) -> Choices:
    unit = _skin_unit(params)
    return real_bins(quantile_real_cuts(_prior(params).ppf, 8), unit, lower=0.0)


def _skin_unit(params) -> str:
    return next(s for s in _ELAPSED_SKINS if s.name == params["skin"]).words["unit"]


def _elapsed_exact(params, observations) -> np.ndarray:
    """posterior(T | t) = p(T) (1/T) 1[T > t] / Z: the size-biased prior truncated below at t (closed form)."""
    t = float(observations["elapsed"])
    post = _size_biased(params)
    edges = np.asarray(_elapsed_choices(params, observations).edges, dtype=np.float64)
    clipped = np.maximum(edges, t)
    masses = np.clip(post.sf(clipped[:-1]) - post.sf(clipped[1:]), 0.0, None)
    if masses.sum() <= 0:  # t so far in the tail that sf underflows: the bin holding t takes all mass
        masses[np.searchsorted(edges[1:-1], t, side="right")] = 1.0
    return masses / masses.sum()


def _elapsed_render(params, observations, skin) -> str:
    w, prior = skin.words, _prior(params)
    q10, q50, q90 = (fmt(nice(x)) for x in prior.ppf([0.1, 0.5, 0.9]))
    t = fmt(nice(float(observations["elapsed"]), 3))
    return (f"{w['setup'].format(name=params['name'], t=t)}. The typical {w['total']} is about {q50} {w['unit']}; "
            f"80% are between {q10} and {q90} {w['unit']}. Assume we arrived at a random moment.\n{w['q']}")


ELAPSED = Motif(
    name="elapsed_total", split="train", summary="a total from an elapsed part (everyday predictions)",
    model=elapsed_model, observed=("elapsed",), query="total", sample_params=_elapsed_params,
    choices=_elapsed_choices, exact=_elapsed_exact, render=_elapsed_render, skins=_ELAPSED_SKINS,
)

# ============================================================================ trend extrapolation

def trend_model(level, level_sd, slope_sd, noise, periods, ahead, values=None):
    """intercept ~ N(level, level_sd); slope ~ N(0, slope_sd);
    values[t] ~ N(intercept + slope t, noise), t = 1..T; future ~ N(intercept + slope (T + ahead), noise)."""
    intercept = numpyro.sample("intercept", dist.Normal(level, level_sd))
    slope = numpyro.sample("slope", dist.Normal(0.0, slope_sd))
    times = jnp.arange(1, periods + 1)
    with numpyro.plate("periods", periods):
        numpyro.sample("values", dist.Normal(intercept + slope * times, noise), obs=values)
    numpyro.sample("future", dist.Normal(intercept + slope * (periods + ahead), noise))


_TREND_SKINS = (
    Skin("sales", {"what": "monthly sales of a new shop", "unit": "sales", "step": "month", "level": 200}),
    Skin("height", {"what": "a seedling's height, measured weekly", "unit": "cm", "step": "week", "level": 20}),
    Skin("reservoir", {"what": "a reservoir's water level each day", "unit": "m", "step": "day", "level": 50}),
    Skin("downloads", {"what": "an app's weekly downloads (thousands)", "unit": "thousand", "step": "week",
                       "level": 40}),
    Skin("temperature", {"what": "the average temperature each week this spring", "unit": "°C",
                         "step": "week", "level": 12}),
)


def _trend_params(rng) -> dict:
    skin = _skin_of(_TREND_SKINS, rng)
    level = float(skin.words["level"]) * float(rng.uniform(0.7, 1.3))
    noise = nice(level * float(rng.uniform(0.03, 0.12)))
    return {"level": nice(level), "level_sd": nice(level * 0.3), "slope_sd": nice(noise * rng.uniform(0.5, 2)),
            "noise": noise, "periods": int(rng.integers(3, 8)), "ahead": int(rng.integers(1, 4)),
            "skin": skin.name, "name": pick_name(rng)}


def _trend_posterior(params, observations):
    """Conjugate Gaussian: S_n = (S0^-1 + X'X / s^2)^-1, m_n = S_n (S0^-1 m0 + X'y / s^2); predictive
    mean x*' m_n and variance x*' S_n x* + s^2, with x* = (1, T + ahead)."""
    y = np.asarray(observations["values"], dtype=np.float64)
    times = np.arange(1, params["periods"] + 1)
    design = np.stack([np.ones_like(times), times], axis=1).astype(np.float64)
    prec0 = np.diag([params["level_sd"] ** -2, params["slope_sd"] ** -2])
    s2 = params["noise"] ** 2
    cov = np.linalg.inv(prec0 + design.T @ design / s2)
    mean = cov @ (prec0 @ np.array([params["level"], 0.0]) + design.T @ y / s2)
    x_new = np.array([1.0, params["periods"] + params["ahead"]])
    return float(x_new @ mean), float(np.sqrt(x_new @ cov @ x_new + s2))


def _trend_choices(params, observations) -> Choices:
    mean, sd = _trend_posterior(params, observations)
    return _centred_bins(mean, sd * 0.8, 7, next(s for s in _TREND_SKINS if s.name == params["skin"]).words["unit"])


def _trend_exact(params, observations) -> np.ndarray:
    mean, sd = _trend_posterior(params, observations)
    return bin_masses_from_cdf(stats.norm(mean, sd).cdf, _trend_choices(params, observations))


def _trend_render(params, observations, skin) -> str:
    w = skin.words
    values = ", ".join(fmt(nice(float(v), 3)) for v in observations["values"])
    return (f"{params['name']} tracks {w['what']}. It follows a roughly straight-line trend plus {w['step']}-to-"
            f"{w['step']} noise of about ±{fmt(params['noise'])} {w['unit']}; before seeing data the starting level "
            f"was expected near {fmt(params['level'])} ± {fmt(params['level_sd'])} and the change per {w['step']} "
            f"near 0 ± {fmt(params['slope_sd'])}. The last {params['periods']} values: {values}.\n"
            f"What will the value be {params['ahead']} {w['step']}(s) after the last one?")


TREND = Motif(
    name="trend", split="train", summary="extrapolating a noisy linear trend (Bayesian linear regression)",
    model=trend_model, observed=("values",), query="future", sample_params=_trend_params,
    choices=_trend_choices, exact=_trend_exact, render=_trend_render, skins=_TREND_SKINS, nuts_ok=True,
)

# ============================================================================ two noisy measurements

def fusion_model(prior_mean, prior_sd, sd_first, sd_second, first=None, second=None):
    """x ~ N(prior_mean, prior_sd); first ~ N(x, sd_first); second ~ N(x, sd_second)."""
    x = numpyro.sample("x", dist.Normal(prior_mean, prior_sd))
    numpyro.sample("first", dist.Normal(x, sd_first), obs=first)
    numpyro.sample("second", dist.Normal(x, sd_second), obs=second)


_FUSION_SKINS = (
    Skin("thermometers", {"thing": "the temperature of a pool", "unit": "°C", "base": 26,
                          "tools": ("an old thermometer", "a digital probe")}),
    Skin("scales", {"thing": "the weight of a parcel", "unit": "kg", "base": 8,
                    "tools": ("a bathroom scale", "a post-office scale")}),
    Skin("distance", {"thing": "the distance to a lighthouse", "unit": "m", "base": 900,
                      "tools": ("a phone GPS", "a laser rangefinder")}),
    Skin("appraisal", {"thing": "the value of a painting", "unit": "dollars", "base": 5000,
                       "tools": ("a hurried dealer", "a careful appraiser")}),
    Skin("baby", {"thing": "a newborn's weight", "unit": "kg", "base": 3.4,
                  "tools": ("a midwife's guess", "a clinic scale")}),
)


def _fusion_params(rng) -> dict:
    skin = _skin_of(_FUSION_SKINS, rng)
    base = float(skin.words["base"])
    prior_sd = nice(base * float(rng.uniform(0.1, 0.3)))
    return {"prior_mean": nice(base * float(rng.uniform(0.8, 1.2))), "prior_sd": prior_sd,
            "sd_first": nice(prior_sd * float(rng.uniform(0.3, 1.5))),
            "sd_second": nice(prior_sd * float(rng.uniform(0.3, 1.5))), "skin": skin.name, "name": pick_name(rng)}


def _fusion_posterior(params, observations):
    """Precision-weighted mean: 1/v = sum 1/s_i^2; m = v * sum(x_i / s_i^2)."""
    sds = np.array([params["prior_sd"], params["sd_first"], params["sd_second"]])
    xs = np.array([params["prior_mean"], observations["first"], observations["second"]], dtype=np.float64)
    var = 1.0 / np.sum(sds ** -2.0)
    return float(var * np.sum(xs / sds ** 2)), float(np.sqrt(var))


def _fusion_choices(params, observations) -> Choices:
    mean, sd = _fusion_posterior(params, observations)
    return _centred_bins(mean, sd * 0.8, 6, next(s for s in _FUSION_SKINS if s.name == params["skin"]).words["unit"])


def _fusion_exact(params, observations) -> np.ndarray:
    mean, sd = _fusion_posterior(params, observations)
    return bin_masses_from_cdf(stats.norm(mean, sd).cdf, _fusion_choices(params, observations))


def _fusion_render(params, observations, skin) -> str:
    w = skin.words
    first, second = (fmt(nice(float(observations[k]), 3)) for k in ("first", "second"))
    return (f"{params['name']} wants to know {w['thing']}. Beforehand it was expected to be about "
            f"{fmt(params['prior_mean'])} ± {fmt(params['prior_sd'])} {w['unit']}. {w['tools'][0].capitalize()} "
            f"(typical error ±{fmt(params['sd_first'])}) reads {first} {w['unit']}; {w['tools'][1]} (typical error "
            f"±{fmt(params['sd_second'])}) reads {second} {w['unit']}.\nWhat is the true value?")


FUSION = Motif(
    name="sensor_fusion", split="train", summary="fusing a prior and two noisy measurements (Gaussian)",
    model=fusion_model, observed=("first", "second"), query="x", sample_params=_fusion_params,
    choices=_fusion_choices, exact=_fusion_exact, render=_fusion_render, skins=_FUSION_SKINS, nuts_ok=True,
)

# ============================================================================ category membership

def mixture_model(weights, means, sds, measurement=None):
    """category ~ Categorical(weights); measurement ~ N(means[category], sds[category])."""
    weights = jnp.asarray(weights)
    category = numpyro.sample("category", dist.Categorical(probs=weights / weights.sum()))
    numpyro.sample("measurement", dist.Normal(jnp.asarray(means)[category], jnp.asarray(sds)[category]),
                   obs=measurement)


_MIXTURE_SKINS = (
    Skin("fish", {"kinds": ("perch", "trout", "pike", "carp", "bream"), "what": "fish caught in a lake",
                  "feature": "length", "unit": "cm", "range": (15, 70)}),
    Skin("apples", {"kinds": ("Gala", "Fuji", "Bramley", "Cox", "Jonagold"), "what": "apples in an orchard",
                    "feature": "weight", "unit": "g", "range": (100, 300)}),
    Skin("birds", {"kinds": ("sparrows", "starlings", "thrushes", "jays", "crows"), "what": "birds at a park",
                   "feature": "wingspan", "unit": "cm", "range": (20, 100)}),
    Skin("dogs", {"kinds": ("beagles", "collies", "boxers", "terriers", "spaniels"), "what": "dogs at a show",
                  "feature": "shoulder height", "unit": "cm", "range": (25, 65)}),
    Skin("parcels", {"kinds": ("letters", "small packets", "parcels", "crates", "pallets"),
                     "what": "items at a depot", "feature": "weight", "unit": "kg", "range": (1, 60)}),
)


def _mixture_params(rng) -> dict:
    skin = _skin_of(_MIXTURE_SKINS, rng)
    k = int(rng.integers(3, 6))
    lo, hi = skin.words["range"]
    weights = np.maximum(np.round(rng.dirichlet(np.full(k, 3.0)) * 100), 1)  # whole percentages
    weights[np.argmax(weights)] += 100 - weights.sum()
    means = np.sort(rng.uniform(lo, hi, size=k))
    sds = (hi - lo) / k * rng.uniform(0.2, 0.6, size=k)
    return {"weights": (weights / 100).tolist(),
            "means": [nice(m) for m in means], "sds": [nice(s, 1) for s in sds],
            "kinds": [str(x) for x in rng.choice(skin.words["kinds"], size=k, replace=False)],
            "skin": skin.name, "name": pick_name(rng)}


def _mixture_choices(params, observations) -> Choices:
    return hypothesis_choices(params["kinds"])


def _mixture_exact(params, observations) -> np.ndarray:
    """Enumerate the category: log w_c + log N(x | mu_c, s_c)."""
    x = float(observations["measurement"])
    return softmax_log(np.log(params["weights"]) + stats.norm.logpdf(x, params["means"], params["sds"]))


def _mixture_render(params, observations, skin) -> str:
    w = skin.words
    rows = "\n".join(f"- {kind}: {round(100 * wt)}% of them, {w['feature']} about {fmt(m)} ± {fmt(s)} {w['unit']}"
                     for kind, wt, m, s in zip(params["kinds"], params["weights"], params["means"], params["sds"],
                                               strict=True))
    x = fmt(nice(float(observations["measurement"]), 3))
    return (f"Among {w['what']}:\n{rows}\n{params['name']} picks one at random and measures its {w['feature']}: "
            f"{x} {w['unit']}.\nWhich kind is it?")


MIXTURE = Motif(
    name="mixture_category", split="train", summary="category membership in a Gaussian mixture",
    model=mixture_model, observed=("measurement",), query="category", sample_params=_mixture_params,
    choices=_mixture_choices, exact=_mixture_exact, render=_mixture_render, skins=_MIXTURE_SKINS,
)

MOTIFS = (ELAPSED, TREND, FUSION, MIXTURE)
