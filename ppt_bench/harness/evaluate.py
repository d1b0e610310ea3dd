"""Run lm-eval on ppt-bench tasks and store one results file per task (resumable).

Layout of a run directory (one model):

    RUN_DIR/run.json                 model, resolved model args, provenance (versions, git SHA, date)
    RUN_DIR/<task>/results.json      lm-eval's results for that task, plus the same provenance
    RUN_DIR/<task>/samples.jsonl     lm-eval's logged samples (one document per line)

A task whose `results.json` exists is not evaluated again, so an interrupted run resumes where it
stopped. Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import functools
import json
import logging
import subprocess
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from ppt_bench.errors import ConfigError
from ppt_bench.io import write_json_atomic, write_jsonl_atomic

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
TASKS_DIR = REPO_ROOT / "tasks"
SUITES = {"quick": "ppt_suite_quick", "full": "ppt_suite"}  # groups in tasks/suites/
REFERENCE_MODELS = ("ppt-bayes", "ppt-uniform")  # see reference_models.py
_PACKAGES = ("ppt-bench", "lm_eval", "torch", "transformers", "numpyro", "jax", "netcal", "numpy")


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate: a model name (see `resolve_model`), tasks, and lm-eval settings.

    `sizes` maps a task to its size ("quick" or "full", passed to the task's dataset builder as
    lm-eval metadata); tasks not in it use their default (full).
    """

    model: str
    tasks: tuple[str, ...]
    out_dir: Path
    sizes: Mapping[str, str] = field(default_factory=dict)
    limit: int | None = None
    batch_size: int = 8
    device: str = "cpu"
    include_path: Path = TASKS_DIR
    apply_chat_template: bool | None = None  # None: use it when the model is instruction-tuned
    extra_model_args: dict[str, Any] = field(default_factory=dict)


def suite_tasks(suite: str, include_path: Path = TASKS_DIR) -> dict[str, str]:
    """{task: size} of a suite ("quick", "full", or a group name) from its YAML in tasks/suites/."""
    import yaml

    group = SUITES.get(suite, suite)
    path = include_path / "suites" / f"{group}.yaml"
    if not path.is_file():
        raise ConfigError(f"unknown suite {suite!r}: no {path}")
    spec = yaml.safe_load(path.read_text())
    return {entry["task"]: entry.get("metadata", {}).get("size", "full") for entry in spec["task"]}


def package_versions() -> dict[str, str]:
    versions = {}
    for name in _PACKAGES:
        try:
            versions[name] = version(name)
        except PackageNotFoundError:
            continue
    return versions


def git_sha(repo: Path = REPO_ROOT) -> str | None:
    try:
        result = subprocess.run(["git", "-C", str(repo), "rev-parse", "HEAD"], capture_output=True,
                                text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return result.stdout.strip() or None if result.returncode == 0 else None


def provenance() -> dict[str, Any]:
    """Versions, git SHA and date recorded in every results file."""
    return {"package_versions": package_versions(), "git_sha": git_sha(),
            "date": datetime.now(UTC).isoformat(timespec="seconds")}


def _lm_eval_model(config: EvalConfig) -> tuple[str, dict[str, Any], bool]:
    """(lm-eval backend name, model args, apply chat template) for the configured model."""
    from ppt_bench.models import resolve_model

    if config.model in REFERENCE_MODELS:
        import ppt_bench.harness.reference_models  # noqa: F401  (registers the backends)

        return config.model, {}, False

    resolved = resolve_model(config.model)
    args = {"pretrained": resolved.pretrained, "dtype": resolved.dtype, **config.extra_model_args}
    if resolved.gguf_file:
        args["gguf_file"] = resolved.gguf_file
    chat = config.apply_chat_template
    from ppt_bench.harness.hf_backend import BACKEND  # registers it: lm-eval's "hf", scored positions only

    return BACKEND, args, bool(resolved.chat_template) if chat is None else chat


@functools.cache
def task_manager(include_path: Path, size: str | None):
    """lm-eval's task index over its own tasks and `include_path`, with `size` as task metadata.

    Cached: building the index reads every YAML lm-eval ships (seconds), and it is read-only.
    """
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(include_path), metadata={"size": size} if size else None)


def evaluate(config: EvalConfig, progress=print) -> dict[str, dict[str, Any]]:
    """Evaluate every task of `config` not already finished in `config.out_dir`.

    Returns `{task: results}` for all requested tasks (loaded from disk for finished ones).
    """
    if not config.include_path.is_dir():
        raise ConfigError(f"task folder {config.include_path} not found; pass --include-path")
    backend, model_args, chat = _lm_eval_model(config)
    out_dir = config.out_dir
    run_record = {"model": config.model, "backend": backend, "model_args": model_args,
                  "apply_chat_template": chat, "config": asdict(config), **provenance()}
    write_json_atomic(out_dir / "run.json", run_record)
    results: dict[str, dict[str, Any]] = {}
    pending = []
    for task in config.tasks:
        path = out_dir / task / "results.json"
        size = config.sizes.get(task)
        if path.is_file():
            finished = json.loads(path.read_text())
            recorded = finished.get("ppt_bench", {})
            # no size given means the builders' default, full
            if (recorded.get("size") or "full", recorded.get("limit")) == (size or "full", config.limit):
                progress(f"{task}: finished earlier, reusing {path}")
                results[task] = finished
                continue
            progress(f"{task}: earlier results used another size or limit, evaluating again")
        pending.append(task)
    if not pending:
        return results

    import lm_eval
    import lm_eval.models  # noqa: F401  (registers the built-in backends)
    from lm_eval.api.registry import get_model

    unknown = [task for task in pending if task not in task_manager(config.include_path, None).all_tasks]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; see README.md for the task list")
    progress(f"loading {config.model} ({backend}) ...")
    lm = get_model(backend).create_from_arg_obj(
        model_args, {"batch_size": config.batch_size, "device": config.device})
    for task in pending:
        size = config.sizes.get(task)
        progress(f"{task}: evaluating {config.model}" + (f" ({size})" if size else "") + " ...")
        output = lm_eval.simple_evaluate(
            model=lm, tasks=[task], limit=config.limit, log_samples=True, apply_chat_template=chat,
            task_manager=task_manager(config.include_path, size))
        samples = output.pop("samples", {})
        output["ppt_bench"] = {"model": config.model, "model_args": model_args, "size": size,
                               "limit": config.limit, **provenance()}
        for name, records in samples.items():
            file_name = "samples.jsonl" if name == task else f"samples_{name}.jsonl"
            write_jsonl_atomic(out_dir / task / file_name, records)
        write_json_atomic(out_dir / task / "results.json", output)  # last: marks the task finished
        results[task] = json.loads((out_dir / task / "results.json").read_text())
    return results


def results_table(results: dict[str, dict[str, Any]]) -> str:
    """lm-eval's markdown table for several per-task results."""
    from lm_eval.utils import make_table

    return "\n".join(make_table(output) for output in results.values())
