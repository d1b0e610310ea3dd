"""Generation: deterministic, shardable, resumable, de-duplicated, degenerate items capped; the CLI."""

import json

import pytest

from ppt_bench.cli import main
from ppt_bench.programs import generate_scenarios, read_scenarios, write_scenarios
from ppt_bench.programs.generate import DEGENERATE_THRESHOLD, RunState


def _ids(scenarios):
    return [s.id for s in scenarios]


def test_deterministic_and_balanced():
    first = list(generate_scenarios(16, seed=3, split="all"))  # the first run pays jax's compile warm-up
    again = list(generate_scenarios(16, seed=3, split="all"))
    assert first == again
    assert len({s.motif for s in first}) == 16 and {s.split for s in first} == {"train", "heldout"}
    assert next(generate_scenarios(16, seed=4, split="all")).prompt != first[0].prompt


def test_splits_do_not_mix():
    assert {s.split for s in generate_scenarios(10, seed=0, split="heldout")} == {"heldout"}
    assert {s.split for s in generate_scenarios(11, seed=0, split="train")} == {"train"}


def test_no_duplicates_and_degenerate_cap():
    state = RunState(degenerate_fraction=0.1)
    scenarios = list(generate_scenarios(120, seed=0, split="train", state=state))
    assert len({s.prompt for s in scenarios}) == len(scenarios)
    degenerate = sum(max(s.soft_label) >= DEGENERATE_THRESHOLD for s in scenarios)
    assert degenerate <= 0.1 * len(scenarios) + 1
    assert state.redrawn_degenerate > 0  # the cap was exercised


def test_resume_after_interruption(tmp_path):
    full = tmp_path / "full.jsonl"
    write_scenarios(full, 24, seed=2, split="all", progress=False)
    partial = tmp_path / "partial.jsonl"
    lines = full.read_bytes().splitlines(keepends=True)
    partial.write_bytes(b"".join(lines[:10]) + lines[10][:37])  # killed half-way through line 11
    report = write_scenarios(partial, 24, seed=2, split="all", progress=False)
    assert report.resumed == 10 and report.written == 14
    assert partial.read_bytes() == full.read_bytes()
    again = write_scenarios(partial, 24, seed=2, split="all", progress=False)
    assert again.written == 0 and partial.read_bytes() == full.read_bytes()


def test_resume_refuses_a_different_run(tmp_path):
    from ppt_bench.errors import PPTBenchError

    out = tmp_path / "x.jsonl"
    write_scenarios(out, 5, seed=2, progress=False)
    with pytest.raises(PPTBenchError, match="different run"):
        write_scenarios(out, 5, seed=3, progress=False)


def test_cli_jsonl_and_parquet(tmp_path, capsys):
    out = tmp_path / "s.jsonl"
    assert main(["generate", "scenarios", "--n", "20", "--seed", "0", "--split", "all", "--out", str(out),
                 "--no-progress"]) == 0
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(records) == 20 and all(abs(sum(r["soft_label"]) - 1) < 1e-9 for r in records)
    pq = tmp_path / "s.parquet"
    assert main(["generate", "scenarios", "--n", "20", "--seed", "0", "--split", "all", "--out", str(pq),
                 "--format", "parquet", "--no-progress"]) == 0
    assert read_scenarios(pq) == read_scenarios(out)
    assert main(["generate", "scenarios", "--n", "5", "--out", str(tmp_path), "--no-progress"]) == 2
    assert "directory" in capsys.readouterr().err
