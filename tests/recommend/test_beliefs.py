"""Belief elicitation: expected utilities under stated beliefs, stated weights of the human file."""

import itertools

import numpy as np
import pytest

from ppt_bench.recommend import feature_marginals, get_domain, simulate
from ppt_bench.recommend.beliefs import (
    bayesian_belief_curve,
    belief_question_text,
    expected_hits,
    expected_utilities,
    expected_weights,
    human_stated_weights_report,
    preference_statements,
    stated_weight_hits,
)
from ppt_bench.recommend.domains import WEIGHT_GRID


def test_expected_weights_give_the_expected_utility_under_the_product_of_marginals():
    rng = np.random.default_rng(0)
    beliefs = rng.dirichlet(np.ones(5), size=4)                   # (F, G)
    options = rng.random((2, 3, 4))                               # (S, K, F)
    # brute force: every weight vector of the product distribution, weighted by its probability
    brute = np.zeros((2, 3))
    for levels in itertools.product(range(5), repeat=4):
        probability = np.prod([beliefs[j, g] for j, g in enumerate(levels)])
        brute += probability * options @ np.array([WEIGHT_GRID[g] for g in levels])
    assert np.allclose(expected_utilities(expected_weights(beliefs, WEIGHT_GRID), options), brute)


def test_ties_score_the_expected_hit_of_a_uniform_pick():
    assert expected_hits(np.array([0.0, 0.0, 0.0]), np.array(2)) == pytest.approx(1 / 3)
    assert expected_hits(np.array([1.0, 1.0 - 1e-9, 0.0]), np.array(1)) == pytest.approx(0.5)
    assert expected_hits(np.array([1.0, 0.5, 0.0]), np.array(0)) == 1.0


def test_the_bayesian_assistants_beliefs_before_any_round_predict_at_chance():
    # At r = 0 every non-zero level has 125 of the 624 user types: E[w_j] = 0, all options tie.
    interactions = simulate(get_domain("flight"), n_users=5, n_heldout=7, seed=3)
    curve = bayesian_belief_curve(interactions)
    assert curve[0] == pytest.approx(1 / 3)
    assert curve[-1] > 0.5


def test_marginals_of_a_known_user_concentrate_on_its_levels():
    domain = get_domain("flight")
    user = 17
    posterior = np.eye(domain.n_hypotheses)[user]
    marginals = feature_marginals(domain, posterior)
    assert np.array_equal(marginals.argmax(axis=-1), domain.levels_per_hypothesis[user])


def test_statements_are_worded_per_domain_and_ordered_low_to_high():
    flight, hotel = get_domain("flight"), get_domain("hotel")
    price = [f.name for f in flight.features].index("price")
    assert preference_statements(flight, price)[0] == "I strongly prefer cheaper flights."
    assert preference_statements(flight, price)[4] == "I strongly prefer more expensive flights."
    assert "no preference about the number of stops" in preference_statements(flight, 2)[2]
    assert "closer to downtown" in preference_statements(hotel, 0)[1]
    assert "5. I strongly prefer later departure times." in belief_question_text(flight, 0)
    with pytest.raises(ValueError, match="weight domain"):
        preference_statements(get_domain("shopping"), 0)


def test_stated_weight_hits_tie_rules():
    features = np.array([[[[1.0], [1.0], [0.0]]]])   # (U=1, R=1, K=3, F=1): options 1 and 2 tie
    weights = np.array([[1.0]])
    for choice, first, uniform in ((0, 1.0, 0.5), (1, 0.0, 0.5), (2, 0.0, 0.0)):
        choices = np.array([[choice]])
        assert stated_weight_hits(features, choices, weights)[0, 0] == first
        assert stated_weight_hits(features, choices, weights, "uniform")[0, 0] == uniform


def test_human_choices_equal_the_argmax_of_their_stated_weights_62_7_percent(bayesian_teaching_dir):
    """Qiu et al.: 62.7% of the 780 choices of the 156 participants are the argmax of the
    participant's own stated weights (features normalised to [0, 1], ties to the lowest option)."""
    report = human_stated_weights_report(bayesian_teaching_dir)
    assert (report["participants"], report["choices"], report["matches"]) == (156, 780, 489)
    assert round(100 * report["rate"], 1) == 62.7
    # the other tie rules move the figure by at most 10 choices: 37 rounds are tied
    assert report["tied_rounds"] == 37
    assert report["rate_by_tie_rule"]["uniform"] == pytest.approx(487 / 780)
    assert report["rate_by_tie_rule"]["any"] == pytest.approx(499 / 780)


def test_assistant_curve_of_the_human_file_reports_the_stated_weights(bayesian_teaching_dir):
    from ppt_bench.recommend.curves import curve_report

    report = curve_report("flight", bayesian_teaching_dir, human=True)
    assert report["stated_weights"]["matches"] == 489 and report["config"]["human"]
    assert "stated_weights" not in curve_report("flight", bayesian_teaching_dir)
