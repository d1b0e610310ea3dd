"""Belief elicitation task `bt_flight_beliefs` (Qiu et al. 2026): documents, scoring, aggregation.

A document is (user u, round r, feature j). Its question is the conversation of u's first r rounds,
exactly as the `bt_flight` documents show it (`bt_documents.conversation_text`: the Bayesian
Assistant's recommendations and the user's feedback), then a question about feature j with five
numbered statements, one per weight level -1, -0.5, 0, 0.5, 1 (`recommend.beliefs`). The answer
starts `The statement that best describes you is`; the choices are `1`..`5`.

- soft label: the Bayesian Assistant's exact posterior marginal p(w_j = level | first r rounds) over
  the 624 user types (`recommend.feature_marginals`);
- outcome: the user's true level of w_j.

The users and held-out sets are those of `bt_flight` at the same size (the same `simulate` call:
seed `EVAL_SEED`, `bt_documents.SIZES`), so each (user, round, held-out set) has a matching
`bt_flight` document whose answer is the model's direct prediction.

Belief-based prediction (computed inside the task): for each (user, round), the model's four answers
give expected weights E[w_j] = sum_g p_jg grid_g; in each held-out set the prediction is the option
of highest expected utility sum_j E[w_j] x_kj (ties: expected hit over the tied options, as `acc`).
Each document carries its feature's held-out values, and `process_results` returns its share of the
expected utilities, [unit, F, S, K, E[w_j] x_{s,k,j} (S*K), targets (S)]; `agg_belief` sums the F
shares of every complete (user, round) unit and scores the argmax against the targets (the user's
choices for `belief_acc`, the Bayesian Assistant's picks for `belief_agree`). Agreement between the
direct and the belief-based prediction needs both tasks' samples: `report.figures_beliefs`.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from ppt_bench.harness.bt_documents import (
    EVAL_SEED,
    SIZES,
    bayesian_recommendations,
    conversation_text,
    grid_option_texts,
)
from ppt_bench.harness.scoring import choice_loglikelihoods, item_metrics
from ppt_bench.harness.sizes import DEFAULT_SIZE, announce, check_size
from ppt_bench.metrics import check_soft_label

# task -> (domain, the direct-prediction task with the same users and held-out sets)
BELIEF_TASKS = {"bt_flight_beliefs": ("flight", "bt_flight")}
ANSWER_PREFIX = "The statement that best describes you is"


def belief_documents(interactions, task: str) -> list[dict]:
    """All documents of one belief task, in (user, round, feature) order (see the module doc)."""
    from ppt_bench.recommend import BayesianAssistant, feature_marginals
    from ppt_bench.recommend.beliefs import belief_question_text, true_levels

    domain = interactions.domain
    if domain.dim != domain.n_features or not interactions.shared_heldout:
        raise ValueError(f"{domain.name}: belief tasks need numeric features and shared held-out sets")
    texts = grid_option_texts(interactions)
    recommendations = bayesian_recommendations(interactions)
    assistant = BayesianAssistant()
    marginals = feature_marginals(domain, assistant.posteriors(interactions))   # (U, R+1, F, G)
    ba_picks = assistant.recommend(interactions)                                  # (U, R+1, S)
    levels = true_levels(domain, interactions.user_types)                         # (U, F)
    heldout = np.asarray(interactions.heldout_features)                           # (S, K, F)
    questions = [belief_question_text(domain, j) for j in range(domain.n_features)]
    labels = [str(g + 1) for g in range(len(domain.weight_grid))]
    docs = []
    for user in range(interactions.n_users):
        for r in range(interactions.n_rounds + 1):
            for j, feature in enumerate(domain.features):
                soft = check_soft_label(marginals[user, r, j], len(labels))
                docs.append({
                    "id": f"{task}-u{user}-r{r}-f{j}",
                    "question": conversation_text(interactions, texts, recommendations, user, r,
                                                  questions[j]),
                    "answer_prefix": ANSWER_PREFIX, "labels": labels,
                    "soft_label": (soft / soft.sum()).tolist(), "outcome": int(levels[user, j]),
                    "user": user, "round": r, "feature": feature.name, "feature_index": j,
                    "n_features": domain.n_features, "weight_grid": list(domain.weight_grid),
                    "heldout_values": heldout[:, :, j].round(12).tolist(),
                    "heldout_choices": interactions.heldout_choices[user].tolist(),
                    "ba_picks": ba_picks[user, r].tolist(), "domain": domain.name,
                })
    return docs


def documents_for(task: str, size: str = DEFAULT_SIZE) -> list[dict]:
    """The documents of `task` at `size`: `bt_flight`'s users and held-out sets."""
    from ppt_bench.recommend import get_domain, simulate

    if task not in BELIEF_TASKS:
        raise ValueError(f"unknown belief task {task!r}; known: {sorted(BELIEF_TASKS)}")
    check_size(size, SIZES)
    n_users, n_heldout = SIZES[size]
    domain, _ = BELIEF_TASKS[task]
    interactions = simulate(get_domain(domain), n_users=n_users, n_heldout=n_heldout, seed=EVAL_SEED)
    return belief_documents(interactions, task)


