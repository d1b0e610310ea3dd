"""(g) Accuracy vs number of features: the `bt_flight_f2` .. `bt_flight_f8` tasks from results files.

For each F in 2..8 with a run: each model's final-round accuracy (filled, Wilson 95% over the round's
documents) and round-0 accuracy (open markers), the exact Bayesian Assistant at round 0 and at the
final round (`bt_reference.reference_curves`: every user type for F <= 5, a seeded user sample
above, posterior exact over all 5^F - 1 types) and random choice 1/K. The caption states the data,
the documents per round and the protocol.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ppt_bench.report.figures import (
    FigureSkipped,
    _compared_runs,
    _model_colors,
    _new_figure,
    _references,
    _series,
)
from ppt_bench.report.results import RunRecord

FEATURE_TASKS = {f"bt_flight_f{n}": n for n in range(2, 9)}


def accuracy_vs_features(runs: Sequence[RunRecord]):
    """Accuracy on held-out option sets vs the number of features F of the flight domain."""
    present = [task for task in FEATURE_TASKS if any(task in run.tasks for run in runs)]
    if not present:
        raise FigureSkipped("no run has a feature-count task (bt_flight_f2 .. bt_flight_f8)")
    figure, (ax,) = _new_figure(1, width=7.0, height=4.8)
    colors = _model_colors(runs)
    sizes: set[str] = set()
    by_model: dict[str, list[tuple[int, float, np.ndarray, float]]] = {}
    for task in present:
        for run in runs:
            if task in run.tasks:  # the reference models' runs too: their size is the documents'
                result = run.tasks[task]
                sizes.add(f"{result.size or 'full'}" + (f" (--limit {result.limit})" if result.limit else ""))
        for run in _compared_runs(runs, task):
            result = run.tasks[task]
            rounds, values, errors = _series(result, "acc_r")
            by_model.setdefault(run.label, []).append((FEATURE_TASKS[task], values[-1], errors[:, -1], values[0]))
    for label, points in by_model.items():
        points.sort()
        x = np.array([p[0] for p in points])
        ax.errorbar(x, [p[1] for p in points], yerr=np.array([p[2] for p in points]).T, marker="o",
                    capsize=2, color=colors[label], label=f"{label}, final round")
        ax.plot(x, [p[3] for p in points], marker="o", markerfacecolor="none", linestyle=":",
                color=colors[label], label=f"{label}, round 0")
    references = _references(runs)
    reference = {FEATURE_TASKS[t]: references[t] for t in present if references.get(t) is not None}
    if reference:
        x = np.array(sorted(reference))
        ax.plot(x, [reference[n].bayesian[-1] for n in x], "k--", marker="s",
                label="Bayesian Assistant, final round (exact)")
        ax.plot(x, [reference[n].bayesian[0] for n in x], "k:", marker="s", markerfacecolor="none",
                label="Bayesian Assistant, round 0 (exact)")
        ax.plot(x, [reference[n].random[0] for n in x], color="grey", linestyle="-.",
                label="random choice 1/K")
    ax.set(xlabel="number of features F", ylabel="accuracy on held-out sets (95% CI)", ylim=(0, 1.02),
           title="Accuracy vs number of features (flight)")
    ax.set_xticks(sorted(FEATURE_TASKS[t] for t in present))
    ax.legend(fontsize=7, loc="upper right", ncols=2)
    n_docs = {task: _documents_per_round(runs, task) for task in present}
    populations = "; ".join(f"F={FEATURE_TASKS[t]}: {reference[FEATURE_TASKS[t]].population}"
                            for t in present if FEATURE_TASKS[t] in reference)
    figure.text(0.01, 0.005, "Data: generated flight users, weights in {-1,-0.5,0,0.5,1}^F minus 0 "
                f"(5^F - 1 types), 3 options, 5 rounds. Size: {', '.join(sorted(sizes))}; documents per "
                f"round: {', '.join(f'F={FEATURE_TASKS[t]}: {n}' for t, n in n_docs.items())}. Protocol: "
                "held-out sets after r rounds, earlier rounds recommended by the Bayesian Assistant.\n"
                f"References: {populations or 'not available'}.", fontsize=6, va="bottom", wrap=True)
    figure.get_layout_engine().set(rect=(0, 0.08, 1, 0.92))
    return figure


def _documents_per_round(runs: Sequence[RunRecord], task: str) -> str:
    """Documents of the final round in the first run with the task's logged samples ("?" without)."""
    from ppt_bench.report.results import read_samples

    for run in runs:
        if task in run.tasks:
            samples = [s for s in read_samples(run.tasks[task]) if s.round is not None]
            if samples:
                last = max(s.round for s in samples)
                return str(sum(s.round == last for s in samples))
    return "?"
