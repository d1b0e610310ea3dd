"""What a motif is: a numpyro model plus the pieces that turn one run of it into a multiple-choice item.

A motif is one generative structure (e.g. a rate from counts). It is made of

- ``model(**params, **observations)``: a plain numpyro model. Every observed quantity is a keyword
  argument defaulting to ``None`` that is passed as ``obs=`` to the ``numpyro.sample`` site of the same
  name; the queried quantity is a site named ``motif.query`` (sample or deterministic).
- ``sample_params(rng) -> params``: the randomised numbers of one scenario (prior hyper-parameters,
  sizes), drawn with numpy *before* the program runs, JSON-serialisable.
- ``choices(params, observations) -> Choices``: K <= 10 ordered bins (or hypotheses) for the query.
  Bins may depend on what is observed, never on the realised answer.
- ``exact(params, observations) -> probs`` (K,) float64: the exact posterior probability of each
  choice (closed form, enumeration, or deterministic quadrature).
- ``render(params, observations, skin) -> str``: story, observations and question in words.

This module holds only light dataclasses and helpers (numpy only).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

import numpy as np

LABELS: tuple[str, ...] = tuple("ABCDEFGHIJ")
SPLITS: tuple[str, ...] = ("train", "heldout")


@dataclass(frozen=True)
class Choices:
    """K answer options for one query.

    ``edges`` (K+1,) increasing: the realised query value v falls in choice k iff
    ``edges[k] <= v < edges[k+1]``. Discrete hypotheses 0..K-1 use edges -0.5, 0.5, ..., K-0.5.
    """

    texts: tuple[str, ...]
    edges: tuple[float, ...]

    def __post_init__(self) -> None:
        if not 2 <= len(self.texts) <= len(LABELS):
            raise ValueError(f"need 2..{len(LABELS)} choices, got {len(self.texts)}")
        if len(self.edges) != len(self.texts) + 1 or any(np.diff(self.edges) <= 0):
            raise ValueError(f"edges must be increasing with K+1 entries: {self.edges}")

    @property
    def labels(self) -> tuple[str, ...]:
        return LABELS[: len(self.texts)]

    def index_of(self, values):
        """Choice index of each value (array in, int array out; values outside go to the end bins)."""
        inner = np.asarray(self.edges[1:-1], dtype=np.float64)
        return np.searchsorted(inner, np.asarray(values, dtype=np.float64), side="right")


@dataclass(frozen=True)
class Skin:
    """One open-world wording of a motif: a name and the words its renderer fills in."""

    name: str
    words: Mapping[str, object] = field(hash=False)


@dataclass(frozen=True)
class Motif:
    """One generative structure; see the module docstring for the contract of each callable."""

    name: str
    split: str
    summary: str
    model: Callable[..., None]
    observed: tuple[str, ...]
    query: str
    sample_params: Callable[[np.random.Generator], dict]
    choices: Callable[[dict, dict], Choices]
    exact: Callable[[dict, dict], np.ndarray]
    render: Callable[[dict, dict, Skin], str]
    skins: tuple[Skin, ...]
    nuts_ok: bool = False  # all latent sites continuous with fixed support (NUTS applies)
    observe: Callable[[dict], tuple[str, ...]] | None = None  # per-scenario subset of `observed`

    def __post_init__(self) -> None:
        if self.split not in SPLITS:
            raise ValueError(f"motif {self.name}: split must be one of {SPLITS}")
        if len(self.skins) < 5:
            raise ValueError(f"motif {self.name}: needs >= 5 skins, has {len(self.skins)}")

    def observed_names(self, params: Mapping) -> tuple[str, ...]:
        """The observed sites of one scenario (all of `observed` unless the motif hides some)."""
        return self.observe(params) if self.observe is not None else self.observed

    def skin(self, name: str) -> Skin:
        for skin in self.skins:
            if skin.name == name:
                return skin
        raise KeyError(f"motif {self.name} has no skin {name!r}")


# ----------------------------------------------------------------------------- bins and numbers

def normalise(weights) -> np.ndarray:
    """weights (K,) >= 0 -> float64 probabilities summing to 1."""
    weights = np.asarray(weights, dtype=np.float64)
    total = weights.sum()
    if not np.isfinite(total) or total <= 0:
        raise ValueError(f"cannot normalise weights {weights}")
    return weights / total


def softmax_log(log_weights) -> np.ndarray:
    """exp(l - max l) normalised: posterior probabilities from unnormalised log weights."""
    log_weights = np.asarray(log_weights, dtype=np.float64)
    return normalise(np.exp(log_weights - np.max(log_weights)))


def nice(x: float, digits: int = 2) -> float:
    """Round to `digits` significant figures (for bin edges a reader can take in)."""
    if x == 0 or not math.isfinite(x):
        return float(x)
    return float(f"{x:.{digits}g}")


def fmt(x: float) -> str:
    """A number as a person writes it: 12, 0.35, 1,200."""
    if float(x).is_integer():
        return f"{int(x):,}"
    return f"{x:,.2f}".rstrip("0").rstrip(".") if abs(x) < 100 else f"{x:,.0f}"


def real_bins(cuts, unit: str = "", lower: float = -np.inf, upper: float = np.inf) -> Choices:
    """Bins of a real quantity split at `cuts` (increasing): below c1, c1 to c2, ..., above cK-1."""
    cuts = [float(c) for c in cuts]
    sep = " " + unit if unit and not unit.startswith("%") else unit
    texts = []
    edges = [lower] + cuts + [upper]
    for k in range(len(edges) - 1):
        lo, hi = edges[k], edges[k + 1]
        if k == 0 and not math.isfinite(lo):
            texts.append(f"less than {fmt(hi)}{sep}")
        elif k == len(edges) - 2 and not math.isfinite(hi):
            texts.append(f"{fmt(lo)}{sep} or more")
        else:
            texts.append(f"between {fmt(lo)} and {fmt(hi)}{sep}")
    return Choices(tuple(texts), tuple(edges))


def percent_bins(cuts) -> Choices:
    """Bins of a probability in [0, 1] split at `cuts`, written as percentages."""
    edges = [0.0] + [float(c) for c in cuts] + [1.0 + 1e-9]
    texts = tuple(f"between {round(100 * edges[k])}% and {round(100 * min(edges[k + 1], 1.0))}%"
                  for k in range(len(edges) - 1))
    return Choices(texts, tuple(edges))


def integer_bins(starts, unit: str = "") -> Choices:
    """Bins of a count: starts s0 < s1 < ... ; bin k holds s_k .. s_{k+1}-1, the last is open."""
    starts = [int(s) for s in starts]
    sep = " " + unit if unit else ""
    texts = []
    for k, lo in enumerate(starts):
        if k == len(starts) - 1:
            texts.append(f"{lo:,} or more{sep}")
        elif starts[k + 1] - lo == 1:
            texts.append(f"exactly {lo:,}{sep}")
        else:
            texts.append(f"{lo:,} to {starts[k + 1] - 1:,}{sep}")
    edges = [s - 0.5 for s in starts] + [np.inf]
    return Choices(tuple(texts), tuple(float(e) for e in edges))


def hypothesis_choices(texts) -> Choices:
    """Discrete hypotheses 0..K-1 (the query site's value is the hypothesis index)."""
    texts = tuple(texts)
    return Choices(texts, tuple(k - 0.5 for k in range(len(texts) + 1)))


def quantile_integer_starts(ppf: Callable[[np.ndarray], np.ndarray], k: int, low: int = 0) -> list[int]:
    """Up to k integer bin starts at prior-predictive quantiles (distinct, first is `low`)."""
    qs = np.asarray(ppf(np.linspace(0, 1, k + 1)[1:-1]), dtype=np.float64)
    starts = [low]
    for q in qs:
        s = int(nice(float(q) + 0.5, 2))
        if s > starts[-1]:
            starts.append(s)
    return starts


def quantile_real_cuts(ppf: Callable[[np.ndarray], np.ndarray], k: int) -> list[float]:
    """Up to k-1 distinct 2-significant-figure cuts at quantiles of a distribution."""
    cuts: list[float] = []
    for q in np.asarray(ppf(np.linspace(0, 1, k + 1)[1:-1]), dtype=np.float64):
        c = nice(float(q))
        if not cuts or c > cuts[-1]:
            cuts.append(c)
    return cuts


def bin_masses_from_cdf(cdf: Callable[[np.ndarray], np.ndarray], choices: Choices) -> np.ndarray:
    """Probability of each bin under a distribution given by its CDF: F(e_{k+1}) - F(e_k)."""
    values = np.asarray(cdf(np.asarray(choices.edges, dtype=np.float64)), dtype=np.float64)
    return normalise(np.clip(np.diff(values), 0.0, None))


def options_text(choices: Choices) -> str:
    """The labelled options, one per line: 'A. ...'."""
    return "\n".join(f"{label}. {text}" for label, text in zip(choices.labels, choices.texts, strict=False))
