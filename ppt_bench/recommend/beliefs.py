"""Belief elicitation (Qiu et al. 2026): what an assistant believes about each preference, and the
choices those beliefs imply (pure numpy functions).

A weight domain's user has a weight per feature on ``WEIGHT_GRID`` = (-1, -0.5, 0, 0.5, 1): strong /
weak preference for low values, none, weak / strong preference for high values. An assistant's
stated beliefs are one distribution per feature over these 5 levels, ``beliefs (..., F, G)``.

Belief-based prediction: in an option set ``x (K, F)`` (features normalised to [0, 1], as the user's
own utility uses them) pick the option of highest expected utility under the beliefs taken as
independent across features (their product):

    E[u_k] = E[sum_j w_j x_kj] = sum_j E[w_j] x_kj,      E[w_j] = sum_g beliefs[j, g] * grid[g]

By linearity of expectation the product of the marginals and the expected weight per feature give
the same expected utilities, so ``expected_weights`` is all a prediction needs; correlations between
features (which per-feature questions cannot elicit) would not change E[u_k] either.

Human version: the participants of ``flight_human`` stated their own weights (``reward_fn``);
``stated_weight_hits`` says which of their actual choices are the argmax of those weights' utility.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ppt_bench.recommend._domain import TIE_ATOL, Domain

# Expected utilities closer than this are a tie (model beliefs are continuous: 1e-6 is far below any
# real difference, far above the 1e-9 nudges of the reference backend).
EU_TIE_ATOL = 1e-6

# (lower values, higher values) in words, per feature key; other features: "a lower <label>" etc.
_DIRECTIONS = {
    "departure_time": ("earlier departure times", "later departure times"),
    "arrival_time": ("earlier arrival times", "later arrival times"),
    "duration": ("shorter flights", "longer flights"),
    "layover_duration": ("shorter layovers", "longer layovers"),
    "number_of_stops": ("fewer stops", "more stops"),
    "flexibility": ("less flexible tickets", "more flexible tickets"),
    "checked_bags": ("fewer checked bags included", "more checked bags included"),
    "distance": ("hotels closer to downtown", "hotels farther from downtown"),
    "rating": ("lower-rated hotels", "higher-rated hotels"),
    "amenities": ("fewer amenities", "more amenities"),
}
_PRICE = {"Flight": ("cheaper flights", "more expensive flights"),
          "Hotel": ("cheaper hotels", "more expensive hotels")}


def _check_weight_domain(domain: Domain) -> None:
    if domain.levels_per_hypothesis is None or len(domain.weight_grid) == 0:
        raise ValueError(f"{domain.name}: belief elicitation needs a weight domain (flight, hotel), "
                         f"not goal-set users")


def preference_statements(domain: Domain, feature: int) -> list[str]:
    """The 5 preference levels of one feature in words, in ``weight_grid`` order (-1 .. 1)."""
    _check_weight_domain(domain)
    spec = domain.features[feature]
    low, high = (_PRICE.get(domain.noun) if spec.name == "price" else None) or _DIRECTIONS.get(
        spec.name, (f"a lower {spec.label}", f"a higher {spec.label}"))
    return [f"I strongly prefer {low}.", f"I somewhat prefer {low}.",
            f"I have no preference about the {spec.label}.",
            f"I somewhat prefer {high}.", f"I strongly prefer {high}."]


def belief_question_text(domain: Domain, feature: int) -> str:
    """The user's question about one feature: the 5 numbered statements, answered by number."""
    statements = "\n".join(f"{g + 1}. {text}" for g, text in enumerate(preference_statements(domain, feature)))
    return (f"Before we go on, tell me what you have learned about my preferences so far. "
            f"Which statement best describes how I feel about the {domain.features[feature].label}?\n"
            f"{statements}\nAnswer with the number of the statement.")


def true_levels(domain: Domain, user_types: np.ndarray) -> np.ndarray:
    """Each user's weight level per feature: ``(U,) -> (U, F)`` index into ``weight_grid``."""
    _check_weight_domain(domain)
    return domain.levels_per_hypothesis[np.asarray(user_types)]


def expected_weights(beliefs: np.ndarray, grid: tuple[float, ...]) -> np.ndarray:
    """``E[w_j] = sum_g beliefs[..., j, g] * grid[g]``: ``(..., F, G) -> (..., F)``."""
    return np.asarray(beliefs, dtype=float) @ np.asarray(grid, dtype=float)


def expected_utilities(weights: np.ndarray, option_features: np.ndarray) -> np.ndarray:
    """``E[u_k] = sum_j E[w_j] x_kj``: weights ``(..., F)``, options ``(..., S, K, F) -> (..., S, K)``."""
    return np.einsum("...f,...skf->...sk", np.asarray(weights, dtype=float),
                     np.asarray(option_features, dtype=float))


