"""Number of features: bt_flight_f2 .. bt_flight_f8 (generated flight users with F features)."""

from collections import Counter

import numpy as np
import pytest

from ppt_bench.harness.bt_documents import SIZES
from ppt_bench.harness.sizes import MIN_PER_ROUND


@pytest.mark.parametrize("n_features", [*range(2, 7), *(pytest.param(n, marks=pytest.mark.slow) for n in (7, 8))])
def test_documents_per_round_and_user_types(n_features):
    from ppt_bench.harness.bt_tasks import generated_documents
    from ppt_bench.recommend import flight_domain

    docs = generated_documents(f"bt_flight_f{n_features}", "quick")
    users, heldout = SIZES["quick"]
    per_round = Counter(doc["round"] for doc in docs)
    assert per_round == {r: users * heldout for r in range(6)}
    assert min(per_round.values()) >= MIN_PER_ROUND
    assert flight_domain(n_features).n_hypotheses == 5 ** n_features - 1
    question = docs[-1]["question"]
    assert question.count("Flight 1: ") >= 1
    assert all(f.label in question for f in flight_domain(n_features).features)
    assert all(np.isclose(sum(doc["soft_label"]), 1.0) for doc in docs)


def test_four_features_is_bt_flight():
    """bt_flight_f4 is the published flight domain: its documents are bt_flight's (only the id's
    task prefix differs)."""
    from ppt_bench.harness.bt_tasks import generated_documents

    def strip(docs, task):
        return [{**doc, "id": doc["id"].removeprefix(task)} for doc in docs]

    assert strip(generated_documents("bt_flight_f4", "quick"), "bt_flight_f4") == \
        strip(generated_documents("bt_flight", "quick"), "bt_flight")


def test_sparse_reference_equals_the_dense_assistant():
    """The fast path of the references (many user types) gives the assistant's curve exactly."""
    from ppt_bench.harness.bt_reference import sparse_bayesian_accuracy
    from ppt_bench.recommend import flight_domain, simulate
    from ppt_bench.recommend.curves import evaluate

    for n_features in (2, 3, 5):
        batch = simulate(flight_domain(n_features), n_users=40, n_heldout=23, seed=n_features)
        assert np.array_equal(sparse_bayesian_accuracy(batch, sets_per_chunk=7),
                              evaluate(batch)[0]["bayesian"])


def test_reference_population_is_every_type_then_a_sample(monkeypatch):
    from ppt_bench.harness import bt_reference, bt_tasks

    assert bt_reference.reference_curves("bt_flight_f2").population == "24 users x 100 held-out sets"
    monkeypatch.setattr(bt_tasks, "SAMPLED_USERS", 5)
    bt_reference.reference_curves.cache_clear()
    try:
        reference = bt_reference.reference_curves("bt_flight_f6")
    finally:
        bt_reference.reference_curves.cache_clear()
    assert reference.population == "5 of 15,624 user types (seeded sample) x 100 held-out sets"
    assert len(reference.bayesian) == 6 and reference.random == pytest.approx([1 / 3] * 6)


def test_ppt_bayes_accuracy_is_the_assistant_curve(tmp_path):
    """ppt-bayes answers with the Bayesian Assistant's predictive: per round its accuracy is the
    documents' assistant accuracy (ba_correct), exactly."""
    from ppt_bench.harness.bt_tasks import generated_documents
    from ppt_bench.harness.evaluate import EvalConfig, evaluate

    task = "bt_flight_f3"
    results = evaluate(EvalConfig(model="ppt-bayes", tasks=(task,), sizes={task: "quick"},
                                  out_dir=tmp_path / "ppt-bayes"), progress=lambda message: None)
    metrics = results[task]["results"][task]
    docs = generated_documents(task, "quick")
    for r in range(6):
        expected = np.mean([doc["ba_correct"] for doc in docs if doc["round"] == r])
        assert metrics[f"acc_r{r},none"] == pytest.approx(expected, abs=1e-12)
        assert metrics[f"agree_r{r},none"] == 1.0
