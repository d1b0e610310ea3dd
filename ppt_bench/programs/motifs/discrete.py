"""Motifs over discrete hypotheses: diagnosis with base rates, the number game (size principle), a hidden
preference from noisy choices."""

from __future__ import annotations

import numpy as np
import numpyro
import numpyro.distributions as dist
from jax import numpy as jnp
from scipy import special

from ppt_bench.programs._motif import Choices, Motif, Skin, hypothesis_choices, softmax_log
from ppt_bench.programs.motifs._names import pick_name


def _percent_weights(rng, k: int, concentration: float = 2.0) -> list[float]:
    """k probabilities that are whole percentages (>= 1%) summing to 1."""
    weights = np.maximum(np.round(rng.dirichlet(np.full(k, concentration)) * 100), 1)
    weights[np.argmax(weights)] += 100 - weights.sum()
    return (weights / 100).round(2).tolist()


# ============================================================================ diagnosis

def diagnosis_model(base_rates, sign_probs, signs=None):
    """cause ~ Categorical(base_rates); signs[j] ~ Bernoulli(sign_probs[cause, j])."""
    cause = numpyro.sample("cause", dist.Categorical(probs=jnp.asarray(base_rates)))
    probs = jnp.asarray(sign_probs)[cause]
    with numpyro.plate("sign_list", probs.shape[-1]):
        numpyro.sample("signs", dist.Bernoulli(probs=probs), obs=signs)


_DIAG_SKINS = (
    Skin("clinic", {"setting": "A patient comes to a clinic", "causes": ("flu", "a cold", "strep throat",
                    "an allergy", "COVID"), "signs": ("fever", "cough", "sore throat", "itchy eyes", "fatigue")}),
    Skin("garage", {"setting": "A car is brought to a garage", "causes": ("a flat battery", "a bad starter",
                    "an empty tank", "a blocked filter", "a faulty sensor"),
                    "signs": ("dim lights", "a clicking sound", "a warning light", "a fuel smell", "stalling")}),
    Skin("garden", {"setting": "A rose bush is ailing", "causes": ("aphids", "black spot", "mildew",
                    "drought", "root rot"), "signs": ("yellow leaves", "dark spots", "white powder",
                                                      "wilting", "sticky leaves")}),
    Skin("servers", {"setting": "A website goes down", "causes": ("a bad deploy", "a database fault",
                     "a traffic spike", "an expired certificate", "a network cut"),
                     "signs": ("error pages", "slow queries", "high CPU", "browser warnings", "timeouts")}),
    Skin("bakery", {"setting": "A loaf of bread came out badly", "causes": ("old yeast", "too much water",
                    "a cold kitchen", "too little kneading", "an oven fault"),
                    "signs": ("a flat top", "a dense crumb", "a pale crust", "a sour smell", "big holes")}),
)


def _diag_params(rng) -> dict:
    skin = _DIAG_SKINS[int(rng.integers(len(_DIAG_SKINS)))]
    k, m = int(rng.integers(3, 6)), int(rng.integers(3, 6))
    causes = [str(c) for c in rng.choice(skin.words["causes"], size=k, replace=False)]
    signs = [str(s) for s in rng.choice(skin.words["signs"], size=m, replace=False)]
    sign_probs = (rng.integers(1, 20, size=(k, m)) * 0.05).round(2).tolist()
    return {"base_rates": _percent_weights(rng, k), "sign_probs": sign_probs, "cause_names": causes,
            "sign_names": signs, "skin": skin.name, "name": pick_name(rng)}


def _diag_choices(params, observations) -> Choices:
    return hypothesis_choices(params["cause_names"])


def _diag_exact(params, observations) -> np.ndarray:
    """Enumerate causes: log base_c + sum_j log(p_cj if sign j seen else 1 - p_cj)."""
    probs, seen = np.asarray(params["sign_probs"]), np.asarray(observations["signs"], dtype=bool)
    return softmax_log(np.log(params["base_rates"]) + np.where(seen, np.log(probs), np.log1p(-probs)).sum(axis=1))


def _diag_render(params, observations, skin) -> str:
    rows = "\n".join(f"- {c}: {round(100 * b)}% of cases; shows " +
                     ", ".join(f"{s} {round(100 * p)}%" for s, p in zip(params["sign_names"], probs, strict=False))
                     for c, b, probs in zip(params["cause_names"], params["base_rates"], params["sign_probs"],
                                            strict=True))
    seen = [s for s, v in zip(params["sign_names"], observations["signs"], strict=False) if v]
    absent = [s for s, v in zip(params["sign_names"], observations["signs"], strict=False) if not v]
    return (f"{skin.words['setting']}; {params['name']} knows it has exactly one of these causes (how often each "
            f"cause occurs, and how often it shows each sign):\n{rows}\nPresent: {', '.join(seen) or 'none'}. "
            f"Absent: {', '.join(absent) or 'none'}.\nWhat is the cause?")


