"""Figures: each function draws from run records alone, the CLI writes PNG + PDF, missing tasks skip."""

from __future__ import annotations

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from ppt_bench.cli import main  # noqa: E402
from ppt_bench.report.figures import (  # noqa: E402
    FIGURES,
    FigureSkipped,
    model_mean_rating,
    wilson_interval,
)
from ppt_bench.report.results import Sample, read_runs  # noqa: E402


def test_every_figure_draws_from_the_runs(synthetic_runs, make_run, tmp_path):
    features = make_run(tmp_path, "model-features", 0.7, tasks=("bt_flight_f2", "bt_flight_f3"))
    runs = read_runs([*(synthetic_runs[m] for m in ("ppt-bayes", "ppt-uniform", "model-good")), features])
    for name, draw in FIGURES.items():
        if name == "h_direct_vs_belief":
            continue  # needs bt_flight_beliefs samples: tests/report/test_figures_beliefs.py
        figure = draw(runs)
        assert any(ax.has_data() for ax in figure.axes), name


def test_cli_writes_png_and_pdf(synthetic_runs, tmp_path, capsys):
    out = tmp_path / "figures"
    names = ["a_accuracy_by_round", "e_heldout_motif_kl"]  # saving all six is the slow part; drawing is tested above
    dirs = [str(synthetic_runs[m]) for m in ("ppt-bayes", "model-good")]
    assert main(["figures", "--runs", *dirs, "--out", str(out), "--only", *names]) == 0
    for name in names:
        assert (out / f"{name}.png").read_bytes()[:4] == b"\x89PNG"
        assert (out / f"{name}.pdf").read_bytes()[:4] == b"%PDF"
    assert sorted(p.name for p in out.iterdir()) == sorted(f"{n}.{f}" for n in names for f in ("pdf", "png"))
    assert "skipped" not in capsys.readouterr().out


def test_missing_task_skips_with_a_note(make_run, tmp_path, capsys):
    run_dir = make_run(tmp_path / "runs", "bt-only", 0.5, tasks=("bt_flight",))
    assert main(["figures", "--runs", str(run_dir), "--out", str(tmp_path / "f"),
                 "--only", "a_accuracy_by_round", "e_heldout_motif_kl", "f_probcopa_ratings"]) == 0
    printed = capsys.readouterr().out
    assert "e_heldout_motif_kl: skipped (no run has logged samples of ppt_motifs_heldout" in printed
    assert "f_probcopa_ratings: skipped" in printed and (tmp_path / "f" / "a_accuracy_by_round.png").is_file()
    with pytest.raises(FigureSkipped):
        FIGURES["f_probcopa_ratings"](read_runs([run_dir]))


def test_reference_lines_are_the_exact_population_curves(synthetic_runs):
    """Figure (a)'s Bayesian Assistant line is the whole population's curve (41% -> 80% for flight),
    whatever the runs' documents; random choice is exactly 1/3."""
    runs = read_runs([synthetic_runs["model-good"], synthetic_runs["ppt-bayes"]])
    figure = FIGURES["a_accuracy_by_round"](runs)
    ax = next(ax for ax in figure.axes if ax.get_title() == "bt_flight")
    lines = {line.get_label(): line.get_ydata() for line in ax.get_lines()}
    assistant = lines["Bayesian Assistant (exact)"]
    assert assistant[0] == pytest.approx(0.41, abs=0.01) and assistant[-1] == pytest.approx(0.80, abs=0.01)
    assert np.allclose(lines["random choice (exact)"], 1 / 3)
    bayes_run = runs[1].tasks["bt_flight"].metrics  # the sampled documents' curve differs
    assert not np.allclose(assistant, [bayes_run[f"acc_r{r}"].value for r in range(6)], atol=0.01)


def test_wilson_interval_known_values():
    low, high = wilson_interval(np.array([0, 5, 10]), np.array([10, 10, 10]))
    assert low == pytest.approx([0.0, 0.2366, 0.7225], abs=1e-4)
    assert high == pytest.approx([0.2775, 0.7634, 1.0], abs=1e-4)


