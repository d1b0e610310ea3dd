"""`ppt-bench run` (the main job) never changes a git-tracked file: its leaderboard and figures go
under runs/, built from the committed records plus the local runs (rows only added or updated)."""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest

from ppt_bench.cli import main
from ppt_bench.report import records as record_store


def _git(cwd, *args) -> str:
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True).stdout


def _models(csv_path) -> set[str]:
    lines = [line for line in csv_path.read_text().splitlines() if not line.startswith("#")]
    return {row["model"] for row in csv.DictReader(lines)}


@pytest.mark.skipif(shutil.which("git") is None, reason="needs git")
def test_main_job_keeps_tracked_files_and_every_committed_row(synthetic_runs, tmp_path, monkeypatch, capsys):
    repo = record_store.RECORDS_DIR.parents[1]
    checkout = tmp_path / "checkout"  # a fresh copy of the committed leaderboard and figures
    for folder in ("leaderboards", "figures"):
        shutil.copytree(repo / folder, checkout / folder)
    shutil.copy(repo / ".gitignore", checkout / ".gitignore")
    _git(checkout, "init", "-q")
    _git(checkout, "add", "-A")
    _git(checkout, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "committed")
    for model in ("model-good", "ppt-bayes", "ppt-uniform"):
        shutil.copytree(synthetic_runs[model], checkout / "runs" / model)
    monkeypatch.chdir(checkout)
    monkeypatch.setattr(record_store, "RECORDS_DIR", checkout / "leaderboards" / "records")
    # The evaluation itself is the harness's (tested there): here the runs are already finished.
    import ppt_bench.harness.evaluate as harness
    import ppt_bench.report.figures as figures

    monkeypatch.setattr(harness, "evaluate", lambda config, **kwargs: None)
    monkeypatch.setattr(harness, "suite_tasks", lambda suite, include_path=None: {
        "bt_flight": "quick", "ppt_motifs_heldout": "quick", "human_probcopa": "full"})
    drawn = []
    monkeypatch.setattr(figures, "draw_figures", lambda runs, out_dir, *a, **k: drawn.append(out_dir) or [])

    assert main(["run", "--model", "model-good", "--out", "runs/model-good"]) == 0
    printed = capsys.readouterr().out
    assert _git(checkout, "status", "--porcelain") == ""  # no tracked file changed, none added
    assert drawn == [Path("runs/figures")]
    board = checkout / "runs" / "leaderboard" / "leaderboard.csv"
    committed = _models(checkout / "leaderboards" / "leaderboard.csv")
    assert {"gemma3-270m", "smollm2-ppt-soft-320", "smollm2"} <= committed
    assert committed | {"model-good"} <= _models(board)  # every committed row is still there, one added
    rows = list(csv.DictReader([line for line in board.read_text().splitlines() if not line.startswith("#")]))
    gemma = {r["ranked"] for r in rows if r["model"] == "gemma3-270m" and r["task"] == "bt_flight"}
    assert gemma == {"false"}  # 48 committed items vs the 24 of the new runs: listed apart
    assert {r["ranked"] for r in rows if r["model"] == "model-good" and r["task"] == "bt_flight"} == {"true"}
    assert "nll raw -> scaled" in printed and "leaderboards/ is unchanged" in printed
