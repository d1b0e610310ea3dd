"""`openestimate_prior`: OpenEstimate's own protocol (Renda et al. 2025), a prior stated in words.

The model reads the estimand (the data set's own text) and states a prior over it, as the paper's
"direct" elicitation asks: a normal N(mean, std^2) for a quantity, a Beta(alpha, beta) for a
probability. The answer is generated (lm-eval `generate_until`), starts with the document's
`answer_prefix` ("mean =" or "alpha ="), and is parsed by `parse_prior`; an answer that cannot be
parsed into a valid prior is a parse failure (`parse_fail` = 1) and is left out of the other metrics,
as the paper leaves unanswered variables out. Scoring: `ppt_bench.prior_metrics`.

Reference answers (what `ppt-bayes` and `ppt-uniform` generate, `reference_answers` in each document):
    ppt-bayes    the paper's statistical baseline, one seeded draw per variable: the posterior of a flat
                 prior after n = 5 draws of the true population (normal: N(xbar, sigma^2/5) with
                 xbar ~ N(m, sigma^2/5); probability: Beta(1 + k, 1 + 5 - k), k ~ Binomial(5, m)).
                 Its error_ratio is 1 and its quartile_ece 0 in expectation.
    ppt-uniform  the paper's uninformative prior before any data: N(0, 100000^2), Beta(1, 1).
"""

from __future__ import annotations

import math
import re
from typing import Any

import numpy as np

from ppt_bench import prior_metrics
from ppt_bench.harness.scoring import lm_eval_dataset
from ppt_bench.prior_metrics import BASELINE_SAMPLES, Prior

EVAL_SEED = 2510  # the ppt-bayes reference draws
UNINFORMATIVE = {"normal": (0.0, 100_000.0), "beta": (1.0, 1.0)}  # the paper's flat priors
ANSWER_PREFIX = {"normal": "mean =", "beta": "alpha ="}
PARAMETERS = {"normal": ("mean", "standard deviation"), "beta": ("alpha", "beta")}

# A number as models write it: 125,000 / 1.5e3 / $12.5 / .25, with an optional "k" (thousands).
_NUMBER = r"[-+]?\$?\s?(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?(?:[eE][-+]?\d+)?|[-+]?\.\d+"
_THOUSANDS = r"(\s?(?:k|K|thousand)\b)?"
_SEPARATOR = r"(?:\s|=|:|>|≈|~|\bis\b|\bof\b|\babout\b|\bapproximately\b)*"
_KEYS = {
    "mean": r"\b(?:mean|mu|μ|average|best estimate)(?:_?0|₀)?",
    "standard deviation": r"\b(?:standard deviation|std\.?|sd|sigma|σ)(?:_?0|₀)?",
    "alpha": r"(?:\balpha|α)(?:_?0|₀)?",
    "beta": r"(?:\bbeta|β)(?:_?0|₀)?",
}
_BETA_CALL = re.compile(rf"\bbeta\s*\(\s*({_NUMBER})\s*,\s*({_NUMBER})\s*\)", re.IGNORECASE)


class PriorParseError(ValueError):
    """A generated answer holds no valid prior (the message says what is missing or wrong)."""


def _to_float(number: str, thousands: str | None = None) -> float:
    value = float(number.replace(",", "").replace("$", "").replace(" ", ""))
    return value * 1000.0 if thousands else value


def _labelled_number(text: str, parameter: str) -> float:
    pattern = re.compile(rf"{_KEYS[parameter]}{_SEPARATOR}({_NUMBER}){_THOUSANDS}", re.IGNORECASE)
    match = pattern.search(text)
    if match is None:
        raise PriorParseError(f"no number labelled {parameter!r}")
    return _to_float(match.group(1), match.group(2))


def parse_prior(text: str, family: str) -> Prior:
    """The prior stated in `text` (answer prefix + generation): the first number after each label.

    normal: "mean = 125,000, standard deviation = 10k" (also mu, μ_0, sd, σ, std, `<mean>..</mean>`);
    beta:   "alpha = 2, beta = 5" or "Beta(2, 5)". Raises PriorParseError, never anything else.
    """
    if family == "beta" and (call := _BETA_CALL.search(text)):
        values = (_to_float(call.group(1)), _to_float(call.group(2)))
    else:
        values = tuple(_labelled_number(text, parameter) for parameter in PARAMETERS[family])
    try:
        return Prior(family, *values)
    except ValueError as error:
        raise PriorParseError(str(error)) from None


