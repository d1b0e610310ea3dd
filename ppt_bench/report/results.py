"""Run directories (see `ppt_bench/harness/evaluate.py`) read into frozen records.

    RUN_DIR/run.json               -> RunRecord.model, .model_args, provenance
    RUN_DIR/<task>/results.json    -> TaskResult (metric values, stderr, higher_is_better, versions)
    RUN_DIR/<task>/samples.jsonl   -> Sample records, read on demand by `read_samples`; the raw
                                      records by `sample_records`, their choice log-likelihoods by
                                      `logged_loglikelihoods` (the one reader of lm-eval's sample format)

Only the fields listed in `REQUIRED_FIELDS` are needed from lm-eval's results dict, so a run made
with another lm-eval version is accepted when it has them and refused (`ResultsFormatError`, naming
the file, its lm-eval version and what is missing) when it does not.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from ppt_bench.data.parse import iter_jsonl
from ppt_bench.errors import PPTBenchError
from ppt_bench.harness.run_dir import DEFAULT_PROTOCOL, recorded_protocol, unfinished_tasks
from ppt_bench.harness.scoring import CALIB_SUFFIX

log = logging.getLogger(__name__)

FILTER = "none"  # lm-eval >= 0.4 writes metrics as "<metric>,<filter>"
REQUIRED_FIELDS = ("results", "higher_is_better")


class ResultsFormatError(PPTBenchError):
    """A results file lacks a field the report needs (another lm-eval version, or not a run dir)."""


@dataclass(frozen=True)
class MetricValue:
    """One aggregate metric: its value, lm-eval's stderr (None where lm-eval gives "N/A")."""

    value: float
    stderr: float | None
    higher_is_better: bool | None

    def interval(self, z: float = 1.96, bounds: tuple[float, float] = (-math.inf, math.inf),
                 ) -> tuple[float, float] | None:
        """Normal-approximation interval value +- z * stderr (95% for z = 1.96), clipped to the
        metric's range `bounds` (see `metric_range`), or None without a stderr."""
        if self.stderr is None:
            return None
        low, high = bounds
        return max(low, self.value - z * self.stderr), min(high, self.value + z * self.stderr)


def metric_range(metric: str) -> tuple[float, float]:
    """The values a metric can take: [0, 1] for rates, accuracies (also belief-based), TV and ECEs; [0, 2] for Brier;
    [0, inf) for KL, NLL and W1; [-1, 1] for Spearman; unbounded otherwise."""
    name = metric.split(",")[0]
    if name in ("acc", "agree", "mode_agree", "ba_acc", "tv") or name.startswith(
            ("acc_r", "agree_r", "belief_", "ece", "soft_ece")):
        return 0.0, 1.0
    if name.startswith("brier"):
        return 0.0, 2.0
    if name.startswith(("kl", "nll", "w1")):
        return 0.0, math.inf
    if name == "spearman":
        return -1.0, 1.0
    return -math.inf, math.inf


@dataclass(frozen=True)
class TaskResult:
    """The results of one task in one run."""

    task: str
    path: Path
    metrics: Mapping[str, MetricValue]
    version: str | None = None
    n_samples: int | None = None
    lm_eval_version: str | None = None
    size: str | None = None  # ppt-bench's dataset size and --limit (comparable rows need the same)
    limit: int | None = None
    protocol: str = DEFAULT_PROTOCOL  # run_dir.PROTOCOLS: how a bt task's earlier rounds were made

    @property
    def samples_path(self) -> Path:
        return self.path.parent / "samples.jsonl"


@dataclass(frozen=True)
class RunRecord:
    """One run directory: one model, its task results and provenance."""

    path: Path
    model: str
    model_args: Mapping[str, Any]
    tasks: Mapping[str, TaskResult]
    git_sha: str | None = None
    date: str | None = None
    package_versions: Mapping[str, str] = field(default_factory=dict)

    @property
    def protocol(self) -> str:
        """"interactive" when any task of the run was evaluated so, else the default protocol."""
        protocols = {result.protocol for result in self.tasks.values()}
        return "interactive" if "interactive" in protocols else DEFAULT_PROTOCOL

    @property
    def label(self) -> str:
        """Short name for legends: a local model folder's own name (`runs/train/NAME` -> NAME), with
        ` [interactive]` for a run of the interactive protocol."""
        local = self.model.startswith(("/", "./", "../", "runs/")) or Path(self.model).is_dir()
        name = self.model.rstrip("/").rsplit("/", 1)[-1] if local else self.model
        return name if self.protocol == DEFAULT_PROTOCOL else f"{name} [{self.protocol}]"


