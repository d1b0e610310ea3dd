"""Leaderboard: records -> table (columns know their direction) -> markdown / CSV / HTML, and the CLI."""

from __future__ import annotations

import csv
import io
import json
import shutil
from dataclasses import replace

import pytest

from ppt_bench.cli import main
from ppt_bench.errors import PPTBenchError
from ppt_bench.report.leaderboard import HEADER, build_leaderboard
from ppt_bench.report.leaderboard_render import render_csv, render_html, render_markdown
from ppt_bench.report.records import merge_records, read_records, record_from_run, write_records
from ppt_bench.report.results import ResultsFormatError, read_run, read_runs


def _records(paths):
    return [record_from_run(run) for run in read_runs(list(paths))]


def _table(board, task):
    return next(table for table in board.tables if table.task == task)


def test_columns_know_direction_and_intervals(synthetic_runs):
    board = build_leaderboard(_records(synthetic_runs.values()))
    flight = _table(board, "bt_flight")
    by_name = {c.metric: c for c in flight.columns}
    assert by_name["acc"].higher_is_better and not by_name["kl"].higher_is_better
    probcopa = {c.metric: c for c in _table(board, "human_probcopa").columns}
    assert probcopa["spearman"].higher_is_better and not probcopa["w1"].higher_is_better
    assert [c.metric for c in _table(board, "ppt_motifs_heldout").columns] == [
        "kl", "acc", "nll", "ece", "nll_scaled", "ece_scaled", "T"]
    assert [row.name for row in flight.rows] == ["model-good", "model-weak"]
    assert [row.name for row in flight.references] == ["ppt-bayes", "ppt-uniform"]
    acc = list(by_name).index("acc")
    cell = flight.rows[0].cells[acc]
    assert cell.low < cell.value < cell.high  # 95% interval from lm-eval's stderr
    ece = [c.metric for c in _table(board, "ppt_motifs_heldout").columns].index("ece")
    assert _table(board, "ppt_motifs_heldout").rows[0].cells[ece].low is None  # pooled metric: no interval


def test_reference_rows_are_apart_and_never_best(synthetic_runs):
    board = build_leaderboard(_records(synthetic_runs.values()))
    flight = _table(board, "bt_flight")
    kl = [c.metric for c in flight.columns].index("kl")
    # ppt-bayes has kl 0, the best value of the column, but the best is taken over models only
    assert flight.references[0].cells[kl].value == pytest.approx(0.0, abs=1e-9)
    assert flight.best(kl) == min(row.cells[kl].value for row in flight.rows) > 0
    markdown = render_markdown(board, "cmd")
    assert "**0.000" not in markdown and "| _ppt-bayes (reference)_ |" in markdown
    page = render_html(board, "cmd")
    reference_body = page.split('<tbody class="reference">')[1].split("</tbody>")[0]
    assert "ppt-bayes" in reference_body and 'class="num best"' not in reference_body


def test_summary_scores_are_normalised_between_the_references(synthetic_runs):
    board = build_leaderboard(_records(synthetic_runs.values()))
    assert [task for task, _ in board.summary_columns] == ["bt_flight", "ppt_motifs_heldout", "human_probcopa"]
    by_name = {row.name: row for row in board.summary}
    assert by_name["ppt-bayes"].scores == pytest.approx((1.0, 1.0, 1.0))
    assert by_name["ppt-uniform"].scores == pytest.approx((0.0, 0.0, 0.0))
    # skill s answers s * q + (1 - s) / K: w1 is linear in s, so the score is s exactly
    probcopa = [task for task, _ in board.summary_columns].index("human_probcopa")
    assert by_name["model-good"].scores[probcopa] == pytest.approx(0.7)
    assert by_name["model-weak"].scores[probcopa] == pytest.approx(0.2)
    assert [row.name for row in board.summary] == ["model-good", "model-weak", "ppt-bayes", "ppt-uniform"]
    assert by_name["model-good"].mean > by_name["model-weak"].mean


def test_rows_of_another_size_are_listed_apart_with_their_size(make_run, synthetic_runs, tmp_path):
    records = _records(synthetic_runs.values())
    old = make_run(tmp_path, "model-old", 0.9, tasks=("bt_flight",))
    result = json.loads((old / "bt_flight" / "results.json").read_text())
    result["n-samples"]["bt_flight"]["effective"] = 8  # made when the suite had 8 documents
    (old / "bt_flight" / "results.json").write_text(json.dumps(result))
    samples = old / "bt_flight" / "samples.jsonl"  # one logged sample per document, as in a whole run
    samples.write_text("".join(samples.read_text().splitlines(keepends=True)[:8]))
    board = build_leaderboard([*records, *_records([old])])
    flight = _table(board, "bt_flight")
    assert "model-old" not in [row.name for row in flight.rows]
    assert [(row.name, row.size) for row in flight.apart] == [("model-old", "quick, 8 items, version 1.0")]
    assert flight.size == "quick, 24 items"
    assert "### bt_flight (quick, 24 items, version 1.0)" in render_markdown(board, "cmd")
    assert "model-old" not in [row.name for row in board.summary]  # no score against other references
    assert any("listed apart" in note for note in board.notes)


