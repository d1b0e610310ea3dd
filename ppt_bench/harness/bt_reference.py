"""Exact reference curves of the Bayesian-teaching tasks: the whole population of each task's protocol.

A task's documents (`bt_tasks`) are a sample of (user, round, query set) triples; a reference curve is
computed on the population they are drawn from, with the code `ppt-bench assistant-curve` uses
(`ppt_bench.recommend.curves.evaluate`), so a figure's reference lines carry no sampling noise:

    generated (bt_flight, bt_hotel, bt_shopping): every user type once x 100 held-out sets, drawn with
        the tasks' seed EVAL_SEED (= size "paper"; for flight 624 x 6 x 100 = 374,400 triples)
    bt_flight_official, bt_hotel_official: every published user x the published held-out sets
    bt_webshop_official, bt_flight_human: every user, protocol "next" (round r + 1 after r rounds)

    bayesian[r] = mean over users u and query sets s of [BA's pick after r rounds == y_us]
    random[r]   = mean of 1 / K over the same queries (the expected accuracy of a uniform pick, exactly)

The random curve is the expectation (no random draws); it is also the expected agreement of a
uniform pick with the Bayesian Assistant. The data hold no human-assistant curve: in `bt_flight_human`
the participants are the users whose choices are predicted.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ppt_bench.harness.bt_documents import EVAL_SEED, SIZES


@dataclass(frozen=True)
class ReferenceCurves:
    """Per-round curves of one task's population: rounds (R',), bayesian and random (R',)."""

    task: str
    population: str  # e.g. "624 users x 100 held-out sets"
    rounds: tuple[int, ...]
    bayesian: tuple[float, ...]
    random: tuple[float, ...]


def _batches(task: str, data_dir=None) -> tuple[list, bool, str]:
    """(batches, online?, population text) of the task's whole population."""
    from ppt_bench.harness.bt_tasks import GENERATED

    if task in GENERATED:
        from ppt_bench.recommend import get_domain, simulate

        users, heldout = SIZES["paper"]
        batches = [simulate(get_domain(name), n_users=users, n_heldout=heldout, seed=EVAL_SEED)
                   for name in GENERATED[task]]
        return batches, False, f"{sum(b.n_users for b in batches)} users x {heldout} held-out sets"
    from ppt_bench.data import dataset_path
    from ppt_bench.recommend import official

    folder = dataset_path("bayesian_teaching", data_dir)
    if task in ("bt_flight_official", "bt_hotel_official"):
        batch = official.load_weight_records(folder, task.removeprefix("bt_").removesuffix("_official"))
        return [batch], False, f"{batch.n_users} users x {batch.heldout_choices.shape[1]} held-out sets"
    if task == "bt_flight_human":
        batch = official.load_weight_records(folder, "flight_human", heldout_name="flight")
        return [batch], True, f"{batch.n_users} participants, next round"
    if task == "bt_webshop_official":
        batches = [official.load_webshop(folder, category) for category in official.webshop_categories(folder)]
        return batches, True, f"{sum(b.n_users for b in batches)} users, next round"
    raise ValueError(f"no reference curves for task {task!r}")


def reference_curves(task: str, data_dir=None) -> ReferenceCurves:
    """The Bayesian Assistant's and random choice's exact accuracy per round on the task's whole
    population (see module doc); raises DataError when official data are missing."""
    from ppt_bench.recommend.curves import evaluate

    batches, online, population = _batches(task, data_dir)
    weights = np.array([batch.n_users for batch in batches], dtype=float)
    bayesian = sum(w * evaluate(batch, online=online)[0]["bayesian"]
                   for w, batch in zip(weights, batches, strict=True)) / weights.sum()
    n_options = np.array([batch.features.shape[2] for batch in batches], dtype=float)
    random = np.full(len(bayesian), float(np.sum(weights / n_options) / weights.sum()))
    return ReferenceCurves(task=task, population=population, rounds=tuple(range(len(bayesian))),
                           bayesian=tuple(float(v) for v in bayesian), random=tuple(float(v) for v in random))
