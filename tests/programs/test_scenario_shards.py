"""Sharded scenario generation: the merge of the shards is the unsharded file, byte for byte."""

import json

import pytest

from ppt_bench.cli import main
from ppt_bench.programs import write_scenarios
from ppt_bench.programs.scenario_shards import merge_scenario_shards, write_scenario_shard
from ppt_bench.shards import Shard, ShardError, manifest_path

# n, seed and cap chosen so that the cap fires across shards: the unsharded run redraws
# degenerate items over the cap (checked below), which no single shard can decide alone.
N, SEED, FRACTION = 30, 0, 0.02


def _shards(tmp_path, count, n=N, seed=SEED, fraction=FRACTION):
    paths = [tmp_path / f"part{i}.jsonl" for i in range(count)]
    for i, path in enumerate(paths):
        write_scenario_shard(path, n, seed, "train", Shard(i, count), degenerate_fraction=fraction,
                             progress=False)
    return paths


def test_merged_shards_equal_the_unsharded_run(tmp_path):
    whole = tmp_path / "whole.jsonl"
    unsharded = write_scenarios(whole, N, SEED, "train", progress=False, degenerate_fraction=FRACTION)
    assert unsharded.redrawn_degenerate > 0  # the global cap matters for this run
    merged = tmp_path / "merged.jsonl"
    report = merge_scenario_shards(_shards(tmp_path, 3), merged)
    assert merged.read_bytes() == whole.read_bytes()
    assert (report.total, report.degenerate, report.redrawn_degenerate) == \
        (unsharded.total, unsharded.degenerate, unsharded.redrawn_degenerate)


def test_merge_refuses_missing_repeated_and_foreign_shards(tmp_path):
    paths = _shards(tmp_path, 2, n=8)
    with pytest.raises(ShardError, match="missing shard"):
        merge_scenario_shards(paths[:1], tmp_path / "m.jsonl")
    with pytest.raises(ShardError, match="given twice"):
        merge_scenario_shards([paths[0], paths[0]], tmp_path / "m.jsonl")
    other = tmp_path / "other.jsonl"
    write_scenario_shard(other, 8, 1, "train", Shard(1, 2), degenerate_fraction=FRACTION, progress=False)
    with pytest.raises(ShardError, match=r"different runs \(seed: 0 vs 1\)"):
        merge_scenario_shards([paths[0], other], tmp_path / "m.jsonl")
    manifest_path(paths[1]).unlink()  # an unfinished shard has no manifest
    with pytest.raises(ShardError, match="not a finished shard"):
        merge_scenario_shards(paths, tmp_path / "m.jsonl")
    assert not (tmp_path / "m.jsonl").exists()


def test_an_interrupted_shard_resumes_to_the_same_file(tmp_path):
    path = _shards(tmp_path, 2, n=10)[0]
    whole = path.read_bytes()
    lines = whole.splitlines(keepends=True)
    path.write_bytes(b"".join(lines[:2]) + lines[2][:40])
    write_scenario_shard(path, 10, SEED, "train", Shard(0, 2), degenerate_fraction=FRACTION, progress=False)
    assert path.read_bytes() == whole
    record = json.loads(manifest_path(path).read_text())
    assert record["shard"] == [0, 2] and record["items"] == 5 and record["config"]["n"] == 10


def test_cli_shards_then_merge_to_parquet(tmp_path, capsys):
    base = ["generate", "scenarios", "--n", "12", "--seed", "4", "--split", "all", "--no-progress"]
    for i in range(2):
        assert main([*base, "--shard", f"{i}/2", "--out", str(tmp_path / f"s{i}.jsonl")]) == 0
    assert main(["merge", "--out", str(tmp_path / "m.parquet"), str(tmp_path / "s1.jsonl"),
                 str(tmp_path / "s0.jsonl")]) == 0
    assert main([*base, "--out", str(tmp_path / "u.parquet"), "--format", "parquet"]) == 0
    from ppt_bench.programs import read_scenarios

    assert read_scenarios(tmp_path / "m.parquet") == read_scenarios(tmp_path / "u.parquet")
    with pytest.raises(SystemExit):
        main([*base, "--shard", "2/2", "--out", str(tmp_path / "bad.jsonl")])
    assert "0 <= i < n" in capsys.readouterr().err
    assert main(["merge", "--out", str(tmp_path / "x.jsonl"), str(tmp_path / "s0.jsonl")]) == 2
    assert "missing shard(s) 1/2" in capsys.readouterr().err
