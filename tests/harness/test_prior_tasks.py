"""`openestimate_prior`: parsing stated priors, per-item scoring, reference answers, lm-eval end to end."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from ppt_bench.errors import PPTBenchError
from ppt_bench.harness.evaluate import REPO_ROOT, EvalConfig, evaluate
from ppt_bench.harness.prior_tasks import (
    ANSWER_PREFIX,
    PriorParseError,
    answer_text,
    openestimate_prior_documents,
    parse_prior,
    prior_item_metrics,
)
from ppt_bench.prior_metrics import Prior

TASK = "openestimate_prior"


@pytest.mark.parametrize(("text", "family", "expected"), [
    ("mean = 125,000, standard deviation = 10k", "normal", (125_000.0, 10_000.0)),
    ("mean = $125,000 and the standard deviation is about 5,000.", "normal", (125_000.0, 5_000.0)),
    ("<mean>100</mean>\n<std>10</std>", "normal", (100.0, 10.0)),
    ("μ_0 = 5.5, σ_0 = 2e-1", "normal", (5.5, 0.2)),
    ("mean = 20. standard deviation = 1.", "normal", (20.0, 1.0)),
    ("alpha = 2, beta = 5", "beta", (2.0, 5.0)),
    ("alpha = 0.5\nbeta = 1.5", "beta", (0.5, 1.5)),
    ("I would say Beta(3, 7).", "beta", (3.0, 7.0)),
])
def test_parse_prior_known_answers(text, family, expected):
    assert parse_prior(text, family) == Prior(family, *expected)


@pytest.mark.parametrize(("text", "family"), [
    ("mean = 100", "normal"),                              # no standard deviation
    ("mean = 100, standard deviation = 0", "normal"),      # not a distribution
    ("mean = 100, standard deviation = -3", "normal"),
    ("alpha = 2, beta = -1", "beta"),
    ("alpha = 2", "beta"),
    ("", "normal"),
    ("I cannot know this.", "beta"),
])
def test_parse_prior_failures_are_parse_errors(text, family):
    with pytest.raises(PriorParseError):
        parse_prior(text, family)


def test_parse_prior_never_raises_anything_else():
    rng = np.random.default_rng(0)
    alphabet = list("0123456789.,-+eE$k =:<>/ \nmeanstdalphbetsigmμσβα()")
    for _ in range(2000):
        text = "".join(rng.choice(alphabet, size=int(rng.integers(0, 40))))
        for family in ("normal", "beta"):
            try:
                prior = parse_prior(text, family)
            except PriorParseError:
                continue
            assert prior.family == family


def test_answer_text_round_trips():
    for prior in (Prior("normal", 125_686.0, 14_144.0), Prior("normal", 0.0, 100_000.0), Prior("beta", 1.0, 6.0)):
        assert parse_prior(ANSWER_PREFIX[prior.family] + answer_text(prior), prior.family) == prior


def _doc(family="normal", truth=10.0, baseline_error=2.0, baseline_std=1.0):
    return {"answer_prefix": ANSWER_PREFIX[family], "family": family, "truth": truth,
            "baseline_error": baseline_error, "baseline_std": baseline_std}


def test_item_metrics_known_values():
    values = prior_item_metrics(_doc(), " 13, standard deviation = 3")
    assert values["parse_fail"] == 0.0
    assert values["error_ratio"] == pytest.approx(1.5)          # |13 - 10| / 2
    assert values["unc_corr"] == [pytest.approx(3.0), pytest.approx(1.5)]  # std ratio 3 / 1
    assert values["quartile_ece"] == 1                          # F(10) under N(13, 9) = 0.16
    beta = prior_item_metrics(_doc("beta", truth=0.5, baseline_error=0.1, baseline_std=0.1), " 1, beta = 1")
    assert beta["error_ratio"] == pytest.approx(0.0) and beta["quartile_ece"] == 3  # F(0.5) = 0.5


def test_item_metrics_count_a_parse_failure_and_never_raise():
    values = prior_item_metrics(_doc(), " twelve, give or take")
    assert values["parse_fail"] == 1.0 and math.isnan(values["error_ratio"])
    assert values["quartile_ece"] is None and values["unc_corr"] is None


def test_documents(data_root):
    docs = openestimate_prior_documents(data_root)
    assert len(docs) == 181 and len({doc["id"] for doc in docs}) == 181
    assert {doc["family"] for doc in docs} == {"normal", "beta"}
    for doc in docs:
        assert doc["baseline_error"] > 0 and doc["baseline_std"] > 0
        for answer in doc["reference_answers"].values():  # every reference answer parses
            parse_prior(doc["answer_prefix"] + answer, doc["family"])
        assert str(doc["truth_text"]) not in doc["question"]


def test_reference_models_generate_their_reference_answers(tmp_path, data_root):
    tasks = (TASK, "openestimate")
    bayes = evaluate(EvalConfig(model="ppt-bayes", tasks=tasks, out_dir=tmp_path / "bayes"),
                     progress=lambda message: None)[TASK]["results"][TASK]
    uniform = evaluate(EvalConfig(model="ppt-uniform", tasks=tasks, out_dir=tmp_path / "uniform"),
                       progress=lambda message: None)[TASK]["results"][TASK]
    assert bayes["parse_fail,none"] == 0.0 and uniform["parse_fail,none"] == 0.0
    # The five-sample baseline has error ratio 1 in expectation (181 items: +- 3 stderr)
    assert abs(bayes["error_ratio,none"] - 1.0) < 3 * bayes["error_ratio_stderr,none"]
    assert bayes["quartile_ece,none"] < 0.1
    assert uniform["error_ratio,none"] > 3.0  # knowing nothing is far worse than five samples
    # the calibration report and compare read the generated text as "no choices", not as a crash
    from ppt_bench.report.calibration_report import build_report
    from ppt_bench.report.compare import compare_runs

    report, _ = build_report(tmp_path / "bayes", n_boot=10, progress=lambda message: None)
    assert [section["task"] for section in report["tasks"]] == ["openestimate"] and TASK in report["skipped"]
    comparison = compare_runs(tmp_path / "uniform", tmp_path / "bayes", n_boot=10)
    assert [facts["task"] for facts in comparison["tasks"]] == ["openestimate"]


def test_reference_models_refuse_a_generation_task_without_reference_answers():
    from ppt_bench.harness.reference_models import BayesReference

    class Request:
        doc = {"question": "?"}
        args = ("?", {})

    with pytest.raises(PPTBenchError, match="no reference answer"):
        BayesReference().generate_until([Request()])


def test_a_tiny_model_through_the_lm_eval_command_line(tiny_model_dir, tmp_path, data_root):
    """`lm_eval --include_path tasks --tasks openestimate_prior`: random text is a parse failure, no crash."""
    command = [sys.executable, "-m", "lm_eval", "--include_path", str(REPO_ROOT / "tasks"), "--tasks", TASK,
               "--model", "hf", "--model_args", f"pretrained={tiny_model_dir}", "--device", "cpu",
               "--limit", "2", "--gen_kwargs", "max_gen_toks=8", "--output_path", str(tmp_path),
               "--log_samples"]
    env = {"PPT_BENCH_DATA_DIR": str(data_root), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(REPO_ROOT), "HF_HUB_OFFLINE": "1"}
    result = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    results = json.loads(next(tmp_path.rglob("results_*.json")).read_text())["results"][TASK]
    assert 0.0 <= results["parse_fail,none"] <= 1.0
