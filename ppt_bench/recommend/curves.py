"""Accuracy curves: every assistant on one domain, generated or official users, as a plain dict.

``curve_report`` is what ``ppt-bench assistant-curve --json`` prints:

    {"bayesian": [acc_round0, ..., acc_round5], "oracle": [...], "random": [...], "heuristic": [...],
     "agreement": {"bayesian_vs_oracle": [...], ...}, "config": {...}}

With ``human`` (the participants' file) it adds ``"stated_weights"``: how many of the participants'
actual choices are the argmax of their own stated weights (``recommend.beliefs``).

Protocol "heldout": accuracy on held-out sets after r = 0..5 rounds. Protocol "online" (official
web-shop files without held-out sets): accuracy on round t+1 after t = 0..4 rounds.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ppt_bench.recommend._protocol import (
    Interactions,
    accuracy_curve,
    agreement_curve,
    online_accuracy,
    online_view,
    simulate,
)
from ppt_bench.recommend.assistants import default_assistants
from ppt_bench.recommend.domains import SHOPPING_CATALOGUE, flight_domain, get_domain

DOMAINS = ("flight", "hotel", "shopping")


def evaluate(interactions: Interactions, seed: int = 0, temperature: float = 0.0,
             online: bool = False) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """(accuracy, agreement) curves of the default assistants on one batch.

    accuracy: name -> (R+1,) (or (R,) online); agreement: ``bayesian_vs_<name>`` -> same shape.
    """
    batch = online_view(interactions) if online else interactions
    recommendations = {assistant.name: assistant.recommend(batch)
                       for assistant in default_assistants(seed, temperature)}
    if online:
        steps = np.arange(interactions.n_rounds)
        score = lambda recs: online_accuracy(recs, interactions.choices)    # noqa: E731
        agree = lambda a, b: (a[:, steps, steps] == b[:, steps, steps]).mean(axis=0)  # noqa: E731
    else:
        score = lambda recs: accuracy_curve(recs, interactions.heldout_choices)  # noqa: E731
        agree = agreement_curve
    accuracy = {name: score(recs) for name, recs in recommendations.items()}
    bayesian = recommendations["bayesian"]
    agreement = {f"bayesian_vs_{name}": agree(bayesian, recs)
                 for name, recs in recommendations.items() if name != "bayesian"}
    return accuracy, agreement


def _pool(parts: list[tuple[int, dict[str, np.ndarray]]]) -> dict[str, np.ndarray]:
    """User-weighted mean of curves from several batches."""
    total = sum(weight for weight, _ in parts)
    return {key: sum(weight * curves[key] for weight, curves in parts) / total for key in parts[0][1]}


def _load_batches(domain: str, data_dir: Path | None, n_users: int | None, n_heldout: int,
                  seed: int, n_features: int, human: bool) -> list[tuple[str, Interactions, bool]]:
    """(name, batch, online?) for each category of the domain (one, except shopping)."""
    from ppt_bench.recommend import official

    if data_dir is None:
        names = ([f"shopping_{category}" for category in SHOPPING_CATALOGUE] if domain == "shopping"
                 else [flight_domain(n_features).name if domain == "flight" else domain])
        return [(name, simulate(get_domain(name), n_users, n_heldout, seed=seed), False)
                for name in names]
    if domain == "shopping":
        batches = [(f"webshop/{category}", official.load_webshop(data_dir, category))
                   for category in official.webshop_categories(data_dir)]
        return [(name, batch.subset(slice(n_users)), not batch.source.endswith("+heldout"))
                for name, batch in batches]
    name = domain if n_features == 4 or domain != "flight" else f"flight_{n_features}features"
    if human:
        batch = official.load_weight_records(data_dir, f"{name}_human", heldout_name=name)
    else:
        batch = official.load_weight_records(data_dir, name)
    return [(name, batch.head(n_users, n_heldout), False)]


def curve_report(domain: str, data_dir: Path | str | None = None, n_users: int | None = None,
                 n_heldout: int = 100, seed: int = 0, n_features: int = 4, human: bool = False,
                 temperature: float = 0.0) -> dict:
    """Per-round accuracy of each assistant and Bayesian-vs-other agreement (JSON-ready dict).

    Generated users: every user type once (624 for flight and hotel) unless ``n_users``; shopping
    pools the built-in categories. Official data (``data_dir`` = the unzipped folder with ``eval/``):
    the first ``n_users`` users and ``n_heldout`` held-out sets, scored against the published index.
    """
    if domain not in DOMAINS:
        raise ValueError(f"domain must be one of {DOMAINS}, not {domain!r}")
    batches = _load_batches(domain, None if data_dir is None else Path(data_dir), n_users,
                            n_heldout, seed, n_features, human)
    accuracy_parts, agreement_parts, categories = [], [], {}
    for name, batch, online in batches:
        accuracy, agreement = evaluate(batch, seed, temperature, online)
        accuracy_parts.append((batch.n_users, accuracy))
        agreement_parts.append((batch.n_users, agreement))
        categories[name] = {key: values.round(6).tolist() for key, values in accuracy.items()}
    report: dict = {key: values.round(6).tolist() for key, values in _pool(accuracy_parts).items()}
    report["agreement"] = {key: values.round(6).tolist()
                           for key, values in _pool(agreement_parts).items()}
    if len(categories) > 1:
        report["categories"] = categories
    if human:  # the participants' own stated weights as a predictor of their choices
        from ppt_bench.recommend.beliefs import human_stated_weights_report

        report["stated_weights"] = human_stated_weights_report(data_dir, batches[0][0] + "_human")
    first = batches[0][1]
    report["config"] = {
        "domain": domain, "source": first.source if data_dir is not None else "generated",
        "data_dir": None if data_dir is None else str(data_dir),
        "users": sum(batch.n_users for _, batch, _ in batches),
        "heldout": None if batches[0][2] else int(first.heldout_choices.shape[1]),
        "protocol": "online" if batches[0][2] else "heldout",
        "rounds": int(first.n_rounds), "seed": seed, "n_features": n_features,
        "human": human, "temperature": temperature,
        "hypotheses": {name: int(batch.domain.n_hypotheses) for name, batch, _ in batches},
    }
    return report
