"""The Bayesian-teaching figures under both protocols (assistant-context and interactive), from runs.

    i_accuracy_by_protocol   accuracy on held-out sets vs interactions: each model under each protocol
                             it was run with (solid: interactive, dashed: assistant-context; Wilson
                             95%), the exact Bayesian Assistant curve and random choice 1/K
                             (`bt_reference`); the shared data hold no human-assistant curve
    j_agreement_by_protocol  agreement with the Bayesian Assistant per round: on the held-out sets
                             (both protocols) and, interactive, of the model's own recommendation in
                             round r + 1 (`rec_agree_r<r>`, n = users)
    k_taught_first_vs_final  first- vs final-round accuracy of base / Oracle-taught / Bayesian-taught
                             models (the group comes from the run's label, see `teaching_group`)

Each figure carries a caption naming the task's data, its size and documents per round, and the
protocols drawn. Runs of the reference models are the exact reference lines, not model curves.
Registered in `figures.FIGURES`; this module imports `figures` only inside functions (it is
imported at the end of `figures`).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ppt_bench.harness.run_dir import DEFAULT_PROTOCOL
from ppt_bench.report.results import RunRecord

STYLE = {"interactive": "-", DEFAULT_PROTOCOL: "--"}
GROUPS = ("base", "Oracle-taught", "Bayesian-taught")


def _base():
    from ppt_bench.report import figures

    return figures


def model_name(run: RunRecord) -> str:
    """The run's label without its protocol: one colour per model across protocols."""
    return run.label.removesuffix(f" [{run.protocol}]")


def teaching_group(label: str) -> str:
    """base, Oracle-taught or Bayesian-taught from a model label: names made by the teaching recipes
    (`smollm2-oracle-teaching-48`, `smollm2-bayesian-teaching-48` in leaderboards/records/) say so."""
    name = label.lower().replace("_", "-")
    if "bayesian-teaching" in name or "bayesian-taught" in name:
        return "Bayesian-taught"
    if "oracle-teaching" in name or "oracle-taught" in name:
        return "Oracle-taught"
    return "base"


def _caption(runs: Sequence[RunRecord], tasks: Sequence[str], references: dict) -> str:
    """Data, size and protocols of the drawn runs, one line per task."""
    from ppt_bench.report.rounds import round_counts

    lines = []
    for task in tasks:
        drawn = _base()._compared_runs(runs, task)
        sizes = sorted({(run.tasks[task].size or "full")
                        + (f" (--limit {run.tasks[task].limit})" if run.tasks[task].limit else "") for run in drawn})
        per_round = sorted({min(counts.values()) for run in drawn if (counts := round_counts(run.tasks[task]))})
        protocols = sorted({run.tasks[task].protocol for run in drawn})
        reference = references.get(task)
        lines.append(f"{task}: size {'/'.join(sizes) or '-'}"
                     + (f", {'/'.join(map(str, per_round))} held-out documents per round" if per_round else "")
                     + f"; protocol {' and '.join(protocols) or '-'}"
                     + (f"; references exact on {reference.population}" if reference is not None else ""))
    return "\n".join(lines)


def _setup(runs: Sequence[RunRecord], n_cols_extra: float = 0.0):
    base = _base()
    tasks = base._bt_tasks(runs)
    if not tasks:
        raise base.FigureSkipped("no run has a Bayesian-teaching task (bt_*) with per-round metrics")
    names = list(dict.fromkeys(model_name(run) for run in runs if run.model not in base.REFERENCE_MODELS))
    palette = base._model_colors([run for run in runs if run.protocol == DEFAULT_PROTOCOL] or runs)
    colors = {name: palette.get(name) for name in names}
    from matplotlib import colormaps

    spare = iter(colormaps["tab10"].colors[len(palette):] + colormaps["tab20"].colors)
    colors = {name: color or next(spare) for name, color in colors.items()}
    return base, tasks, colors, base._references(runs)


def _finish(figure, axes, runs, tasks, references, title: str) -> None:
    """Legend right of the panels (every label once), title, and the caption below."""
    entries = {}
    for ax in axes:
        for handle, label in zip(*ax.get_legend_handles_labels(), strict=True):
            entries.setdefault(label, handle)
    import textwrap

    width, height = figure.get_size_inches()
    longest = max((len(label) for label in entries), default=0)
    figure.set_size_inches(width + 0.8 + 0.065 * longest, height + 0.5)  # room for the legend and caption
    figure.legend(list(entries.values()), list(entries), loc="outside right center", fontsize=8, frameon=False)
    figure.suptitle(title, fontsize=11)
    characters = int(figure.get_size_inches()[0] * 15)  # at 7 pt
    caption = "\n".join(textwrap.fill(line, characters) for line in _caption(runs, tasks, references).splitlines())
    figure.supxlabel(caption, fontsize=7, color="0.3")


