"""Figure (h), direct vs belief-based prediction, from a real run directory of both tasks."""

from __future__ import annotations

import json
import shutil

import matplotlib
import numpy as np
import pytest

matplotlib.use("Agg")

from ppt_bench.report.figures import FIGURES, FigureSkipped  # noqa: E402
from ppt_bench.report.figures_beliefs import belief_comparison, caption  # noqa: E402
from ppt_bench.report.results import read_runs  # noqa: E402


@pytest.fixture(scope="module")
def answered_like_the_assistant(tmp_path_factory):
    """ppt-bayes on the first 2 users of both tasks (quick), relabelled as a model to compare."""
    from ppt_bench.harness.evaluate import EvalConfig, evaluate

    root = tmp_path_factory.mktemp("beliefs")
    for task, limit in (("bt_flight", 120), ("bt_flight_beliefs", 48)):  # 2 users x 6 rounds each
        evaluate(EvalConfig(model="ppt-bayes", tasks=(task,), sizes={task: "quick"}, out_dir=root / task,
                            limit=limit), progress=lambda message: None)
    run = root / "bayes-like"
    run.mkdir()
    for task in ("bt_flight", "bt_flight_beliefs"):
        shutil.copytree(root / task / task, run / task)
        results = json.loads((run / task / "results.json").read_text())
        results["ppt_bench"]["model"] = "bayes-like"
        (run / task / "results.json").write_text(json.dumps(results))
    info = json.loads((root / "bt_flight" / "run.json").read_text())
    (run / "run.json").write_text(json.dumps({**info, "model": "bayes-like"}))
    return run


def test_comparison_is_paired_by_document_and_matches_the_results(answered_like_the_assistant):
    (run,) = read_runs([answered_like_the_assistant])
    comparison = belief_comparison(run)
    assert comparison.n_predictions.tolist() == [20.0] * 6        # 2 users x 10 held-out sets
    assert comparison.n_questions.tolist() == [8.0] * 6           # 2 users x 4 features
    assert comparison.stated.tolist() == [1.0] * 6                # its beliefs are the marginals
    belief = run.tasks["bt_flight_beliefs"].metrics
    assert np.allclose(comparison.belief, [belief[f"belief_acc_r{r}"].value for r in range(6)])
    # round 0: E[w] = 0 ties the three options; the direct pick is one of them -> agreement 1/3
    assert comparison.agreement[0] == pytest.approx(1 / 3)
    assert 0 <= comparison.agreement.min() and comparison.agreement.max() <= 1
    assert "size quick: 20 predictions and 8 belief questions per round" in caption([comparison], "all")


def test_figure_draws_models_and_exact_references(answered_like_the_assistant):
    runs = read_runs([answered_like_the_assistant])
    figure = FIGURES["h_direct_vs_belief"](runs)
    accuracy = figure.axes[0]
    lines = {line.get_label(): line.get_ydata() for line in accuracy.get_lines()}
    assert lines["Bayesian Assistant (exact)"][-1] == pytest.approx(0.80, abs=0.01)
    beliefs = lines["Bayesian Assistant's marginals, belief-based (exact)"]
    assert beliefs[0] == pytest.approx(1 / 3) and beliefs[-1] == pytest.approx(0.80, abs=0.01)
    assert "Protocol" in figure._supxlabel.get_text()


def test_figure_skips_without_both_tasks(make_run, tmp_path):
    run_dir = make_run(tmp_path / "runs", "bt-only", 0.5, tasks=("bt_flight",))
    with pytest.raises(FigureSkipped, match="bt_flight_beliefs"):
        FIGURES["h_direct_vs_belief"](read_runs([run_dir]))