DIAGNOSIS = Motif(
    name="diagnosis", split="train", summary="diagnosis from signs with base rates (naive Bayes)",
    model=diagnosis_model, observed=("signs",), query="cause", sample_params=_diag_params,
    choices=_diag_choices, exact=_diag_exact, render=_diag_render, skins=_DIAG_SKINS,
)

# ============================================================================ number game

_RULE_POOL = ("even", "odd", "square", "cube", "prime", "pow:2", "pow:3", *(f"mult:{k}" for k in range(3, 11)),
              *(f"end:{d}" for d in range(10)))


def rule_members(rule: str) -> np.ndarray:
    """The numbers 1..100 a rule picks out (bool mask of length 101; index 0 is never a member)."""
    n = np.arange(101)
    kind, *args = rule.split(":")
    if kind == "even":
        mask = n % 2 == 0
    elif kind == "odd":
        mask = n % 2 == 1
    elif kind == "square":
        mask = np.isin(n, np.arange(1, 11) ** 2)
    elif kind == "cube":
        mask = np.isin(n, np.arange(1, 5) ** 3)
    elif kind == "prime":
        mask = np.array([k > 1 and all(k % d for d in range(2, int(k ** 0.5) + 1)) for k in n])
    elif kind == "pow":
        mask = np.isin(n, int(args[0]) ** np.arange(0, 7))
    elif kind == "mult":
        mask = n % int(args[0]) == 0
    elif kind == "end":
        mask = n % 10 == int(args[0])
    elif kind == "range":
        mask = (n >= int(args[0])) & (n <= int(args[1]))
    else:
        raise ValueError(f"unknown rule {rule!r}")
    mask = mask & (n >= 1)
    return mask


def rule_text(rule: str) -> str:
    kind, *args = rule.split(":")
    return {"even": "even numbers", "odd": "odd numbers", "square": "square numbers", "cube": "cube numbers",
            "prime": "prime numbers"}.get(kind) or {
        "pow": f"powers of {args[0] if args else ''}", "mult": f"multiples of {args[0] if args else ''}",
        "end": f"numbers ending in {args[0] if args else ''}",
        "range": f"numbers from {args[0]} to {args[-1]}" if args else ""}[kind]


def number_game_model(member_probs, m, examples=None):
    """rule ~ Uniform over K rules; examples[i] ~ Categorical(member_probs[rule]) (uniform over the rule's
    numbers: the size principle, p(x | h) = 1/|h| for x in h)."""
    probs = jnp.asarray(member_probs)
    rule = numpyro.sample("rule", dist.Categorical(probs=jnp.ones(probs.shape[0]) / probs.shape[0]))
    with numpyro.plate("shown", m):
        numpyro.sample("examples", dist.Categorical(probs=probs[rule]), obs=examples)


_NUMBER_SKINS = (
    Skin("game", {"setup": "In a guessing game, {name} picked a secret rule about the numbers 1 to 100",
                  "shown": "{name} shows numbers that follow it, picked at random"}),
    Skin("lock", {"setup": "A locksmith sets a keypad to accept codes (1 to 100) that fit one rule",
                  "shown": "{name} saw these accepted codes, picked at random"}),
    Skin("teacher", {"setup": "A teacher calls some numbers from 1 to 100 'magic' according to one rule",
                     "shown": "{name}'s class was told these magic numbers, picked at random"}),
    Skin("lift", {"setup": "A lift in a 100-storey tower stops only at floors that fit one rule",
                  "shown": "{name} saw it stop at these floors, picked at random"}),
    Skin("tokens", {"setup": "A machine accepts only tokens numbered 1 to 100 that fit one rule",
                    "shown": "{name} saw these tokens accepted, picked at random"}),
)


def _number_params(rng) -> dict:
    k = int(rng.integers(3, 7))
    rules = [str(r) for r in rng.choice(_RULE_POOL, size=k, replace=False)]
    if rng.random() < 0.5:  # an interval hypothesis, as in Tenenbaum's number game
        lo = int(rng.integers(1, 80))
        rules[int(rng.integers(k))] = f"range:{lo}:{int(rng.integers(lo + 5, min(lo + 40, 100) + 1))}"
    masks = np.stack([rule_members(r) for r in rules]).astype(np.float64)
    skin = _NUMBER_SKINS[int(rng.integers(len(_NUMBER_SKINS)))]
    return {"rules": rules, "member_probs": (masks / masks.sum(axis=1, keepdims=True)).tolist(),
            "m": int(rng.integers(1, 5)), "skin": skin.name, "name": pick_name(rng)}


def _number_choices(params, observations) -> Choices:
    return hypothesis_choices(rule_text(r) for r in params["rules"])


