"""Every task through lm-eval: reference backends, a tiny real transformers model, one forward pass
per single-token item, prompt strings identical to ppt_bench.harness.prompting."""

import json
import subprocess
import sys

import numpy as np
import pytest

from ppt_bench.harness.evaluate import REPO_ROOT, EvalConfig, evaluate, suite_tasks

QUICK = suite_tasks("quick")
TASKS = tuple(QUICK)
ROUND_METRICS = tuple(f"{kind}_r{r}" for kind in ("acc", "agree", "kl") for r in range(6))
# bt_flight_beliefs pools a (user, round)'s 4 feature documents into one prediction: 3 hold none
POOLED_OVER_FEATURES = ("belief_acc", "belief_agree")


def _metric_names(task: str) -> list[str]:
    import yaml

    path = next(REPO_ROOT.glob(f"tasks/*/{task}.yaml"))
    text = "\n".join(line for line in path.read_text().splitlines() if "!function" not in line)
    return [entry["metric"] for entry in yaml.safe_load(text)["metric_list"]]


def _score(results: dict, task: str, metric: str) -> float:
    return results[task]["results"][task][f"{metric},none"]


def _samples(out_dir, task):
    return [json.loads(line) for line in (out_dir / task / "samples.jsonl").read_text().splitlines()]


