"""The evaluation protocol: users, interaction rounds with feedback, held-out option sets, scoring.

Qiu et al. (2026): each user plays ``R = 5`` rounds of ``K = 3`` options; after each round the
assistant learns the user's choice. Accuracy is measured on ``S = 100`` held-out option sets (the same
for every user) at evaluation points r = 0..R (r = 0: before any feedback).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ppt_bench.recommend._domain import Domain, choice_probs, sample_choices


@dataclass(frozen=True, eq=False)
class Interactions:
    """A batch of users, their rounds and their held-out option sets (arrays, no behaviour).

    features:          (U, R, K, d) encoded options shown in the interaction rounds
    choices:           (U, R) the user's choice in each round
    heldout_features:  (S, K, d) shared held-out sets, or (U, S, K, d) one list per user
    heldout_choices:   (U, S) the user's preferred option in each held-out set (scoring target)
    user_types:        (U,) row of ``domain.hypotheses`` each user is, or -1 when unknown (humans)
    options, heldout_options: the same option sets as integer levels, (U, R, K, F) and (S, K, F),
                       when they are on the domain's grid (None for official web-shop products)
    """

    domain: Domain
    features: np.ndarray
    choices: np.ndarray
    heldout_features: np.ndarray
    heldout_choices: np.ndarray
    user_types: np.ndarray
    options: np.ndarray | None = None
    heldout_options: np.ndarray | None = None
    source: str = "generated"

    @property
    def n_users(self) -> int:
        return len(self.choices)

    @property
    def n_rounds(self) -> int:
        return self.choices.shape[1]

    @property
    def shared_heldout(self) -> bool:
        return self.heldout_features.ndim == 3

    def subset(self, users: np.ndarray | slice) -> Interactions:
        """The same batch restricted to some users (index array or slice)."""
        return Interactions(
            domain=self.domain, features=self.features[users], choices=self.choices[users],
            heldout_features=self.heldout_features if self.shared_heldout
            else self.heldout_features[users],
            heldout_choices=self.heldout_choices[users], user_types=self.user_types[users],
            options=None if self.options is None else self.options[users],
            heldout_options=self.heldout_options, source=self.source)

    def head(self, n_users: int | None = None, n_heldout: int | None = None) -> Interactions:
        """The first ``n_users`` users and the first ``n_heldout`` shared held-out sets (None: all)."""
        batch = self.subset(slice(n_users))
        if n_heldout is None or not batch.shared_heldout:
            return batch
        return Interactions(
            domain=batch.domain, features=batch.features, choices=batch.choices,
            heldout_features=batch.heldout_features[:n_heldout],
            heldout_choices=batch.heldout_choices[:, :n_heldout], user_types=batch.user_types,
            options=batch.options,
            heldout_options=None if batch.heldout_options is None else batch.heldout_options[:n_heldout],
            source=batch.source)


def simulate(domain: Domain, n_users: int | None = None, n_heldout: int = 100, n_rounds: int = 5,
             n_options: int = 3, seed: int = 0, temperature: float = 0.0) -> Interactions:
    """Generated users for ``domain``: every user type once (``n_users=None``) or a seeded sample.

    Option levels are uniform on each grid; choices follow :func:`choice_probs` (ties at random,
    seeded). The held-out sets are shared by all users, as in the paper.
    """
    rng = np.random.default_rng(seed)
    n_types = domain.n_hypotheses
    if n_users is None or n_users == n_types:
        user_types = np.arange(n_types)
    else:
        user_types = np.sort(rng.choice(n_types, n_users, replace=n_users > n_types))
    weights = domain.hypotheses[user_types]                                    # (U, d)
    heldout_options = domain.sample_options(rng, (n_heldout,), n_options)
    options = domain.sample_options(rng, (len(user_types), n_rounds), n_options)
    features = domain.encode(options)
    heldout_features = domain.encode(heldout_options)
    round_utility = np.einsum("urkd,ud->urk", features, weights)
    heldout_utility = np.einsum("skd,ud->usk", heldout_features, weights)
    choices = sample_choices(choice_probs(round_utility, temperature), rng)
    heldout_choices = sample_choices(choice_probs(heldout_utility, temperature), rng)
    return Interactions(domain=domain, features=features, choices=choices,
                        heldout_features=heldout_features, heldout_choices=heldout_choices,
                        user_types=user_types, options=options, heldout_options=heldout_options)


def accuracy_curve(recommendations: np.ndarray, targets: np.ndarray) -> np.ndarray:
    """Fraction of held-out sets recommended correctly at each evaluation point.

    recommendations (U, R+1, S), targets (U, S) -> (R+1,), averaged over users and sets.
    """
    return (recommendations == targets[:, None, :]).mean(axis=(0, 2))


def agreement_curve(first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """Fraction of identical recommendations per evaluation point: (U, R+1, S) x2 -> (R+1,)."""
    return (first == second).mean(axis=(0, 2))


def online_view(interactions: Interactions) -> Interactions:
    """The interaction rounds as per-user held-out sets, for data without held-out sets.

    With it, ``recommendations[:, t, t]`` predicts round t+1 from the first t rounds
    (see :func:`online_accuracy`).
    """
    return Interactions(domain=interactions.domain, features=interactions.features,
                        choices=interactions.choices, heldout_features=interactions.features,
                        heldout_choices=interactions.choices, user_types=interactions.user_types,
                        options=interactions.options, heldout_options=None,
                        source=interactions.source + "/online")


def online_accuracy(recommendations: np.ndarray, choices: np.ndarray) -> np.ndarray:
    """Accuracy of predicting round t+1 after t rounds, t = 0..R-1.

    recommendations (U, R+1, R) from :func:`online_view` data, choices (U, R) -> (R,).
    """
    n_rounds = choices.shape[1]
    steps = np.arange(n_rounds)
    return (recommendations[:, steps, steps] == choices).mean(axis=0)

