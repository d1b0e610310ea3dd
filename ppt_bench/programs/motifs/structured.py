"""Held-out motifs with structure unlike the training motifs: explaining away in a small causal network,
latent strengths from pairwise contests (tug of war), hierarchical over-hypotheses (bags of marbles)."""

from __future__ import annotations

import functools

import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import numpy as jnp
from scipy import special, stats

from ppt_bench.programs._motif import Choices, Motif, Skin, hypothesis_choices, integer_bins, normalise
from ppt_bench.programs.motifs._names import pick_name, pick_names

# ============================================================================ explaining away

def explaining_model(prior_a, prior_b, power_a, power_b, leak, effect=None, cause_b=None):
    """a ~ Bern(prior_a); b ~ Bern(prior_b); effect ~ Bern(1 - (1-leak)(1-power_a a)(1-power_b b))."""
    a = numpyro.sample("cause_a", dist.Bernoulli(probs=prior_a))
    b = numpyro.sample("cause_b", dist.Bernoulli(probs=prior_b), obs=cause_b)
    p_effect = 1.0 - (1.0 - leak) * (1.0 - power_a * a) * (1.0 - power_b * b)
    numpyro.sample("effect", dist.Bernoulli(probs=p_effect), obs=effect)


def _explaining_observe(params) -> tuple[str, ...]:
    return ("effect", "cause_b") if params["b_observed"] else ("effect",)


_EXPLAIN_SKINS = (
    Skin("lawn", {"effect": "the lawn is wet", "no_effect": "the lawn is dry", "a": "it rained overnight",
                  "b": "the sprinkler ran", "seen_b": "the sprinkler timer shows it {did} run"}),
    Skin("alarm", {"effect": "the house alarm went off", "no_effect": "the house alarm stayed quiet",
                   "a": "there was a burglar", "b": "there was a small earthquake",
                   "seen_b": "the news says there {did} an earthquake"}),
    Skin("sneeze", {"effect": "Sam is sneezing", "no_effect": "Sam is not sneezing", "a": "Sam has a cold",
                    "b": "the pollen count is high", "seen_b": "the forecast says the pollen count {did} high"}),
    Skin("car", {"effect": "the car will not start", "no_effect": "the car starts", "a": "the battery is flat",
                 "b": "the tank is empty", "seen_b": "the fuel gauge shows the tank {did} empty"}),
    Skin("plant", {"effect": "the fern is wilting", "no_effect": "the fern looks healthy",
                   "a": "it has root rot", "b": "nobody watered it this week",
                   "seen_b": "the watering log shows it {did} skipped"}),
)
_DID = {"lawn": ("did", "did not"), "alarm": ("was", "was not"), "sneeze": ("is", "is not"),
        "car": ("is", "is not"), "plant": ("was", "was not")}


def _explaining_params(rng) -> dict:
    pick = lambda lo, hi: round(float(rng.uniform(lo, hi)), 2)  # noqa: E731
    skin = _EXPLAIN_SKINS[int(rng.integers(len(_EXPLAIN_SKINS)))]
    return {"prior_a": pick(0.05, 0.5), "prior_b": pick(0.05, 0.5), "power_a": pick(0.5, 0.95),
            "power_b": pick(0.5, 0.95), "leak": pick(0.01, 0.1), "b_observed": bool(rng.random() < 0.5),
            "skin": skin.name, "name": pick_name(rng)}


def _explaining_choices(params, observations) -> Choices:
    return hypothesis_choices(("no", "yes"))


def _explaining_exact(params, observations) -> np.ndarray:
    """Enumerate (a, b) in {0,1}^2 (b fixed when observed); sum out b; return P(a = 0), P(a = 1)."""
    joint = np.zeros(2)
    bs = [int(observations["cause_b"])] if "cause_b" in observations else [0, 1]
    for a in (0, 1):
        for b in bs:
            p_eff = 1 - (1 - params["leak"]) * (1 - params["power_a"] * a) * (1 - params["power_b"] * b)
            joint[a] += ((params["prior_a"] if a else 1 - params["prior_a"])
                         * (params["prior_b"] if b else 1 - params["prior_b"])
                         * (p_eff if observations["effect"] else 1 - p_eff))
    return normalise(joint)


def _explaining_render(params, observations, skin) -> str:
    w, p = skin.words, params
    text = (f"{p['name']} knows: beforehand, the chance that {w['a']} is {round(100 * p['prior_a'])}% and the "
            f"chance that {w['b']} is {round(100 * p['prior_b'])}%, independently. If {w['a']}, {w['effect']} "
            "with chance "
            f"{round(100 * p['power_a'])}%; if {w['b']}, with chance {round(100 * p['power_b'])}%; otherwise it "
            f"happens only {round(100 * p['leak'])}% of the time (each cause acts independently). Today "
            f"{w['effect'] if observations['effect'] else w['no_effect']}.")
    if "cause_b" in observations:
        did, did_not = _DID[skin.name]
        text += " Also, " + w["seen_b"].format(did=did if observations["cause_b"] else did_not) + "."
    return text + f"\nIs it true that {w['a']}?"


