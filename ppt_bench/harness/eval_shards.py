"""Sharded evaluation: shard i/n scores documents j % n == i of every task; `merge` joins the shards.

A shard is an ordinary run directory (`evaluate.py`) whose tasks were scored on their shard's
documents only (lm-eval's `samples`, so the logged `doc_id` is the document's index in the task),
with its shard in each task's run identity and a manifest `RUN_DIR/shard.json` (`ppt_bench/shards.py`).

`merge_eval_shards` checks that the shards are one run (same model, tasks, sizes, limit, protocol,
task versions and documents), joins each task's logged samples in document order, and recomputes the
task's aggregate metrics from the per-sample values with lm-eval's own aggregation step (the task's
`!function` aggregations, e.g. pooled ECE; stderr as lm-eval computes it), so the merged run equals
an unsharded evaluation and reads like one (`report`, `leaderboard`, `figures`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from ppt_bench.errors import ConfigError
from ppt_bench.harness import run_dir
from ppt_bench.io import write_json_atomic, write_jsonl_atomic
from ppt_bench.shards import Shard, ShardError, check_shards

KIND = "eval"
BOOTSTRAP_ITERS = 100_000  # lm_eval.simple_evaluate's default, which `evaluate` uses


def shard_documents(n_docs: int, limit: int | None, shard: Shard) -> list[int]:
    """The document indices shard `shard` scores among the first `limit` (all without one)."""
    return list(shard.indices(n_docs if limit is None else min(limit, n_docs)))


def shard_samples(loaded: Mapping[str, Any], limit: int | None, shard: Shard, task: str) -> dict[str, list[int]]:
    """lm-eval's `samples` argument for the loaded tasks `{name: Task}` of `task`; ConfigError when the
    shard would hold no document of one (lm-eval would then score them all)."""
    samples = {name: shard_documents(len(obj.eval_docs), limit, shard) for name, obj in loaded.items()}
    empty = [name for name, indices in samples.items() if not indices]
    if empty:
        raise ConfigError(f"--shard {shard} holds no document of {', '.join(empty)} "
                          f"({len(loaded[empty[0]].eval_docs)} documents, --limit {limit}); use fewer shards")
    return samples


def shard_config(model_identity: Mapping[str, Any], tasks: Sequence[str], sizes: Mapping[str, str],
                 limit: int | None, protocol: str, include_path: Path) -> dict[str, Any]:
    """What every shard of one evaluation shares (its manifest's `config`). The default task folder is
    recorded as None, so shards run from checkouts at different paths merge (the tasks' versions and
    documents are compared per task anyway)."""
    from ppt_bench.harness.evaluate import TASKS_DIR

    folder = None if Path(include_path).resolve() == TASKS_DIR.resolve() else str(include_path)
    return {**model_identity, "tasks": list(tasks), "sizes": dict(sizes), "limit": limit, "protocol": protocol,
            "include_path": folder}


def _read_samples(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def _without_shard(identity: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in identity.items() if key != "shard"}


def _loaded_tasks(task: str, include_path: str | None, size: str | None) -> dict[str, Any]:
    """lm-eval Task objects of `task` (for its aggregation functions), without a model."""
    from ppt_bench.harness.evaluate import TASKS_DIR, task_manager

    include_path = TASKS_DIR if include_path is None else Path(include_path)
    defaults = task not in task_manager(include_path, None).all_tasks
    return task_manager(include_path, size, defaults).load([task])["tasks"]


def aggregate_samples(task_obj: Any, samples: Sequence[Mapping[str, Any]]) -> tuple[dict[str, Any], int]:
    """lm-eval's aggregate metrics `{"<metric>,<filter>": value, "<metric>_stderr,<filter>": ...}` and
    sample count, from logged samples (each names its metrics in `metrics` and holds their values)."""
    from lm_eval.evaluator_utils import _compute_task_aggregations

    raw: dict[tuple[str, str], list] = {}
    for sample in samples:
        for metric in sample["metrics"]:
            raw.setdefault((metric, sample["filter"]), []).append(sample[metric])
    return _compute_task_aggregations(task_obj, raw, BOOTSTRAP_ITERS)


def _merge_task(task: str, shard_dirs: Sequence[Path], out: Path, config: Mapping[str, Any]) -> None:
    """Join one task's shards into `out/<task>` (samples files, then results.json)."""
    states = [run_dir.read_task_state(path, task) for path in shard_dirs]
    for path, state in zip(shard_dirs, states, strict=True):
        if state.results is None:
            raise ShardError(f"{path}/{task}: {state.problem}; rerun that shard")
    identities = [_without_shard(state.results["ppt_bench"]["identity"]) for state in states]
    for path, identity in zip(shard_dirs[1:], identities[1:], strict=True):
        why = run_dir.identity_difference(identities[0], identity)
        if why is not None:
            raise ShardError(f"{path}/{task} and {shard_dirs[0]}/{task} differ ({why})")
    merged = json.loads(json.dumps(states[0].results))
    loaded = _loaded_tasks(task, config["include_path"], config["sizes"].get(task))
    samples_out: dict[str, list[dict[str, Any]]] = {}
    for name in merged["results"]:
        if name not in loaded:
            raise ShardError(f"{shard_dirs[0]}/{task}: results for {name}, which is not a task of {task}")
        file_name = "samples.jsonl" if name == task else f"samples_{name}.jsonl"
        samples = sorted((s for path in shard_dirs for s in _read_samples(path / task / file_name)),
                         key=lambda s: s["doc_id"])
        original = merged["n-samples"][name]["original"]
        expected = list(range(original if config["limit"] is None else min(config["limit"], original)))
        if [s["doc_id"] for s in samples] != expected:
            raise ShardError(f"{task}: the shards' samples of {name} are not documents 0..{len(expected) - 1} "
                             f"each once ({len(samples)} samples)")
        metrics, count = aggregate_samples(loaded[name], samples)
        entry = merged["results"][name]
        merged["results"][name] = {**{k: v for k, v in entry.items() if "," not in k}, **metrics,
                                   "sample_len": count}
        merged["n-samples"][name]["effective"] = count
        samples_out[file_name] = samples
    if isinstance(merged.get("config"), dict):
        merged["config"]["limit"] = config["limit"]
        merged["config"].pop("samples", None)
    record = merged["ppt_bench"]
    record["identity"] = {**identities[0], "shard": None}
    record["merged_from"] = [str(path) for path in shard_dirs]
    for file_name, samples in samples_out.items():
        write_jsonl_atomic(out / task / file_name, samples)
    write_json_atomic(out / task / "results.json", merged)  # last: marks the task finished


def merge_eval_shards(shards: Sequence[str | Path], out: str | Path) -> list[str]:
    """Join the run directories of eval shards 0..n-1 into run directory `out`; returns its tasks."""
    checked = check_shards(shards)
    kind = checked[0][1].kind
    if kind != KIND:
        raise ShardError(f"{checked[0][0]} is a {kind} shard, not an eval shard")
    config = checked[0][1].config
    out = Path(out)
    run_dir.check_owner(out, config["model"])
    shard_dirs = [path for path, _ in checked]
    for task in config["tasks"]:
        _merge_task(task, shard_dirs, out, config)
    run = run_dir.read_run_json(shard_dirs[0]) or {}
    earlier = run_dir.read_run_json(out) or {}
    run["tasks"] = list(dict.fromkeys([*(earlier.get("tasks") or []), *config["tasks"]]))
    if isinstance(run.get("config"), dict):
        run["config"]["shard"] = None
        run["config"]["out_dir"] = str(out)
    run["merged_from"] = [str(path) for path in shard_dirs]
    write_json_atomic(out / "run.json", run)
    return list(config["tasks"])