@dataclass(frozen=True)
class Sample:
    """One logged item: the model's choice log-likelihoods, the document fields the figures use and
    the per-item metric values that are plain numbers (acc, kl, ba_acc, acc_r<round>, ...)."""

    doc_id: int
    loglikelihoods: tuple[float, ...]
    outcome: int
    soft_label: tuple[float, ...] | None
    metrics: Mapping[str, float]
    round: int | None = None
    motif: str | None = None
    human_mean: float | None = None


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def _task_metrics(entry: Mapping[str, Any], higher: Mapping[str, Any]) -> dict[str, MetricValue]:
    metrics = {}
    for key, raw in entry.items():
        metric, sep, filter_name = key.partition(",")
        if not sep or filter_name != FILTER or metric.endswith("_stderr"):
            continue
        value = _number(raw)
        if value is None:
            continue
        stderr = _number(entry.get(f"{metric}_stderr,{FILTER}"))
        hib = higher.get(metric)
        metrics[metric] = MetricValue(value, stderr, hib if isinstance(hib, bool) else None)
    return metrics


def read_task_result(path: Path, task: str | None = None) -> TaskResult:
    """One `results.json` (task name: `task`, default the folder name)."""
    path = Path(path)
    task = task or path.parent.name
    try:
        output = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError) as error:
        raise ResultsFormatError(f"cannot read {path}: {error}") from None
    if not isinstance(output, dict):
        raise ResultsFormatError(f"{path} is not an lm-eval results dict")
    lm_eval_version = output.get("lm_eval_version")
    made_by = f"(written by lm-eval {lm_eval_version or 'of unknown version'})"
    missing = [name for name in REQUIRED_FIELDS if not isinstance(output.get(name), dict)]
    if missing:
        raise ResultsFormatError(f"{path} {made_by} lacks {', '.join(missing)}; ppt-bench needs lm-eval's "
                                 f"results dict with {', '.join(REQUIRED_FIELDS)} (lm-eval >= 0.4)")
    entry = output["results"].get(task)
    if not isinstance(entry, dict):
        raise ResultsFormatError(f"{path} {made_by} has no results for task {task!r} "
                                 f"(has: {', '.join(output['results']) or 'none'})")
    metrics = _task_metrics(entry, output["higher_is_better"].get(task) or {})
    if not metrics:
        keys = [key for key in entry if key not in ("name", "alias", "sample_len")]
        raise ResultsFormatError(f"{path} {made_by} has no metric written as '<metric>,{FILTER}' for "
                                 f"{task!r} (keys: {', '.join(keys[:8]) or 'none'}); ppt-bench needs "
                                 f"lm-eval >= 0.4's metric keys")
    recorded = output.get("ppt_bench") or {}
    version = (output.get("versions") or {}).get(task)
    n_samples = (output.get("n-samples") or {}).get(task, {}).get("effective")
    return TaskResult(task=task, path=path, metrics=MappingProxyType(metrics),
                      version=None if version is None else str(version),
                      n_samples=n_samples if isinstance(n_samples, int) else None,
                      lm_eval_version=lm_eval_version,
                      size=recorded.get("size") or "full",  # no size given: the builders' default, full
                      limit=recorded.get("limit"), protocol=recorded_protocol(recorded.get("identity")))


