"""Documents of the Bayesian-teaching tasks (`tasks/bayesian_teaching/`, `bt_flight_human`).

A document is (user u, round r, query option set s). Its question is the conversation of the user's
first r rounds, then the query set: in each earlier round the assistant recommended what the
**Bayesian Assistant** recommends given the rounds before it (the same context for every model
evaluated), and the user said which option they prefer. The model answers by continuing
`The best option is Flight` with an option number. Soft label: the Bayesian Assistant's predictive
over the query options after r rounds; outcome: the user's choice in the query set.

Protocols: "heldout" (query sets shared by all users, r = 0..R: the paper's held-out accuracy) and
"next" (the query is round r + 1 itself, r = 0..R-1: for data without held-out sets, e.g. the
official web-shop files and the human participants).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ppt_bench.recommend import (
    BayesianAssistant,
    Interactions,
    first_argmax,
    render_option,
    round_predictives,
)
from ppt_bench.recommend.dialogues import answer_text, feedback_text, intro_text, query_text

EVAL_SEED = 7_919  # differs from every seed used to generate training data (0 by default)
# (users, held-out sets) per size; documents = users x (rounds + 1) x held-out sets. Many held-out sets
# per user make a round's documents share their conversation prefix (cheap to score) while meeting the
# rule of `ppt_bench.harness.sizes`: >= 200 documents per round (95% half-width <= 0.07).
SIZES = {
    "quick": (20, 10),  # 200 documents per round: +-0.069; a 2-core CPU
    "full": (100, 20),  # 2,000 per round: +-0.022; with the rest of `ppt_suite`, ~1 GPU-hour of a 7B
    "paper": (None, 100),  # the paper's protocol; None: every user type once (62,400 per round, flight)
}


@dataclass(frozen=True)
class OptionTexts:
    """Rendered option sets: `rounds[u][r]` and `queries[u][s]` are lists of K option strings."""

    rounds: Sequence[Sequence[Sequence[str]]]
    queries: Sequence[Sequence[Sequence[str]]]


def grid_option_texts(interactions: Interactions) -> OptionTexts:
    """Option strings for a domain on a value grid (rendered exactly like the published data)."""
    domain = interactions.domain

    def render(option_set: np.ndarray) -> list[str]:
        return [render_option(domain, levels, k + 1) for k, levels in enumerate(option_set)]

    rounds = [[render(option_set) for option_set in user] for user in interactions.options]
    shared = [render(option_set) for option_set in interactions.heldout_options]
    return OptionTexts(rounds=rounds, queries=[shared] * interactions.n_users)


def question_text(interactions: Interactions, texts: OptionTexts, recommendations: np.ndarray,
                  user: int, n_rounds: int, query: Sequence[str]) -> str:
    """The conversation of `user`'s first `n_rounds` rounds as a transcript, then the query.

    recommendations (U, R): the assistant's pick in each round (0-based).
    """
    return conversation_text(interactions, texts, recommendations, user, n_rounds,
                             query_text(interactions.domain, "\n".join(query)))


def conversation_text(interactions: Interactions, texts: OptionTexts, recommendations: np.ndarray,
                      user: int, n_rounds: int, request: str) -> str:
    """The transcript of `question_text`, ending on the user's `request` (after the feedback on the
    last round): a query set, or a question about the user's preferences (`bt_beliefs`)."""
    domain = interactions.domain
    turns = []
    pending = intro_text(domain) + "\n\n"
    for t in range(n_rounds):
        shown = query_text(domain, "\n".join(texts.rounds[user][t]))
        turns.append(f"User: {pending}{shown}")
        turns.append(f"Assistant: {answer_text(domain, int(recommendations[user, t]))}")
        pending = feedback_text(domain, int(recommendations[user, t]),
                                int(interactions.choices[user, t])) + "\n\n"
    final = pending + request
    if not turns:
        return final
    return "Our conversation so far:\n\n" + "\n\n".join(turns) + "\n\n" + final


def bayesian_recommendations(interactions: Interactions, temperature: float = 0.0) -> np.ndarray:
    """(U, R): the Bayesian Assistant's recommendation in each round, given the rounds before it."""
    return first_argmax(round_predictives(interactions.domain, interactions.features,
                                          interactions.choices, temperature))


def documents(interactions: Interactions, texts: OptionTexts, task: str, protocol: str = "heldout",
              temperature: float = 0.0) -> list[dict]:
    """All documents of one task, in (user, round, query) order.

    Fields: id, question, answer_prefix, labels ("1".."K"), soft_label (K floats), outcome, user,
    round, query, plus `ba_correct` (whether the Bayesian Assistant's own pick equals the outcome).
    """
    domain = interactions.domain
    recommendations = bayesian_recommendations(interactions, temperature)
    if protocol == "heldout":
        predictive = BayesianAssistant(temperature).predictive(interactions)  # (U, R+1, S, K)
        pairs = [(r, s) for r in range(interactions.n_rounds + 1)
                 for s in range(interactions.heldout_choices.shape[1])]
    elif protocol == "next":
        predictive = round_predictives(domain, interactions.features, interactions.choices,
                                       temperature)  # (U, R, K): round t given rounds < t
        pairs = [(r, r) for r in range(interactions.n_rounds)]
    else:
        raise ValueError(f"unknown protocol {protocol!r}")
    docs = []
    for user in range(interactions.n_users):
        for r, s in pairs:
            if protocol == "heldout":
                soft, query, target = predictive[user, r, s], texts.queries[user][s], \
                    interactions.heldout_choices[user, s]
            else:
                soft, query, target = predictive[user, r], texts.rounds[user][r], \
                    interactions.choices[user, r]
            soft = np.asarray(soft, dtype=np.float64)
            docs.append({
                "id": f"{task}-u{user}-r{r}-s{s}", "question": question_text(
                    interactions, texts, recommendations, user, r, query),
                "answer_prefix": f"The best option is {domain.noun}",
                "labels": [str(k + 1) for k in range(len(query))],
                "soft_label": (soft / soft.sum()).tolist(), "outcome": int(target),
                "user": user, "round": r, "query": s,
                "ba_correct": float(first_argmax(soft) == int(target)),
            })
    return docs
