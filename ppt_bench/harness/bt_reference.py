"""Exact reference curves of the Bayesian-teaching tasks: the whole population of each task's protocol.

A task's documents (`bt_tasks`) are a sample of (user, round, query set) triples; a reference curve is
computed on the population they are drawn from, with the code `ppt-bench assistant-curve` uses
(`ppt_bench.recommend.curves.evaluate`), so a figure's reference lines carry no sampling noise:

    generated (bt_flight, bt_hotel, bt_shopping): every user type once x 100 held-out sets, drawn with
        the tasks' seed EVAL_SEED (= size "paper"; for flight 624 x 6 x 100 = 374,400 triples)
    bt_flight_f2 .. bt_flight_f5: the same, every one of the 5^F - 1 user types (24 .. 3,124)
    bt_flight_f6 .. bt_flight_f8: a documented sample (= size "paper"): `SAMPLED_USERS` = 100 users
        drawn with EVAL_SEED x 100 held-out sets, the posterior exact over all 5^F - 1 types (up to
        390,624); computed by `sparse_bayesian_accuracy` (the same numbers as the dense assistant)
    bt_flight_official, bt_hotel_official: every published user x the published held-out sets
    bt_webshop_official, bt_flight_human: every user, protocol "next" (round r + 1 after r rounds)

    bayesian[r] = mean over users u and query sets s of [BA's pick after r rounds == y_us]
    random[r]   = mean of 1 / K over the same queries (the expected accuracy of a uniform pick, exactly)

The random curve is the expectation (no random draws); it is also the expected agreement of a
uniform pick with the Bayesian Assistant. The data hold no human-assistant curve: in `bt_flight_human`
the participants are the users whose choices are predicted.
"""

from __future__ import annotations

import functools
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
        from ppt_bench.harness.bt_tasks import population_users
        from ppt_bench.recommend import get_domain, simulate

        users, heldout = SIZES["paper"]
        domains = [get_domain(name) for name in GENERATED[task]]
        batches = [simulate(domain, n_users=users or population_users(domain.n_hypotheses),
                            n_heldout=heldout, seed=EVAL_SEED) for domain in domains]
        population = f"{sum(b.n_users for b in batches)} users x {heldout} held-out sets"
        if any(b.n_users < domain.n_hypotheses for b, domain in zip(batches, domains, strict=True)):
            population = (f"{sum(b.n_users for b in batches)} of {sum(d.n_hypotheses for d in domains):,} "
                          f"user types (seeded sample) x {heldout} held-out sets")
        return batches, False, population
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


def sparse_bayesian_accuracy(interactions, sets_per_chunk: int = 10, user_block: int = 16) -> np.ndarray:
    """The Bayesian Assistant's held-out accuracy per round, (R+1,), for deterministic users
    (temperature 0) and shared held-out sets, fast with many user types.

    The same posterior as `posteriors_by_round`: round 1 for a block of users at once, later rounds
    per user on the posterior's support only (a type that contradicts a choice keeps posterior 0),
    stored sparse (CSR, one row per (user, round r >= 1)). The option likelihoods p(k | h, x_s) are
    built once per chunk of held-out sets and shared by every user; round 0 is the prior (the same
    for all users). Recommendations: `first_argmax`, as everywhere.
    """
    from scipy import sparse

    from ppt_bench.recommend import first_argmax
    from ppt_bench.recommend._posterior import choice_likelihoods, option_likelihoods

    hypotheses = interactions.domain.hypotheses
    n_hyp, n_users, n_rounds = len(hypotheses), interactions.n_users, interactions.n_rounds
    prior = np.full(n_hyp, 1.0 / n_hyp)

    def update(current, likelihood):  # a round no type explains is skipped, as in posteriors_by_round
        updated = current * likelihood
        return updated / updated.sum() if updated.sum() > 0 else current

    values, columns, pointers = [], [], [0]
    for start in range(0, n_users, user_block):
        block = slice(start, start + user_block)
        first = choice_likelihoods(hypotheses, interactions.features[block, :1],
                                   interactions.choices[block, :1])[:, 0]              # (b, H)
        for offset, likelihood in enumerate(first):
            u = start + offset
            current = update(prior, likelihood)
            support = np.flatnonzero(current)
            current = current[support]
            for t in range(n_rounds):
                if t > 0:
                    current = update(current, choice_likelihoods(
                        hypotheses[support], interactions.features[u, t:t + 1],
                        interactions.choices[u, t:t + 1])[0])
                    keep = current > 0
                    support, current = support[keep], current[keep]
                values.append(current)
                columns.append(support)
                pointers.append(pointers[-1] + len(support))
    posteriors = sparse.csr_matrix((np.concatenate(values), np.concatenate(columns), pointers),
                                   shape=(n_users * n_rounds, n_hyp))
    correct = np.zeros(n_rounds + 1)
    heldout = interactions.heldout_features
    for start in range(0, len(heldout), sets_per_chunk):
        likelihood = option_likelihoods(hypotheses, heldout[start:start + sets_per_chunk])  # (H, s, K)
        n_sets = likelihood.shape[1]
        flat = np.ascontiguousarray(likelihood.reshape(n_hyp, -1))
        targets = interactions.heldout_choices[:, start:start + n_sets]                    # (U, s)
        first = first_argmax((prior @ flat).reshape(n_sets, -1))                           # (s,)
        later = first_argmax(np.asarray(posteriors @ flat).reshape(n_users, n_rounds, n_sets, -1))
        correct[0] += (first[None, :] == targets).sum()
        correct[1:] += (later == targets[:, None, :]).sum(axis=(0, 2))
    return correct / (n_users * len(heldout))


def _bayesian_curve(batch, online: bool) -> np.ndarray:
    from ppt_bench.harness.bt_tasks import MAX_ALL_USERS
    from ppt_bench.recommend.curves import evaluate

    if not online and batch.shared_heldout and batch.domain.n_hypotheses > MAX_ALL_USERS:
        return sparse_bayesian_accuracy(batch)
    return evaluate(batch, online=online)[0]["bayesian"]


@functools.cache
def reference_curves(task: str, data_dir=None) -> ReferenceCurves:
    """The Bayesian Assistant's and random choice's exact accuracy per round on the task's whole
    population (see module doc); raises DataError when official data are missing. Cached: the
    figures ask for the same task several times (the 8-feature population takes seconds)."""
    batches, online, population = _batches(task, data_dir)
    weights = np.array([batch.n_users for batch in batches], dtype=float)
    bayesian = sum(w * _bayesian_curve(batch, online)
                   for w, batch in zip(weights, batches, strict=True)) / weights.sum()
    n_options = np.array([batch.features.shape[2] for batch in batches], dtype=float)
    random = np.full(len(bayesian), float(np.sum(weights / n_options) / weights.sum()))
    return ReferenceCurves(task=task, population=population, rounds=tuple(range(len(bayesian))),
                           bayesian=tuple(float(v) for v in bayesian), random=tuple(float(v) for v in random))
