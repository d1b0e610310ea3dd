"""`human_probcopa`: does the model's uncertainty match people's? (ProbCOPA, Kamath et al. 2026).

Each of the 210 items asks how likely an effect (hypothesis) is given a situation (premise). About 28
people rated each on 0-100. The model picks one of five rating bins,

    A: 0-20   B: 20-40   C: 40-60   D: 60-80   E: 80-100      (a rating of exactly 20 goes to B)

and its distribution over the bins is compared with the human rating histogram over the same bins
(soft label): `w1`, `kl`, `mode_agree`, and the Spearman correlation across items between the
model's mean rating (sum_k p_k * midpoint_k) and the humans' mean rating. The outcome-based metrics
(acc, nll, ece, ...) use the humans' modal bin as the outcome. ProbCOPA carries canary strings: it
is evaluation data only.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import numpy as np

from ppt_bench.harness.scoring import choice_loglikelihoods, item_metrics, lm_eval_dataset

BIN_EDGES = (0, 20, 40, 60, 80, 100)
BIN_NAMES = ("very unlikely", "unlikely", "as likely as not", "likely", "very likely")
LABELS = ("A", "B", "C", "D", "E")
MIDPOINTS = tuple((low + high) / 2 for low, high in zip(BIN_EDGES[:-1], BIN_EDGES[1:], strict=True))


def rating_bin(rating: float) -> int:
    """Index of the bin holding a 0-100 rating (100 belongs to the last bin)."""
    return min(int(np.searchsorted(BIN_EDGES, rating, side="right")) - 1, len(LABELS) - 1)


def question(premise: str, hypothesis: str) -> str:
    options = "\n".join(f"{label}. {low}-{high} ({name})" for label, low, high, name in
                        zip(LABELS, BIN_EDGES[:-1], BIN_EDGES[1:], BIN_NAMES, strict=True))
    return (f"Situation: {premise}\nPossible effect: {hypothesis}\n"
            "On a scale from 0 (impossible) to 100 (certain), how likely is the possible effect, "
            f"given the situation? Choose a range.\n{options}")


def probcopa_documents(data_dir=None) -> list[dict]:
    """One document per item, in the items file's order, with the human histogram as soft label."""
    from ppt_bench.data import dataset_path, read_probcopa_items, read_probcopa_ratings

    folder = dataset_path("probcopa", data_dir)
    ratings: dict[int, list[float]] = defaultdict(list)
    for rating in read_probcopa_ratings(folder / "probcopa_CANARY.jsonl"):
        ratings[rating.uid].append(rating.response)
    docs = []
    for item in read_probcopa_items(folder / "probcopa_items.jsonl"):
        responses = ratings.get(item.uid)
        if not responses:
            continue
        counts = np.bincount([rating_bin(r) for r in responses], minlength=len(LABELS)).astype(float)
        soft = counts / counts.sum()
        docs.append({"id": f"probcopa-{item.uid}", "question": question(item.premise, item.hypothesis),
                     "answer_prefix": "Answer:", "labels": list(LABELS), "soft_label": soft.tolist(),
                     "outcome": int(np.argmax(soft)), "human_mean": float(np.mean(responses)),
                     "n_ratings": len(responses), "uid": item.uid})
    return docs


def load_probcopa(**metadata: Any):
    """`custom_dataset` entry point of `human_probcopa`."""
    return lm_eval_dataset(probcopa_documents(metadata.get("data_dir")))


def process_probcopa(doc: dict, results: list) -> dict[str, Any]:
    lls = choice_loglikelihoods(results)
    values = item_metrics(lls, doc["soft_label"], doc["outcome"], ordinal=True)
    probs = np.exp(lls - lls.max())
    model_mean = float(np.dot(probs / probs.sum(), MIDPOINTS))
    values["spearman"] = [model_mean, doc["human_mean"]]
    return values


def agg_spearman(items: list) -> float:
    """Spearman correlation across items between model and human mean ratings."""
    from ppt_bench.metrics import spearman

    pairs = np.asarray(items, dtype=float).reshape(-1, 2)
    return spearman(pairs[:, 0], pairs[:, 1])
