"""Assistants: Bayesian (exact posterior), Oracle (knows the user), Random, and a heuristic baseline.

Every assistant maps an :class:`Interactions` batch to recommendations ``(U, R+1, S)``: the option it
recommends in each held-out set after 0..R rounds of feedback. Assistants are frozen parameter
records; the work happens in :meth:`recommend`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ppt_bench.recommend._posterior import posteriors_by_round, predictive
from ppt_bench.recommend._protocol import Interactions

# Users per block in the vectorised evaluation: bounds memory at about
# block * (R+1) * (H + S*K) floats whatever the number of users.
USER_BLOCK = 256
# Working floats one block may hold (2^24 float64 = 128 MiB): with many user types (5^8 - 1 = 390,624
# for the 8-feature flight domain) fewer users go in a block and held-out sets go in chunks, so
# the (users, R, K, H) likelihoods and the (H, S, K) option likelihoods stay within it.
FLOAT_BUDGET = 2 ** 24


def users_per_block(n_hypotheses: int, n_rounds: int, n_options: int) -> int:
    """Users whose (R+1) posteriors and R x K round likelihoods over H types fit ``FLOAT_BUDGET``."""
    per_user = n_hypotheses * (n_rounds + 1 + n_rounds * n_options)
    return max(1, min(USER_BLOCK, FLOAT_BUDGET // per_user))


def sets_per_chunk(n_hypotheses: int, n_options: int) -> int:
    """Held-out sets whose (H, S, K) option likelihoods fit ``FLOAT_BUDGET``."""
    return max(1, FLOAT_BUDGET // (n_hypotheses * n_options))


@dataclass(frozen=True)
class BayesianAssistant:
    """Exact posterior over ``domain.hypotheses``; recommends the highest posterior predictive option.

    temperature: the assumed user choice noise (0: deterministic argmax with uniform ties, the
    paper's simulated users; > 0: softmax user, e.g. for human participants).
    Ties in the predictive go to the lowest-numbered option.
    """

    temperature: float = 0.0
    name: str = "bayesian"

    def posteriors(self, interactions: Interactions) -> np.ndarray:
        """``(U, R+1, H)``: posterior over user types after 0..R rounds."""
        return posteriors_by_round(interactions.domain.hypotheses, interactions.features,
                                   interactions.choices, self.temperature)

    def predictive(self, interactions: Interactions) -> np.ndarray:
        """``(U, R+1, S, K)``: posterior predictive over each held-out set's options."""
        hypotheses = interactions.domain.hypotheses
        n_hypotheses, n_options = len(hypotheses), interactions.features.shape[-2]
        step = users_per_block(n_hypotheses, interactions.n_rounds, n_options)
        chunk = sets_per_chunk(n_hypotheses, n_options)
        blocks = []
        for start in range(0, interactions.n_users, step):
            block = interactions.subset(slice(start, start + step))
            posterior = self.posteriors(block)
            if block.shared_heldout:
                heldout = block.heldout_features
                blocks.append(np.concatenate([
                    predictive(posterior, hypotheses, heldout[s:s + chunk], self.temperature)
                    for s in range(0, len(heldout), chunk)], axis=-2))
            else:
                blocks.append(np.stack([
                    predictive(posterior[u], hypotheses, block.heldout_features[u], self.temperature)
                    for u in range(block.n_users)]))
        return np.concatenate(blocks)

    def recommend(self, interactions: Interactions) -> np.ndarray:
        return first_argmax(self.predictive(interactions))


def first_argmax(probs: np.ndarray, atol: float = 1e-12) -> np.ndarray:
    """Index of the largest entry on the last axis, ties (within ``atol``) to the lowest index.

    Plain ``argmax`` would let float rounding in the predictive's matrix product break exact ties.
    """
    return (probs >= probs.max(axis=-1, keepdims=True) - atol).argmax(axis=-1)


@dataclass(frozen=True)
class OracleAssistant:
    """Knows the user: recommends the user's own choice in every held-out set (100% by definition)."""

    name: str = "oracle"

    def recommend(self, interactions: Interactions) -> np.ndarray:
        targets = interactions.heldout_choices[:, None, :]
        return np.broadcast_to(targets, (interactions.n_users, interactions.n_rounds + 1,
                                         targets.shape[-1])).copy()


@dataclass(frozen=True)
class RandomAssistant:
    """Recommends a uniformly random option (seeded); expected accuracy 1/K."""

    seed: int = 0
    name: str = "random"

    def recommend(self, interactions: Interactions) -> np.ndarray:
        n_sets, n_options = interactions.heldout_choices.shape[1], interactions.features.shape[-2]
        shape = (interactions.n_users, interactions.n_rounds + 1, n_sets)
        return np.random.default_rng(self.seed).integers(0, n_options, size=shape)


@dataclass(frozen=True)
class HeuristicAssistant:
    """Ignores feedback; recommends the option maximising ``domain.heuristic`` (e.g. the cheapest)."""

    name: str = "heuristic"

    def recommend(self, interactions: Interactions) -> np.ndarray:
        scores = interactions.heldout_features @ interactions.domain.heuristic   # (S, K) | (U, S, K)
        picks = np.broadcast_to(scores.argmax(axis=-1), interactions.heldout_choices.shape)
        return np.repeat(picks[:, None, :], interactions.n_rounds + 1, axis=1)


def default_assistants(seed: int = 0, temperature: float = 0.0) -> tuple:
    """The four assistants of a curve, Bayesian first."""
    return (BayesianAssistant(temperature), OracleAssistant(), RandomAssistant(seed),
            HeuristicAssistant())


def per_user_loop_predictive(interactions: Interactions, temperature: float = 0.0) -> np.ndarray:
    """Reference implementation: the same predictive ``(U, R+1, S, K)`` with plain per-user loops.

    For each user, round and held-out set, numpy only over hypotheses and options. Used by the
    benchmark (speed ratio) and by tests (equality with :meth:`BayesianAssistant.predictive`).
    """
    from ppt_bench.recommend._domain import choice_probs

    hypotheses = interactions.domain.hypotheses
    n_sets, n_options = interactions.heldout_choices.shape[1], interactions.features.shape[-2]
    out = np.zeros((interactions.n_users, interactions.n_rounds + 1, n_sets, n_options))
    for u in range(interactions.n_users):
        posterior = np.full(len(hypotheses), 1.0 / len(hypotheses))
        heldout = (interactions.heldout_features if interactions.shared_heldout
                   else interactions.heldout_features[u])
        for r in range(interactions.n_rounds + 1):
            if r > 0:
                probs = choice_probs(hypotheses @ interactions.features[u, r - 1].T, temperature)
                updated = posterior * probs[:, interactions.choices[u, r - 1]]
                if updated.sum() > 0:
                    posterior = updated / updated.sum()
            for s in range(n_sets):
                out[u, r, s] = posterior @ choice_probs(hypotheses @ heldout[s].T, temperature)
    return out