EXPLAINING = Motif(
    name="explaining_away", split="heldout", summary="explaining away in a two-cause noisy-OR network",
    model=explaining_model, observed=("effect", "cause_b"), query="cause_a", sample_params=_explaining_params,
    choices=_explaining_choices, exact=_explaining_exact, render=_explaining_render, skins=_EXPLAIN_SKINS,
    observe=_explaining_observe,
)

# ============================================================================ tug of war

def contest_model(first, second, skill_weight, first_won=None):
    """strength ~ N(0, 1)^3; first_won[c] ~ Bernoulli(sigmoid(w (s[first_c] - s[second_c])));
    strongest = argmax strength."""
    strength = numpyro.sample("strength", dist.Normal(0.0, 1.0).expand([3]).to_event(1))
    first, second = jnp.asarray(first), jnp.asarray(second)
    with numpyro.plate("contests", first.shape[0]):
        numpyro.sample("first_won", dist.Bernoulli(logits=skill_weight * (strength[first] - strength[second])),
                       obs=first_won)
    numpyro.deterministic("strongest", jnp.argmax(strength))


_CONTEST_SKINS = (
    Skin("tug_of_war", {"event": "tug-of-war bouts", "verb": "pulled over", "who": "team captains"}),
    Skin("chess", {"event": "chess games", "verb": "beat", "who": "club players"}),
    Skin("arm_wrestling", {"event": "arm-wrestling matches", "verb": "pinned", "who": "arm wrestlers"}),
    Skin("sumo", {"event": "sumo bouts", "verb": "pushed out", "who": "young wrestlers"}),
    Skin("tennis", {"event": "tennis matches", "verb": "defeated", "who": "juniors"}),
)


def _contest_params(rng) -> dict:
    n = int(rng.integers(2, 7))
    pairs = [rng.choice(3, size=2, replace=False) for _ in range(n)]
    skin = _CONTEST_SKINS[int(rng.integers(len(_CONTEST_SKINS)))]
    observer, *players = pick_names(rng, 4)
    return {"first": [int(p[0]) for p in pairs], "second": [int(p[1]) for p in pairs],
            "skill_weight": float(rng.choice([1.0, 1.5, 2.5])), "players": players,
            "skin": skin.name, "name": observer}


_NODES = 48


@functools.lru_cache(maxsize=1)
def _contest_grid():
    """Nodes (3, 48), log prior per axis (3, 48), and argmax over the 48^3 product grid (computed once).

    Each player's nodes are offset by a third of a cell, so no two strengths tie at any node."""
    base = np.linspace(-4.5, 4.5, _NODES)
    step = base[1] - base[0]
    nodes = np.stack([base + step * i / 3 for i in range(3)])
    axes = np.meshgrid(*nodes, indexing="ij")
    return nodes, stats.norm.logpdf(nodes), np.argmax(np.stack(axes), axis=0).ravel()


def _contest_exact(params, observations) -> np.ndarray:
    """Quadrature on a 48^3 grid over the three strengths with N(0, 1) weights; the likelihood of each
    contest, log sigmoid(+-w (s_f - s_s)), depends on two axes only and is broadcast over the third."""
    nodes, log_prior, best = _contest_grid()
    shape = [(_NODES, 1, 1), (1, _NODES, 1), (1, 1, _NODES)]
    log_w = sum(log_prior[i].reshape(shape[i]) for i in range(3))
    for f, s, won in zip(params["first"], params["second"], np.atleast_1d(observations["first_won"]), strict=False):
        diff = params["skill_weight"] * (nodes[f].reshape(shape[f]) - nodes[s].reshape(shape[s]))
        log_w = log_w + (-np.logaddexp(0, -diff) if won else -np.logaddexp(0, diff))
    log_w = np.broadcast_to(log_w, (_NODES,) * 3).ravel()
    return normalise(np.bincount(best, weights=np.exp(log_w - log_w.max()), minlength=3))


def _contest_render(params, observations, skin) -> str:
    w, names = skin.words, params["players"]
    results = []
    for f, s, won in zip(params["first"], params["second"], np.atleast_1d(observations["first_won"]), strict=False):
        winner, loser = (names[f], names[s]) if won else (names[s], names[f])
        results.append(f"{winner} {w['verb']} {loser}")
    return (f"{params['name']} watched {w['event']} among three {w['who']}: {', '.join(names)}. Stronger players "
            f"usually win, but upsets happen. Results: " + "; ".join(results) + ".\nWho is the strongest?")


CONTESTS = Motif(
    name="tug_of_war", split="heldout", summary="latent strengths from pairwise contests",
    model=contest_model, observed=("first_won",), query="strongest", sample_params=_contest_params,
    choices=lambda params, observations: hypothesis_choices(params["players"]),
    exact=_contest_exact, render=_contest_render, skins=_CONTEST_SKINS,
)

