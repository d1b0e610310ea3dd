"""Calibration report for one run directory: raw vs temperature-scaled metrics per task.

For every `RUN_DIR/<task>/results.json` with logged samples (`samples.jsonl`, see
`ppt_bench/harness/evaluate.py`), T is fitted on a calibration split disjoint from the test items:

  * `RUN_DIR/<task>_calib/samples.jsonl` when it exists (the same family generated with another
    seed and scored in the same run): fit on all of it, test on all of the task's items;
  * otherwise a deterministic held-out fraction of the task's own items: an item is in the
    calibration split when sha256(doc id) read as a number in [0, 1) is below the fraction
    (default `calibration.calibration_split_fraction(n)` = clip(300 / n, 0.3, 0.5): 300 items where
    the data allow, never more than half), and the rest are the test items.

T itself is `ppt_bench.calibration.fit_temperature`, the one definition every consumer uses;
`task_temperature(run_dir, task)` reads a task's split from a run directory and fits it (the report,
`compare`, the leaderboard records, the `run` summary and the figures call it). The report states
which split each task used, how many items T was fitted on, and flags a T at its bound.

Raw and scaled metrics are computed on the same test items, with paired bootstrap 95% intervals
(`ppt_bench.calibration.raw_vs_scaled`). `build_report` returns a JSON-able dict and the figures
(PNG bytes); `write_report` writes report.json, report.md (+ figures/) and a self-contained
report.html.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ppt_bench.calibration import (  # the split rule and the fit
    MIN_CALIB_ITEMS,
    STABLE_CALIB_ITEMS,
    TemperatureFit,
    calibration_split_fraction,
    fit_temperature,
    in_calibration_split,
)
from ppt_bench.data.parse import iter_jsonl
from ppt_bench.errors import DataError, PPTBenchError
from ppt_bench.harness.scoring import CALIB_SUFFIX
from ppt_bench.report.results import logged_loglikelihoods

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TaskItems:
    """The scored items of one task: doc ids, choice log-likelihoods (ragged), outcomes, soft labels."""

    ids: tuple[str, ...]
    logits: tuple[np.ndarray, ...]
    outcomes: tuple[int, ...]
    soft_labels: tuple[tuple[float, ...] | None, ...]
    n_without_outcome: int = 0

    def __len__(self) -> int:
        return len(self.ids)

    def subset(self, keep: np.ndarray) -> TaskItems:
        pick = np.flatnonzero(keep)
        return TaskItems(*(tuple(column[i] for i in pick)
                           for column in (self.ids, self.logits, self.outcomes, self.soft_labels)))


def read_items(path: Path) -> TaskItems:
    """Items of one `samples.jsonl`; items without an outcome are counted and left out."""
    ids, logits, outcomes, soft_labels, missing = [], [], [], [], 0
    try:
        records = list(iter_jsonl(path))  # DataError naming file and line on a malformed line
    except OSError as error:
        raise DataError(f"cannot read {path}: {error}") from None
    for number, record in records:
        doc = record.get("doc") or {}
        outcome = doc.get("outcome")
        lls = np.asarray(logged_loglikelihoods(record), dtype=np.float64)
        if outcome is None or not len(lls):
            missing += 1
            continue
        if not 0 <= int(outcome) < len(lls):
            raise DataError(f"{path}:{number}: outcome {outcome} outside the {len(lls)} choices")
        soft = doc.get("soft_label")
        if soft is not None and len(soft) != len(lls):
            raise DataError(f"{path}:{number}: soft label has {len(soft)} entries for {len(lls)} choices")
        ids.append(str(doc.get("id", record.get("doc_id", number))))
        logits.append(lls)
        outcomes.append(int(outcome))
        soft_labels.append(None if soft is None else tuple(float(x) for x in soft))
    return TaskItems(tuple(ids), tuple(logits), tuple(outcomes), tuple(soft_labels), missing)


@dataclass(frozen=True)
class Split:
    kind: str  # "calibration task" or "held-out fraction"
    description: str
    n_calib: int
    n_test: int


def split_items(items: TaskItems, calib_items: TaskItems | None, calib_source: str,
                fraction: float | None = None) -> tuple[TaskItems, TaskItems, Split]:
    """(calibration items, test items, how they were split); `fraction` None: the default rule
    `calibration_split_fraction(len(items))`."""
    if calib_items is not None:
        overlap = set(items.ids) & set(calib_items.ids)
        if overlap:
            # Same ids in both: the calibration task is not disjoint; drop the shared items from it.
            calib_items = calib_items.subset(np.array([i not in overlap for i in calib_items.ids]))
        note = f" ({len(overlap)} items shared with the task were dropped from it)" if overlap else ""
        return calib_items, items, Split(
            "calibration task", f"T fitted on {calib_source}, scored on all items of the task{note}",
            len(calib_items), len(items))
    fraction = calibration_split_fraction(len(items)) if fraction is None else fraction
    in_calib = np.array([in_calibration_split(i, fraction) for i in items.ids], dtype=bool)
    calib, test = items.subset(in_calib), items.subset(~in_calib)
    return calib, test, Split(
        "held-out fraction",
        f"no calibration task: T fitted on a deterministic held-out {fraction:.0%} of the task's own "
        f"items (sha256 of the doc id), scored on the other {1 - fraction:.0%}",
        len(calib), len(test))


@dataclass(frozen=True)
class TaskTemperature:
    """One task's temperature in one run: the fit, the split it was fitted on, and the test items
    (disjoint from the calibration items) that scaled metrics are scored on."""

    task: str
    fit: TemperatureFit
    split: Split
    test: TaskItems


def task_temperature(run_dir: Path | str, task: str, fraction: float | None = None) -> TaskTemperature:
    """T of `task` in a run directory, by the one definition: fitted on `RUN_DIR/<task>_calib` when
    the run scored the twin, else on the deterministic hash split of the task's own items.

    Needs `RUN_DIR/<task>/samples.jsonl` (DataError naming it otherwise)."""
    run_dir = Path(run_dir)
    samples = run_dir / task / "samples.jsonl"
    if not samples.is_file():
        raise DataError(f"{samples} not found: T needs the logged samples (run with --log_samples)")
    items = read_items(samples)
    twin = run_dir / f"{task}{CALIB_SUFFIX}" / "samples.jsonl"
    calib_items = read_items(twin) if twin.is_file() else None
    source = f"{twin.parent.name} ({len(calib_items)} items)" if calib_items is not None else ""
    calib, test, split = split_items(items, calib_items, source, fraction)
    return TaskTemperature(task, fit_temperature(calib.logits, calib.outcomes), split, test)


def _figure_png(figure) -> bytes:
    import matplotlib.pyplot as plt

    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=72)
    plt.close(figure)
    return buffer.getvalue()


def task_report(task: str, items: TaskItems, calib_items: TaskItems | None, calib_source: str,
                n_boot: int, seed: int, fraction: float | None) -> tuple[dict[str, Any], dict[str, bytes]]:
    """One task's section of the report (JSON-able) and its reliability diagrams (name -> PNG)."""
    from ppt_bench import calibration, metrics

    calib, test, split = split_items(items, calib_items, calib_source, fraction)
    fit = fit_temperature(calib.logits, calib.outcomes)
    temperature = fit.temperature
    table = calibration.raw_vs_scaled(test.logits, test.outcomes, test.soft_labels, temperature,
                                      n_boot=n_boot, seed=seed)
    figures = {}
    for name, t in (("raw", 1.0), ("scaled", temperature)):
        values = calibration.item_values([metrics.softmax(r, t) for r in test.logits], test.outcomes)
        title = f"{task}, raw" if name == "raw" else f"{task}, T = {temperature:.3g}"
        figures[f"{task}_{name}.png"] = _figure_png(
            calibration.reliability_diagram(values.confidence, values.correct, title))
    n_choices = sorted({len(r) for r in items.logits})
    section = {
        "task": task, "split": asdict(split), "temperature": temperature, "fit": fit.note,
        "temperature_fit": {**asdict(fit), "flags": list(fit.flags)},
        "n_items": len(items), "n_without_outcome": items.n_without_outcome, "n_choices": n_choices,
        "metrics": {metric: {name: asdict(estimate) for name, estimate in by_name.items()}
                    for metric, by_name in table.items()},
        "figures": {"raw": f"figures/{task}_raw.png", "scaled": f"figures/{task}_scaled.png"},
    }
    return section, figures


