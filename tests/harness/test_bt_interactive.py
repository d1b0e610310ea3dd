"""The interactive protocol (the model plays the assistant) against the reference models."""

import json

import numpy as np
import pytest

from ppt_bench.errors import ConfigError
from ppt_bench.harness import bt_interactive
from ppt_bench.harness.bt_documents import EVAL_SEED
from ppt_bench.harness.evaluate import EvalConfig, evaluate
from ppt_bench.recommend import first_argmax, round_predictives
from ppt_bench.recommend.curves import curve_report

ROUNDS = 5


def _run(model, out_dir, protocol, task="bt_flight", limit=None):
    config = EvalConfig(model=model, tasks=(task,), sizes={task: "quick"}, out_dir=out_dir, limit=limit,
                        protocol=protocol)
    return evaluate(config, progress=lambda message: None)[task]


def _metrics(output, task="bt_flight"):
    return {key.split(",")[0]: value for key, value in output["results"][task].items()
            if key.endswith(",none") and "_stderr" not in key}


@pytest.fixture(scope="module")
def bayes_runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("interactive")
    return {protocol: (_metrics(_run("ppt-bayes", root / protocol, protocol)), root / protocol)
            for protocol in ("assistant-context", "interactive")}


def test_ppt_bayes_interactive_is_the_bayesian_assistant_curve(bayes_runs):
    interactive, folder = bayes_runs["interactive"]
    static, _ = bayes_runs["assistant-context"]
    curve = curve_report("flight", n_users=20, n_heldout=10, seed=EVAL_SEED)["bayesian"]  # quick: 20 x 10
    for r in range(ROUNDS + 1):
        assert interactive[f"acc_r{r}"] == pytest.approx(curve[r], abs=1e-9)
        assert static[f"acc_r{r}"] == pytest.approx(curve[r], abs=1e-9)
        assert interactive[f"agree_r{r}"] == static[f"agree_r{r}"] == 1.0
    assert all(interactive[f"rec_agree_r{t}"] == 1.0 for t in range(ROUNDS))
    assert "rec_agree_r0" not in static
    # Its conversation is the assistant's: the held-out documents equal the static task's.
    docs = [json.loads(line)["doc"] for line in (folder / "bt_flight/samples.jsonl").read_text().splitlines()]
    static_docs = [json.loads(line)["doc"] for line in
                   (folder.parent / "assistant-context/bt_flight/samples.jsonl").read_text().splitlines()]
    assert [d["question"] for d in docs] == [d["question"] for d in static_docs]
    records = [json.loads(line) for line in (folder / "bt_flight/recommendations.jsonl").read_text().splitlines()]
    assert len(records) == 20 and all(r["recommendations"] == r["assistant"] for r in records)


def test_ppt_uniform_recommends_the_first_option_and_its_agreement_is_counted(tmp_path):
    output = _run("ppt-uniform", tmp_path / "run", "interactive")
    values = _metrics(output)
    pops = bt_interactive.populations("bt_flight", "quick")
    batch = pops[0].interactions
    assistant = first_argmax(round_predictives(batch.domain, batch.features, batch.choices))
    for t in range(ROUNDS):  # equal log-likelihoods: the first option, every round
        assert values[f"rec_agree_r{t}"] == pytest.approx(np.mean(assistant[:, t] == 0))
        assert values[f"rec_acc_r{t}"] == pytest.approx(np.mean(batch.choices[:, t] == 0))
    for r in range(ROUNDS + 1):
        assert 0.0 <= values[f"acc_r{r}"] <= 1.0
    records = [json.loads(line) for line in (tmp_path / "run/bt_flight/recommendations.jsonl").read_text().splitlines()]
    assert all(r["recommendations"] == [0] * ROUNDS for r in records)
    # The model's own (wrong) recommendations are what its later documents show.
    samples = [json.loads(line)["doc"] for line in (tmp_path / "run/bt_flight/samples.jsonl").read_text().splitlines()]
    late = next(d for d in samples if d["round"] == ROUNDS)
    assert late["question"].count("The best option is Flight 1.") == ROUNDS


class _Counting:
    """A scorer that records each call's documents and answers like ppt-bayes."""

    def __init__(self):
        self.calls = []

    def __call__(self, docs):
        self.calls.append(docs)
        return [np.log(np.maximum(doc["soft_label"], 1e-30)) - 1e-9 * np.arange(len(doc["labels"]))
                for doc in docs]