def test_generated_task_yamls_are_up_to_date():
    result = subprocess.run([sys.executable, "tasks/generate.py", "--check"], cwd=REPO_ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout


def test_in_task_temperature_metrics_are_named_cv_and_defined_in_each_readme():
    # One temperature-scaling definition (T fitted on the calibration split) is ppt-bench's; the
    # in-task 5-fold cross-fitted metrics carry another name and say what they are.
    import yaml

    for task_yaml in sorted((REPO_ROOT / "tasks").glob("*/*.yaml")):
        text = task_yaml.read_text()
        if "metric_list" not in text:
            continue
        names = [m["metric"] for m in yaml.safe_load(text.replace("!function", "")).get("metric_list", [])]
        assert not [n for n in names if n.endswith("_ts")], task_yaml
        if "nll_cv" in names:
            readme = (task_yaml.parent / "README.md").read_text()
            assert "nll_cv" in readme and "cross-fitted" in readme and "5 folds" in readme, task_yaml.parent


@pytest.fixture(scope="module")
def bayes_run(tmp_path_factory, data_root):
    out = tmp_path_factory.mktemp("ppt-bayes")
    config = EvalConfig(model="ppt-bayes", tasks=TASKS, sizes=QUICK, out_dir=out, limit=40)
    return out, evaluate(config, progress=lambda message: None)


def test_bayes_reference_reproduces_the_soft_labels(bayes_run):
    _, results = bayes_run
    for task in TASKS:
        assert abs(_score(results, task, "kl")) < 1e-6, task
        agree = "agree" if task.startswith("bt_") else "mode_agree"
        assert _score(results, task, agree) == 1.0, task
        assert _score(results, task, "soft_ece") == pytest.approx(0.0, abs=1e-9), task
    assert _score(results, "human_probcopa", "w1") == pytest.approx(0.0, abs=1e-9)
    assert _score(results, "openestimate", "w1") == pytest.approx(0.0, abs=1e-9)


def test_bayes_reference_on_bt_flight_is_the_bayesian_assistant(tmp_path):
    from ppt_bench.harness.bt_documents import EVAL_SEED, SIZES
    from ppt_bench.recommend import BayesianAssistant, accuracy_curve, get_domain, simulate

    results = evaluate(EvalConfig(model="ppt-bayes", tasks=("bt_flight",), sizes={"bt_flight": "quick"},
                                  out_dir=tmp_path), progress=lambda message: None)
    users, heldout = SIZES["quick"]
    interactions = simulate(get_domain("flight"), n_users=users, n_heldout=heldout, seed=EVAL_SEED)
    curve = accuracy_curve(BayesianAssistant().recommend(interactions), interactions.heldout_choices)
    harness_curve = [_score(results, "bt_flight", f"acc_r{r}") for r in range(6)]
    assert np.allclose(harness_curve, curve)


@pytest.mark.parametrize("task", ["ppt_motifs_heldout", "ppt_motifs_train", "bt_flight", "bt_hotel",
                                  "bt_shopping"])
def test_calibration_twins_are_disjoint_draws_of_the_same_family(task):
    from ppt_bench.harness import bt_tasks, ppt_tasks

    def build(name):
        if task.startswith("ppt_"):
            return ppt_tasks.ppt_documents(name, "quick")
        return bt_tasks.generated_documents(name, "quick")

    test, calib = build(task), build(f"{task}_calib")
    assert f"{task}_calib" in QUICK and QUICK[f"{task}_calib"] == "quick"
    assert len(calib) >= 36 and not {d["id"] for d in test} & {d["id"] for d in calib}
    assert not {d["question"] for d in test} & {d["question"] for d in calib}
    family = "motif" if task.startswith("ppt_") else "domain"
    assert {d[family] for d in calib} == {d[family] for d in test}


def test_uniform_reference_scores_one_over_k(tmp_path, data_root):
    tasks = ("ppt_motifs_heldout", "bt_flight", "human_probcopa", "openestimate")
    results = evaluate(EvalConfig(model="ppt-uniform", tasks=tasks, sizes=QUICK, out_dir=tmp_path,
                                  limit=30), progress=lambda message: None)
    for task in tasks:
        expected = np.mean([1 / len(sample["doc"]["labels"]) for sample in _samples(tmp_path, task)])
        assert _score(results, task, "acc") == pytest.approx(expected), task
        assert _score(results, task, "nll") == pytest.approx(
            np.mean([np.log(len(sample["doc"]["labels"])) for sample in _samples(tmp_path, task)]))


def test_every_task_with_a_tiny_transformers_model(tiny_model_dir, tmp_path, data_root):
    results = evaluate(EvalConfig(model=str(tiny_model_dir), tasks=TASKS, sizes=QUICK, out_dir=tmp_path,
                                  limit=3, batch_size=4), progress=lambda message: None)
    for task in TASKS:
        for metric in _metric_names(task):
            if metric in ROUND_METRICS or metric.startswith(POOLED_OVER_FEATURES):
                continue  # 3 documents cover round 0 only
            value = _score(results, task, metric)
            assert value == value and np.isfinite(value), (task, metric, value)  # spearman may be nan
        provenance = results[task]["ppt_bench"]
        assert provenance["size"] == QUICK[task] and provenance["git_sha"]


@pytest.mark.parametrize("chat", [False, True])
def test_prompts_match_lm_eval_and_use_one_forward_pass(tiny_model_dir, tmp_path, chat):
    import lm_eval
    import torch
    from lm_eval.models.huggingface import HFLM
    from lm_eval.tasks import TaskManager
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ppt_bench.harness.prompting import continuations, model_context

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    calls = []
    model.register_forward_hook(lambda module, args, output: calls.append(1))
    lm = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=1)
    output = lm_eval.simple_evaluate(
        model=lm, tasks=["ppt_motifs_heldout"], limit=4, log_samples=True, apply_chat_template=chat,
        task_manager=TaskManager(include_path=str(REPO_ROOT / "tasks"), metadata={"size": "quick"}))
    samples = output["samples"]["ppt_motifs_heldout"]
    assert len(calls) == len(samples) == 4  # single-token labels: one forward pass per document
    for sample in samples:
        doc = sample["doc"]
        expected = model_context(doc["question"], doc["answer_prefix"], tokenizer, chat=chat)
        assert [tuple(argument) for argument in sample["arguments"]] == [
            (expected, continuation) for continuation in continuations(doc["labels"])]
