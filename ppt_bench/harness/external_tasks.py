"""External estimation benchmarks posed as multiple choice. Now: OpenEstimate (Renda et al. 2025).

OpenEstimate: 181 variables (Glassdoor salaries, NHANES health measures, PitchBook start-ups), each a
population quantity with a ground-truth value m computed from real data. The question states the
estimand exactly (the data set's own text). The answer is one of K = 5 ranges `A`..`E`.

No free lunch: the ranges are placed so that a constant answer scores 1/K for every label and the
layout says nothing about where in it the truth lies. On a scale where equal widths are comparable
across variables, t = log m for a positive quantity (`normal`) and t = logit m for a probability
(`beta`), the K ranges are bins of one fixed width h per scale (`BIN_WIDTH`) with edges

    e_j = t - (k + v) h + j h,        j = 0..K,

where k is the label whose bin holds the truth and v ~ U(0, 1) its position inside that bin. Labels
are balanced: k runs through a seeded permutation of floor(N/K) copies of 0..K-1 plus N mod K labels
drawn without replacement, so each label is the outcome of N/K items in expectation (and of
floor(N/K) or ceil(N/K) items in fact); a constant answer's expected accuracy is exactly 1/K. Since
(k + v) / K ~ U(0, 1) independently of m, and h is a constant, the truth's position in the window is
uniform whatever the window: P(outcome = k | layout) = 1/K. The outer ranges are shown open
("below ...", "... or more"); the four inner edges are shown with `DIGITS` significant digits, and a
position v whose rounded edges would put m in a neighbouring range is drawn again, so the outcome is
k under the edges as shown (this leaves out a sliver of at most 0.3% of a bin next to each edge).
Soft label: the mass of N(m, se^2) (the sampling uncertainty of the ground truth) in each range.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ppt_bench.errors import DataError
from ppt_bench.harness.scoring import choice_loglikelihoods, item_metrics, lm_eval_dataset

LABELS = ("A", "B", "C", "D", "E")
DOMAINS = ("glassdoor", "nhanes", "pitchbook")
EVAL_SEED = 2510  # the bins' offsets and labels; fixed, so the task is the same for every model
# Bin width per scale: a factor 1.2 per range for positive quantities (the five ranges span a factor
# 1.2^5 = 2.5), 0.5 in log-odds for probabilities (about 12 points per range near 50%).
BIN_WIDTH = {"log": float(np.log(1.2)), "logit": 0.5}
DIGITS = 4


def openestimate_variables(data_dir=None) -> tuple:
    """Every OpenEstimate variable (`ppt_bench.data.EstimationVariable`), domain by domain, file order."""
    from ppt_bench.data import dataset_path, read_openestimate_variables

    folder = dataset_path("openestimate", data_dir)
    return tuple(variable for domain in DOMAINS for variable in read_openestimate_variables(
        folder / "variables" / f"{domain}_variables.json", domain))


def scale_of(variable) -> str:
    """"logit" for a probability (`beta`), "log" for a positive quantity; else a DataError."""
    if variable.distribution == "beta":
        if not 0 < variable.mean < 1:
            raise DataError(f"OpenEstimate variable {variable.id!r}: probability {variable.mean} not in (0, 1)")
        return "logit"
    if variable.mean <= 0:
        raise DataError(f"OpenEstimate variable {variable.id!r}: mean {variable.mean} is not positive "
                        "(the ranges are placed on a log scale)")
    return "log"


def to_scale(values: np.ndarray, scale: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.log(values) if scale == "log" else np.log(values) - np.log1p(-values)


def from_scale(values: np.ndarray, scale: str) -> np.ndarray:
    values = np.asarray(values, dtype=np.float64)
    return np.exp(values) if scale == "log" else 1.0 / (1.0 + np.exp(-values))


def balanced_labels(n_items: int, n_labels: int, rng: np.random.Generator) -> np.ndarray:
    """(n_items,) labels: floor(n/K) of each, the n mod K others distinct, then shuffled.

    E[#{i: label_i = k}] = n/K exactly for every k (the remainder labels are a uniform draw).
    """
    base = np.tile(np.arange(n_labels), n_items // n_labels)
    extra = rng.choice(n_labels, size=n_items % n_labels, replace=False)
    return rng.permutation(np.concatenate([base, extra]))


def bin_edges(truth: float, scale: str, label: int, position: float, n_labels: int = len(LABELS)) -> np.ndarray:
    """The K + 1 edges (value scale) of a window whose bin `label` holds `truth` at `position` in [0, 1):

    e_j = g^{-1}(g(truth) - (label + position) h + j h), g the scale, h = BIN_WIDTH[scale].
    """
    width = BIN_WIDTH[scale]
    low = to_scale(truth, scale) - (label + position) * width
    return from_scale(low + width * np.arange(n_labels + 1), scale)


def shown(value: float) -> float:
    """`value` rounded to `DIGITS` significant digits (what the question shows)."""
    return float(f"{value:.{DIGITS}g}")


def shown_probability(value: float) -> float:
    """A probability with `DIGITS` significant digits of min(p, 1 - p), so edges near 1 keep theirs."""
    return shown(value) if value <= 0.5 else 1.0 - shown(1.0 - value)


def _number(value: float, probability: bool) -> str:
    if probability:
        return f"{100 * shown_probability(value):g}%"
    rounded = shown(value)
    return f"{rounded:,.0f}" if abs(rounded) >= 1000 else f"{rounded:g}"


def range_texts(edges: np.ndarray, probability: bool) -> list[str]:
    inner = [f"between {_number(a, probability)} and {_number(b, probability)}"
             for a, b in zip(edges[1:-2], edges[2:-1], strict=True)]
    return [f"below {_number(edges[1], probability)}", *inner,
            f"{_number(edges[-2], probability)} or more"]


def shown_inner_edges(edges: np.ndarray, probability: bool) -> np.ndarray:
    """The K - 1 inner edges as the question shows them (percentages for probabilities)."""
    if probability:
        return np.array([shown_probability(edge) for edge in edges[1:-1]])
    return np.array([shown(edge) for edge in edges[1:-1]])


def soft_label(mean: float, se: float, inner: np.ndarray) -> np.ndarray:
    """Mass of N(mean, se^2) in each range (outer ranges open); a point mass when se is 0 or nan."""
    from scipy.stats import norm

    if not np.isfinite(se) or se <= 0:
        probs = np.zeros(len(inner) + 1)
        probs[int(np.searchsorted(inner, mean, side="right"))] = 1.0
        return probs
    cdf = np.concatenate([[0.0], norm.cdf(inner, loc=mean, scale=se), [1.0]])
    probs = np.diff(cdf)
    return probs / probs.sum()


def openestimate_documents(data_dir=None, seed: int = EVAL_SEED) -> list[dict]:
    variables = openestimate_variables(data_dir)
    rng = np.random.default_rng(seed)
    labels = balanced_labels(len(variables), len(LABELS), rng)
    docs = []
    for variable, label in zip(variables, labels, strict=True):
        probability = variable.distribution == "beta"
        while True:  # draw the position in the bin again if rounding the edges moves the truth out
            edges = bin_edges(variable.mean, scale_of(variable), int(label), float(rng.uniform()))
            inner = shown_inner_edges(edges, probability)
            if int(np.searchsorted(inner, variable.mean, side="right")) == label:
                break
        options = "\n".join(f"{name}. {text}" for name, text in
                            zip(LABELS, range_texts(edges, probability), strict=True))
        question = (f"Estimate this quantity from what you know: {variable.question.rstrip('. ')}.\n"
                    f"Which range contains the true value?\n{options}")
        docs.append({"id": f"openestimate-{variable.domain}-{variable.id}", "question": question,
                     "answer_prefix": "Answer:", "labels": list(LABELS),
                     "soft_label": soft_label(variable.mean, variable.se, inner).tolist(),
                     "outcome": int(np.searchsorted(inner, variable.mean, side="right")),
                     "domain": variable.domain, "base_variable": variable.base_variable})
    return docs


def load_openestimate(**metadata: Any):
    """`custom_dataset` entry point of `openestimate`."""
    return lm_eval_dataset(openestimate_documents(metadata.get("data_dir")))


def process_estimation(doc: dict, results: list) -> dict[str, Any]:
    return item_metrics(choice_loglikelihoods(results), doc["soft_label"], doc["outcome"], ordinal=True)