def test_round_synchronous_one_call_per_round_for_all_users():
    pops = bt_interactive.populations("bt_shopping", "quick")  # three domains, pooled in each call
    scorer = _Counting()
    transcript = bt_interactive.play(pops, scorer, progress=lambda message: None)
    users = sum(pop.interactions.n_users for pop in pops)
    recommendation_calls = [docs for docs in scorer.calls if docs[0]["id"].endswith("-recommend")]
    assert len(recommendation_calls) == ROUNDS and len(scorer.calls) == 2 * ROUNDS + 1
    for t, docs in enumerate(recommendation_calls):
        assert len(docs) == users and {d["round"] for d in docs} == {t}
        assert all(d["id"].endswith("-recommend") for d in docs)
    heldout_calls = [docs for docs in scorer.calls if not docs[0]["id"].endswith("-recommend")]
    assert [{d["round"] for d in docs} for docs in heldout_calls] == [{r} for r in range(ROUNDS + 1)]
    assert len(transcript.heldout) == sum(len(docs) for docs in heldout_calls)


def test_a_stopped_run_resumes_from_its_checkpoint():
    pops = bt_interactive.populations("bt_flight", "quick", limit=60)  # whole users: 60 / 60 -> 1 user
    assert [pop.interactions.n_users for pop in pops] == [1]
    saved = []
    first = bt_interactive.play(pops, _Counting(), lambda m: None, checkpoint=saved.append)
    resumed_scorer = _Counting()
    resumed = bt_interactive.play(pops, resumed_scorer, lambda m: None, state=saved[2])  # after round 2
    assert len(resumed_scorer.calls) == 2 * (ROUNDS - 2)
    assert all(np.array_equal(a, b) for a, b in zip(first.recommendations, resumed.recommendations, strict=True))
    assert resumed.heldout == first.heldout


def test_protocol_is_part_of_the_run_identity(bayes_runs, tmp_path):
    _, folder = bayes_runs["interactive"]
    messages = []
    config = EvalConfig(model="ppt-bayes", tasks=("bt_flight",), sizes={"bt_flight": "quick"}, out_dir=folder,
                        protocol="interactive")
    evaluate(config, progress=messages.append)
    assert messages[0].startswith("bt_flight: finished earlier")
    from ppt_bench.harness.run_dir import identity_difference

    recorded = json.loads((folder / "bt_flight/results.json").read_text())["ppt_bench"]["identity"]
    assert identity_difference(recorded, {**recorded, "protocol": "assistant-context"}) == \
        "protocol: 'interactive' -> 'assistant-context'"
    legacy = {key: value for key, value in recorded.items() if key != "protocol"}  # made before protocols
    assert identity_difference(legacy, {**recorded, "protocol": "assistant-context"}) is None


def test_interactive_refuses_tasks_without_rounds_or_held_out_sets(tmp_path):
    for task in ("bt_flight_human", "ppt_motifs_heldout"):
        with pytest.raises(ConfigError, match="--protocol interactive applies to"):
            EvalConfig(model="ppt-bayes", tasks=(task,), out_dir=tmp_path, protocol="interactive")
    with pytest.raises(ConfigError, match="--protocol must be one of"):
        EvalConfig(model="ppt-bayes", tasks=("bt_flight",), out_dir=tmp_path, protocol="heldout")


def test_report_and_runs_tell_the_protocols_apart(bayes_runs):
    from ppt_bench.report.results import read_runs
    from ppt_bench.report.rounds import run_rows

    runs = read_runs([bayes_runs[p][1] for p in ("assistant-context", "interactive")])  # same model: allowed
    assert [run.label for run in runs] == ["ppt-bayes", "ppt-bayes [interactive]"]
    rows = run_rows(runs[1])
    assert [row.round for row in rows] == list(range(ROUNDS + 1))
    assert rows[0].acc.n == 200 and rows[0].rec_agree.n == 20 and rows[0].rec_agree.value == 1.0
    assert rows[0].acc.low < rows[0].acc.value < rows[0].acc.high
    assert rows[-1].rec_agree is None and run_rows(runs[0])[0].rec_agree is None
