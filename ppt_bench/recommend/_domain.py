"""What a recommendation domain is: features on value grids, a hypothesis space and a choice rule.

An option is a vector of integer *levels*, one per feature (shape ``(n_features,)``); an option set is
``(n_options, n_features)``. Every domain encodes options linearly,

    encode(levels) -> features  (..., n_options, dim)
    utility[h, k] = hypotheses[h] . features[k]                      (n_hypotheses, n_options)

numeric features encode to one column ``(value - min) / (max - min)`` in [0, 1] and categorical ones to
a one-hot block, so one vectorised assistant serves weight-vector users (flight, hotel: a weight per
feature) and goal-set users (shopping: ``1/|goal|`` on each goal value, utility = fraction matched).

Choice rule (Qiu et al. 2026): the user picks the option of highest utility; ties are broken uniformly
at random, so the likelihood of a tied option is ``1 / |argmax set|``. With ``temperature > 0`` the user
is a softmax chooser, ``p(k) ∝ exp(utility[k] / temperature)`` (noisy, e.g. human users).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

# Utilities on the flight grid are multiples of 0.05; anything closer than this is a tie.
TIE_ATOL = 1e-9


@dataclass(frozen=True)
class Feature:
    """One feature: its key, how it is written in an option, its value grid and how to render a value.

    ``values`` are raw values (minutes, dollars, or strings for categorical features); the level of an
    option is an index into ``values``. ``render(value) -> str`` writes a value the way option strings
    do, and :meth:`parse` inverts it by lookup, so a rendering round trip is exact by construction.
    """

    name: str
    label: str
    values: tuple
    render: Callable[[object], str] = str
    categorical: bool = False

    @property
    def n_levels(self) -> int:
        return len(self.values)

    @property
    def dim(self) -> int:
        """Columns this feature takes in the encoding: 1 if numeric, one per value if categorical."""
        return self.n_levels if self.categorical else 1

    def rendered(self) -> tuple[str, ...]:
        return tuple(self.render(value) for value in self.values)

    def parse(self, text: str) -> int:
        """The level whose rendering is ``text`` (stripped); ``ValueError`` if there is none."""
        try:
            return self.rendered().index(text.strip())
        except ValueError:
            raise ValueError(f"{self.name}: {text!r} is not one of {self.rendered()}") from None

    def encode(self, levels: np.ndarray) -> np.ndarray:
        """Levels ``(...)`` -> encoded columns ``(..., dim)``."""
        levels = np.asarray(levels)
        if self.categorical:
            return np.eye(self.n_levels)[levels]
        numbers = np.asarray(self.values, dtype=float)
        span = numbers.max() - numbers.min()
        return ((numbers[levels] - numbers.min()) / span)[..., None]


@dataclass(frozen=True, eq=False)
class Domain:
    """A recommendation domain: features, option noun, hypothesis space (user types) and a baseline.

    hypotheses: ``(n_hypotheses, dim)`` float, one user type per row (a weight per encoded column).
    heuristic: ``(dim,)`` weights of the simple baseline (e.g. ``-1`` on price: "always the cheapest").
    levels_per_hypothesis: optional ``(n_hypotheses, n_features)`` level of each weight on a common
    grid (flight/hotel: index into ``weight_grid``), used for per-feature posterior marginals.
    """

    name: str
    noun: str
    features: tuple[Feature, ...]
    hypotheses: np.ndarray
    heuristic: np.ndarray
    weight_grid: tuple[float, ...] = ()
    levels_per_hypothesis: np.ndarray | None = None

    @property
    def n_features(self) -> int:
        return len(self.features)

    @property
    def dim(self) -> int:
        return sum(feature.dim for feature in self.features)

    @property
    def n_hypotheses(self) -> int:
        return len(self.hypotheses)

    def encode(self, levels: np.ndarray) -> np.ndarray:
        """Levels ``(..., n_features)`` int -> encoded features ``(..., dim)`` float."""
        levels = np.asarray(levels)
        return np.concatenate(
            [feature.encode(levels[..., j]) for j, feature in enumerate(self.features)], axis=-1)

    def sample_options(self, rng: np.random.Generator, shape: tuple[int, ...],
                       n_options: int = 3) -> np.ndarray:
        """Random option sets ``shape + (n_options, n_features)``: each level uniform on its grid.

        Sets in which two options are identical are redrawn (a choice between twins says nothing).
        """
        sizes = np.array([feature.n_levels for feature in self.features])
        levels = rng.integers(0, sizes, size=(*shape, n_options, self.n_features))
        while True:
            twins = np.zeros(shape, dtype=bool)
            for a in range(n_options):
                for b in range(a + 1, n_options):
                    twins |= np.all(levels[..., a, :] == levels[..., b, :], axis=-1)
            if not twins.any():
                return levels
            levels[twins] = rng.integers(0, sizes, size=(int(twins.sum()), n_options, self.n_features))


def utilities(hypotheses: np.ndarray, features: np.ndarray) -> np.ndarray:
    """Utility of each option for each user type: ``(H, dim), (..., K, dim) -> (..., H, K)``.

    One BLAS matrix product (einsum would not use BLAS here); the result is a transposed view.
    """
    return np.swapaxes(np.asarray(features, dtype=float) @ hypotheses.T, -1, -2)


def choice_probs(utility: np.ndarray, temperature: float = 0.0) -> np.ndarray:
    """The user's choice distribution over the last axis (options) of ``utility``.

    temperature 0: uniform over the argmax set (``1/|argmax|`` each, ties within ``TIE_ATOL``);
    temperature > 0: ``softmax(utility / temperature)``. Rows sum to 1.
    """
    utility = np.asarray(utility, dtype=float)
    if temperature <= 0:
        best = utility >= utility.max(axis=-1, keepdims=True) - TIE_ATOL
        return best / best.sum(axis=-1, keepdims=True)
    scaled = utility / temperature
    scaled = np.exp(scaled - scaled.max(axis=-1, keepdims=True))
    return scaled / scaled.sum(axis=-1, keepdims=True)


def sample_choices(probs: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One draw per row of ``probs`` ``(..., K) -> (...)`` int (inverse-CDF, seeded)."""
    cumulative = np.cumsum(probs, axis=-1)
    draws = rng.random(probs.shape[:-1])[..., None]
    return np.minimum((draws * cumulative[..., -1:] >= cumulative).sum(axis=-1), probs.shape[-1] - 1)


def weight_hypotheses(n_features: int, grid: tuple[float, ...] = (-1.0, -0.5, 0.0, 0.5, 1.0),
                      max_hypotheses: int | None = None, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """All weight vectors on ``grid ** n_features`` except all-zero, as (weights, levels).

    ``5^4 - 1 = 624`` for the flight domain. Above ``max_hypotheses`` a seeded uniform subset is kept
    (optional; the built-in domains keep every type); rows stay in lexicographic order.
    weights: ``(H, n_features)`` float; levels: ``(H, n_features)`` int index into ``grid``.
    """
    n_grid = len(grid)
    total = n_grid ** n_features
    zero = next((i for i, g in enumerate(grid) if g == 0), None)
    flat = np.arange(total)
    if zero is not None:
        flat = flat[flat != sum(zero * n_grid ** j for j in range(n_features))]
    if max_hypotheses is not None and len(flat) > max_hypotheses:
        flat = np.sort(np.random.default_rng(seed).choice(flat, max_hypotheses, replace=False))
    levels = np.stack([(flat // n_grid ** (n_features - 1 - j)) % n_grid for j in range(n_features)],
                      axis=-1)
    return np.asarray(grid, dtype=float)[levels], levels
