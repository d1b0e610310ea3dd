"""Interactions as chat dialogues, and the Bayesian / Oracle teaching exports (Qiu et al. 2026).

Shape of a dialogue (ppt-bench's own wording, the paper's structure): the user asks which of the
numbered options is best for them; the assistant answers ``"The best option is Flight N."``; the user
says whether that was right and which option they prefer, then asks about the next set.

Teaching exports, one conversation per line::

    {"idx": 0, "teacher": "bayesian", "messages": [{"role": "user", "content": ...}, ...],
     "soft_labels": [[p1, p2, p3], ...]}       # Bayesian predictive, one row per assistant turn

Bayesian teaching: assistant turns are the Bayesian Assistant's recommendations; Oracle teaching: the
user's actual choices. ``soft_labels`` is the Bayesian Assistant's predictive in both.

The pure functions here (``dialogue_messages``, ``round_predictives``, ``predictive_after``,
``posterior_after``) are what lm-eval tasks build documents from: a document is a user, a number of
rounds r in 0..5 and a held-out option set.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import numpy as np

from ppt_bench.metrics import check_soft_label
from ppt_bench.recommend._domain import Domain, choice_probs, utilities
from ppt_bench.recommend._posterior import posteriors_by_round, predictive
from ppt_bench.recommend._protocol import Interactions
from ppt_bench.recommend._render import render_options
from ppt_bench.recommend.assistants import first_argmax, users_per_block

TEACHERS = ("bayesian", "oracle")


def _plural(domain: Domain) -> str:
    return domain.noun.lower() + "s"


def intro_text(domain: Domain) -> str:
    """Opening of the first user message: the task, before any options."""
    return (f"I'd like your help choosing {_plural(domain)} for me. Each time, I'll list a few "
            f"options; tell me which one you think suits me best. Then I'll tell you which one I "
            f"would actually pick, so you can learn what I care about as we go.")


def query_text(domain: Domain, options: np.ndarray | str) -> str:
    """The user's question about one option set: levels ``(K, n_features)``, or the options already
    rendered one per line (e.g. official web-shop products)."""
    rendered = options if isinstance(options, str) else render_options(domain, options)
    return f"Here are the options:\n{rendered}\nWhich {domain.noun.lower()} is the best option for me?"


def answer_text(domain: Domain, option: int) -> str:
    """The assistant's answer for 0-based ``option``: ``"The best option is Flight 2."``"""
    return f"The best option is {domain.noun} {int(option) + 1}."


def parse_answer(domain: Domain, text: str) -> int | None:
    """0-based option named in an answer (the first ``"<Noun> N"``), or None if there is none."""
    match = re.search(rf"\b{re.escape(domain.noun)}\s+(\d+)", text, flags=re.IGNORECASE)
    return int(match.group(1)) - 1 if match else None


def feedback_text(domain: Domain, recommended: int, chosen: int) -> str:
    """The user's reply after a recommendation (0-based indices)."""
    if recommended == chosen:
        return f"That's right: {domain.noun} {chosen + 1} is the one I would pick."
    return (f"Not quite. You suggested {domain.noun} {recommended + 1}, "
            f"but I would pick {domain.noun} {chosen + 1}.")


def dialogue_messages(domain: Domain, options: np.ndarray, choices: np.ndarray,
                      recommendations: np.ndarray, n_rounds: int | None = None,
                      query: np.ndarray | None = None) -> list[dict[str, str]]:
    """The chat for the first ``n_rounds`` rounds, optionally followed by a question about ``query``.

    options (R, K, F) levels, choices (R,), recommendations (R,) (the assistant's picks, 0-based).
    Without ``query`` the chat ends on the assistant's last answer (an SFT example; the feedback on
    the last round teaches nothing and is left out). With ``query`` (K, F) it ends on a user turn:
    feedback on round ``n_rounds`` and the question about the query set (an evaluation prompt; with
    ``n_rounds = 0`` just the intro and the question).
    """
    n_rounds = len(choices) if n_rounds is None else n_rounds
    if query is None and n_rounds == 0:
        raise ValueError("a dialogue needs at least one round or a query")
    messages: list[dict[str, str]] = []
    pending = intro_text(domain) + "\n\n"
    for t in range(n_rounds):
        messages.append({"role": "user", "content": pending + query_text(domain, options[t])})
        messages.append({"role": "assistant", "content": answer_text(domain, recommendations[t])})
        pending = feedback_text(domain, int(recommendations[t]), int(choices[t])) + "\n\n"
    if query is not None:
        messages.append({"role": "user", "content": pending + query_text(domain, query)})
    return messages


