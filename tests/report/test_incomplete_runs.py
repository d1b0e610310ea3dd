"""`report`, `leaderboard` and `figures` warn about run directories with missing or damaged tasks."""

from __future__ import annotations

import json
import logging

from ppt_bench.cli import main
from ppt_bench.report.results import read_run


def _warnings(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]


def test_complete_run_reads_quietly(make_run, tmp_path, caplog):
    run_dir = make_run(tmp_path, "model-a", 0.5, tasks=("bt_flight", "human_probcopa"))
    with caplog.at_level(logging.WARNING):
        assert set(read_run(run_dir).tasks) == {"bt_flight", "human_probcopa"}
    assert _warnings(caplog) == []


def test_damaged_and_missing_tasks_are_named(make_run, tmp_path, caplog):
    run_dir = make_run(tmp_path, "model-a", 0.5, tasks=("bt_flight", "human_probcopa"))
    record = json.loads((run_dir / "run.json").read_text())
    (run_dir / "run.json").write_text(json.dumps({**record, "tasks": ["bt_flight", "human_probcopa",
                                                                      "ppt_motifs_heldout"]}))
    results = run_dir / "human_probcopa" / "results.json"
    results.write_text(results.read_text()[:100])  # truncated
    with caplog.at_level(logging.WARNING):
        run = read_run(run_dir)
    assert set(run.tasks) == {"bt_flight"}  # the damaged task is left out, not read half
    [warning] = _warnings(caplog)
    assert f"{run_dir} is incomplete (2 task(s)" in warning
    assert "human_probcopa: " in warning and "is damaged" in warning
    assert "ppt_motifs_heldout: not evaluated" in warning


def test_report_command_warns(make_run, tmp_path, caplog):
    run_dir = make_run(tmp_path, "model-a", 0.5, tasks=("bt_flight",))
    samples = run_dir / "bt_flight" / "samples.jsonl"
    lines = samples.read_text().splitlines()
    samples.write_text("\n".join(lines[:-1]) + "\n")  # one sample lost
    with caplog.at_level(logging.WARNING):
        assert main(["report", str(run_dir), "--out", str(tmp_path / "report")]) == 0
    assert any(f"has {len(lines) - 1} of {len(lines)} samples" in w for w in _warnings(caplog))