def find_tasks(run_dir: Path) -> list[str]:
    """Task folders of a run (those with results.json), calibration tasks of another task left out."""
    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise PPTBenchError(f"run directory {run_dir} not found")
    tasks = sorted(p.parent.name for p in run_dir.glob("*/results.json"))
    if not tasks:
        raise PPTBenchError(f"{run_dir} holds no <task>/results.json: not a run directory (make one "
                            f"with `ppt-bench eval --model NAME --tasks ... --out {run_dir}`)")
    return [t for t in tasks if not (t.endswith(CALIB_SUFFIX) and t[:-len(CALIB_SUFFIX)] in tasks)]


def build_report(run_dir: Path | str, n_boot: int = 1000, seed: int = 0,
                 fraction: float | None = None,
                 progress: Callable[[str], None] = lambda message: None,
                 ) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The whole report as a JSON-able dict, and every figure as {file name: PNG bytes}."""
    run_dir = Path(run_dir)
    if fraction is not None and not 0 < fraction < 1:
        raise PPTBenchError(f"calibration fraction must be in (0, 1), got {fraction}")
    tasks = find_tasks(run_dir)
    run_info = {}
    if (run_dir / "run.json").is_file():
        try:
            run_info = json.loads((run_dir / "run.json").read_text())
        except json.JSONDecodeError as error:
            raise DataError(f"cannot read {run_dir / 'run.json'}: {error}") from None
    report: dict[str, Any] = {
        "generated_by": "ppt-bench report", "run_dir": str(run_dir),
        "model": run_info.get("model"), "run_date": run_info.get("date"),
        "git_sha": run_info.get("git_sha"),
        "settings": {"n_boot": n_boot, "seed": seed, "level": 0.95,
                     "calib_fraction": fraction if fraction is not None else "clip(300 / n, 0.3, 0.5)",
                     "min_calib_items": MIN_CALIB_ITEMS, "stable_calib_items": STABLE_CALIB_ITEMS,
                     "ece_bins": 15, "ece_em_bins": 10},
        "tasks": [], "skipped": {},
    }
    figures: dict[str, bytes] = {}
    for task in tasks:
        samples = run_dir / task / "samples.jsonl"
        if not samples.is_file():
            report["skipped"][task] = "no samples.jsonl (run without --log_samples)"
            continue
        items = read_items(samples)
        calib_path = run_dir / f"{task}{CALIB_SUFFIX}" / "samples.jsonl"
        calib_items = read_items(calib_path) if calib_path.is_file() else None
        if len(items) == 0:
            report["skipped"][task] = "no items with an outcome"
            continue
        progress(f"{task}: {len(items)} items" + (f", calibration task {calib_path.parent.name}"
                                                   if calib_items is not None else ""))
        source = f"{calib_path.parent.name} ({len(calib_items)} items)" if calib_items is not None else ""
        section, task_figures = task_report(task, items, calib_items, source, n_boot, seed, fraction)
        report["tasks"].append(section)
        figures.update(task_figures)
    if not report["tasks"]:
        reasons = "; ".join(f"{t}: {why}" for t, why in report["skipped"].items())
        raise PPTBenchError(f"{run_dir}: no task with logged samples to report on ({reasons})")
    return report, figures


def write_report(report: dict[str, Any], figures: dict[str, bytes], out_dir: Path | str) -> dict[str, Path]:
    """report.json, report.md (figures/ beside it) and a self-contained report.html in `out_dir`."""
    from ppt_bench.io import atomic_open, write_json_atomic, write_text_atomic
    from ppt_bench.report.report_render import render_html, render_markdown

    out_dir = Path(out_dir)
    for name, png in figures.items():
        with atomic_open(out_dir / "figures" / name, "wb") as handle:
            handle.write(png)
    paths = {"json": out_dir / "report.json", "md": out_dir / "report.md", "html": out_dir / "report.html"}
    write_json_atomic(paths["json"], report)
    write_text_atomic(paths["md"], render_markdown(report))
    write_text_atomic(paths["html"], render_html(report, figures))
    return paths