def best_sets(values: np.ndarray, atol: float = EU_TIE_ATOL) -> np.ndarray:
    """Boolean mask of the maxima on the last axis (ties within ``atol``): ``(..., K) -> (..., K)``."""
    values = np.asarray(values, dtype=float)
    return values >= values.max(axis=-1, keepdims=True) - atol


def expected_hits(values: np.ndarray, targets: np.ndarray, atol: float = EU_TIE_ATOL) -> np.ndarray:
    """``[y in argmax set] / |argmax set|``: the expected hit of a uniform pick among tied maxima
    (the convention of ``ppt_bench.metrics.acc``), ``(..., K), (...) -> (...)``."""
    best = best_sets(values, atol)
    chosen = np.take_along_axis(best, np.asarray(targets)[..., None], axis=-1)[..., 0]
    return chosen / best.sum(axis=-1)


def belief_accuracy_curve(beliefs: np.ndarray, grid: tuple[float, ...], heldout_features: np.ndarray,
                          targets: np.ndarray) -> np.ndarray:
    """Accuracy per round of belief-based predictions on shared held-out sets.

    beliefs (U, R+1, F, G), heldout_features (S, K, F), targets (U, S) -> (R+1,): the mean over
    users and sets of ``expected_hits(E[u], y)``.
    """
    utilities = expected_utilities(expected_weights(beliefs, grid), heldout_features)  # (U, R+1, S, K)
    return expected_hits(utilities, np.asarray(targets)[:, None, :]).mean(axis=(0, 2))


def bayesian_belief_curve(interactions) -> np.ndarray:
    """The Bayesian Assistant's exact marginals used as stated beliefs: belief-based accuracy
    per round ``(R+1,)`` on the batch's shared held-out sets (a reference line)."""
    from ppt_bench.recommend._posterior import feature_marginals
    from ppt_bench.recommend.assistants import BayesianAssistant

    domain = interactions.domain
    beliefs = feature_marginals(domain, BayesianAssistant().posteriors(interactions))
    return belief_accuracy_curve(beliefs, domain.weight_grid, interactions.heldout_features,
                                 interactions.heldout_choices)


def stated_weight_hits(features: np.ndarray, choices: np.ndarray, weights: np.ndarray,
                       ties: str = "first") -> np.ndarray:
    """Whether each actual choice is the argmax of the chooser's own stated weights.

    features (U, R, K, F) normalised options, choices (U, R), weights (U, F) -> (U, R) float.
    ties: "first" (the lowest-numbered of tied options, as the shared data's reconstruction does),
    "uniform" (expected hit 1/|tied|), "any" (the choice is among the tied maxima), "last".
    """
    utility = np.einsum("urkf,uf->urk", np.asarray(features, dtype=float), np.asarray(weights, dtype=float))
    best = best_sets(utility, TIE_ATOL)
    chosen = np.take_along_axis(best, np.asarray(choices)[..., None], axis=-1)[..., 0]
    if ties == "first":
        return (best.argmax(axis=-1) == choices).astype(float)
    if ties == "last":
        return (best.shape[-1] - 1 - best[..., ::-1].argmax(axis=-1) == choices).astype(float)
    if ties == "uniform":
        return chosen / best.sum(axis=-1)
    if ties == "any":
        return chosen.astype(float)
    raise ValueError(f"ties must be first, uniform, any or last, not {ties!r}")


def human_stated_weights_report(data_dir: Path | str, name: str = "flight_human") -> dict:
    """How often human participants chose the argmax of their own stated weights (JSON-ready).

    Reads ``eval/interaction/<name>.jsonl`` (options normalised by the domain's grid, the same
    numbers as the file's ``rounds_numpy``); keys: ``choices``, ``matches`` and ``rate`` (ties to the
    lowest option), ``per_round``, ``tied_rounds`` and the rate under the other tie rules.
    """
    from ppt_bench.recommend import official

    path = Path(data_dir) / "eval" / "interaction" / f"{name}.jsonl"
    records = official.read_jsonl(path)
    batch = official.load_weight_records(data_dir, name, heldout_name=name.removesuffix("_human"))
    weights = np.array([record["reward_fn"] for record in records], dtype=float)
    hits = stated_weight_hits(batch.features, batch.choices, weights)
    utility = np.einsum("urkf,uf->urk", batch.features, weights)
    return {
        "file": str(path), "participants": int(batch.n_users), "choices": int(hits.size),
        "matches": int(hits.sum()), "rate": round(float(hits.mean()), 6),
        "per_round": hits.mean(axis=0).round(6).tolist(),
        "tied_rounds": int((best_sets(utility, TIE_ATOL).sum(axis=-1) > 1).sum()),
        "rate_by_tie_rule": {rule: round(float(stated_weight_hits(batch.features, batch.choices, weights,
                                                                  rule).mean()), 6)
                             for rule in ("first", "uniform", "any", "last")},
    }