def test_missing_references_named_with_the_command(synthetic_runs):
    records = _records([synthetic_runs["model-good"]])
    with pytest.raises(PPTBenchError, match="ppt-bench eval --model ppt-bayes --tasks .* --out runs/ppt-bayes"):
        build_leaderboard(records)
    board = build_leaderboard(records, allow_missing_references=True)
    flight = _table(board, "bt_flight")
    assert [row.name for row in flight.references] == ["ppt-bayes", "ppt-uniform"]
    assert all(cell.value is None for cell in flight.references[0].cells)
    assert any("ppt-uniform: not evaluated" in note for note in board.notes)
    assert board.summary_columns == ()


def test_renderers(synthetic_runs):
    board = build_leaderboard(_records(synthetic_runs.values()))
    markdown = render_markdown(board, "ppt-bench leaderboard A B --out X")
    assert markdown.startswith(f"<!-- {HEADER} -->") and "ppt-bench leaderboard A B --out X" in markdown
    assert markdown.index("## Summary") < markdown.index("## Bayesian teaching") < markdown.index("## PPT")
    assert "| model | acc ↑ | agree ↑ | kl ↓ | nll_scaled ↓ | ece_scaled ↓ | T |" in markdown
    text = render_csv(board)
    assert text.startswith(f"# {HEADER}\n")
    rows = list(csv.DictReader(io.StringIO("".join(line for line in text.splitlines(True)
                                                   if not line.startswith("#")))))
    good = {r["metric"]: r for r in rows if r["model"] == "model-good" and r["task"] == "bt_flight"}
    assert float(good["acc"]["low"]) < float(good["acc"]["value"]) < float(good["acc"]["high"])
    assert good["T"]["higher_is_better"] == "" and good["acc"]["ranked"] == "true"
    scores = {r["model"]: float(r["value"]) for r in rows if r["metric"] == "score:human_probcopa"}
    assert scores["ppt-bayes"] == pytest.approx(1.0) and scores["ppt-uniform"] == pytest.approx(0.0)
    page = render_html(board, "cmd")
    assert "<script src" not in page and "http" not in page.split("<body>")[1]  # no external resources
    assert page.index('id="summary"') < page.index("table-bt_flight")


def test_model_names_not_paths(make_run, synthetic_runs, tmp_path):
    trained = tmp_path / "runs" / "train" / "smollm2-soft"
    trained.mkdir(parents=True)
    run_dir = make_run(tmp_path / "runs", str(trained), 0.5, tasks=("bt_flight",))
    board = build_leaderboard([*_records(synthetic_runs.values()), *_records([run_dir])])
    assert "smollm2-soft" in [row.name for row in _table(board, "bt_flight").rows]
    assert str(trained) not in render_html(board, "cmd").split("<h2>Summary")[1].split("<h2>Notes")[0]


def test_temperature_comes_from_the_calibration_split_with_its_item_count(synthetic_runs):
    from ppt_bench.report.calibration_report import task_temperature

    record = _records([synthetic_runs["model-good"]])[0]
    fit = record.tasks["bt_flight"].temperature
    expected = task_temperature(synthetic_runs["model-good"], "bt_flight").fit
    assert fit.temperature == expected.temperature and fit.n_calib == expected.n_items < 300
    assert "< 300 items" in fit.flags
    board = build_leaderboard(_records(synthetic_runs.values()))
    assert f"(n={fit.n_calib}; " in render_markdown(board, "cmd") and "⚠" in render_markdown(board, "cmd")


def test_records_merge_only_add_or_update(synthetic_runs, tmp_path):
    committed = _records([synthetic_runs["ppt-bayes"], synthetic_runs["model-weak"]])
    write_records(committed, tmp_path)
    again = read_records(tmp_path)
    assert [r.model for r in again] == ["model-weak", "ppt-bayes"]
    assert again[0].tasks["bt_flight"].metrics["acc"] == committed[1].tasks["bt_flight"].metrics["acc"]
    assert again[0].tasks["bt_flight"].temperature == committed[1].tasks["bt_flight"].temperature
    update = replace(_records([synthetic_runs["model-good"]])[0], model="model-weak", name="model-weak",
                     tasks={"bt_flight": _records([synthetic_runs["model-good"]])[0].tasks["bt_flight"]})
    merged = {r.model: r for r in merge_records(again, [update, *_records([synthetic_runs["ppt-uniform"]])])}
    assert set(merged) == {"ppt-bayes", "ppt-uniform", "model-weak"}  # one added, none dropped
    weak = merged["model-weak"]
    assert set(weak.tasks) == set(committed[1].tasks)  # the tasks not re-evaluated stay
    assert weak.tasks["bt_flight"] == update.tasks["bt_flight"]  # the re-evaluated one is updated