def accuracy_by_protocol(runs: Sequence[RunRecord]):
    """Accuracy vs interactions, each model under each protocol (Wilson 95%), exact references."""
    base, tasks, colors, references = _setup(runs)
    figure, axes = base._new_figure(len(tasks), width=4.6, height=3.8)
    for ax, task in zip(axes, tasks, strict=True):
        for run in base._compared_runs(runs, task):
            result = run.tasks[task]
            rounds, values, errors = base._series(result, "acc_r")
            ax.errorbar(rounds, values, yerr=errors, marker="o", capsize=2, color=colors[model_name(run)],
                        linestyle=STYLE.get(result.protocol, "-"), label=f"{model_name(run)} ({result.protocol})")
        if (reference := references[task]) is not None:
            ax.plot(reference.rounds, reference.bayesian, "k-", marker="s", linewidth=1.2,
                    label="Bayesian Assistant (exact)")
            ax.plot(reference.rounds, reference.random, color="grey", linestyle=":", label="random 1/K (exact)")
        ax.set(title=task, xlabel="interactions observed", ylabel="accuracy (95% CI)", ylim=(-0.02, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
    _finish(figure, axes, runs, tasks, references,
            "Accuracy vs interactions: the model's own rounds (interactive, solid)\n"
            "vs the Bayesian Assistant's (assistant-context, dashed)\n"
            "(no human-assistant curve in the data)")
    return figure


def agreement_by_protocol(runs: Sequence[RunRecord]):
    """Agreement with the Bayesian Assistant per round: held-out sets (both protocols) and the
    model's own recommendations (interactive; n = users), Wilson 95%."""
    from ppt_bench.report.rounds import recommendation_users

    base, tasks, colors, references = _setup(runs)
    figure, axes = base._new_figure(len(tasks), width=4.6, height=3.8)
    for ax, task in zip(axes, tasks, strict=True):
        for run in base._compared_runs(runs, task):
            result = run.tasks[task]
            color, name = colors[model_name(run)], model_name(run)
            rounds, values, errors = base._series(result, "agree_r")
            ax.errorbar(rounds, values, yerr=errors, marker="o", capsize=2, color=color,
                        linestyle=STYLE.get(result.protocol, "-"), label=f"{name} ({result.protocol}): held-out")
            own = base._rounds(result, "rec_agree_r")
            users = recommendation_users(result)
            if own and users:
                values = np.array([result.metrics[f"rec_agree_r{t}"].value for t in own])
                low, high = base.wilson_interval(values * users, np.full(len(own), users))
                ax.errorbar(np.array(own) + 0.08, values, yerr=[values - low, high - values], marker="^",
                            capsize=2, color=color, linestyle="-.", alpha=0.8,
                            label=f"{name} (interactive): own recommendation, round r+1")
        if (reference := references[task]) is not None:
            ax.plot(reference.rounds, reference.random, color="grey", linestyle=":", label="random 1/K (exact)")
        ax.set(title=task, xlabel="interactions observed", ylabel="agreement with Bayesian Assistant",
               ylim=(-0.02, 1.02))
        ax.xaxis.get_major_locator().set_params(integer=True)
    _finish(figure, axes, runs, tasks, references, "Agreement with the Bayesian Assistant\ngiven the same conversation")
    return figure


def taught_first_vs_final(runs: Sequence[RunRecord]):
    """First- vs final-round accuracy by teaching group (base, Oracle-taught, Bayesian-taught) and
    protocol (bars, Wilson 95%), with the exact Bayesian Assistant and random choice."""
    base, tasks, colors, references = _setup(runs)
    bars_per_task = max(len(base._compared_runs(runs, task)) for task in tasks) + 1
    figure, axes = base._new_figure(len(tasks), width=max(4.6, 1.5 * bars_per_task + 1.0), height=4.6)
    width = 0.38
    for ax, task in zip(axes, tasks, strict=True):
        drawn = sorted(base._compared_runs(runs, task),
                       key=lambda run: (GROUPS.index(teaching_group(model_name(run))), run.label))
        groups = []
        for run in drawn:
            result = run.tasks[task]
            _, values, errors = base._series(result, "acc_r")
            short = "interactive" if result.protocol == "interactive" else "assistant ctx"
            groups.append((f"{teaching_group(model_name(run))}\n{model_name(run)}\n{short}",
                           values[0], values[-1], errors[:, 0], errors[:, -1]))
        if (reference := references[task]) is not None:
            groups.append(("Bayesian\nAssistant\n(exact)", reference.bayesian[0], reference.bayesian[-1],
                           np.zeros(2), np.zeros(2)))
        x = np.arange(len(groups))
        for offset, index, color, label in ((-width / 2, 1, "#9ecae1", "first round (0 seen)"),
                                            (width / 2, 2, "#08519c", "final round (all seen)")):
            ax.bar(x + offset, [g[index] for g in groups], width, color=color, label=label, capsize=2,
                   yerr=np.array([g[index + 2] for g in groups]).T)
        if reference is not None:
            ax.axhline(reference.random[0], color="grey", linestyle=":", label="random 1/K (exact)")
        ax.set_xticks(x, [g[0] for g in groups], fontsize=6, rotation=20, ha="right")
        ax.set(title=task, ylabel="accuracy (95% CI)", ylim=(0, 1.05))
    _finish(figure, axes, runs, tasks, references,
            "First vs final round:\nbase, Oracle-taught and Bayesian-taught models")
    return figure


FIGURES = {
    "i_accuracy_by_protocol": accuracy_by_protocol,
    "j_agreement_by_protocol": agreement_by_protocol,
    "k_taught_first_vs_final": taught_first_vs_final,
}
