"""The built-in domains: flight (2..8 features), hotel and shopping, declared as data.

Flight grids follow the published records of Qiu et al. (2026): departure 06:00 AM..10:00 PM in 11
steps of 96 min, duration 30 min..20 hr in 11 steps of 117 min, 0/1/2 stops, $100..$1000 in $90 steps.
Users are weights in {-1, -0.5, 0, 0.5, 1} per feature, all-zero excluded: 5^F - 1 types for F
features (24 for F = 2, 624 for the paper's F = 4, 390,624 for F = 8), always the whole space.
A new domain is a tuple of :class:`Feature` plus a hypothesis array; see :func:`hotel_domain`.
"""

from __future__ import annotations

from functools import cache
from itertools import combinations

import numpy as np

from ppt_bench.recommend._domain import Domain, Feature, weight_hypotheses

WEIGHT_GRID = (-1.0, -0.5, 0.0, 0.5, 1.0)


def clock(minutes: object) -> str:
    """Minutes after midnight -> ``"02:00 PM"``."""
    hours, mins = divmod(int(minutes), 60)
    return f"{(hours - 1) % 12 + 1:02d}:{mins:02d} {'AM' if hours < 12 else 'PM'}"


def hours_minutes(minutes: object) -> str:
    """A duration in minutes -> ``"30 min"``, ``"2 hr 27 min"``, ``"20 hr"`` (published wording)."""
    hours, mins = divmod(int(minutes), 60)
    if hours == 0:
        return f"{mins} min"
    return f"{hours} hr" if mins == 0 else f"{hours} hr {mins} min"


def dollars(amount: object) -> str:
    return f"${int(amount)}"


def _grid(start: int, step: int, n: int) -> tuple[int, ...]:
    return tuple(start + step * i for i in range(n))


_FLEXIBILITY = ("no changes allowed", "changes for a fee", "free changes")

# Order matters: an n-feature flight domain uses the first n of these (4 = the paper's main domain,
# so `flight_domain(4)` is the published flight domain). The four extra features are ppt-bench's own,
# written in the published style: arrival time on the departure grid (06:00 AM..10:00 PM, 96 min
# steps), layover 0 min..5 hr in 30 min steps, ticket flexibility and checked bags on 3 levels.
FLIGHT_FEATURES: tuple[Feature, ...] = (
    Feature("departure_time", "departure time", _grid(360, 96, 11), clock),
    Feature("duration", "duration", _grid(30, 117, 11), hours_minutes),
    Feature("number_of_stops", "number of stops", (0, 1, 2)),
    Feature("price", "price", _grid(100, 90, 11), dollars),
    Feature("arrival_time", "arrival time", _grid(360, 96, 11), clock),
    Feature("layover_duration", "layover", _grid(0, 30, 11), hours_minutes),
    Feature("flexibility", "flexibility", (0, 1, 2), lambda level: _FLEXIBILITY[int(level)]),
    Feature("checked_bags", "checked bags included", (0, 1, 2)),
)

HOTEL_FEATURES: tuple[Feature, ...] = (
    Feature("distance", "distance to downtown", _grid(0, 1, 11),
            lambda miles: f"{miles} mile" if miles == 1 else f"{miles} miles"),
    Feature("price", "price per night", _grid(100, 90, 11), dollars),
    Feature("rating", "rating", (1, 2, 3, 4, 5),
            lambda stars: f"{stars} star" if stars == 1 else f"{stars} stars"),
    Feature("amenities", "amenities", (0, 1, 2, 3, 4)),
)


def _cheapest(features: tuple[Feature, ...]) -> np.ndarray:
    """Heuristic weights preferring low price (the "always the cheapest" baseline)."""
    return np.array([-1.0 if feature.name == "price" else 0.0 for feature in features])


def weight_domain(name: str, noun: str, features: tuple[Feature, ...]) -> Domain:
    """A domain whose users are weight vectors on ``WEIGHT_GRID`` over normalised numeric features."""
    weights, levels = weight_hypotheses(len(features), WEIGHT_GRID)
    return Domain(name=name, noun=noun, features=features, hypotheses=weights,
                  heuristic=_cheapest(features), weight_grid=WEIGHT_GRID,
                  levels_per_hypothesis=levels)


