"""Exact posterior: vectorised code against brute-force enumeration on a tiny domain, ties included."""

from __future__ import annotations

from fractions import Fraction
from itertools import product

import numpy as np
import pytest

from ppt_bench.recommend import (
    BayesianAssistant,
    Domain,
    Feature,
    feature_marginals,
    flight_domain,
    posteriors_by_round,
    predictive,
    simulate,
    weight_hypotheses,
)
from ppt_bench.recommend.assistants import first_argmax, per_user_loop_predictive


def tiny_domain() -> Domain:
    """Two features with 3 levels, weights in {-1, 0, 1}: 8 user types, many ties."""
    features = (Feature("a", "a", (0, 1, 2)), Feature("b", "b", (0, 1, 2)))
    weights, levels = weight_hypotheses(2, grid=(-1.0, 0.0, 1.0))
    return Domain("tiny", "Thing", features, weights, np.array([-1.0, 0.0]),
                  weight_grid=(-1.0, 0.0, 1.0), levels_per_hypothesis=levels)


def brute_force_posterior(hypotheses, option_levels, choices):
    """Bayes' rule by enumeration with exact fractions; ties: 1/|argmax| (integer utilities)."""
    weights = [[Fraction(w).limit_denominator() for w in row] for row in hypotheses]
    unnormalised = []
    for row in weights:
        mass = Fraction(1, len(weights))
        for options, choice in zip(option_levels, choices, strict=True):
            values = [sum(w * Fraction(int(x), 2) for w, x in zip(row, option, strict=True))
                      for option in options]
            best = [k for k, value in enumerate(values) if value == max(values)]
            mass *= Fraction(1, len(best)) if choice in best else 0
        unnormalised.append(mass)
    total = sum(unnormalised)
    return [float(mass / total) for mass in unnormalised]


def test_posterior_matches_brute_force_on_tiny_domain():
    domain = tiny_domain()
    rng = np.random.default_rng(0)
    checked = 0
    for _ in range(200):
        option_levels = domain.sample_options(rng, (3,))
        choices = rng.integers(0, 3, size=3)
        try:
            expected = brute_force_posterior(domain.hypotheses, option_levels, choices)
        except ZeroDivisionError:                      # no type explains these choices
            continue
        posterior = posteriors_by_round(domain.hypotheses, domain.encode(option_levels), choices)
        assert np.allclose(posterior[-1], expected)
        checked += 1
    assert checked > 20


def test_tie_likelihood_is_one_over_argmax_set():
    domain = tiny_domain()
    # Options (a, b) levels: (2, 0), (0, 2), (1, 1). The type w = (1, 1) is indifferent between all
    # three; w = (1, 0) prefers option 1 alone; w = (0, 0) is not in the space.
    options = np.array([[[2, 0], [0, 2], [1, 1]]])
    posterior = posteriors_by_round(domain.hypotheses, domain.encode(options), np.array([0]))[-1]
    index = {tuple(row): h for h, row in enumerate(domain.hypotheses)}
    assert posterior[index[(1.0, 1.0)]] == pytest.approx(posterior[index[(1.0, 0.0)]] / 3)
    assert posterior[index[(0.0, 1.0)]] == 0


def test_predictive_sums_to_one_and_round_zero_is_prior_predictive():
    interactions = simulate(flight_domain(), n_users=20, n_heldout=7, seed=1)
    probs = BayesianAssistant().predictive(interactions)
    assert probs.shape == (20, 6, 7, 3)
    assert np.allclose(probs.sum(axis=-1), 1.0)
    prior = np.full(624, 1 / 624)
    assert np.allclose(probs[:, 0], predictive(prior, flight_domain().hypotheses,
                                               interactions.heldout_features))


def test_vectorised_equals_per_user_loop():
    for temperature in (0.0, 0.2):
        interactions = simulate(flight_domain(), n_users=6, n_heldout=5, seed=2)
        fast = BayesianAssistant(temperature).predictive(interactions)
        slow = per_user_loop_predictive(interactions, temperature)
        assert np.allclose(fast, slow)


def test_true_user_keeps_posterior_mass():
    interactions = simulate(flight_domain(), n_users=50, n_heldout=1, seed=3)
    posterior = BayesianAssistant().posteriors(interactions)
    own = posterior[np.arange(50), :, interactions.user_types]
    assert np.all(own > 0)                            # the truth is never ruled out


def test_impossible_round_is_skipped_not_nan():
    hypotheses = np.array([[1.0, 0.0], [-1.0, 0.5]])
    features = np.array([[[1.0, 0.0], [0.0, 0.0], [0.5, 0.0]]] * 2)
    # Neither type can pick the middle option 3 (index 2): it is strictly dominated for both.
    posterior = posteriors_by_round(hypotheses, features, np.array([0, 2]))
    assert np.all(np.isfinite(posterior))
    assert np.allclose(posterior[2], posterior[1])


def test_feature_marginals_over_five_levels():
    domain = flight_domain()
    posterior = np.zeros(624)
    target = np.flatnonzero(np.all(domain.hypotheses == [1.0, -0.5, 0.0, 0.5], axis=1))[0]
    posterior[target] = 1.0
    marginals = feature_marginals(domain, posterior)
    assert marginals.shape == (4, 5)
    assert np.array_equal(marginals.argmax(axis=1), [4, 1, 2, 3])
    uniform = feature_marginals(domain, np.full(624, 1 / 624))
    assert np.allclose(uniform.sum(axis=1), 1.0)
    assert np.allclose(uniform[:, 2], 124 / 624)       # weight 0 is one fewer: all-zero excluded


def test_first_argmax_breaks_float_ties_low():
    probs = np.array([[0.3 + 1e-16, 0.3, 0.4 - 1e-16], [0.5, 0.5 + 1e-15, 0.0]])
    assert np.array_equal(first_argmax(probs), [2, 0])


def test_brute_force_helper_agrees_with_enumeration_of_choices():
    # Sanity of the reference itself: summing the brute-force predictive over all choices of one
    # round gives total probability 1 for every user type.
    domain = tiny_domain()
    options = domain.sample_options(np.random.default_rng(5), (1,))[0]
    for row in domain.hypotheses:
        total = 0.0
        for choice in product(range(3)):
            values = [float(np.dot(row, domain.encode(option))) for option in options]
            best = [k for k, v in enumerate(values) if np.isclose(v, max(values))]
            total += (1 / len(best)) if choice[0] in best else 0
        assert total == pytest.approx(1.0)


def test_blocked_predictive_equals_one_block(monkeypatch):
    """Users in blocks and held-out sets in chunks (many user types) give the same predictive."""
    from ppt_bench.recommend import assistants, dialogues

    interactions = simulate(flight_domain(3), n_users=9, n_heldout=7, seed=4)
    whole = BayesianAssistant().predictive(interactions)
    rounds = dialogues.round_predictives(interactions.domain, interactions.features, interactions.choices)
    monkeypatch.setattr(assistants, "FLOAT_BUDGET", 124 * 3 * 2)  # 2 sets per chunk, 1 user per block
    assert assistants.users_per_block(124, 5, 3) == 1 and assistants.sets_per_chunk(124, 3) == 2
    assert np.array_equal(BayesianAssistant().predictive(interactions), whole)
    assert np.array_equal(dialogues.round_predictives(interactions.domain, interactions.features,
                                                      interactions.choices), rounds)
