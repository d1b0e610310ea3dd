"""What a run directory holds and when a task in it counts as finished: the run identity.

A task's results are reused only when the identity recorded in its `results.json` equals the one of
the evaluation asked for, key by key:

    model, backend, model_args (resolved: pretrained, gguf_file, dtype, ...), apply_chat_template,
    task, version (the task YAML's metadata.version), documents (sha256 of the task's documents),
    size, limit, protocol ("assistant-context" or "interactive", see `PROTOCOLS`),
    shard ([i, n] for a `--shard i/n` run, see `eval_shards.py`; None otherwise)

and when the file is whole: valid JSON with the task's metrics and one logged sample per evaluated
document (`n-samples.effective` lines in each samples file). A run directory belongs to one model:
`run.json` (or, without it, the results files) names it, and another model is refused.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ppt_bench.errors import ConfigError

IDENTITY_KEYS = ("model", "backend", "model_args", "apply_chat_template", "task", "version", "documents",
                 "size", "limit", "protocol", "shard")
MODEL_KEYS = IDENTITY_KEYS[:4]
# How a Bayesian-teaching task's earlier rounds are made (`ppt_bench/harness/bt_interactive.py`):
#   assistant-context  the static lm-eval documents: earlier rounds show the Bayesian Assistant's
#                      recommendations, the same for every model (every other task has only this one)
#   interactive        the model plays the assistant: earlier rounds show its own recommendations
PROTOCOLS = ("assistant-context", "interactive")
DEFAULT_PROTOCOL = PROTOCOLS[0]
# Identity keys added after runs were recorded without them, and the value those runs had.
_LEGACY = {"protocol": DEFAULT_PROTOCOL, "shard": None}


def recorded_protocol(identity: Mapping[str, Any] | None) -> str:
    """The protocol a recorded run identity names (runs made before protocols existed: the default)."""
    return str((identity or {}).get("protocol") or DEFAULT_PROTOCOL)


def documents_fingerprint(docs: Iterable[Mapping[str, Any]]) -> str:
    """sha256 over the documents, one canonical JSON line each (keys sorted), in order."""
    digest = hashlib.sha256()
    for doc in docs:
        digest.update(json.dumps(doc, sort_keys=True, default=str, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()


def identity_difference(recorded: Mapping[str, Any] | None, expected: Mapping[str, Any]) -> str | None:
    """None when `recorded` equals `expected` on every key of IDENTITY_KEYS, else why not (one line)."""
    if not isinstance(recorded, Mapping):
        return "they record no run identity (made by an older ppt-bench)"
    for key in IDENTITY_KEYS:
        old, new = recorded.get(key, _LEGACY.get(key)), expected.get(key, _LEGACY.get(key))
        if old == new:
            continue
        if isinstance(old, Mapping) and isinstance(new, Mapping):
            keys = sorted(set(old) | set(new), key=str)
            changed = [f"{key}.{k}: {old.get(k)!r} -> {new.get(k)!r}" for k in keys if old.get(k) != new.get(k)]
            return "; ".join(changed)
        if key == "documents":
            return "the task's documents changed"
        return f"{key}: {old!r} -> {new!r}"
    return None


@dataclass(frozen=True)
class TaskState:
    """A task folder of a run: its results (None unless whole) and, when not whole, why."""

    task: str
    results: Mapping[str, Any] | None
    problem: str | None


def read_task_state(out_dir: Path, task: str) -> TaskState:
    """Whether `out_dir/<task>` holds a whole result: parsable results.json with the task's results
    and, for every sample file it lists, as many lines as documents evaluated."""
    path = Path(out_dir) / task / "results.json"
    if not path.is_file():
        return TaskState(task, None, "not evaluated")
    try:
        results = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        return TaskState(task, None, f"{path} is damaged ({type(error).__name__}: {error})")
    if not isinstance(results, dict) or not isinstance((results.get("results") or {}).get(task), dict):
        return TaskState(task, None, f"{path} holds no results for {task}")
    for name, counts in (results.get("n-samples") or {}).items():
        expected = counts.get("effective") if isinstance(counts, dict) else None
        samples = path.parent / ("samples.jsonl" if name == task else f"samples_{name}.jsonl")
        if not isinstance(expected, int) or not samples.is_file():
            continue
        with samples.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        if lines != expected:
            return TaskState(task, None, f"{samples} has {lines} of {expected} samples")
    return TaskState(task, results, None)


def read_run_json(out_dir: Path) -> dict[str, Any] | None:
    """`out_dir/run.json` as a dict, or None when it is missing or damaged."""
    try:
        record = json.loads((Path(out_dir) / "run.json").read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def run_owner(out_dir: Path) -> str | None:
    """The model a run directory belongs to: run.json's, else the first results file's, else None."""
    out_dir = Path(out_dir)
    recorded = read_run_json(out_dir)
    if recorded and recorded.get("model"):
        return str(recorded["model"])
    for path in sorted(out_dir.glob("*/results.json")):
        try:
            model = (json.loads(path.read_text()).get("ppt_bench") or {}).get("model")
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, AttributeError):
            continue
        if model:
            return str(model)
    return None


def check_owner(out_dir: Path, model: str) -> None:
    """ConfigError when `out_dir` already holds the results of a model other than `model`."""
    owner = run_owner(out_dir)
    if owner is not None and owner != model:
        raise ConfigError(f"{out_dir} holds results of model {owner!r}, not {model!r}; pass another "
                          f"--out (default runs/<model>) or remove {out_dir}")


def unfinished_tasks(out_dir: Path) -> dict[str, str]:
    """{task: problem} for every task run.json lists, and every task folder present, that is not whole."""
    out_dir = Path(out_dir)
    listed = (read_run_json(out_dir) or {}).get("tasks") or []
    present = [path.parent.name for path in out_dir.glob("*/results.json")]
    states = (read_task_state(out_dir, task) for task in dict.fromkeys([*listed, *sorted(present)]))
    return {state.task: state.problem for state in states if state.problem is not None}