# ============================================================================ bags of marbles

UNIFORMITY = (0.2, 1.0, 5.0, 25.0)  # alpha: how alike the bags are inside (small = each bag one colour)
MEANS = tuple(round(0.1 * k, 1) for k in range(1, 10))  # mu: the overall share of the first colour
FUTURE_DRAWS = 4


def marbles_model(draws, new_draws, counts=None, new_counts=None):
    """alpha ~ Uniform(UNIFORMITY), mu ~ Uniform(MEANS); theta_i ~ Beta(alpha mu, alpha (1 - mu));
    counts_i ~ Bin(draws_i, theta_i); for a new bag the same, plus future ~ Bin(4, theta_new)."""
    alpha = jnp.asarray(UNIFORMITY)[numpyro.sample("uniformity", dist.Categorical(probs=jnp.ones(4) / 4))]
    mu = jnp.asarray(MEANS)[numpyro.sample("mean_share", dist.Categorical(probs=jnp.ones(9) / 9))]
    draws = jnp.asarray(draws)
    with numpyro.plate("bags", draws.shape[0]):
        theta = numpyro.sample("theta", dist.Beta(alpha * mu, alpha * (1 - mu)))
        numpyro.sample("counts", dist.Binomial(draws, theta), obs=counts)
    theta_new = numpyro.sample("theta_new", dist.Beta(alpha * mu, alpha * (1 - mu)))
    numpyro.sample("new_counts", dist.Binomial(new_draws, theta_new), obs=new_counts)
    numpyro.sample("future", dist.Binomial(FUTURE_DRAWS, theta_new))


_MARBLE_SKINS = (
    Skin("marbles", {"bag": "bag", "item": "marbles", "first": "black", "other": "white"}),
    Skin("cookies", {"bag": "tin", "item": "cookies", "first": "chocolate", "other": "plain"}),
    Skin("fish", {"bag": "pond", "item": "fish", "first": "red", "other": "grey"}),
    Skin("apples", {"bag": "crate", "item": "apples", "first": "green", "other": "red"}),
    Skin("tickets", {"bag": "jar", "item": "tickets", "first": "winning", "other": "blank"}),
)


def _marbles_params(rng) -> dict:
    skin = _MARBLE_SKINS[int(rng.integers(len(_MARBLE_SKINS)))]
    return {"draws": [int(x) for x in rng.integers(4, 11, size=int(rng.integers(2, 5)))],
            "new_draws": int(rng.integers(1, 3)), "skin": skin.name, "name": pick_name(rng)}


def _marbles_exact(params, observations) -> np.ndarray:
    """Enumerate (alpha, mu): p(data | alpha, mu) = prod BetaBinomial(k_i | n_i, a mu, a (1-mu)); the
    future count is BetaBinomial(4, a mu + s, a (1 - mu) + n_new - s); mix with the posterior weights."""
    counts, draws = np.asarray(observations["counts"]), np.asarray(params["draws"])
    s, n_new = int(observations["new_counts"]), params["new_draws"]
    alpha, mu = (g.ravel()[:, None] for g in np.meshgrid(UNIFORMITY, MEANS, indexing="ij"))  # (36, 1)
    a, b = alpha * mu, alpha * (1 - mu)
    log_post = (stats.betabinom.logpmf(counts[None, :], draws[None, :], a, b).sum(axis=1)
                + stats.betabinom.logpmf(s, n_new, a[:, 0], b[:, 0]))
    predictive = stats.betabinom.pmf(np.arange(FUTURE_DRAWS + 1)[None, :], FUTURE_DRAWS, a + s, b + n_new - s)
    return normalise(np.exp(log_post - special.logsumexp(log_post)) @ predictive)


def _marbles_render(params, observations, skin) -> str:
    w = skin.words
    bags = "; ".join(f"{w['bag']} {i + 1}: {int(k)} {w['first']} of {n}"
                     for i, (k, n) in enumerate(zip(observations["counts"], params["draws"], strict=False)))
    return (f"{params['name']} draws {w['item']} at random from several {w['bag']}s of {w['first']} and {w['other']} "
            f"{w['item']} (each {w['bag']} has its own mix; how mixed the {w['bag']}s tend to be is unknown). "
            f"So far: {bags}. From a new {w['bag']}, {int(observations['new_counts'])} of {params['new_draws']} "
            f"drawn were {w['first']}.\nOf the next {FUTURE_DRAWS} {w['item']} drawn from the new {w['bag']} "
            f"(with replacement), how many will be {w['first']}?")


MARBLES = Motif(
    name="marbles", split="heldout", summary="hierarchical over-hypotheses (bags of marbles)",
    model=marbles_model, observed=("counts", "new_counts"), query="future", sample_params=_marbles_params,
    choices=lambda params, observations: integer_bins(range(FUTURE_DRAWS + 1)),
    exact=_marbles_exact, render=_marbles_render, skins=_MARBLE_SKINS,
)

MOTIFS = (EXPLAINING, CONTESTS, MARBLES)