def answer_text(prior: Prior) -> str:
    """How a prior is written after the answer prefix (the inverse of `parse_prior`)."""
    second = PARAMETERS[prior.family][1]
    return f" {prior.a:.6g}, {second} = {prior.b:.6g}"


def baseline_draw(family: str, truth: float, population_std: float, rng: np.random.Generator,
                  n: int = BASELINE_SAMPLES) -> Prior:
    """One draw of the paper's n-sample statistical baseline (module docstring)."""
    if family == "normal":
        spread = population_std / math.sqrt(n)
        return Prior("normal", float(truth + spread * rng.standard_normal()), spread)
    ones = int(rng.binomial(n, truth))
    return Prior("beta", 1.0 + ones, 1.0 + n - ones)


def question_text(question: str, family: str) -> str:
    estimand = question.rstrip(". ")
    if family == "normal":
        return (f"Estimate this quantity from what you know: {estimand}.\n"
                "State your prior belief about it as a normal distribution: the mean is your best estimate "
                "and the standard deviation is your uncertainty about that estimate (not the spread "
                "between individuals).\nReply on one line as: mean = <number>, standard deviation = <number>")
    return (f"Estimate this probability from what you know: {estimand}.\n"
            "State your prior belief about it as a Beta(alpha, beta) distribution whose spread is your "
            "uncertainty about the probability.\nReply on one line as: alpha = <number>, beta = <number>")


def openestimate_prior_documents(data_dir=None, seed: int = EVAL_SEED) -> list[dict]:
    from ppt_bench.harness.external_tasks import openestimate_variables

    rng = np.random.default_rng(seed)
    docs = []
    for variable in openestimate_variables(data_dir):
        family = variable.distribution
        bayes = baseline_draw(family, variable.mean, variable.std, rng)
        uniform = Prior(family, *UNINFORMATIVE[family])
        docs.append({
            "id": f"openestimate-{variable.domain}-{variable.id}", "question": question_text(variable.question, family),
            "answer_prefix": ANSWER_PREFIX[family], "family": family, "truth": variable.mean,
            "truth_text": f"{variable.mean:.6g}",
            "baseline_error": prior_metrics.baseline_error(family, variable.mean, variable.std),
            "baseline_std": prior_metrics.baseline_std(family, variable.mean, variable.std),
            "reference_answers": {"ppt-bayes": answer_text(bayes), "ppt-uniform": answer_text(uniform)},
            "domain": variable.domain, "base_variable": variable.base_variable})
    return docs


def load_openestimate_prior(**metadata: Any):
    """`custom_dataset` entry point of `openestimate_prior`."""
    return lm_eval_dataset(openestimate_prior_documents(metadata.get("data_dir")))


def prior_item_metrics(doc: dict, generation: str) -> dict[str, Any]:
    """Per-item values: `parse_fail` (0/1), `error_ratio` (nan on failure), and for the pooled
    metrics the truth's quartile (`quartile_ece`) and [std_ratio, error_ratio] (`unc_corr`), None
    on failure."""
    try:
        prior = parse_prior(doc["answer_prefix"] + generation, doc["family"])
    except PriorParseError:
        return {"parse_fail": 1.0, "error_ratio": float("nan"), "quartile_ece": None, "unc_corr": None}
    error_ratio = prior_metrics.abs_error(prior, doc["truth"]) / doc["baseline_error"]
    std_ratio = prior.std / doc["baseline_std"]
    return {"parse_fail": 0.0, "error_ratio": float(error_ratio),
            "quartile_ece": prior_metrics.truth_quartile(prior, doc["truth"]),
            "unc_corr": [float(std_ratio), float(error_ratio)]}


def process_prior(doc: dict, results: list) -> dict[str, Any]:
    """`process_results` of `openestimate_prior`: `results` is [generated text]."""
    return prior_item_metrics(doc, results[0] if results else "")


def agg_quartile_ece(items: list) -> float:
    return prior_metrics.quartile_ece([int(q) for q in items if q is not None])


def agg_unc_corr(items: list) -> float:
    pairs = np.asarray([pair for pair in items if pair is not None], dtype=np.float64).reshape(-1, 2)
    return prior_metrics.uncertainty_error_correlation(pairs[:, 0], pairs[:, 1])
