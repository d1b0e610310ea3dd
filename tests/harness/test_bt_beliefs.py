"""bt_flight_beliefs: documents match bt_flight's, soft labels are the exact marginals, and the
reference backends give kl 0 and the Bayesian Assistant's belief-based curve."""

from collections import Counter

import numpy as np
import pytest

from ppt_bench.harness import bt_beliefs
from ppt_bench.harness.evaluate import EvalConfig, evaluate

TASK = "bt_flight_beliefs"


@pytest.fixture(scope="module")
def quick_docs():
    return bt_beliefs.documents_for(TASK, "quick")


def _score(results, metric):
    return results[TASK]["results"][TASK][f"{metric},none"]


def test_documents_are_bt_flights_conversations_with_one_question_per_feature(quick_docs):
    from ppt_bench.harness.bt_tasks import generated_documents

    per_round = Counter(doc["round"] for doc in quick_docs)
    assert sorted(per_round) == list(range(6)) and set(per_round.values()) == {20 * 4}
    flight = {(d["user"], d["round"], d["query"]): d for d in generated_documents("bt_flight", "quick")}
    for doc in quick_docs[::7]:
        direct = flight[(doc["user"], doc["round"], 0)]
        # the same conversation up to the final request; the same held-out targets
        shared = direct["question"].rsplit("Here are the options:", 1)[0]
        assert doc["question"].startswith(shared) and "Here are the options:" not in doc["question"][len(shared):]
        targets = [flight[(doc["user"], doc["round"], s)]["outcome"] for s in range(10)]
        assert doc["heldout_choices"] == targets
        assert doc["labels"] == ["1", "2", "3", "4", "5"]


def test_soft_labels_are_the_posterior_marginals_counted_over_user_types(quick_docs):
    from ppt_bench.harness.bt_documents import EVAL_SEED
    from ppt_bench.recommend import BayesianAssistant, get_domain, simulate

    domain = get_domain("flight")
    interactions = simulate(domain, n_users=20, n_heldout=10, seed=EVAL_SEED)
    posteriors = BayesianAssistant().posteriors(interactions)       # (U, R+1, H)
    for doc in quick_docs[::11]:
        posterior = posteriors[doc["user"], doc["round"]]
        levels = domain.levels_per_hypothesis[:, doc["feature_index"]]
        counted = [posterior[levels == g].sum() for g in range(5)]
        assert np.allclose(doc["soft_label"], counted) and sum(doc["soft_label"]) == pytest.approx(1.0)
        user_type = interactions.user_types[doc["user"]]
        assert doc["outcome"] == domain.levels_per_hypothesis[user_type, doc["feature_index"]]
    r0 = next(doc for doc in quick_docs if doc["round"] == 0)
    assert np.allclose(r0["soft_label"], np.array([125, 125, 124, 125, 125]) / 624)


def test_bayes_reference_gives_kl_0_and_the_assistants_belief_curve(tmp_path):
    from ppt_bench.harness.bt_documents import EVAL_SEED
    from ppt_bench.recommend import get_domain, simulate
    from ppt_bench.recommend.beliefs import bayesian_belief_curve

    results = evaluate(EvalConfig(model="ppt-bayes", tasks=(TASK,), sizes={TASK: "quick"}, out_dir=tmp_path),
                       progress=lambda message: None)
    assert abs(_score(results, "kl")) < 1e-9 and _score(results, "agree") == 1.0
    assert all(abs(_score(results, f"kl_r{r}")) < 1e-9 for r in range(6))
    interactions = simulate(get_domain("flight"), n_users=20, n_heldout=10, seed=EVAL_SEED)
    expected = bayesian_belief_curve(interactions)
    assert np.allclose([_score(results, f"belief_acc_r{r}") for r in range(6)], expected)
    assert _score(results, "belief_acc") == pytest.approx(expected.mean())
    assert _score(results, "belief_agree_r0") == pytest.approx(1 / 3)   # E[w] = 0: every option ties


def test_uniform_reference_predicts_at_chance_and_limit_drops_incomplete_units(tmp_path):
    results = evaluate(EvalConfig(model="ppt-uniform", tasks=(TASK,), sizes={TASK: "quick"}, out_dir=tmp_path,
                                  limit=30), progress=lambda message: None)
    assert _score(results, "belief_acc") == pytest.approx(1 / 3)     # 7 complete units of 4 features
    assert _score(results, "acc") == pytest.approx(0.2)


def test_belief_hits_sum_the_features_of_a_unit():
    # two features of one unit: shares add to utilities [0.2, 0.9, 0.4] -> option 2 (index 1)
    items = [[5, 2, 1, 3, 0.1, 0.4, 0.4, 1], [5, 2, 1, 3, 0.1, 0.5, 0.0, 1], [6, 2, 1, 3, 1.0, 0.0, 0.0, 0]]
    assert bt_beliefs.belief_hits(items).tolist() == [1.0]            # unit 6 is incomplete
    assert bt_beliefs.agg_belief(items[2:]) != bt_beliefs.agg_belief(items[2:])  # NaN
