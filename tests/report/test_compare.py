"""`ppt-bench compare`: paired deltas between runs on the same items, raw and temperature-scaled."""

import json

import pytest

from ppt_bench.cli import main
from ppt_bench.errors import PPTBenchError
from ppt_bench.report.compare import EFFECT_METRICS, compare_runs


def _effects(comparison):
    return {(e["task"], e["metric"], e["view"]): e for e in comparison["effects"]}


def test_a_better_model_has_negative_kl_delta_inside_its_interval(synthetic_runs):
    comparison = compare_runs(synthetic_runs["model-weak"], synthetic_runs["model-good"], n_boot=200)
    effects = _effects(comparison)
    assert {f["task"] for f in comparison["tasks"]} == {"bt_flight", "human_probcopa", "ppt_motifs_heldout"}
    for task in ("bt_flight", "ppt_motifs_heldout"):
        kl = effects[(task, "kl", "raw")]
        assert kl["delta"] < 0 and kl["high"] < 0  # the skilled model is closer to the soft label
        for metric in EFFECT_METRICS:
            for view in ("raw", "scaled"):
                effect = effects[(task, metric, view)]
                assert effect["delta"] == pytest.approx(effect["model"] - effect["base"])
                assert effect["low"] <= effect["delta"] + 1e-12 and effect["delta"] <= effect["high"] + 1e-12


def test_a_run_against_itself_has_zero_effects(synthetic_runs):
    comparison = compare_runs(synthetic_runs["model-good"], synthetic_runs["model-good"], n_boot=50)
    for effect in comparison["effects"]:
        if effect["delta"] == effect["delta"]:  # kl is nan where there is no soft label
            assert effect["delta"] == 0 and effect["low"] == 0 and effect["high"] == 0


def test_different_items_or_unknown_task_are_clear_errors(make_run, synthetic_runs, tmp_path):
    other = make_run(tmp_path, "other", 0.5, tasks=("bt_flight",))
    samples = other / "bt_flight" / "samples.jsonl"
    lines = samples.read_text().splitlines()
    samples.write_text("\n".join(lines[:-1]) + "\n")  # one item fewer: compared on the shared items
    shared = compare_runs(synthetic_runs["model-good"], other)
    from ppt_bench.calibration import in_calibration_split

    # 24 and 23 items: each run holds out half (fewer than 600 items) for T; compared on the rest
    kept = [str(i) for i in range(23) if not in_calibration_split(str(i), 0.5)]
    assert shared["tasks"][0]["n_items"] == len(kept)
    records = [json.loads(line) for line in lines]
    for index, record in enumerate(records):
        record["doc_id"] = 1000 + index  # other documents altogether
    samples.write_text("".join(json.dumps(record) + "\n" for record in records))
    with pytest.raises(PPTBenchError, match="share 0 test items"):
        compare_runs(synthetic_runs["model-good"], other)
    with pytest.raises(PPTBenchError, match="not scored by both runs: openestimate"):
        compare_runs(synthetic_runs["model-good"], other, tasks=["openestimate"])


def test_cli_prints_and_writes(synthetic_runs, tmp_path, capsys):
    out = tmp_path / "effects.md"
    assert main(["compare", str(synthetic_runs["model-weak"]), str(synthetic_runs["model-good"]),
                 "--tasks", "ppt_motifs_heldout", "--n-boot", "50", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "| ppt_motifs_heldout | ece ↓ |" in printed and out.read_text() in printed
    assert json.loads(out.with_suffix(".json").read_text())[0]["tasks"][0]["task"] == "ppt_motifs_heldout"
