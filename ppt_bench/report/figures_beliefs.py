"""Figure (h): direct vs belief-based prediction per round (Qiu et al. 2026, belief elicitation).

For every model run holding both `bt_flight` and `bt_flight_beliefs` (the same users and held-out
sets at the same size, `ppt_bench/harness/bt_beliefs.py`):

    direct[r]       accuracy of the model's own answer on the bt_flight documents after r rounds
                    (`acc_r<r>` of bt_flight's results)
    belief[r]       accuracy of the option of highest expected utility under the model's stated
                    per-feature beliefs (`belief_acc_r<r>` of bt_flight_beliefs' results)
    agreement[r]    how often the two predictions name the same option: computed here, from both
                    tasks' logged samples (a prediction needs the other task's answers), matching
                    documents by (user, round, held-out set); tied options count as a uniform pick
    stated[r]       how often the stated belief's mode is the Bayesian Assistant's (`agree_r<r>`)

with Wilson 95% intervals over the predictions of each round, and exact references on the task's
whole population (624 user types x 100 held-out sets): the Bayesian Assistant's own predictive
(`bt_reference`), the Bayesian Assistant's marginals used as stated beliefs
(`recommend.beliefs.bayesian_belief_curve`) and random choice (1/3).
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ppt_bench.report.results import RunRecord, TaskResult, logged_loglikelihoods, sample_records

DIRECT_TASK, BELIEF_TASK = "bt_flight", "bt_flight_beliefs"
N_ROUNDS = 6


@dataclass(frozen=True)
class BeliefComparison:
    """Per-round numbers of one model (arrays of shape (R+1,); agreement None without samples)."""

    label: str
    size: str
    direct: np.ndarray
    belief: np.ndarray
    stated: np.ndarray
    n_predictions: np.ndarray     # predictions per round (users x held-out sets)
    n_questions: np.ndarray       # belief questions per round (users x features)
    agreement: np.ndarray | None


def _loglikelihoods(record: dict) -> np.ndarray:
    return np.asarray(logged_loglikelihoods(record), dtype=np.float64)


def _best(values: np.ndarray, atol: float) -> np.ndarray:
    """Uniform pick among the maxima on the last axis (`recommend.beliefs.best_sets`), as
    probabilities (..., K)."""
    from ppt_bench.recommend.beliefs import best_sets

    best = best_sets(values, atol)
    return best / best.sum(axis=-1, keepdims=True)


def belief_picks(records: Sequence[dict]) -> dict[tuple[int, int, int], np.ndarray]:
    """(user, round, held-out set) -> the belief-based pick as a distribution over options (K,),
    from bt_flight_beliefs samples: argmax_k sum_j E_p[w_j] x_kj over the unit's feature answers
    (units missing a feature, as `--limit` leaves them, are left out)."""
    from ppt_bench.metrics import softmax
    from ppt_bench.recommend.beliefs import EU_TIE_ATOL

    units: dict[tuple[int, int], list] = {}
    for record in records:
        doc = record["doc"]
        weight = float(softmax(_loglikelihoods(record)) @ np.asarray(doc["weight_grid"]))
        entry = units.setdefault((doc["user"], doc["round"]), [0, 0.0, doc["n_features"]])
        entry[0] += 1
        entry[1] = entry[1] + weight * np.asarray(doc["heldout_values"], dtype=np.float64)
    picks = {}
    for (user, round_), (count, utilities, n_features) in units.items():
        if count == n_features:
            for s, row in enumerate(_best(np.asarray(utilities), EU_TIE_ATOL)):
                picks[(user, round_, s)] = row
    return picks


def _agreement(direct_records: Sequence[dict], belief_records: Sequence[dict]) -> np.ndarray | None:
    """Per round, P(direct pick == belief-based pick) over the matching documents (None if none)."""
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.metrics import TIE_ATOL

    picks = belief_picks(belief_records)
    targets = {(r["doc"]["user"], r["doc"]["round"]): r["doc"]["heldout_choices"] for r in belief_records}
    same: dict[int, list[float]] = {}
    for record in direct_records:
        doc = record["doc"]
        key = (doc["user"], doc["round"], doc["query"])
        if key not in picks:
            continue
        if targets[key[:2]][key[2]] != doc["outcome"]:
            raise PPTBenchError(f"{DIRECT_TASK} and {BELIEF_TASK} samples are not the same users and "
                                f"held-out sets (run both at the same size)")
        direct = _best(_loglikelihoods(record), TIE_ATOL)
        same.setdefault(doc["round"], []).append(float(direct @ picks[key]))
    if not same:
        return None
    return np.array([np.mean(same[r]) if r in same else np.nan for r in range(N_ROUNDS)])


def _counts(result: TaskResult, records: Sequence[dict], belief: bool) -> np.ndarray:
    """Predictions per round, from the samples, else from the task's size (users x held-out sets)."""
    from ppt_bench.harness.bt_documents import SIZES

    if records:
        counts = np.zeros(N_ROUNDS)
        if belief:
            for round_, users in _users_by_round(records).items():
                counts[round_] = len(users) * len(records[0]["doc"]["heldout_choices"])
        else:
            for record in records:
                counts[record["doc"]["round"]] += 1
        return counts
    users, heldout = SIZES.get(result.size or "full", SIZES["full"])
    return np.full(N_ROUNDS, float((users or 624) * heldout))


