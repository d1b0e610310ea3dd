"""Resume only on the same run identity; damaged results redone; another model's run dir refused."""

from __future__ import annotations

import json

import pytest

from ppt_bench.cli import main
from ppt_bench.errors import ConfigError
from ppt_bench.harness.evaluate import EvalConfig, evaluate
from ppt_bench.harness.run_dir import (
    documents_fingerprint,
    identity_difference,
    read_task_state,
    unfinished_tasks,
)


def _uniform(out_dir, **overrides) -> EvalConfig:
    return EvalConfig(**{"model": "ppt-uniform", "tasks": ("ppt_smoke",), "out_dir": out_dir, "limit": 2,
                         **overrides})


@pytest.fixture
def finished(tmp_path):
    """A run directory with ppt_smoke evaluated by ppt-uniform (limit 2), and the messages it printed."""
    out = tmp_path / "run"
    evaluate(_uniform(out), progress=lambda message: None)
    return out


def test_results_and_run_json_record_the_identity(finished):
    identity = json.loads((finished / "ppt_smoke" / "results.json").read_text())["ppt_bench"]["identity"]
    assert identity["model"] == "ppt-uniform" and identity["task"] == "ppt_smoke"
    assert identity["size"] == "full" and identity["limit"] == 2 and identity["version"] == 1.0
    assert len(identity["documents"]) == 64 and identity["apply_chat_template"] is False
    run = json.loads((finished / "run.json").read_text())
    assert run["model"] == "ppt-uniform" and run["tasks"] == ["ppt_smoke"] and run["config"]["dtype"] == "auto"


def test_reuse_needs_the_same_identity(finished):
    messages = []
    evaluate(_uniform(finished), progress=messages.append)
    assert messages == [f"ppt_smoke: finished earlier, reusing {finished / 'ppt_smoke' / 'results.json'}"]
    messages.clear()
    evaluate(_uniform(finished, limit=3), progress=messages.append)
    assert messages[0] == "ppt_smoke: earlier results differ (limit: 2 -> 3), evaluating again"
    assert json.loads((finished / "ppt_smoke" / "results.json").read_text())["ppt_bench"]["limit"] == 3


def test_another_model_is_refused_and_run_json_kept(finished):
    before = (finished / "run.json").read_text()
    with pytest.raises(ConfigError, match="holds results of model 'ppt-uniform', not 'ppt-bayes'"):
        evaluate(_uniform(finished, model="ppt-bayes"), progress=lambda message: None)
    assert (finished / "run.json").read_text() == before
    # without run.json the results files still name the owner
    (finished / "run.json").unlink()
    with pytest.raises(ConfigError, match="not 'ppt-bayes'"):
        evaluate(_uniform(finished, model="ppt-bayes"), progress=lambda message: None)


def test_failed_eval_leaves_run_json_alone(finished):
    before = (finished / "run.json").read_text()
    with pytest.raises(ConfigError, match="unknown task"):
        evaluate(_uniform(finished, tasks=("ppt_smoke", "no_such_task")), progress=lambda message: None)
    assert (finished / "run.json").read_text() == before


@pytest.mark.parametrize("damage, problem", [
    ("results", "is damaged"), ("samples", "has 1 of 2 samples")])
def test_damaged_results_are_redone(finished, damage, problem):
    results = finished / "ppt_smoke" / "results.json"
    samples = finished / "ppt_smoke" / "samples.jsonl"
    if damage == "results":
        results.write_text(results.read_text()[:200])
    else:
        samples.write_text(samples.read_text().splitlines()[0] + "\n")
    assert problem in unfinished_tasks(finished)["ppt_smoke"]
    messages = []
    evaluate(_uniform(finished), progress=messages.append)
    assert problem in messages[0] and messages[0].endswith(", evaluating again")
    assert read_task_state(finished, "ppt_smoke").problem is None and unfinished_tasks(finished) == {}


def test_identity_difference_names_what_changed():
    base = {"model": "m", "backend": "ppt-hf", "model_args": {"pretrained": "p", "dtype": "float32"},
            "apply_chat_template": True, "task": "t", "version": 1, "documents": "d", "size": "quick",
            "limit": None}
    assert identity_difference(base, dict(base)) is None
    assert identity_difference(None, base).startswith("they record no run identity")
    changed = {**base, "model_args": {"pretrained": "p", "dtype": "bfloat16"}}
    assert identity_difference(base, changed) == "model_args.dtype: 'float32' -> 'bfloat16'"
    assert identity_difference(base, {**base, "documents": "e"}) == "the task's documents changed"
    assert identity_difference(base, {**base, "apply_chat_template": False}) == \
        "apply_chat_template: True -> False"
    assert documents_fingerprint([{"a": 1, "b": 2}]) == documents_fingerprint([{"b": 2, "a": 1}])
    assert documents_fingerprint([{"a": 1}]) != documents_fingerprint([{"a": 2}])


@pytest.mark.parametrize("limit", ["0", "-1"])
def test_limit_must_be_positive(limit, tmp_path, capsys):
    assert main(["eval", "--model", "ppt-uniform", "--tasks", "ppt_smoke", "--limit", limit,
                 "--out", str(tmp_path / "x")]) == 2
    assert capsys.readouterr().err.strip() == \
        f"ppt-bench: error: --limit must be a positive integer, got {limit}"
    assert not (tmp_path / "x").exists()


def test_tiny_model_records_dtype_and_chat_template(tiny_model_dir, tmp_path):
    """The resolved dtype is the backend's `dtype` model arg; the tokenizer's template is used."""
    config = EvalConfig(model=str(tiny_model_dir), tasks=("ppt_smoke",), out_dir=tmp_path / "run", limit=2,
                        dtype="float32", batch_size=2)
    results = evaluate(config, progress=lambda message: None)
    identity = results["ppt_smoke"]["ppt_bench"]["identity"]
    assert identity["model_args"]["dtype"] == "float32" and identity["apply_chat_template"] is True
    messages = []
    evaluate(EvalConfig(**{**config.__dict__, "dtype": "bfloat16"}), progress=messages.append)
    assert messages[0] == "ppt_smoke: earlier results differ (model_args.dtype: 'float32' -> 'bfloat16'), " \
                          "evaluating again"
