"""Leaderboard: records -> table (columns know their direction) -> markdown / CSV / HTML, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil

import pytest

from ppt_bench.cli import main
from ppt_bench.errors import PPTBenchError
from ppt_bench.report.leaderboard import HEADER, build_leaderboard, render_csv, render_html, render_markdown
from ppt_bench.report.results import ResultsFormatError, read_run, read_runs


def test_columns_know_direction_and_intervals(synthetic_runs):
    board = build_leaderboard(read_runs(list(synthetic_runs.values())))
    by_name = {c.name: c for c in board.columns}
    assert by_name["bt_flight/acc"].higher_is_better and not by_name["bt_flight/kl"].higher_is_better
    assert by_name["human_probcopa/spearman"].higher_is_better and not by_name["human_probcopa/w1"].higher_is_better
    assert [c.metric for c in board.columns if c.task == "ppt_motifs_heldout"] == ["kl", "acc", "nll", "ece"]
    assert [row.model for row in board.rows] == ["ppt-bayes", "ppt-uniform", "model-good", "model-weak"]
    kl = list(by_name).index("bt_flight/kl")
    bayes = board.rows[0].cells[kl]
    assert bayes.value == pytest.approx(0.0, abs=1e-9) and board.best(kl) == bayes.value
    acc = list(by_name).index("bt_flight/acc")
    cell = board.rows[2].cells[acc]
    assert cell.low < cell.value < cell.high  # 95% interval from lm-eval's stderr
    ece = list(by_name).index("ppt_motifs_heldout/ece")
    assert board.rows[2].cells[ece].low is None  # pooled metric: no stderr, no interval


def test_missing_references_named_with_the_command(synthetic_runs):
    runs = read_runs([synthetic_runs["model-good"]])
    with pytest.raises(PPTBenchError, match="ppt-bench eval --model ppt-bayes --tasks .* --out runs/ppt-bayes"):
        build_leaderboard(runs)
    board = build_leaderboard(runs, allow_missing_references=True)
    assert [row.model for row in board.rows] == ["ppt-bayes", "ppt-uniform", "model-good"]
    assert all(cell.value is None for cell in board.rows[0].cells)
    assert any("ppt-uniform: not evaluated" in note for note in board.notes)


def test_renderers(synthetic_runs):
    runs = read_runs(list(synthetic_runs.values()))
    board = build_leaderboard(runs)
    markdown = render_markdown(board, "ppt-bench leaderboard A B --out X", runs)
    assert markdown.startswith(f"<!-- {HEADER} -->") and "ppt-bench leaderboard A B --out X" in markdown
    assert "| model | acc ↑ | agree ↑ | kl ↓ |" in markdown and "| ppt-bayes (reference) |" in markdown
    text = render_csv(board)
    assert text.startswith(f"# {HEADER}\n")
    rows = list(csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True)
                                                   if not line.startswith("#")))))
    assert [r["model"] for r in rows] == [row.model for row in board.rows]
    good = rows[2]
    assert float(good["bt_flight/acc_low"]) < float(good["bt_flight/acc"]) < float(good["bt_flight/acc_high"])
    page = render_html(board, "cmd")
    assert "<script src" not in page and "http" not in page.split("<body>")[1]  # no external resources


def test_cli_writes_three_files(synthetic_runs, tmp_path, capsys):
    out = tmp_path / "leaderboards"
    dirs = [str(path) for path in synthetic_runs.values()]
    assert main(["leaderboard", *dirs, "--out", str(out)]) == 0
    assert {p.name for p in out.iterdir()} == {"README.md", "leaderboard.csv", "index.html"}
    readme = (out / "README.md").read_text()
    assert f"ppt-bench leaderboard {' '.join(dirs)} --out {out}" in readme
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["leaderboard", *dirs, "--out", str(out)]) == 0  # regenerating gives the same bytes
    assert first == {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["leaderboard", dirs[2], "--out", str(out)]) == 2
    assert "ppt-bench eval --model ppt-bayes" in capsys.readouterr().err


def test_other_lm_eval_version_accepted_or_refused(synthetic_runs, tmp_path):
    run_dir = tmp_path / "other"
    shutil.copytree(synthetic_runs["model-good"], run_dir)
    path = run_dir / "bt_flight" / "results.json"
    output = json.loads(path.read_text())
    output["lm_eval_version"] = "0.4.99"
    for key in ("configs", "pretty_env_info", "n-samples", "versions"):  # fields the leaderboard does not need
        output.pop(key, None)
    path.write_text(json.dumps(output))
    assert read_run(run_dir).tasks["bt_flight"].lm_eval_version == "0.4.99"
    output["results"]["bt_flight"] = {key.split(",")[0]: value for key, value in
                                      output["results"]["bt_flight"].items()}  # 0.3-style metric keys
    path.write_text(json.dumps(output))
    with pytest.raises(ResultsFormatError, match=r"lm-eval 0\.4\.99.*'<metric>,none'"):
        read_run(run_dir)
    del output["higher_is_better"]
    path.write_text(json.dumps(output))
    with pytest.raises(ResultsFormatError, match="lacks higher_is_better"):
        read_run(run_dir)


def test_run_commands_remake_the_run(make_run, tmp_path):
    from ppt_bench.report.leaderboard import run_commands

    model_dir = tmp_path / "trained"
    model_dir.mkdir()
    (model_dir / "train_config.json").write_text(json.dumps({"command": "ppt-bench train --recipe r.yaml"}))
    run_dir = make_run(tmp_path / "runs", str(model_dir), 0.5, tasks=("bt_flight", "ppt_motifs_heldout"))
    twin = run_dir / "bt_flight_calib"
    twin.mkdir()
    (twin / "results.json").write_text((run_dir / "bt_flight" / "results.json").read_text())
    result = json.loads((run_dir / "ppt_motifs_heldout" / "results.json").read_text())
    result["ppt_bench"].update(size="full", limit=7)
    (run_dir / "ppt_motifs_heldout" / "results.json").write_text(json.dumps(result))
    run = read_run(run_dir)
    assert set(run.tasks) == {"bt_flight", "ppt_motifs_heldout"}  # the twin is not ranked
    assert run_commands(run) == [
        "ppt-bench train --recipe r.yaml",
        f"ppt-bench eval --model {model_dir} --tasks bt_flight,bt_flight_calib --size quick --out {run_dir}",
        f"ppt-bench eval --model {model_dir} --tasks ppt_motifs_heldout --limit 7 --out {run_dir}"]


def test_intervals_are_clipped_to_the_metric_range():
    from ppt_bench.report.leaderboard import Cell, _cell_text
    from ppt_bench.report.results import MetricValue, metric_range

    assert MetricValue(0.95, 0.1, True).interval(bounds=metric_range("acc")) == pytest.approx((0.754, 1.0))
    assert MetricValue(0.02, 0.05, False).interval(bounds=metric_range("kl"))[0] == 0.0
    assert MetricValue(-0.9, 0.2, True).interval(bounds=metric_range("spearman"))[0] == -1.0
    assert MetricValue(0.5, 0.1, True).interval(bounds=metric_range("acc_r3")) == pytest.approx((0.304, 0.696))
    assert _cell_text(Cell(0.5, 0.304, 0.696)) == "0.500 ± 0.196"
    assert _cell_text(Cell(0.95, 0.754, 1.0)) == "0.950 [0.754, 1.000]"


def test_train_command_is_rebuilt_from_a_recorded_configuration():
    from dataclasses import asdict

    import yaml

    from ppt_bench.commands.train import REPO, load_trainer_module
    from ppt_bench.report.leaderboard import train_command

    training = load_trainer_module()
    recipe = REPO / "training" / "recipes" / "ppt_soft_label_cpu.yaml"
    config = asdict(training.TrainConfig(**{**yaml.safe_load(recipe.read_text()), "max_examples": 5,
                                            "out_dir": "runs/train/x y"}))
    config["lora_target_modules"] = list(config["lora_target_modules"])  # as JSON stores it
    assert train_command(config) == ("ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml "
                                     "out_dir='runs/train/x y' max_examples=5")