def _users_by_round(records: Sequence[dict]) -> dict[int, set[int]]:
    users: dict[int, set[int]] = {}
    for record in records:
        users.setdefault(record["doc"]["round"], set()).add(record["doc"]["user"])
    return users


def belief_comparison(run: RunRecord) -> BeliefComparison:
    """The per-round numbers of one run holding both tasks (see the module doc)."""
    direct_result, belief_result = run.tasks[DIRECT_TASK], run.tasks[BELIEF_TASK]
    direct_records, belief_records = sample_records(direct_result), sample_records(belief_result)

    def series(result: TaskResult, prefix: str) -> np.ndarray:
        return np.array([result.metrics[f"{prefix}{r}"].value if f"{prefix}{r}" in result.metrics
                         else np.nan for r in range(N_ROUNDS)])

    questions = (np.array([len(u) for _, u in sorted(_users_by_round(belief_records).items())], dtype=float)
                 * (belief_records[0]["doc"]["n_features"] if belief_records else 0))
    return BeliefComparison(
        label=run.label, size=belief_result.size or "full", direct=series(direct_result, "acc_r"),
        belief=series(belief_result, "belief_acc_r"), stated=series(belief_result, "agree_r"),
        n_predictions=_counts(belief_result, belief_records, belief=True),
        n_questions=questions if len(questions) == N_ROUNDS else np.full(N_ROUNDS, np.nan),
        agreement=_agreement(direct_records, belief_records) if direct_records and belief_records else None)


def _errors(values: np.ndarray, n: np.ndarray) -> np.ndarray:
    from ppt_bench.report.figures import wilson_interval

    n = np.where(np.isfinite(n) & (n > 0), n, 1.0)
    low, high = wilson_interval(values * n, n)
    return np.stack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])


def _references():
    """(population text, Bayesian Assistant direct, Bayesian Assistant belief-based) or None."""
    from ppt_bench.harness.bt_documents import EVAL_SEED, SIZES
    from ppt_bench.harness.bt_reference import reference_curves
    from ppt_bench.recommend import get_domain, simulate
    from ppt_bench.recommend.beliefs import bayesian_belief_curve

    reference = reference_curves(DIRECT_TASK)
    users, heldout = SIZES["paper"]
    population = simulate(get_domain("flight"), n_users=users, n_heldout=heldout, seed=EVAL_SEED)
    return reference.population, np.array(reference.bayesian), bayesian_belief_curve(population)