def load(task: str, size: str = DEFAULT_SIZE, **metadata: Any):
    """`custom_dataset` entry point; prints its documents and what each round holds."""
    import datasets

    docs = documents_for(task, size)
    r0 = [doc for doc in docs if doc["round"] == 0]
    per_round_predictions = len({doc["user"] for doc in r0}) * len(r0[0]["heldout_choices"])
    announce(task, size, len(docs), f"{1 + max(doc['round'] for doc in docs)} rounds, {len(r0):,} "
             f"belief questions and {per_round_predictions:,} belief-based predictions per round")
    return datasets.DatasetDict({"test": datasets.Dataset.from_list(docs)})


def _shares(doc: dict, probs: np.ndarray) -> np.ndarray:
    """This feature's share E[w_j] x_{s,k,j} of the expected utilities, (S, K)."""
    expected_weight = float(probs @ np.asarray(doc["weight_grid"], dtype=np.float64))
    return expected_weight * np.asarray(doc["heldout_values"], dtype=np.float64)


def process_results(doc: dict, results: list) -> dict[str, Any]:
    """Per-item values: `acc` (stated level == the user's), `agree` (== the Bayesian Assistant's most
    probable level, first on ties), `kl`, `tv`, `w1` to its marginal, calibration payloads, the same
    split by round (`kl_r<r>`, `agree_r<r>`), and the belief-based prediction payloads."""
    from ppt_bench import metrics

    loglikelihoods = choice_loglikelihoods(results)
    values = item_metrics(loglikelihoods, doc["soft_label"], doc["outcome"], ordinal=True)
    values["agree"] = values.pop("mode_agree")
    round_ = doc["round"]
    values[f"kl_r{round_}"] = values["kl"]
    values[f"agree_r{round_}"] = values["agree"]
    shares = _shares(doc, metrics.softmax(loglikelihoods))
    unit = doc["user"] * 1000 + round_  # one (user, round): the F documents whose shares add up
    head = [float(unit), float(doc["n_features"]), *map(float, shares.shape), *shares.ravel().tolist()]
    for name, targets in (("belief_acc", doc["heldout_choices"]), ("belief_agree", doc["ba_picks"])):
        payload = head + [float(t) for t in targets]
        values[name] = payload
        values[f"{name}_r{round_}"] = payload
    return values


def belief_hits(items: Sequence[Sequence[float]]) -> np.ndarray:
    """Expected hits of the belief-based predictions, one per (complete unit, held-out set).

    items: payloads [unit, F, S, K, shares (S*K), targets (S)]; a unit is complete when all F of its
    documents are present (`--limit` can cut one short: it is left out)."""
    from ppt_bench.recommend.beliefs import expected_hits

    units: dict[int, list] = {}
    for item in items:
        unit, n_features, n_sets, n_options = (int(v) for v in item[:4])
        body = np.asarray(item[4:], dtype=np.float64)
        shares = body[:n_sets * n_options].reshape(n_sets, n_options)
        entry = units.setdefault(unit, [0, np.zeros_like(shares), body[n_sets * n_options:].astype(int),
                                        n_features])
        entry[0] += 1
        entry[1] = entry[1] + shares
    hits = [expected_hits(utilities, targets) for count, utilities, targets, n_features in units.values()
            if count == n_features]
    return np.concatenate(hits) if hits else np.zeros(0)


def agg_belief(items: Sequence[Sequence[float]]) -> float:
    """Accuracy of the belief-based predictions (NaN when no unit is complete)."""
    hits = belief_hits(items)
    return float(hits.mean()) if len(hits) else float("nan")
