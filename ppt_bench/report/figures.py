"""The papers' figures, one pure function per figure, drawn from run records and their samples.

Each `figure_*` function takes the runs (`RunRecord`s) and returns a matplotlib `Figure` (built
with the object API, no pyplot state), reading only the runs' results and samples files; it raises
`FigureSkipped(reason)` when no run has the task it needs. `draw_figures` saves each as PNG and PDF.

    accuracy_by_round     (a) accuracy on held-out option sets vs number of interactions, per model,
                              with the Bayesian Assistant and random choice (Qiu et al. 2025)
    agreement_by_round    (b) agreement with the Bayesian Assistant's choice vs interactions
    first_vs_final        (c) first-round vs final-round accuracy per model
    reliability           (d) reliability diagrams, raw vs temperature-scaled (T fitted on the
                              calibration split by `calibration_report.task_temperature`)

References are exact: the Bayesian Assistant's and random choice's curves are computed on the whole
population of each task's protocol (`ppt_bench.harness.bt_reference`), not on the sampled documents,
and the reference models' own runs (`ppt-bayes`, `ppt-uniform`) are not drawn as models. Models are
drawn with Wilson 95% intervals over the documents of each round (`wilson_interval`).
    heldout_motif_kl      (e) KL(q || p) per held-out PPT motif per model
    probcopa_ratings      (f) model vs human mean ratings on ProbCOPA
    direct_vs_belief      (h) direct vs belief-based prediction per round (bt_flight_beliefs;
                              `figures_beliefs.py`)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ppt_bench.harness.evaluate import REFERENCE_MODELS
from ppt_bench.report.results import RunRecord, Sample, TaskResult, read_samples

PROBCOPA_MIDPOINTS = np.array([10.0, 30.0, 50.0, 70.0, 90.0])  # bins 0-20, ..., 80-100
RELIABILITY_TASKS = ("ppt_motifs_heldout", "bt_flight", "human_probcopa", "openestimate")
N_BINS = 15  # equal-width bins, as `metrics.ece` everywhere else in ppt-bench
Z95 = 1.96


class FigureSkipped(Exception):
    """No run has what a figure needs; the message says what is missing."""


@dataclass(frozen=True)
class FigureOutcome:
    name: str
    paths: tuple[Path, ...] = ()
    skipped: str | None = None


def _new_figure(n_panels: int, width: float = 4.2, height: float = 3.4, ncols: int | None = None):
    from matplotlib.figure import Figure

    ncols = ncols or min(n_panels, 3)
    nrows = -(-n_panels // ncols)
    figure = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = figure.subplots(nrows, ncols, squeeze=False).ravel()
    for ax in axes[n_panels:]:
        ax.set_visible(False)
    return figure, axes[:n_panels]


def _shared_legend(figure, axes) -> None:
    """One legend below the panels, with every label any panel uses (once)."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    figure.legend(list(entries.values()), list(entries), loc="outside lower center",
                  ncols=min(len(entries), 6), fontsize=9, frameon=False)


def _bt_tasks(runs: Sequence[RunRecord]) -> list[str]:
    """Bayesian-teaching tasks (those with per-round accuracies) present in any run, sorted."""
    return sorted({task for run in runs for task, result in run.tasks.items() if "acc_r0" in result.metrics})


def _rounds(result: TaskResult, prefix: str) -> list[int]:
    return sorted(int(name[len(prefix):]) for name in result.metrics
                  if name.startswith(prefix) and name[len(prefix):].isdigit())


