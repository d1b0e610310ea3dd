"""Sharded evaluation: two shards merged give the results of one unsharded evaluation."""

import json
import math

import pytest

from ppt_bench.errors import ConfigError
from ppt_bench.harness.eval_shards import merge_eval_shards, shard_documents
from ppt_bench.harness.evaluate import EvalConfig, evaluate
from ppt_bench.report.results import read_run, read_samples
from ppt_bench.shards import Shard, ShardError

TASKS = ("ppt_smoke", "bt_flight")
SIZES = {"bt_flight": "quick"}
LIMIT = 9  # of 12 ppt_smoke documents: shards of 5 and 4 documents


def _config(model_dir, out, shard=None, tasks=TASKS):
    return EvalConfig(model=str(model_dir), tasks=tasks, sizes=SIZES, out_dir=out, limit=LIMIT, batch_size=4,
                      dtype="float32", shard=shard)


def _quiet(message):
    pass


def test_shard_documents_partition_the_limited_documents():
    parts = [shard_documents(12, 9, Shard(i, 2)) for i in range(2)]
    assert parts == [[0, 2, 4, 6, 8], [1, 3, 5, 7]]
    assert shard_documents(3, None, Shard(2, 3)) == [2]


def test_merged_eval_shards_equal_an_unsharded_run(tiny_model_dir, tmp_path):
    whole = evaluate(_config(tiny_model_dir, tmp_path / "whole"), progress=_quiet)
    shards = [tmp_path / f"shard{i}" for i in range(2)]
    for i, out in enumerate(shards):
        part = evaluate(_config(tiny_model_dir, out, Shard(i, 2)), progress=_quiet)
        assert part["ppt_smoke"]["n-samples"]["ppt_smoke"]["effective"] == len(range(i, LIMIT, 2))
    assert merge_eval_shards(shards[::-1], tmp_path / "merged") == list(TASKS)

    merged_run, whole_run = read_run(tmp_path / "merged"), read_run(tmp_path / "whole")
    assert {"ece", "nll", "kl", "nll_cv"} <= set(whole_run.tasks["bt_flight"].metrics)  # pooled aggregations
    for task in TASKS:
        merged, expected = merged_run.tasks[task], whole_run.tasks[task]
        assert merged.n_samples == expected.n_samples == LIMIT
        assert set(merged.metrics) == set(expected.metrics)
        for name, value in expected.metrics.items():
            assert math.isclose(merged.metrics[name].value, value.value, rel_tol=1e-6, abs_tol=1e-9), name
            if value.stderr is not None:
                assert math.isclose(merged.metrics[name].stderr, value.stderr, rel_tol=1e-6, abs_tol=1e-9)
        assert [s.doc_id for s in read_samples(merged)] == list(range(LIMIT))
        assert [ll for s in read_samples(merged) for ll in s.loglikelihoods] == pytest.approx(
            [ll for s in read_samples(expected) for ll in s.loglikelihoods], abs=1e-5)
    record = json.loads((tmp_path / "merged/bt_flight/results.json").read_text())["ppt_bench"]
    assert record["identity"] == {**whole["bt_flight"]["ppt_bench"]["identity"], "shard": None}

    # the merged directory is finished for `evaluate`: nothing is scored again
    messages = []
    evaluate(_config(tiny_model_dir, tmp_path / "merged"), progress=messages.append)
    assert all("finished earlier" in message for message in messages) and len(messages) == len(TASKS)

    with pytest.raises(ShardError, match="missing shard"):
        merge_eval_shards(shards[:1], tmp_path / "bad")
    other = tmp_path / "other"
    evaluate(_config(tiny_model_dir, other, Shard(1, 2), tasks=("ppt_smoke",)), progress=_quiet)
    with pytest.raises(ShardError, match="different runs"):
        merge_eval_shards([shards[0], other], tmp_path / "bad")


def test_shard_with_no_documents_and_interactive_shards_are_refused(tiny_model_dir, tmp_path):
    config = EvalConfig(model=str(tiny_model_dir), tasks=("ppt_smoke",), out_dir=tmp_path, limit=2,
                        shard=Shard(2, 3))
    with pytest.raises(ConfigError, match="holds no document of ppt_smoke"):
        evaluate(config, progress=_quiet)
    with pytest.raises(ConfigError, match="assistant-context protocol only"):
        EvalConfig(model="smollm2", tasks=("bt_flight",), out_dir=tmp_path, protocol="interactive",
                   shard=Shard(0, 2))