def read_run(path: Path | str) -> RunRecord:
    """A run directory: `run.json` (optional where results carry the `ppt_bench` entry) and every
    `<task>/results.json` under it."""
    path = Path(path)
    if not path.is_dir():
        raise PPTBenchError(f"run directory {path} not found")
    run_info: dict[str, Any] = {}
    if (path / "run.json").is_file():
        try:
            run_info = json.loads((path / "run.json").read_text())
        except json.JSONDecodeError as error:
            raise ResultsFormatError(f"cannot read {path / 'run.json'}: {error}") from None
    unfinished = warn_if_incomplete(path)
    result_paths = sorted(p for p in path.glob("*/results.json") if p.parent.name not in unfinished)
    if not result_paths:
        raise PPTBenchError(f"{path} holds no <task>/results.json: not a run directory "
                            f"(make one with `ppt-bench eval --model NAME --tasks ... --out {path}`)")
    # Calibration twins (`<task>_calib`) are inputs of the calibration report, not results to rank.
    result_paths = [p for p in result_paths if not p.parent.name.endswith(CALIB_SUFFIX)]
    tasks = {p.parent.name: read_task_result(p) for p in result_paths}
    recorded = [json.loads(p.read_text()).get("ppt_bench") or {} for p in result_paths]
    model = run_info.get("model") or next((r.get("model") for r in recorded if r.get("model")), None)
    if not model:
        raise ResultsFormatError(f"{path}: no model name (neither run.json nor a results file's "
                                 f"'ppt_bench' entry records one)")
    others = sorted({r["model"] for r in recorded if r.get("model") and r["model"] != model})
    if others:
        raise ResultsFormatError(f"{path} mixes models: {model} and {', '.join(others)}")
    provenance = run_info or next(iter(recorded), {})
    return RunRecord(path=path, model=model,
                     model_args=MappingProxyType(dict(provenance.get("model_args") or {})),
                     tasks=MappingProxyType(tasks), git_sha=provenance.get("git_sha"),
                     date=provenance.get("date"),
                     package_versions=MappingProxyType(dict(provenance.get("package_versions") or {})))


def warn_if_incomplete(path: Path | str) -> dict[str, str]:
    """Log a warning naming every task of the run directory that is missing, partial or damaged (see
    `ppt_bench.harness.run_dir.unfinished_tasks`); returns {task: problem}. Damaged results are left
    out of the run; `ppt-bench eval` with the same options redoes them."""
    unfinished = unfinished_tasks(Path(path))
    if unfinished:
        listed = "; ".join(f"{task}: {problem}" for task, problem in unfinished.items())
        log.warning("%s is incomplete (%d task(s): %s); rerun its `ppt-bench eval` to finish it",
                    path, len(unfinished), listed)
    return unfinished


def read_runs(paths: Sequence[Path | str]) -> tuple[RunRecord, ...]:
    """Several run directories; two runs of the same model and protocol are refused (which one would
    be the row?)."""
    runs = tuple(read_run(p) for p in paths)
    seen: dict[tuple[str, str], Path] = {}
    for run in runs:
        key = (run.model, run.protocol)
        if key in seen:
            raise PPTBenchError(f"two run directories for model {run.model}: {seen[key]} and "
                                f"{run.path}; pass one")
        seen[key] = run.path
    return runs


def logged_loglikelihoods(record: Mapping[str, Any]) -> tuple[float, ...]:
    """The per-choice log-likelihoods of one logged lm-eval sample: `filtered_resps` is
    [[ll, is_greedy], ...], `resps` [[[ll, is_greedy]], ...]; () for a generation task's text."""
    values = []
    for response in record.get("filtered_resps") or record.get("resps") or []:
        while isinstance(response, list | tuple):
            response = response[0]
        if isinstance(response, str):  # a generation task's text: no choices
            return ()
        values.append(float(response))
    return tuple(values)


def _sample(record: Mapping[str, Any]) -> Sample:
    doc = record.get("doc") or {}
    lls = logged_loglikelihoods(record)
    numbers = {key: float(value) for key, value in record.items()
               if key not in ("doc_id", "target") and _number(value) is not None}
    soft = doc.get("soft_label")
    human = _number(doc.get("human_mean"))
    return Sample(doc_id=int(record.get("doc_id", -1)), loglikelihoods=lls,
                  outcome=int(doc.get("outcome", record.get("target", -1))),
                  soft_label=None if soft is None else tuple(float(x) for x in soft),
                  metrics=MappingProxyType(numbers),
                  round=doc.get("round") if isinstance(doc.get("round"), int) else None,
                  motif=doc.get("motif"), human_mean=human)


def sample_records(result: TaskResult) -> list[dict[str, Any]]:
    """The raw logged records of one task result, in file order ([] when the run did not log them;
    DataError naming the file and line on a malformed line)."""
    path = result.samples_path
    if not path.is_file():
        return []
    return [record for _, record in iter_jsonl(path)]


def read_samples(result: TaskResult) -> tuple[Sample, ...]:
    """The logged samples of one task result (empty when the run did not log them)."""
    return tuple(_sample(record) for record in sample_records(result))