def wilson_interval(successes: np.ndarray, n: np.ndarray, z: float = Z95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of a binomial proportion (Wilson 1927), elementwise:

        centre = (k + z^2/2) / (n + z^2),  half = z sqrt(k (n - k) / n + z^2/4) / (n + z^2)

    successes k, n (any shape, n > 0) -> (low, high), inside [0, 1] even at k = 0 or k = n."""
    k, n = np.asarray(successes, dtype=float), np.asarray(n, dtype=float)
    centre = (k + z * z / 2) / (n + z * z)
    half = z * np.sqrt(k * (n - k) / n + z * z / 4) / (n + z * z)
    return centre - half, centre + half


def _series(result: TaskResult, prefix: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(rounds, values, errors) of the per-round metric `<prefix><r>` of one task result; errors is
    (2, R): the distances down and up to the Wilson 95% interval over the round's documents
    (counted in the logged samples; without samples, n from the stderr: n = p (1 - p) / se^2 + 1)."""
    rounds = _rounds(result, prefix)
    values = np.array([result.metrics[f"{prefix}{r}"].value for r in rounds])
    counts = {}
    for sample in read_samples(result):
        if sample.round is not None:
            counts[sample.round] = counts.get(sample.round, 0) + 1
    n = np.array([counts.get(r) or _n_from_stderr(value, result.metrics[f"{prefix}{r}"].stderr)
                  for r, value in zip(rounds, values, strict=True)], dtype=float)
    low, high = wilson_interval(values * n, n)
    errors = np.stack([np.clip(values - low, 0, None), np.clip(high - values, 0, None)])
    return np.array(rounds), values, errors


def _n_from_stderr(value: float, stderr: float | None) -> float:
    if not stderr:
        return 1.0
    return max(1.0, value * (1 - value) / stderr**2 + 1)


def _compared_runs(runs: Sequence[RunRecord], task: str) -> list[RunRecord]:
    """Runs with the task other than the reference models, which the Bayesian-teaching figures
    draw as the Bayesian Assistant (= `ppt-bayes`) and random choice (= `ppt-uniform`) instead."""
    return [run for run in _model_runs(runs, task) if run.model not in REFERENCE_MODELS]


def _references(runs: Sequence[RunRecord]) -> dict[str, object]:
    """task -> exact `ReferenceCurves` for every Bayesian-teaching task of the runs (None where the
    task's population cannot be built, e.g. official data not on this machine)."""
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.harness.bt_reference import reference_curves

    references = {}
    for task in _bt_tasks(runs):
        try:
            references[task] = reference_curves(task)
        except (PPTBenchError, ValueError, OSError):
            references[task] = None
    return references


def _model_runs(runs: Sequence[RunRecord], task: str) -> list[RunRecord]:
    return [run for run in runs if task in run.tasks]


def _model_colors(runs: Sequence[RunRecord]) -> dict[str, str]:
    """One colour per model label, the same in every panel (tab10 order, then tab20)."""
    from matplotlib import colormaps

    labels = list(dict.fromkeys(run.label for run in runs if run.model not in REFERENCE_MODELS))
    palette = colormaps["tab10"].colors if len(labels) <= 10 else colormaps["tab20"].colors
    return {label: palette[i % len(palette)] for i, label in enumerate(labels)}


def _round_curves(runs: Sequence[RunRecord], prefix: str, ylabel: str, title: str, assistant: bool):
    tasks = _bt_tasks(runs)
    if not tasks:
        raise FigureSkipped("no run has a Bayesian-teaching task (bt_*) with per-round metrics")
    figure, axes = _new_figure(len(tasks))
    colors = _model_colors(runs)
    references = _references(runs)
    for ax, task in zip(axes, tasks, strict=True):
        for run in _compared_runs(runs, task):
            rounds, values, errors = _series(run.tasks[task], prefix)
            ax.errorbar(rounds, values, yerr=errors, marker="o", capsize=2, label=run.label,
                        color=colors[run.label])
        reference = references[task]
        if reference is not None:
            if assistant:
                ax.plot(reference.rounds, reference.bayesian, "k--", marker="s",
                        label="Bayesian Assistant (exact)")
            ax.plot(reference.rounds, reference.random, color="grey", linestyle=":",
                    label="random choice (exact)")
            ax.text(0.98, 0.02, f"references: {reference.population}", transform=ax.transAxes,
                    ha="right", va="bottom", fontsize=7, color="0.35")
        ax.set(title=task, xlabel="interactions observed", ylabel=ylabel, ylim=(-0.02, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
    _shared_legend(figure, axes)
    figure.suptitle(title)
    return figure


def accuracy_by_round(runs: Sequence[RunRecord]):
    """(a) Accuracy on held-out option sets after r interactions, per model (Wilson 95%), with the
    Bayesian Assistant and random choice computed exactly on the task's whole population."""
    return _round_curves(runs, "acc_r", "accuracy (95% CI)",
                         "Accuracy vs number of interactions", assistant=True)


def agreement_by_round(runs: Sequence[RunRecord]):
    """(b) Agreement of each model's choice with the Bayesian Assistant's, per round (Wilson 95%);
    random choice agrees 1/K of the time in expectation (exact line)."""
    return _round_curves(runs, "agree_r", "agreement with Bayesian Assistant",
                         "Agreement with the Bayesian Assistant", assistant=False)


def first_vs_final(runs: Sequence[RunRecord]):
    """(c) First-round vs final-round accuracy of every model (bars, Wilson 95%) and the exact
    Bayesian Assistant (no interval: the whole population), one panel per task."""
    tasks = _bt_tasks(runs)
    if not tasks:
        raise FigureSkipped("no run has a Bayesian-teaching task (bt_*) with per-round metrics")
    most = max(len(_compared_runs(runs, task)) for task in tasks) + 1  # + the Bayesian Assistant
    figure, axes = _new_figure(len(tasks), width=max(4.2, 0.8 * most + 1.0), height=3.9)
    width = 0.38
    references = _references(runs)
    for ax, task in zip(axes, tasks, strict=True):
        groups = []  # (label, first, final, first (down, up) error, final (down, up) error, final round)
        for run in _compared_runs(runs, task):
            rounds, values, errors = _series(run.tasks[task], "acc_r")
            groups.append((run.label, values[0], values[-1], errors[:, 0], errors[:, -1], rounds[-1]))
        if (reference := references[task]) is not None:
            groups.append(("Bayesian\nAssistant\n(exact)", reference.bayesian[0], reference.bayesian[-1],
                           np.zeros(2), np.zeros(2), reference.rounds[-1]))
        x = np.arange(len(groups))
        for offset, first, color in ((-width / 2, True, "#9ecae1"), (width / 2, False, "#08519c")):
            bars = ax.bar(x + offset, [g[1] if first else g[2] for g in groups], width,
                          yerr=np.array([g[3] if first else g[4] for g in groups]).T,
                          capsize=2, color=color,
                          label="first round" if first else "final round")
            if len(groups) <= 4:  # values in the bars while they fit; the CSV has them all
                ax.bar_label(bars, fmt="%.2f", fontsize=7, label_type="center")
        if reference is not None:
            ax.axhline(reference.random[0], color="grey", linestyle=":", label="random choice (exact)")
        ax.set_xticks(x, [g[0] for g in groups], rotation=30, ha="right", fontsize=8)
        ax.set(title=task, ylabel="accuracy", ylim=(0, 1.1))
    _shared_legend(figure, axes)
    figure.suptitle("First-round vs final-round accuracy")
    return figure


def _reliability_curve(probs: Sequence[np.ndarray], outcomes: np.ndarray, n_bins: int = N_BINS):
    """(mean confidence, accuracy, count) per non-empty equal-width bin, (n_used, 3), and the ECE over
    them: `metrics.bin_stats` and `metrics.ece` of the per-item values (`calibration.item_values`:
    accuracy is the expected correctness under tied maxima, as in the report)."""
    from ppt_bench import calibration, metrics

    values = calibration.item_values(probs, outcomes)
    bins = metrics.equal_width_bins(values.confidence, n_bins)
    counts, confidence, accuracy = metrics.bin_stats(values.confidence, values.correct, bins, n_bins)
    used = counts > 0
    curve = np.column_stack([confidence[used], accuracy[used], counts[used]])
    return curve, metrics.ece(values.confidence, values.correct, n_bins)


def _calibration_fit(run: RunRecord, task: str):
    """(test items, T, calibration items count, where T came from) by the project's one definition,
    `calibration_report.task_temperature` (the `<task>_calib` twin of the run when it was scored, else
    the sha256 held-out split; T flagged when at a bound or fitted on too few items)."""
    from ppt_bench.report.calibration_report import task_temperature

    fitted = task_temperature(run.path, task)
    source = f"{task}_calib" if fitted.split.kind == "calibration task" else "held-out split"
    if fitted.fit.flags:
        source += " [" + ", ".join(fitted.fit.flags) + "]"
    return fitted.test, float(fitted.fit.temperature), fitted.fit.n_items, source


def reliability(runs: Sequence[RunRecord], tasks: Sequence[str] = RELIABILITY_TASKS):
    """(d) Reliability diagrams: accuracy vs confidence in 15 equal-width bins, raw (softmax of the
    choice log-likelihoods) and temperature-scaled with the T of `ppt-bench report` (fitted on the
    calibration split, never on the plotted items: `_calibration_fit`), rows = models, columns =
    tasks; marker area ~ number of items in the bin."""
    from ppt_bench.metrics import softmax

    tasks = [t for t in tasks if any(t in run.tasks for run in runs)]
    panels = [(run, task) for run in runs for task in tasks
              if task in run.tasks and any(s.loglikelihoods for s in read_samples(run.tasks[task]))]
    if not panels:
        raise FigureSkipped(f"no run has logged samples for any of {', '.join(RELIABILITY_TASKS)}")
    models = list(dict.fromkeys(run.label for run, _ in panels))
    tasks = list(dict.fromkeys(task for _, task in panels))
    figure, axes = _new_figure(len(models) * len(tasks), width=3.2, height=3.0, ncols=len(tasks))
    axes = axes.reshape(len(models), len(tasks))
    for run, task in panels:
        ax = axes[models.index(run.label), tasks.index(task)]
        test, temperature, n_calib, source = _calibration_fit(run, task)
        outcomes = np.array(test.outcomes)
        ax.plot([0, 1], [0, 1], color="grey", linewidth=0.8)
        ax.set(xlim=(0, 1), ylim=(0, 1), title=f"{run.label} / {task}")
        if len(test) == 0:  # e.g. --limit: every scored item went to the calibration split
            ax.text(0.5, 0.5, f"no test items\n(T fitted on {n_calib}, {source})", transform=ax.transAxes,
                    ha="center", va="center", fontsize=7, color="0.35")
            continue
        for t, label, color in ((1.0, "raw", "#d62728"), (temperature, f"T={temperature:.2f}", "#1f77b4")):
            probs = [softmax(row, t) for row in test.logits]
            curve, error = _reliability_curve(probs, outcomes)
            ax.plot(curve[:, 0], curve[:, 1], color=color, linewidth=1, marker="o", markersize=3,
                    label=f"{label}, ECE {error:.3f}")
            ax.scatter(curve[:, 0], curve[:, 1], s=8 + 120 * curve[:, 2] / len(test), color=color,
                       alpha=0.5)
        ax.text(0.98, 0.02, f"{len(test)} items; T fitted on {n_calib}\n({source})",
                transform=ax.transAxes, ha="right", va="bottom", fontsize=6, color="0.35")
        ax.legend(fontsize=7, loc="upper left")
    for ax in axes[-1]:
        ax.set_xlabel("confidence (max p)")
    for ax in axes[:, 0]:
        ax.set_ylabel("accuracy")
    figure.suptitle("Reliability: raw vs temperature-scaled (T fitted on the calibration split)")
    return figure


def _mean_ci(values: Sequence[float]) -> tuple[float, float]:
    values = np.asarray(values, dtype=float)
    half = Z95 * values.std(ddof=1) / np.sqrt(len(values)) if len(values) > 1 else 0.0
    return float(values.mean()), float(half)


def heldout_motif_kl(runs: Sequence[RunRecord], task: str = "ppt_motifs_heldout"):
    """(e) Mean KL(q || p) per held-out motif per model (bars, 95% CI over items)."""
    per_model: dict[str, dict[str, list[float]]] = {}
    for run in _model_runs(runs, task):
        for sample in read_samples(run.tasks[task]):
            if sample.motif is not None and "kl" in sample.metrics:
                per_model.setdefault(run.label, {}).setdefault(sample.motif, []).append(sample.metrics["kl"])
    if not per_model:
        raise FigureSkipped(f"no run has logged samples of {task} with motifs")
    motifs = sorted({motif for by_motif in per_model.values() for motif in by_motif})
    figure, (ax,) = _new_figure(1, width=max(6.0, 1.1 * len(motifs) * max(1, len(per_model)) / 2), height=4.0)
    width = 0.8 / len(per_model)
    x = np.arange(len(motifs))
    for i, (model, by_motif) in enumerate(per_model.items()):
        stats = [_mean_ci(by_motif[m]) if m in by_motif else (np.nan, 0.0) for m in motifs]
        ax.bar(x - 0.4 + width * (i + 0.5), [s[0] for s in stats], width, yerr=[s[1] for s in stats],
               capsize=2, label=model)
    ax.set_xticks(x, motifs, rotation=25, ha="right")
    ax.set(ylabel="KL(q || p) (nats, lower is better)", title=f"KL per held-out motif ({task})")
    ax.legend(fontsize=8)
    return figure


def model_mean_rating(sample: Sample) -> float:
    """sum_k p_k * midpoint_k with p = softmax(choice log-likelihoods), midpoints 10, 30, ..., 90."""
    from ppt_bench.metrics import softmax

    return float(softmax(np.array(sample.loglikelihoods)) @ PROBCOPA_MIDPOINTS)


def probcopa_ratings(runs: Sequence[RunRecord], task: str = "human_probcopa"):
    """(f) Each model's mean rating vs the human mean rating per ProbCOPA item (Spearman in title)."""
    from ppt_bench.metrics import spearman

    panels = []
    for run in _model_runs(runs, task):
        samples = [s for s in read_samples(run.tasks[task])
                   if s.human_mean is not None and len(s.loglikelihoods) == len(PROBCOPA_MIDPOINTS)]
        if samples:
            panels.append((run.label, samples))
    if not panels:
        raise FigureSkipped(f"no run has logged samples of {task} with human mean ratings")
    figure, axes = _new_figure(len(panels), width=3.6, height=4.0)
    for ax, (model, samples) in zip(axes, panels, strict=True):
        human = np.array([s.human_mean for s in samples])
        rated = np.array([model_mean_rating(s) for s in samples])
        ax.plot([0, 100], [0, 100], color="grey", linewidth=0.8)
        ax.scatter(human, rated, s=10, alpha=0.6)
        rho = spearman(human, rated)
        ax.set(xlim=(0, 100), ylim=(0, 100), xlabel="human mean rating", ylabel="model mean rating",
               title=f"{model}: Spearman {rho:.2f}" if np.isfinite(rho) else f"{model}: Spearman n/a")
        ax.set_box_aspect(1)
    figure.suptitle("ProbCOPA: model vs human mean ratings")
    return figure


def accuracy_vs_features(runs: Sequence[RunRecord]):
    """(g) Accuracy vs number of features (`ppt_bench.report.figures_features`)."""
    from ppt_bench.report.figures_features import accuracy_vs_features as draw

    return draw(runs)


def direct_vs_belief(runs: Sequence[RunRecord]):
    """(h) Direct vs belief-based prediction per round (`figures_beliefs.py`)."""
    from ppt_bench.report.figures_beliefs import direct_vs_belief as draw

    return draw(runs)


FIGURES: dict[str, Callable] = {
    "a_accuracy_by_round": accuracy_by_round,
    "b_agreement_by_round": agreement_by_round,
    "c_first_vs_final": first_vs_final,
    "d_reliability": reliability,
    "e_heldout_motif_kl": heldout_motif_kl,
    "f_probcopa_ratings": probcopa_ratings,
    "g_accuracy_vs_features": accuracy_vs_features,
    "h_direct_vs_belief": direct_vs_belief,
}
from ppt_bench.report.figures_interactive import FIGURES as _BY_PROTOCOL  # noqa: E402  (i, j, k)

FIGURES.update(_BY_PROTOCOL)


def draw_figures(runs: Sequence[RunRecord], out_dir: Path, names: Sequence[str] | None = None,
                 formats: Sequence[str] = ("png", "pdf")) -> list[FigureOutcome]:
    """Draw the named figures (default all) and save each as `<out_dir>/<name>.<format>`."""
    from ppt_bench.io import atomic_open

    out_dir = Path(out_dir)
    outcomes = []
    for name in names or FIGURES:
        try:
            figure = FIGURES[name](runs)
        except FigureSkipped as reason:
            outcomes.append(FigureOutcome(name, skipped=str(reason)))
            continue
        paths = []
        for fmt in formats:
            path = out_dir / f"{name}.{fmt}"
            with atomic_open(path, "wb") as handle:  # PDF metadata dates off: same input, same bytes
                figure.savefig(handle, format=fmt, dpi=120, metadata={"CreationDate": None} if fmt == "pdf"
                               else {"Software": None})
            paths.append(path)
        outcomes.append(FigureOutcome(name, tuple(paths)))
    return outcomes