def test_cli_writes_three_files_and_saves_records_only_when_asked(synthetic_runs, tmp_path, capsys):
    out, records = tmp_path / "leaderboards", tmp_path / "records"
    dirs = [str(path) for path in synthetic_runs.values()]
    assert main(["leaderboard", *dirs, "--out", str(out), "--records", str(records)]) == 0
    assert {p.name for p in out.iterdir()} == {"README.md", "leaderboard.csv", "index.html"}
    assert not records.exists()
    readme = (out / "README.md").read_text()
    assert f"ppt-bench leaderboard {' '.join(dirs)} --out {out} --records {records}" in readme
    assert main(["leaderboard", *dirs, "--out", str(out), "--records", str(records), "--save-records"]) == 0
    assert len(list(records.glob("*.json"))) == 4
    first = {p.name: p.read_bytes() for p in out.iterdir()}
    assert main(["leaderboard", "--out", str(out), "--records", str(records)]) == 0  # from records alone
    assert (out / "leaderboard.csv").read_bytes() == first["leaderboard.csv"]
    assert main(["leaderboard", dirs[2], "--out", str(out), "--no-records"]) == 2
    assert "ppt-bench eval --model ppt-bayes" in capsys.readouterr().err


def test_committed_leaderboard_is_regenerated_from_the_committed_records(tmp_path, monkeypatch):
    from ppt_bench.report.records import RECORDS_DIR

    repo = RECORDS_DIR.parents[1]
    monkeypatch.chdir(tmp_path)
    assert main(["leaderboard", "--out", "leaderboards"]) == 0
    for name in ("README.md", "leaderboard.csv", "index.html"):
        assert (tmp_path / "leaderboards" / name).read_text() == (repo / "leaderboards" / name).read_text(), name
    names = {r.name for r in read_records()}
    assert {"gemma3-270m", "smollm2", "smollm2-bayesian-teaching-48", "smollm2-oracle-teaching-48",
            "smollm2-ppt-hard-320", "smollm2-ppt-soft-320", "ppt-bayes", "ppt-uniform"} <= names
    for record in read_records():
        assert record.commands, record.name  # every committed row says how it was made


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
    from ppt_bench.report.records import run_commands

    model_dir = tmp_path / "trained"
    model_dir.mkdir()
    data_command = "ppt-bench generate scenarios --n 9 --seed 0 --split train --out runs/data/s.jsonl"
    (model_dir / "train_config.json").write_text(json.dumps({
        "command": "ppt-bench train --recipe r.yaml",
        "config": {"data": "runs/data/s.jsonl", "data_command": data_command}}))
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
        data_command,
        "ppt-bench train --recipe r.yaml",
        f"ppt-bench eval --model {model_dir} --tasks bt_flight,bt_flight_calib --size quick --out {run_dir}",
        f"ppt-bench eval --model {model_dir} --tasks ppt_motifs_heldout --limit 7 --out {run_dir}"]


def test_intervals_are_clipped_to_the_metric_range():
    from ppt_bench.report.leaderboard import Cell
    from ppt_bench.report.leaderboard_render import cell_text as _cell_text
    from ppt_bench.report.results import MetricValue, metric_range

    assert MetricValue(0.95, 0.1, True).interval(bounds=metric_range("acc")) == pytest.approx((0.754, 1.0))
    assert MetricValue(0.02, 0.05, False).interval(bounds=metric_range("kl"))[0] == 0.0
    assert MetricValue(-0.9, 0.2, True).interval(bounds=metric_range("spearman"))[0] == -1.0
    assert MetricValue(0.5, 0.1, True).interval(bounds=metric_range("acc_r3")) == pytest.approx((0.304, 0.696))
    assert _cell_text(Cell(0.5, 0.304, 0.696)) == "0.500 ± 0.196"
    assert _cell_text(Cell(0.95, 0.754, 1.0)) == "0.950 [0.754, 1.000]"


def test_a_data_command_that_writes_another_file_is_not_shown():
    from ppt_bench.training.recipes import data_command

    command = "ppt-bench generate dialogues --domain flight --teacher bayesian --users 384 --seed 0 --out a.jsonl"
    assert data_command({"data": "a.jsonl", "data_command": command}) == command
    assert data_command({"data": "b.jsonl", "data_command": command}).startswith("# training data b.jsonl")
    assert data_command({"data": "b.jsonl"}).startswith("# training data b.jsonl")


def test_train_command_is_rebuilt_from_a_recorded_configuration():
    from dataclasses import asdict

    import yaml

    from ppt_bench.training.config import TrainConfig
    from ppt_bench.training.recipes import RECIPES_DIR, train_command

    recipe = RECIPES_DIR / "ppt_soft_label_cpu.yaml"
    config = asdict(TrainConfig(**{**yaml.safe_load(recipe.read_text()), "max_examples": 5,
                                            "out_dir": "runs/train/x y"}))
    config["lora_target_modules"] = list(config["lora_target_modules"])  # as JSON stores it
    assert train_command(config) == ("ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml "
                                     "out_dir='runs/train/x y' max_examples=5")