@cache
def flight_domain(n_features: int = 4) -> Domain:
    """Flight recommendation with ``n_features`` in 2..8 (the first n of ``FLIGHT_FEATURES``).

    Users: all ``5^n - 1`` weight vectors (390,624 for n = 8: about 25 MB of float64 hypotheses;
    the assistants bound their working memory by blocking users and held-out sets).
    """
    if not 2 <= n_features <= len(FLIGHT_FEATURES):
        raise ValueError(f"flight domain has 2..{len(FLIGHT_FEATURES)} features, not {n_features}")
    name = "flight" if n_features == 4 else f"flight_{n_features}features"
    return weight_domain(name, "Flight", FLIGHT_FEATURES[:n_features])


@cache
def hotel_domain() -> Domain:
    """Hotel recommendation: distance 0-10 miles, price $100-$1000, rating 1-5 stars, amenities 0-4."""
    return weight_domain("hotel", "Hotel", HOTEL_FEATURES)


# A small catalogue written for ppt-bench: category -> attribute -> values. The first attribute is the
# price band, ordered cheapest first (the heuristic baseline picks the cheapest).
SHOPPING_CATALOGUE: dict[str, dict[str, tuple[str, ...]]] = {
    "running_shoes": {
        "price": ("$40", "$70", "$100", "$130"),
        "color": ("black", "white", "navy", "red"),
        "terrain": ("road", "trail", "track", "treadmill"),
        "cushioning": ("minimal", "light", "moderate", "maximal"),
    },
    "backpacks": {
        "price": ("$25", "$50", "$80", "$120"),
        "capacity": ("15 liters", "20 liters", "30 liters"),
        "material": ("canvas", "nylon", "polyester", "leather", "recycled PET"),
        "color": ("black", "grey", "olive", "orange", "teal"),
        "laptop sleeve": ("none", "13 inch", "15 inch"),
    },
    "coffee_makers": {
        "price": ("$30", "$60", "$120", "$250"),
        "type": ("drip", "espresso", "pour-over", "single-serve pod", "cold brew"),
        "capacity": ("1 cup", "4 cups", "12 cups"),
        "finish": ("black plastic", "stainless steel", "white"),
    },
}


def goal_hypotheses(features: tuple[Feature, ...], max_goal_size: int = 2) -> np.ndarray:
    """Goals = sets of 1..max_goal_size values of distinct attributes, as ``(H, dim)`` weights.

    A goal row holds ``1/|goal|`` on each goal value, so ``row . one_hot(option)`` is the fraction of
    the goal the option matches (the shopping reward).
    """
    offsets = np.cumsum([0] + [feature.dim for feature in features])
    rows = []
    for size in range(1, max_goal_size + 1):
        for attributes in combinations(range(len(features)), size):
            grids = np.meshgrid(*[np.arange(features[a].n_levels) for a in attributes], indexing="ij")
            for values in zip(*[grid.ravel() for grid in grids], strict=True):
                row = np.zeros(offsets[-1])
                row[[offsets[a] + v for a, v in zip(attributes, values, strict=True)]] = 1.0 / size
                rows.append(row)
    return np.array(rows)


def categorical_domain(name: str, noun: str, attributes: dict[str, tuple[str, ...]],
                       max_goal_size: int = 2) -> Domain:
    """A goal-set domain over categorical attributes; heuristic = lowest level of ``price`` if any."""
    features = tuple(Feature(key, key.replace("_", " "), tuple(values), categorical=True)
                     for key, values in attributes.items())
    heuristic = np.concatenate([
        -np.arange(feature.n_levels, dtype=float) if feature.name == "price"
        else np.zeros(feature.n_levels) for feature in features])
    return Domain(name=name, noun=noun, features=features,
                  hypotheses=goal_hypotheses(features, max_goal_size), heuristic=heuristic)


@cache
def shopping_domain(category: str = "running_shoes") -> Domain:
    """Web shopping over one built-in catalogue category (see ``SHOPPING_CATALOGUE``)."""
    if category not in SHOPPING_CATALOGUE:
        raise ValueError(f"unknown shopping category {category!r}; known: {sorted(SHOPPING_CATALOGUE)}")
    return categorical_domain(f"shopping_{category}", "Product", SHOPPING_CATALOGUE[category])


def get_domain(name: str) -> Domain:
    """``flight``, ``flight_Nfeatures`` (N in 2..8), ``hotel``, ``shopping`` or ``shopping_CATEGORY``."""
    if name == "flight":
        return flight_domain(4)
    if name.startswith("flight_") and name.endswith("features"):
        return flight_domain(int(name[len("flight_"):-len("features")]))
    if name == "hotel":
        return hotel_domain()
    if name == "shopping":
        return shopping_domain()
    if name.startswith("shopping_"):
        return shopping_domain(name[len("shopping_"):])
    raise ValueError(f"unknown domain {name!r}")