def _number_exact(params, observations) -> np.ndarray:
    """Enumerate rules: uniform prior times prod_i 1[x_i in h] / |h|."""
    examples = np.atleast_1d(np.asarray(observations["examples"], dtype=int))
    masks = np.stack([rule_members(r) for r in params["rules"]])
    sizes = masks.sum(axis=1)
    consistent = masks[:, examples].all(axis=1)
    return softmax_log(np.where(consistent, -len(examples) * np.log(sizes), -np.inf))


def _number_render(params, observations, skin) -> str:
    w = skin.words
    shown = ", ".join(str(int(x)) for x in np.atleast_1d(observations["examples"]))
    return (f"{w['setup'].format(name=params['name'])}; it is one of the rules listed below, each equally likely "
            f"beforehand. {w['shown'].format(name=params['name'])} (repeats possible): {shown}.\n"
            f"Which rule is it?")


NUMBER_GAME = Motif(
    name="number_game", split="train", summary="a rule from examples (number game, size principle)",
    model=number_game_model, observed=("examples",), query="rule", sample_params=_number_params,
    choices=_number_choices, exact=_number_exact, render=_number_render, skins=_NUMBER_SKINS,
)

# ============================================================================ hidden preference

def preference_model(logits, choices=None):
    """preference ~ Uniform over H; choices[r] ~ Categorical(logits[preference, r]) (softmax choice)."""
    table = jnp.asarray(logits)  # (H, rounds, options)
    pref = numpyro.sample("preference", dist.Categorical(probs=jnp.ones(table.shape[0]) / table.shape[0]))
    with numpyro.plate("rounds", table.shape[1]):
        numpyro.sample("choices", dist.Categorical(logits=table[pref]), obs=choices)


_PREF_SKINS = (
    Skin("coffee", {"who": "a colleague", "options": "coffee shops", "attrs": ("price", "taste", "nearness")}),
    Skin("phones", {"who": "a friend", "options": "phones", "attrs": ("price", "battery", "camera")}),
    Skin("restaurants", {"who": "a neighbour", "options": "restaurants", "attrs": ("price", "food", "service")}),
    Skin("holidays", {"who": "a cousin", "options": "holiday cottages", "attrs": ("price", "views", "space")}),
    Skin("bikes", {"who": "a club member", "options": "bikes", "attrs": ("price", "speed", "comfort")}),
)


def _pref_params(rng) -> dict:
    rounds, options = int(rng.integers(2, 5)), 3
    scores = rng.integers(1, 6, size=(rounds, options, 3))  # star ratings of each attribute
    beta = float(rng.choice([0.8, 1.2, 1.6]))
    logits = np.concatenate([beta * np.moveaxis(scores, -1, 0), np.zeros((1, rounds, options))])  # (4, r, o)
    skin = _PREF_SKINS[int(rng.integers(len(_PREF_SKINS)))]
    return {"logits": logits.tolist(), "scores": scores.tolist(), "beta": beta, "skin": skin.name,
            "name": pick_name(rng)}


def _pref_choices(params, observations) -> Choices:
    attrs = next(s for s in _PREF_SKINS if s.name == params["skin"]).words["attrs"]
    return hypothesis_choices([f"mostly {a}" for a in attrs] + ["no real preference (picks at random)"])


def _pref_exact(params, observations) -> np.ndarray:
    """Enumerate preferences: prod_r softmax(logits[h, r])[choice_r]."""
    logits, picked = np.asarray(params["logits"]), np.asarray(observations["choices"], dtype=int)
    log_probs = logits - special.logsumexp(logits, axis=-1, keepdims=True)
    return softmax_log(np.take_along_axis(log_probs, picked[None, :, None], axis=-1).sum(axis=(1, 2)))


def _pref_render(params, observations, skin) -> str:
    w = skin.words
    lines = []
    for r, (row, pick) in enumerate(zip(params["scores"], observations["choices"], strict=False)):
        opts = "; ".join(f"{'XYZ'[o]} (" + ", ".join(f"{a} {s}/5" for a, s in zip(w["attrs"], sc, strict=False)) + ")"
                         for o, sc in enumerate(row))
        lines.append(f"Round {r + 1}: {opts} -> chose {'XYZ'[int(pick)]}")
    return (f"{params['name']} watches {w['who']} choose between {w['options']}, rated 1-5 stars on "
            f"{', '.join(w['attrs'])} (higher is better, so a high price rating means cheap). The chooser cares "
            f"mostly about one thing, or about nothing in particular; even then choices are a little noisy.\n"
            + "\n".join(lines) + "\nWhat does the chooser care about?")


PREFERENCE = Motif(
    name="preference", split="train", summary="a hidden preference from noisy choices (softmax choice)",
    model=preference_model, observed=("choices",), query="preference", sample_params=_pref_params,
    choices=_pref_choices, exact=_pref_exact, render=_pref_render, skins=_PREF_SKINS,
)

MOTIFS = (DIAGNOSIS, NUMBER_GAME, PREFERENCE)
