"""Domains: grids, encoding, utilities and the user's choice rule (ties at random)."""

from __future__ import annotations

import numpy as np
import pytest

from ppt_bench.recommend import (
    choice_probs,
    flight_domain,
    get_domain,
    hotel_domain,
    sample_choices,
    shopping_domain,
    utilities,
    weight_hypotheses,
)
from ppt_bench.recommend.domains import SHOPPING_CATALOGUE


def test_flight_hypothesis_space_is_624_weight_vectors():
    domain = flight_domain()
    assert domain.hypotheses.shape == (624, 4)
    assert not np.any(np.all(domain.hypotheses == 0, axis=1))
    assert set(np.unique(domain.hypotheses)) == {-1.0, -0.5, 0.0, 0.5, 1.0}
    assert len({tuple(row) for row in domain.hypotheses}) == 624


@pytest.mark.parametrize("n_features,expected", [(2, 24), (3, 124), (5, 3124), (8, 390_624)])
def test_flight_feature_count_variants(n_features, expected):
    domain = flight_domain(n_features)
    assert domain.n_features == n_features
    assert domain.n_hypotheses == expected          # 5^n - 1: every user type, never a subset
    assert len(np.unique(domain.levels_per_hypothesis, axis=0)) == expected
    assert get_domain(f"flight_{n_features}features") is domain


def test_weight_hypotheses_subset_is_seeded():
    first, _ = weight_hypotheses(6, max_hypotheses=100, seed=3)
    second, _ = weight_hypotheses(6, max_hypotheses=100, seed=3)
    assert np.array_equal(first, second) and first.shape == (100, 6)


def test_flight_encoding_matches_published_normalisation():
    # "departure time: 03:36 PM, duration: 6 hr 21 min, number of stops: 0, price: $1000"
    # is [0.6, 0.3, 0.0, 1.0] in the published rounds_numpy.
    domain = flight_domain()
    assert np.allclose(domain.encode(np.array([6, 3, 0, 10])), [0.6, 0.3, 0.0, 1.0])
    assert np.allclose(domain.encode(np.array([0, 10, 1, 0])), [0.0, 1.0, 0.5, 0.0])


def test_utilities_are_weighted_sums():
    hypotheses = np.array([[1.0, -0.5], [0.0, 1.0]])
    features = np.array([[0.2, 0.4], [1.0, 1.0], [0.0, 0.0]])
    expected = np.array([[0.0, 0.5, 0.0], [0.4, 1.0, 0.0]])
    assert np.allclose(utilities(hypotheses, features), expected)


def test_choice_rule_argmax_and_ties():
    probs = choice_probs(np.array([[0.1, 0.7, 0.3], [0.5, 0.5, 0.2], [0.0, 0.0, 0.0]]))
    assert np.allclose(probs, [[0, 1, 0], [0.5, 0.5, 0], [1 / 3, 1 / 3, 1 / 3]])
    # float rounding must not break a tie: 0.1 + 0.2 vs 0.3
    assert np.allclose(choice_probs(np.array([0.1 + 0.2, 0.3, 0.0])), [0.5, 0.5, 0.0])


def test_softmax_choice_rule():
    probs = choice_probs(np.array([0.0, 1.0, 2.0]), temperature=1.0)
    assert np.allclose(probs, np.exp([0, 1, 2]) / np.exp([0, 1, 2]).sum())
    assert np.allclose(choice_probs(np.array([0.0, 1.0]), temperature=1e-4), [0, 1])


def test_tied_choices_are_random_and_seeded():
    probs = np.broadcast_to([0.5, 0.5, 0.0], (20000, 3))
    draws = sample_choices(probs, np.random.default_rng(7))
    assert set(np.unique(draws)) == {0, 1}
    assert abs(draws.mean() - 0.5) < 0.02
    assert np.array_equal(draws, sample_choices(probs, np.random.default_rng(7)))


def test_sampled_option_sets_have_no_twins():
    domain = flight_domain(2)                          # 121 possible options: twins would be common
    levels = domain.sample_options(np.random.default_rng(0), (2000,))
    assert levels.shape == (2000, 3, 2)
    assert not np.any(np.all(levels[:, 0] == levels[:, 1], axis=-1))
    assert not np.any(np.all(levels[:, 1] == levels[:, 2], axis=-1))


def test_shopping_reward_is_fraction_of_goal_matched():
    domain = shopping_domain("running_shoes")
    catalogue = SHOPPING_CATALOGUE["running_shoes"]
    n_values = sum(len(values) for values in catalogue.values())
    assert domain.dim == n_values
    goal_sizes = (domain.hypotheses > 0).sum(axis=1)
    assert set(goal_sizes) == {1, 2}
    # product: price $40, color navy, terrain trail, cushioning light
    product = domain.encode(np.array([[0, 2, 1, 1]]))
    rewards = utilities(domain.hypotheses, product)[:, 0]
    for goal, reward in zip(domain.hypotheses, rewards, strict=True):
        matched = (goal[product[0] > 0] > 0).sum()
        assert np.isclose(reward, matched / (goal > 0).sum())


def test_heuristic_prefers_cheapest():
    for domain in (flight_domain(), hotel_domain(), shopping_domain("backpacks")):
        options = domain.sample_options(np.random.default_rng(1), (50,))
        picks = (domain.encode(options) @ domain.heuristic).argmax(axis=-1)
        price = [feature.name for feature in domain.features].index("price")
        assert np.all(options[np.arange(50), picks, price] == options[..., price].min(axis=-1))