def test_model_mean_rating():
    def sample(probs):
        return Sample(0, tuple(np.log(probs)), 0, None, {})

    assert model_mean_rating(sample([1e-12, 1e-12, 1.0, 1e-12, 1e-12])) == pytest.approx(50.0)
    assert model_mean_rating(sample([0.2] * 5)) == pytest.approx(50.0)
    assert model_mean_rating(sample([0.5, 0, 0, 0, 0.5] + np.array(1e-15))) == pytest.approx(50.0)
    assert model_mean_rating(sample([0.0 + 1e-15, 0, 0, 0.25, 0.75] + np.array(1e-15))) == pytest.approx(85.0)


def test_cli_names_match_the_figures():
    from ppt_bench.commands.figures import NAMES

    assert NAMES == tuple(FIGURES)


def test_local_model_folders_get_short_labels(tmp_path):
    from pathlib import Path

    from ppt_bench.report.results import RunRecord

    def label(model):
        return RunRecord(path=Path("runs/x"), model=model, model_args={}, tasks={}).label

    assert label("runs/train/smollm2-ppt-soft-320") == "smollm2-ppt-soft-320"
    assert label(str(tmp_path / "trained") + "/") == "trained"
    assert label("Qwen/Qwen2.5-7B-Instruct") == "Qwen/Qwen2.5-7B-Instruct" and label("smollm2") == "smollm2"


def test_accuracy_vs_features_draws_models_and_exact_references(make_run, tmp_path):
    """(g): one point per F for the model (final round, Wilson interval; round 0 open), the exact
    Bayesian Assistant at the final round and round 0, random 1/K, and a caption with the sizes."""
    from ppt_bench.harness.bt_reference import reference_curves

    tasks = ("bt_flight_f2", "bt_flight_f3")
    runs = read_runs([make_run(tmp_path, "model-features", 0.7, tasks=tasks),
                      make_run(tmp_path, "ppt-bayes", 1.0, tasks=tasks)])
    figure = FIGURES["g_accuracy_vs_features"](runs)
    (ax,) = figure.axes
    lines = {line.get_label(): line for line in ax.get_lines()}
    final = lines["Bayesian Assistant, final round (exact)"]
    assert list(final.get_xdata()) == [2, 3]
    assert list(final.get_ydata()) == [reference_curves(t).bayesian[-1] for t in tasks]
    assert list(lines["Bayesian Assistant, round 0 (exact)"].get_ydata()) == \
        [reference_curves(t).bayesian[0] for t in tasks]
    assert np.allclose(lines["random choice 1/K"].get_ydata(), 1 / 3)
    assert "model-features, round 0" in lines and not any(k.startswith("ppt-bayes") for k in lines)
    caption = figure.texts[0].get_text()
    assert "Size: quick" in caption and "F=2: 24" in caption and "24 users x 100 held-out sets" in caption


def test_reliability_panel_without_test_items_says_so(synthetic_runs, monkeypatch):
    """With `--limit`, every scored item of a task can fall into the calibration split: the panel
    says so instead of failing on an empty curve."""
    from ppt_bench.report import figures
    from ppt_bench.report.calibration_report import TaskItems

    def no_test_items(run, task):
        return TaskItems((), (), (), ()), 1.0, 2, "held-out split"

    monkeypatch.setattr(figures, "_calibration_fit", no_test_items)
    figure = figures.reliability(read_runs([synthetic_runs["model-good"]]))
    texts = [text.get_text() for ax in figure.axes for text in ax.texts]
    assert any(text.startswith("no test items") for text in texts)


def test_reliability_curve_bins_as_the_report_does():
    from ppt_bench import calibration, metrics
    from ppt_bench.report.figures import _reliability_curve

    uniform = [np.full(4, 0.25)] * 8  # tied maxima: expected correctness 1/4, so perfectly calibrated
    curve, error = _reliability_curve(uniform, np.array([0, 1, 2, 3, 0, 0, 0, 0]))
    assert curve.tolist() == [[0.25, 0.25, 8.0]] and error == 0.0
    rng = np.random.default_rng(3)
    probs = [metrics.softmax(row) for row in rng.normal(size=(50, 3)) * 2]
    outcomes = rng.integers(0, 3, 50)
    curve, error = _reliability_curve(probs, outcomes)
    values = calibration.item_values(probs, outcomes)
    assert error == pytest.approx(calibration.aggregate(values)["ece"], abs=1e-12)
    assert curve[:, 2].sum() == 50 and np.all(np.diff(curve[:, 0]) > 0)
    gap = float((curve[:, 2] * np.abs(curve[:, 1] - curve[:, 0])).sum() / 50)
    assert error == pytest.approx(gap, abs=1e-12)
