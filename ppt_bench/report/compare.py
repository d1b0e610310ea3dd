"""Effects of fine-tuning: metric differences between a model's run and a baseline run on the same
items, raw and temperature-scaled, with paired bootstrap 95% intervals.

For each task both runs scored (on the test items they share), with p_i = softmax(l_i / T) the
model's distribution on item i:

    delta(metric) = metric(model) - metric(base),  metric in acc, nll, brier, ece, kl

(`ppt_bench.calibration.aggregate`; acc is the mean of [argmax p == y]). T is fitted per run and
task exactly as in `ppt-bench report` (`calibration_report.task_temperature`: on the task's
calibration twin `<task>_calib` when the run has it, else on the deterministic doc-id hash split),
and "scaled" scores both runs after their own T on the same test items. Items are resampled with
replacement, the same resample for both runs and both views (paired), and the interval is the
2.5-97.5 percentile of the resampled deltas. "Does the raw-calibration gain survive temperature
scaling?" reads off delta(ece) and delta(nll), raw vs scaled.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ppt_bench.errors import PPTBenchError
from ppt_bench.report.calibration_report import TaskItems, find_tasks, task_temperature

EFFECT_METRICS = ("acc", "nll", "brier", "ece", "kl")
HIGHER_IS_BETTER = {"acc": True, "nll": False, "brier": False, "ece": False, "kl": False}


@dataclass(frozen=True)
class Effect:
    """delta = model - base on one task and metric, with its paired bootstrap interval."""

    task: str
    metric: str
    view: str  # "raw" or "scaled"
    base: float
    model: float
    delta: float
    low: float
    high: float


def _test_items_and_temperature(run_dir: Path, task: str):
    """The test items of a task in one run and the `TaskTemperature` fitted on its calibration split."""
    fitted = task_temperature(run_dir, task)
    return fitted.test, fitted.fit.temperature, fitted


def _values(items: TaskItems, temperature: float):
    from ppt_bench import calibration, metrics

    probs = [metrics.softmax(logits, temperature) for logits in items.logits]
    return calibration.item_values(probs, items.outcomes, items.soft_labels)


def _metrics(values, index: np.ndarray) -> dict[str, float]:
    from ppt_bench import calibration

    return {"acc": float(values.correct[index].mean()), **calibration.aggregate(values, index)}


def compare_task(base_dir: Path, model_dir: Path, task: str, n_boot: int = 1000, seed: int = 0,
                 ) -> tuple[list[Effect], dict[str, object]]:
    """Effects on one task, and facts about the comparison (items, temperatures, split kind)."""
    base_items, base_t, base_split = _test_items_and_temperature(base_dir, task)
    model_items, model_t, model_split = _test_items_and_temperature(model_dir, task)
    # Test items of both (they differ when only one run has the calibration twin, so the other
    # holds out 30% of the task for T); scored in the same order.
    shared = set(base_items.ids) & set(model_items.ids)
    if len(shared) < 2:
        raise PPTBenchError(f"{task}: {base_dir} and {model_dir} share {len(shared)} test items (another "
                            f"size, limit or task version?); evaluate both with the same settings")
    base_items = base_items.subset(np.array([i in shared for i in base_items.ids]))
    model_items = model_items.subset(np.array([i in shared for i in model_items.ids]))
    if base_items.ids != model_items.ids:
        raise PPTBenchError(f"{task}: {base_dir} and {model_dir} list the same items in different orders")
    views = {"raw": (_values(base_items, 1.0), _values(model_items, 1.0)),
             "scaled": (_values(base_items, base_t), _values(model_items, model_t))}
    n_items = len(base_items)
    everything = np.arange(n_items)
    rng = np.random.default_rng(seed)
    draws = {view: [] for view in views}
    for _ in range(n_boot):
        index = rng.integers(0, n_items, n_items)
        for view, (base, model) in views.items():
            b, m = _metrics(base, index), _metrics(model, index)
            draws[view].append([m[k] - b[k] for k in EFFECT_METRICS])
    effects = []
    for view, (base, model) in views.items():
        b, m = _metrics(base, everything), _metrics(model, everything)
        resampled = np.asarray(draws[view])
        for j, metric in enumerate(EFFECT_METRICS):
            column = resampled[:, j][np.isfinite(resampled[:, j])]
            low, high = (np.percentile(column, [2.5, 97.5]) if len(column) else (np.nan, np.nan))
            effects.append(Effect(task, metric, view, b[metric], m[metric], m[metric] - b[metric],
                                  float(low), float(high)))
    facts = {"task": task, "n_items": n_items, "temperature_base": base_t, "temperature_model": model_t,
             "calibration_split": sorted({base_split.split.kind, model_split.split.kind}),
             "n_calib_base": base_split.fit.n_items, "n_calib_model": model_split.fit.n_items,
             "flags_base": list(base_split.fit.flags), "flags_model": list(model_split.fit.flags)}
    return effects, facts


def _generation_task(run_dir: Path, task: str) -> bool:
    """Whether lm-eval ran `task` as `generate_until` (from its results.json)."""
    try:
        output = json.loads((run_dir / task / "results.json").read_text())
    except (OSError, ValueError):
        return False
    return (output.get("configs") or {}).get(task, {}).get("output_type") == "generate_until"


def compare_runs(base_dir: Path | str, model_dir: Path | str, tasks: Sequence[str] | None = None,
                 n_boot: int = 1000, seed: int = 0) -> dict[str, object]:
    """Every task both runs scored (or `tasks`), as a JSON-able dict of effects and facts."""
    base_dir, model_dir = Path(base_dir), Path(model_dir)
    shared = sorted(set(find_tasks(base_dir)) & set(find_tasks(model_dir)))
    # generation tasks (e.g. openestimate_prior) have no choice probabilities to compare
    tasks = list(tasks) if tasks else [task for task in shared if not _generation_task(base_dir, task)]
    missing = [task for task in tasks if task not in shared]
    if missing:
        raise PPTBenchError(f"not scored by both runs: {', '.join(missing)} (shared: {', '.join(shared)})")
    if not tasks:
        raise PPTBenchError(f"{base_dir} and {model_dir} share no task")
    effects, facts = [], []
    for task in tasks:
        task_effects, task_facts = compare_task(base_dir, model_dir, task, n_boot, seed)
        effects += task_effects
        facts.append(task_facts)
    return {"base": str(base_dir), "model": str(model_dir), "n_boot": n_boot, "seed": seed,
            "tasks": facts, "effects": [asdict(effect) for effect in effects]}


def render_markdown(comparison: dict[str, object]) -> str:
    """One table: task x metric rows, raw and scaled deltas with their 95% intervals."""
    lines = [f"`{comparison['model']}` minus `{comparison['base']}` (paired bootstrap 95% intervals, "
             f"{comparison['n_boot']} resamples; ↑/↓: the metric's better direction)", "",
             "| task | metric | base raw | model raw | Δ raw [95%] | base scaled | model scaled | "
             "Δ scaled [95%] |", "|---|---|---:|---:|---:|---:|---:|---:|"]
    by_key = {(e["task"], e["metric"], e["view"]): e for e in comparison["effects"]}
    for facts in comparison["tasks"]:
        task = facts["task"]
        for metric in EFFECT_METRICS:
            raw, scaled = by_key[(task, metric, "raw")], by_key[(task, metric, "scaled")]
            arrow = "↑" if HIGHER_IS_BETTER[metric] else "↓"
            lines.append(f"| {task} | {metric} {arrow} | {raw['base']:.3f} | {raw['model']:.3f} | "
                         f"{raw['delta']:+.3f} [{raw['low']:+.3f}, {raw['high']:+.3f}] | "
                         f"{scaled['base']:.3f} | {scaled['model']:.3f} | "
                         f"{scaled['delta']:+.3f} [{scaled['low']:+.3f}, {scaled['high']:+.3f}] |")
    lines += ["", "| task | test items | T base (calibration items) | T model (calibration items) | "
              "T fitted on |", "|---|---:|---:|---:|---|"]
    lines += [f"| {f['task']} | {f['n_items']} | {_t_text(f, 'base')} | {_t_text(f, 'model')} | "
              f"{', '.join(f['calibration_split'])} |" for f in comparison["tasks"]]
    return "\n".join(lines) + "\n"


def _t_text(facts: dict, which: str) -> str:
    """`T (n=items; flags)` of one side of a comparison (older comparisons lack the counts)."""
    flags = facts.get(f"flags_{which}") or []
    n_calib = facts.get(f"n_calib_{which}")
    inside = "; ".join(([f"n={n_calib}"] if n_calib is not None else []) + [", ".join(flags)] * bool(flags))
    return f"{facts[f'temperature_{which}']:.3f}" + (f" ({inside})" if inside else "")