def round_predictives(domain: Domain, features: np.ndarray, choices: np.ndarray,
                      temperature: float = 0.0) -> np.ndarray:
    """Bayesian predictive over each round's options given the rounds before it.

    features (..., R, K, d), choices (..., R) -> (..., R, K); row t conditions on rounds < t.
    A batch (leading axis) is done in blocks of users (`assistants.users_per_block`), so its memory
    stays bounded with many user types (390,624 for the 8-feature flight domain).
    """
    features, choices = np.asarray(features), np.asarray(choices)
    n_rounds, n_options = features.shape[-3], features.shape[-2]
    step = users_per_block(domain.n_hypotheses, n_rounds, n_options)
    if features.ndim > 3 and len(features) > step:
        return np.concatenate([round_predictives(domain, features[start:start + step],
                                                 choices[start:start + step], temperature)
                               for start in range(0, len(features), step)])
    posterior = posteriors_by_round(domain.hypotheses, features, choices, temperature)[..., :-1, :]
    likelihood = choice_probs(utilities(domain.hypotheses, features), temperature)  # (..., R, H, K)
    return np.einsum("...rh,...rhk->...rk", posterior, likelihood)


def posterior_after(domain: Domain, options: np.ndarray, choices: np.ndarray, n_rounds: int,
                    temperature: float = 0.0) -> np.ndarray:
    """Posterior over ``domain.hypotheses`` after the first ``n_rounds`` rounds: ``(H,)``.

    options (R, K, F) levels, choices (R,). Use ``feature_marginals(domain, posterior)`` for the
    per-feature beliefs over the 5 preference levels.
    """
    features = domain.encode(np.asarray(options)[:n_rounds])
    return posteriors_by_round(domain.hypotheses, features, np.asarray(choices)[:n_rounds],
                               temperature)[-1]


def predictive_after(domain: Domain, options: np.ndarray, choices: np.ndarray, n_rounds: int,
                     query: np.ndarray, temperature: float = 0.0) -> np.ndarray:
    """The Bayesian Assistant's distribution over the ``query`` (K, F) options after ``n_rounds``.

    Returns ``(K,)`` float64 summing to 1 (soft labels for an evaluation document).
    """
    posterior = posterior_after(domain, options, choices, n_rounds, temperature)
    probs = predictive(posterior, domain.hypotheses, domain.encode(np.asarray(query))[None],
                       temperature)[0]
    return check_soft_label(probs, len(probs))


def teaching_records(interactions: Interactions, teacher: str,
                     temperature: float = 0.0) -> Iterator[dict]:
    """One export record per user (see the module docstring); ``teacher`` in ``TEACHERS``."""
    if teacher not in TEACHERS:
        raise ValueError(f"teacher must be one of {TEACHERS}, not {teacher!r}")
    if interactions.options is None:
        raise ValueError("dialogues need option levels on the domain's grid")
    domain = interactions.domain
    soft_labels = round_predictives(domain, interactions.features, interactions.choices,
                                    temperature)                                # (U, R, K)
    picks = first_argmax(soft_labels) if teacher == "bayesian" else interactions.choices
    for u in range(interactions.n_users):
        record = {"idx": u, "teacher": teacher,
                  "messages": dialogue_messages(domain, interactions.options[u],
                                                interactions.choices[u], picks[u]),
                  "soft_labels": soft_labels[u].round(12).tolist()}
        if interactions.user_types[u] >= 0:
            record["reward_fn"] = domain.hypotheses[interactions.user_types[u]].tolist()
        yield record