def caption(comparisons: Sequence[BeliefComparison], population: str) -> str:
    """Data, size and protocol of the figure, in words."""
    sizes = ", ".join(sorted({c.size for c in comparisons}))
    first = comparisons[0]
    return (f"Data: {DIRECT_TASK} + {BELIEF_TASK}, generated flight users (seed 7919), size {sizes}: "
            f"{first.n_predictions[0]:,.0f} predictions and {first.n_questions[0]:,.0f} belief questions "
            f"per round. Protocol: after r rounds of the Bayesian Assistant's conversation the model "
            f"picks a held-out option (direct) or states, per feature, one of 5 preference levels; "
            f"belief-based = the option of highest expected utility under its stated beliefs (product "
            f"of marginals = expected weight per feature). Bars: Wilson 95%. References exact on "
            f"{population}.")


def direct_vs_belief(runs: Sequence[RunRecord]):
    """(h) Direct vs belief-based prediction accuracy per round, and their agreement."""
    from ppt_bench.report.figures import FigureSkipped, _compared_runs, _model_colors, _new_figure

    compared = [run for run in _compared_runs(runs, BELIEF_TASK) if DIRECT_TASK in run.tasks]
    if not compared:
        raise FigureSkipped(f"no model run has both {DIRECT_TASK} and {BELIEF_TASK}")
    comparisons = [belief_comparison(run) for run in compared]
    colors = _model_colors(runs)
    rounds = np.arange(N_ROUNDS)
    figure, (accuracy, agreement) = _new_figure(2, width=5.2, height=4.4)
    for comparison in comparisons:
        color = colors[comparison.label]
        accuracy.errorbar(rounds, comparison.direct, yerr=_errors(comparison.direct, comparison.n_predictions),
                          marker="o", capsize=2, color=color, label=f"{comparison.label}: direct")
        accuracy.errorbar(rounds + 0.08, comparison.belief,
                          yerr=_errors(comparison.belief, comparison.n_predictions), marker="^",
                          capsize=2, linestyle="--", color=color, label=f"{comparison.label}: belief-based")
        if comparison.agreement is not None:
            agreement.errorbar(rounds, comparison.agreement,
                               yerr=_errors(comparison.agreement, comparison.n_predictions), marker="o",
                               capsize=2, color=color, label=f"{comparison.label}: direct = belief-based")
        agreement.errorbar(rounds + 0.08, comparison.stated, yerr=_errors(comparison.stated, comparison.n_questions),
                           marker="s", capsize=2, linestyle=":", color=color,
                           label=f"{comparison.label}: stated mode = Bayesian Assistant's")
    population, bayesian, bayesian_beliefs = _references()
    accuracy.plot(rounds, bayesian, "k--", marker="s", label="Bayesian Assistant (exact)")
    accuracy.plot(rounds, bayesian_beliefs, color="0.3", linestyle="-.", marker="D", markersize=4,
                  label="Bayesian Assistant's marginals, belief-based (exact)")
    accuracy.axhline(1 / 3, color="grey", linestyle=":", label="random choice (exact)")
    accuracy.set(title="Accuracy on held-out option sets", ylabel="accuracy (95% CI)")
    agreement.set(title="Agreement", ylabel="fraction of predictions / questions")
    for ax in (accuracy, agreement):
        ax.set(xlabel="interactions observed", ylim=(-0.02, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
    for ax in (accuracy, agreement):  # below the panels: inside they hide points
        ax.legend(fontsize=6.5, loc="upper center", bbox_to_anchor=(0.5, -0.16), ncol=2, frameon=False)
    figure.suptitle("Direct vs belief-based prediction (bt_flight, bt_flight_beliefs)")
    figure.supxlabel(textwrap.fill(caption(comparisons, population), 150), fontsize=7, color="0.25")
    return figure
