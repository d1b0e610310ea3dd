"""`ppt-bench report` on small synthetic run directories written here."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from ppt_bench import metrics
from ppt_bench.cli import main
from ppt_bench.report import calibration_report as cr

N_BOOT = 30  # enough to exercise the intervals; the CLI default is 1000


def synthetic_items(task: str, n_items: int, n_choices: int, sharpen: float, seed: int) -> list[dict]:
    """lm-eval logged samples: outcomes drawn from softmax(true logits), log-likelihoods = sharpened
    true log-probabilities (sharpen > 1: over-confident; 1: perfectly calibrated)."""
    rng = np.random.default_rng(seed)
    records = []
    for index in range(n_items):
        true = rng.normal(scale=1.5, size=n_choices)
        probs = metrics.softmax(true)
        outcome = int(rng.choice(n_choices, p=probs))
        lls = np.log(metrics.softmax(true * sharpen))
        records.append({
            "doc_id": index,
            "doc": {"id": f"{task}-{seed}-{index}", "labels": list("ABCDEFGHIJ"[:n_choices]),
                    "soft_label": probs.tolist(), "outcome": outcome, "motif": "synthetic"},
            "target": outcome,
            "resps": [[[float(ll), False]] for ll in lls],
            "filtered_resps": [[float(ll), False] for ll in lls],
            "filter": "none", "acc": metrics.acc(probs, outcome),
        })
    return records


def write_task(run_dir: Path, task: str, records: list[dict], results: bool = True) -> None:
    folder = run_dir / task
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "samples.jsonl").write_text("".join(json.dumps(r) + "\n" for r in records))
    if results:
        (folder / "results.json").write_text(json.dumps({
            "results": {task: {"alias": task, "acc,none": 0.5}}, "higher_is_better": {task: {"acc": True}},
            "ppt_bench": {"model": "synthetic"}}))


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("run")
    (run / "run.json").write_text(json.dumps({"model": "synthetic", "date": "2026-01-01"}))
    write_task(run, "overconfident", synthetic_items("overconfident", 400, 4, sharpen=3.0, seed=1))
    write_task(run, "calibrated", synthetic_items("calibrated", 1200, 4, sharpen=1.0, seed=2))
    write_task(run, "paired", synthetic_items("paired", 120, 3, sharpen=2.5, seed=3))
    write_task(run, "paired_calib", synthetic_items("paired", 200, 3, sharpen=2.5, seed=4), results=False)
    return run


@pytest.fixture(scope="module")
def report(run_dir):
    import matplotlib

    matplotlib.use("Agg")
    return cr.build_report(run_dir, n_boot=N_BOOT, seed=0)


def sections(report) -> dict:
    return {section["task"]: section for section in report[0]["tasks"]}


def test_overconfident_task_gets_t_above_one_and_lower_nll(report):
    task = sections(report)["overconfident"]
    assert task["temperature"] > 1.5
    nll = task["metrics"]["nll"]
    assert nll["scaled"]["value"] < nll["raw"]["value"]
    assert task["metrics"]["ece"]["scaled"]["value"] < task["metrics"]["ece"]["raw"]["value"]
    for row in task["metrics"].values():
        for estimate in row.values():
            assert estimate["low"] <= estimate["high"]


def test_calibrated_task_gets_t_near_one(report):
    assert sections(report)["calibrated"]["temperature"] == pytest.approx(1.0, abs=0.15)


def test_held_out_split_is_stated_disjoint_and_deterministic(report):
    split = sections(report)["overconfident"]["split"]
    # 400 items: 300 / 400 is above the 50% cap, so half are held out (the default rule)
    assert split["kind"] == "held-out fraction" and "50%" in split["description"]
    assert split["n_calib"] + split["n_test"] == 400
    assert 160 <= split["n_calib"] <= 240
    assert "30%" in sections(report)["calibrated"]["split"]["description"]  # 1200 items: 30% >= 300
    ids = [f"overconfident-1-{i}" for i in range(400)]
    assert [cr.in_calibration_split(i) for i in ids] == [cr.in_calibration_split(i) for i in ids]


def test_calibration_task_is_used_when_present(report):
    by_task = sections(report)
    assert "paired_calib" not in by_task  # a calibration run is not a task of its own
    split = by_task["paired"]["split"]
    assert split["kind"] == "calibration task" and "paired_calib" in split["description"]
    assert (split["n_calib"], split["n_test"]) == (200, 120)


def test_report_says_how_many_items_t_was_fitted_on_and_flags_small_splits(report):
    paired = sections(report)["paired"]
    assert paired["temperature_fit"]["n_items"] == 200 == paired["split"]["n_calib"]
    assert "< 300 items" in paired["temperature_fit"]["flags"]
    calibrated = sections(report)["calibrated"]
    assert calibrated["temperature_fit"]["n_items"] >= 300 and calibrated["temperature_fit"]["flags"] == []
    from ppt_bench.report.report_render import render_markdown

    markdown = render_markdown(report[0])
    assert "fitted on 200 items" in markdown and "⚠ < 300 items" in markdown


def test_calibration_task_items_shared_with_the_task_are_dropped():
    items = cr.TaskItems(("a", "b"), (np.zeros(2), np.zeros(2)), (0, 1), (None, None))
    calib = cr.TaskItems(("b", "c"), (np.zeros(2), np.zeros(2)), (0, 1), (None, None))
    calib_used, test, split = cr.split_items(items, calib, "x_calib")
    assert calib_used.ids == ("c",) and test.ids == ("a", "b") and "1 items shared" in split.description


def test_both_resps_nestings_are_read():
    from ppt_bench.report.results import logged_loglikelihoods

    filtered = {"filtered_resps": [[-1.0, False], [-2.0, True]]}
    raw = {"resps": [[[-1.0, False]], [[-2.0, True]]]}
    assert logged_loglikelihoods(filtered) == logged_loglikelihoods(raw) == (-1.0, -2.0)
    assert logged_loglikelihoods({"filtered_resps": ["some text"]}) == ()  # a generation task
    assert logged_loglikelihoods({}) == ()


def test_cli_writes_md_html_json(run_dir, tmp_path, capsys):
    out = tmp_path / "report"
    assert main(["report", str(run_dir), "--out", str(out), "--n-boot", str(N_BOOT)]) == 0
    printed = capsys.readouterr().out
    assert "overconfident" in printed and "report.html" in printed
    saved = json.loads((out / "report.json").read_text())
    assert saved["model"] == "synthetic" and len(saved["tasks"]) == 3
    markdown = (out / "report.md").read_text()
    assert markdown.startswith("<!-- generated by `ppt-bench report`; do not edit -->")
    assert "held-out fraction" in markdown and "calibration task" in markdown
    for section in saved["tasks"]:
        for figure in section["figures"].values():
            assert (out / figure).read_bytes().startswith(b"\x89PNG")
    page = (out / "report.html").read_text()
    assert page.count("data:image/png;base64,") == 6
    lowered = page.lower()
    assert "<script" not in lowered and "http://" not in lowered and "https://" not in lowered
    assert "@font-face" not in lowered and "<link" not in lowered


def test_run_dir_without_results_is_a_clear_error(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["report", str(tmp_path / "empty")]) == 2
    error = capsys.readouterr().err.strip()
    assert len(error.splitlines()) == 1 and "no <task>/results.json" in error
    assert main(["report", str(tmp_path / "missing")]) == 2
    assert "not found" in capsys.readouterr().err


def test_task_without_samples_is_skipped_and_all_skipped_is_an_error(tmp_path):
    run = tmp_path / "run"
    write_task(run, "only", synthetic_items("only", 5, 3, sharpen=1.0, seed=0))
    (run / "only" / "samples.jsonl").unlink()
    with pytest.raises(cr.PPTBenchError, match="no task with logged samples"):
        cr.build_report(run, n_boot=N_BOOT)
