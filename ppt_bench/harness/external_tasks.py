"""External estimation benchmarks posed as multiple choice. Now: OpenEstimate (Renda et al. 2025).

OpenEstimate: 181 variables (Glassdoor salaries, NHANES health measures, PitchBook start-ups), each a
population quantity with a ground-truth value computed from real data. The question states the
estimand exactly (the data set's own text). The answer is one of K = 5 ranges.

Bins never leak the answer: they depend only on the *base variable*, not on the item. For a base
variable whose conditioned variants have true values m_1..m_n, with span = max m - min m,

    edges = linspace(min m, max m, K + 1)

and the outer ranges are open ("below ...", "... or more"), so every variant of one base variable is
asked with the same five ranges, and the lowest and highest variants fall in the outer ranges (every
range can be right). Outcome: the range holding the true value (the variable's `mean`);
soft label: the mass of N(mean, se^2) in each range (the sampling uncertainty of the ground truth).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ppt_bench.harness.scoring import choice_loglikelihoods, item_metrics

LABELS = ("A", "B", "C", "D", "E")
DOMAINS = ("glassdoor", "nhanes", "pitchbook")


def base_variable_edges(means: list[float]) -> np.ndarray:
    """The K + 1 bin edges of one base variable from its variants' true values (see module doc)."""
    low, high = min(means), max(means)
    if high <= low:  # a single variant: a range of +-50% around it (no finer information is given)
        low, high = low - abs(low) / 2, high + abs(high) / 2
    return np.linspace(low, high, len(LABELS) + 1)


def _number(value: float, probability: bool) -> str:
    if probability:
        return f"{100 * value:.1f}%"
    magnitude = abs(value)
    return f"{value:,.0f}" if magnitude >= 100 else f"{value:.3g}"


def range_texts(edges: np.ndarray, probability: bool) -> list[str]:
    inner = [f"between {_number(a, probability)} and {_number(b, probability)}"
             for a, b in zip(edges[1:-2], edges[2:-1], strict=True)]
    return [f"below {_number(edges[1], probability)}", *inner,
            f"{_number(edges[-2], probability)} or more"]


def soft_label(mean: float, se: float, edges: np.ndarray) -> np.ndarray:
    """Mass of N(mean, se^2) in each range (outer ranges open); a point mass when se is 0 or nan."""
    from scipy.stats import norm

    inner = edges[1:-1]
    if not np.isfinite(se) or se <= 0:
        probs = np.zeros(len(LABELS))
        probs[int(np.searchsorted(inner, mean, side="right"))] = 1.0
        return probs
    cdf = np.concatenate([[0.0], norm.cdf(inner, loc=mean, scale=se), [1.0]])
    probs = np.diff(cdf)
    return probs / probs.sum()


def openestimate_documents(data_dir=None) -> list[dict]:
    from ppt_bench.data import dataset_path, read_openestimate_variables

    folder = dataset_path("openestimate", data_dir)
    variables = [variable for domain in DOMAINS for variable in read_openestimate_variables(
        folder / "variables" / f"{domain}_variables.json", domain)]
    variants: dict[tuple[str, str], list[float]] = defaultdict(list)
    for variable in variables:
        variants[(variable.domain, variable.base_variable)].append(variable.mean)
    docs = []
    for variable in variables:
        probability = variable.distribution == "beta"
        edges = base_variable_edges(variants[(variable.domain, variable.base_variable)])
        options = "\n".join(f"{label}. {text}" for label, text in
                            zip(LABELS, range_texts(edges, probability), strict=True))
        question = (f"Estimate this quantity from what you know: {variable.question}.\n"
                    f"Which range contains the true value?\n{options}")
        soft = soft_label(variable.mean, variable.se, edges)
        docs.append({"id": f"openestimate-{variable.domain}-{variable.id}", "question": question,
                     "answer_prefix": "Answer:", "labels": list(LABELS), "soft_label": soft.tolist(),
                     "outcome": int(np.searchsorted(edges[1:-1], variable.mean, side="right")),
                     "domain": variable.domain, "base_variable": variable.base_variable})
    return docs


def load_openestimate(**metadata: Any):
    """`custom_dataset` entry point of `openestimate`."""
    import datasets

    docs = openestimate_documents(metadata.get("data_dir"))
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def process_estimation(doc: dict, results: list) -> dict[str, Any]:
    return item_metrics(choice_loglikelihoods(results), doc["soft_label"], doc["outcome"], ordinal=True)
