"""Run lm-eval on ppt-bench tasks and store one results file per task (resumable).

Layout of a run directory (one model):

    RUN_DIR/run.json                 model, resolved model args, provenance (versions, git SHA, date)
    RUN_DIR/<task>/results.json      lm-eval's results for that task, plus the same provenance
    RUN_DIR/<task>/samples.jsonl     lm-eval's logged samples (one document per line)

A task whose `results.json` exists is not evaluated again, so an interrupted run resumes where it
stopped. Every file is written to a temporary name and renamed into place.
"""

from __future__ import annotations

import json
import logging
import subprocess
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
SUITES: dict[str, tuple[str, ...]] = {
    # The quick suite grows as task families land; every task listed here exists under tasks/.
    "quick": ("ppt_smoke",),
    "full": ("ppt_smoke",),
}
_PACKAGES = ("ppt-bench", "lm_eval", "torch", "transformers", "numpyro", "jax", "netcal", "numpy")


@dataclass(frozen=True)
class EvalConfig:
    """What to evaluate: a model name (see `resolve_model`), tasks, and lm-eval settings."""

    model: str
    tasks: tuple[str, ...]
    out_dir: Path
    limit: int | None = None
    batch_size: int = 8
    device: str = "cpu"
    include_path: Path = TASKS_DIR
    apply_chat_template: bool | None = None  # None: use it when the model is instruction-tuned
    extra_model_args: dict[str, Any] = field(default_factory=dict)


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

    resolved = resolve_model(config.model)
    args = {"pretrained": resolved.pretrained, "dtype": resolved.dtype, **config.extra_model_args}
    if resolved.gguf_file:
        args["gguf_file"] = resolved.gguf_file
    chat = config.apply_chat_template
    return "hf", args, bool(resolved.chat_template) if chat is None else chat


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
        if path.is_file():
            progress(f"{task}: finished earlier, reusing {path}")
            results[task] = json.loads(path.read_text())
        else:
            pending.append(task)
    if not pending:
        return results

    import lm_eval
    from lm_eval.tasks import TaskManager

    task_manager = TaskManager(include_path=str(config.include_path))
    unknown = [task for task in pending if task not in task_manager.all_tasks]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; see `lm_eval --include_path "
                          f"{config.include_path} ls tasks` or README.md for the task list")
    import lm_eval.models  # noqa: F401  (registers the built-in backends)
    from lm_eval.api.registry import get_model

    progress(f"loading {config.model} ({backend}) ...")
    lm = get_model(backend).create_from_arg_obj(
        model_args, {"batch_size": config.batch_size, "device": config.device})
    for task in pending:
        progress(f"{task}: evaluating {config.model} ...")
        output = lm_eval.simple_evaluate(
            model=lm, tasks=[task], limit=config.limit, log_samples=True, apply_chat_template=chat,
            task_manager=task_manager)
        samples = output.pop("samples", {})
        output["ppt_bench"] = {"model": config.model, "model_args": model_args, **provenance()}
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
