"""Compact per-run result records: what the committed leaderboard is built from.

A run directory (`runs/<model>/`, see `ppt_bench/harness/evaluate.py`) holds long logged samples
and is not committed. Its `ResultRecord` keeps only what a leaderboard row needs, per task:

    version, size, limit, n_items    -> which items were scored (rows are ranked only against rows
                                        with the same `TaskRecord.setting`)
    metrics                          -> lm-eval's value, stderr and direction per metric
    temperature                      -> T by the one definition (`calibration.fit_temperature` on
                                        the calibration split), its item count and flags, and nll /
                                        ece raw vs scaled on the test split
    commands                         -> how the run (and a fine-tuned model) was made

Records live in `leaderboards/records/<name>.json` (committed). `ppt-bench leaderboard` merges the
committed records with the records of the run directories it is given (`merge_records`: a model's
row is only added or updated, task by task, never dropped); `--save-records` writes the merged
records back, which is the only way a committed row changes.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ppt_bench.errors import DataError
from ppt_bench.harness.evaluate import REFERENCE_MODELS
from ppt_bench.harness.run_dir import DEFAULT_PROTOCOL
from ppt_bench.report.results import MetricValue, RunRecord
from ppt_bench.training.recipes import training_commands

RECORDS_DIR = Path(__file__).resolve().parents[2] / "leaderboards" / "records"
FORMAT = "ppt-bench result record 1"


@dataclass(frozen=True)
class TemperatureSummary:
    """T of one task by the one definition, and nll / ece raw vs T-scaled on its test split."""

    temperature: float
    n_calib: int
    n_test: int
    split: str  # "calibration task" or "held-out fraction"
    flags: tuple[str, ...]
    nll_raw: float
    nll_scaled: float
    ece_raw: float
    ece_scaled: float

    def label(self) -> str:
        """`1.42 (n=310)` or `148 (n=40; T at its bound, < 300 items)`."""
        inside = "; ".join([f"n={self.n_calib}", *([", ".join(self.flags)] if self.flags else [])])
        return f"{self.temperature:.3g} ({inside})"


@dataclass(frozen=True)
class TaskRecord:
    """One task of one run, compact."""

    task: str
    version: str | None
    size: str | None
    limit: int | None
    n_items: int | None
    metrics: Mapping[str, MetricValue]
    temperature: TemperatureSummary | None = None
    fingerprint: str | None = None  # of the documents, where the results file records one

    @property
    def setting(self) -> tuple:
        """What makes two rows comparable: task version, size, limit, number of items (and the
        documents' fingerprint where recorded)."""
        return (self.version, self.size, self.limit, self.n_items, self.fingerprint)

    def size_text(self) -> str:
        """`quick, 48 items` (`, --limit 2` when limited)."""
        items = f", {self.n_items} items" if self.n_items is not None else ", items not recorded"
        return f"{self.size or 'full'}{items}" + (f", --limit {self.limit}" if self.limit else "")


@dataclass(frozen=True)
class ResultRecord:
    """One model's row source: its tasks, provenance and the commands that made it."""

    model: str  # as evaluated: a name, a hub id or a local path
    name: str  # what the leaderboard shows (a local folder's own name)
    tasks: Mapping[str, TaskRecord]
    commands: tuple[str, ...] = ()
    source: str = ""  # the run directory it was read from
    git_sha: str | None = None
    date: str | None = None
    lm_eval_version: str | None = None
    note: str = ""  # how the record itself was made, where not from a run directory
    package_versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def reference(self) -> bool:
        return self.model in REFERENCE_MODELS


def model_name(model: str) -> str:
    """A local model folder's own name (`runs/train/NAME` -> NAME); other names unchanged."""
    local = model.startswith(("/", "./", "../", "runs/")) or Path(model).is_dir()
    return model.rstrip("/").rsplit("/", 1)[-1] if local else model


def _temperature_summary(run_dir: Path, task: str) -> TemperatureSummary | None:
    from ppt_bench import calibration, metrics
    from ppt_bench.report.calibration_report import task_temperature

    if not (run_dir / task / "samples.jsonl").is_file():
        return None
    fitted = task_temperature(run_dir, task)
    test, fit = fitted.test, fitted.fit
    if len(test) == 0:
        return None
    values = {t: calibration.item_values([metrics.softmax(row, t) for row in test.logits], test.outcomes)
              for t in (1.0, fit.temperature)}
    raw, scaled = calibration.aggregate(values[1.0]), calibration.aggregate(values[fit.temperature])
    return TemperatureSummary(fit.temperature, fit.n_items, len(test), fitted.split.kind, fit.flags,
                              raw["nll"], scaled["nll"], raw["ece"], scaled["ece"])


def run_commands(run: RunRecord) -> list[str]:
    """Commands that remake a run: the data and training commands of a model trained by `ppt-bench
    train` (`training.recipes.training_commands`), then one `ppt-bench eval` per group of tasks
    evaluated at the same size and limit (read from each results file, calibration twins included);
    a whole suite is named by its group."""
    from ppt_bench.harness.evaluate import suite_tasks

    commands = training_commands(run.model)
    groups: dict[tuple, list[str]] = {}
    for path in sorted(Path(run.path).glob("*/results.json")):
        recorded = json.loads(path.read_text()).get("ppt_bench") or {}
        groups.setdefault((recorded.get("size") or "full", recorded.get("limit")), []).append(path.parent.name)
    sizes = {task: size for (size, _), tasks in groups.items() for task in tasks}
    limits = {limit for _, limit in groups}
    for suite in ("ppt_suite_quick", "ppt_suite"):
        if limits == {None} and suite_tasks(suite) == sizes:
            return [*commands, f"ppt-bench eval --model {run.model} --tasks {suite} --out {run.path}"]
    for (size, limit), tasks in groups.items():
        flags = (f" --size {size}" if size and size != "full" else "") + (f" --limit {limit}" if limit else "")
        commands.append(f"ppt-bench eval --model {run.model} --tasks {','.join(tasks)}{flags} --out {run.path}")
    return commands


def record_from_run(run: RunRecord) -> ResultRecord:
    """The compact record of a run directory (T fitted from its logged samples)."""
    tasks = {}
    for task, result in run.tasks.items():
        if result.protocol != DEFAULT_PROTOCOL:  # the leaderboard ranks the static documents only
            continue
        recorded = json.loads(result.path.read_text()).get("ppt_bench") or {}
        fingerprint = (recorded.get("identity") or {}).get("documents")  # run_dir.documents_fingerprint
        tasks[task] = TaskRecord(task, result.version, result.size, result.limit, result.n_samples,
                                 result.metrics, _temperature_summary(Path(run.path), task),
                                 str(fingerprint) if fingerprint else None)
    lm_eval = sorted({r.lm_eval_version for r in run.tasks.values() if r.lm_eval_version})
    return ResultRecord(run.model, model_name(run.model), MappingProxyType(tasks),
                        tuple(run_commands(run)), str(run.path), run.git_sha, run.date,
                        ", ".join(lm_eval) or None, package_versions=run.package_versions)


def merge_records(committed: Sequence[ResultRecord], new: Sequence[ResultRecord]) -> tuple[ResultRecord, ...]:
    """Committed records updated by new ones: a model's new tasks replace its old ones, its other
    tasks stay; a new model is added; no committed row or task disappears."""
    merged = {record.model: record for record in committed}
    for record in new:
        old = merged.get(record.model)
        if old is None:
            merged[record.model] = record
            continue
        kept = [task for task in old.tasks if task not in record.tasks]
        commands = record.commands + tuple(c for c in old.commands if kept and c not in record.commands)
        merged[record.model] = replace(record, tasks=MappingProxyType({**old.tasks, **record.tasks}),
                                       commands=commands, note=old.note if kept else record.note)
    return tuple(sorted(merged.values(), key=lambda r: (not r.reference, r.name)))


# --- JSON ---------------------------------------------------------------------------------------

def _finite(value: float | None) -> float | None:
    return None if value is None or not math.isfinite(value) else float(value)


def record_to_json(record: ResultRecord) -> dict[str, Any]:
    tasks = {}
    for task, entry in sorted(record.tasks.items()):
        tasks[task] = {
            "version": entry.version, "size": entry.size, "limit": entry.limit, "n_items": entry.n_items,
            **({"fingerprint": entry.fingerprint} if entry.fingerprint else {}),
            "metrics": {name: {"value": _finite(m.value), "stderr": _finite(m.stderr),
                               "higher_is_better": m.higher_is_better}
                        for name, m in sorted(entry.metrics.items())},
            "temperature": None if entry.temperature is None else
            {key: (list(value) if isinstance(value, tuple) else value)
             for key, value in asdict(entry.temperature).items()},
        }
    return {"format": FORMAT, "generated_by": "ppt-bench leaderboard --save-records -- do not edit",
            "model": record.model, "name": record.name, "source": record.source, "note": record.note,
            "commands": list(record.commands), "git_sha": record.git_sha, "date": record.date,
            "lm_eval_version": record.lm_eval_version,
            "package_versions": dict(sorted(record.package_versions.items())), "tasks": tasks}


def record_from_json(data: Mapping[str, Any], path: Path | str = "<record>") -> ResultRecord:
    if data.get("format") != FORMAT:
        raise DataError(f"{path}: not a ppt-bench result record (format {data.get('format')!r}, "
                        f"expected {FORMAT!r})")
    try:
        tasks = {}
        for task, entry in data["tasks"].items():
            metrics = {name: MetricValue(float(m["value"]) if m["value"] is not None else math.nan,
                                         m.get("stderr"), m.get("higher_is_better"))
                       for name, m in entry["metrics"].items()}
            temp = entry.get("temperature")
            tasks[task] = TaskRecord(task, entry.get("version"), entry.get("size"), entry.get("limit"),
                                     entry.get("n_items"), MappingProxyType(metrics),
                                     None if temp is None else TemperatureSummary(
                                         **{**temp, "flags": tuple(temp.get("flags") or ())}),
                                     entry.get("fingerprint"))
        return ResultRecord(data["model"], data.get("name") or model_name(data["model"]),
                            MappingProxyType(tasks), tuple(data.get("commands") or ()),
                            data.get("source") or "", data.get("git_sha"), data.get("date"),
                            data.get("lm_eval_version"), data.get("note") or "",
                            MappingProxyType(dict(data.get("package_versions") or {})))
    except (KeyError, TypeError, ValueError) as error:
        raise DataError(f"{path}: malformed result record ({type(error).__name__}: {error})") from None


def record_path(record: ResultRecord, folder: Path) -> Path:
    return Path(folder) / (re.sub(r"[^A-Za-z0-9._-]+", "_", record.name) + ".json")


def read_records(folder: Path | str | None = None) -> tuple[ResultRecord, ...]:
    """Every `*.json` record in `folder` (default `RECORDS_DIR`; none when it does not exist)."""
    folder = RECORDS_DIR if folder is None else folder
    records = []
    for path in sorted(Path(folder).glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as error:
            raise DataError(f"cannot read result record {path}: {error}") from None
        records.append(record_from_json(data, path))
    return tuple(records)


def write_records(records: Sequence[ResultRecord], folder: Path | str | None = None) -> list[Path]:
    """One JSON file per record in `folder` (default `RECORDS_DIR`; atomic writes); the paths."""
    from ppt_bench.io import write_json_atomic

    folder = RECORDS_DIR if folder is None else folder
    paths = []
    for record in records:
        path = record_path(record, Path(folder))
        write_json_atomic(path, record_to_json(record))
        paths.append(path)
    return paths
