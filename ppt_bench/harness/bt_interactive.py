"""The interactive protocol of the Bayesian-teaching tasks: the model plays the assistant (Qiu et al.).

In the static lm-eval documents (protocol "assistant-context", `bt_documents`) every earlier round
shows the Bayesian Assistant's recommendation. Here the model makes them itself, round-synchronously
over all users of a task (one `lm.loglikelihood` call per round for the recommendations, one per
evaluation point for the held-out documents, through the same lm-eval backend and requests):

    r = 0:         score the held-out documents with the empty conversation
    t = 1..R:      recommendation requests of round t for every user (conversation of rounds < t, the
                   round's options); the model recommends a_t = first argmax of p = softmax(lls);
                   the user's feedback is `feedback_text(a_t, c_t)` (the user's choice c_t is fixed);
                   then the held-out documents after t rounds, with the conversation the model made

The Bayesian Assistant's posterior depends on the user's choices only, so its predictive (the held-out
soft labels) and its recommendation given the model's conversation are those of the static documents:

    acc_r<r>, agree_r<r>   held-out sets after r rounds (as in the static task; lm-eval's aggregation)
    rec_agree_r<t>         [a_{t+1} == Bayesian Assistant's pick in round t+1], t = 0..R-1 rounds seen
    rec_acc_r<t>           [a_{t+1} == the user's choice c_{t+1}]

The held-out scores go through `lm_eval.simple_evaluate` once more at the end (a replay of the scores
already computed, no second forward pass), so results.json and samples.jsonl have the static task's
layout. A checkpoint after every round (`interactive_state.json`, atomic) lets a stopped run resume.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ppt_bench.errors import ConfigError
from ppt_bench.harness.bt_documents import EVAL_SEED, SIZES, OptionTexts, grid_option_texts, question_text
from ppt_bench.recommend import BayesianAssistant, Interactions, first_argmax, round_predictives

GENERATED_TASKS = ("bt_flight", "bt_hotel", "bt_shopping")
OFFICIAL_TASKS = ("bt_flight_official", "bt_hotel_official")  # published rounds and held-out sets
TASKS = GENERATED_TASKS + OFFICIAL_TASKS + tuple(f"{task}_calib" for task in GENERATED_TASKS)
STATE_FILE = "interactive_state.json"
RECOMMENDATIONS_FILE = "recommendations.jsonl"


def check_tasks(tasks: Sequence[str]) -> None:
    """ConfigError naming the tasks the interactive protocol does not apply to."""
    other = [task for task in tasks if task not in TASKS]
    if other:
        raise ConfigError(f"--protocol interactive applies to {', '.join(TASKS)}, not {', '.join(other)} "
                          "(bt_flight_human and bt_webshop_official have no held-out sets; other tasks have "
                          "no rounds)")


@dataclass(frozen=True)
class Population:
    """The users of one domain of a task: batch, option texts, document id prefix, `domain` field."""

    prefix: str
    domain: str
    interactions: Interactions
    texts: OptionTexts


def populations(task: str, size: str, limit: int | None = None, data_dir=None) -> list[Population]:
    """The task's users at `size`, as the static task draws them (same seed, users and sets).

    limit: keep whole users, in document order, until their held-out documents reach `limit`.
    """
    from ppt_bench.harness.bt_tasks import CALIB_SEED, CALIB_SIZES, GENERATED, _size, users_per_domain
    from ppt_bench.harness.scoring import CALIB_SUFFIX

    family = task.removesuffix(CALIB_SUFFIX)
    if family in GENERATED:
        from ppt_bench.recommend import get_domain, simulate

        calib = family != task
        n_users, n_heldout = _size(size, CALIB_SIZES if calib else SIZES)
        pops = []
        for name in GENERATED[family]:
            domain = get_domain(name)
            batch = simulate(domain, n_users=users_per_domain(n_users, len(GENERATED[family])),
                             n_heldout=n_heldout, seed=CALIB_SEED if calib else EVAL_SEED)
            pops.append(Population(f"{task}-{domain.name}", domain.name, batch, grid_option_texts(batch)))
    else:
        from ppt_bench.data import dataset_path
        from ppt_bench.recommend import official

        name = task.removeprefix("bt_").removesuffix("_official")
        batch = official.load_weight_records(dataset_path("bayesian_teaching", data_dir), name).head(*_size(size))
        pops = [Population(task, name, batch, grid_option_texts(batch))]
    if limit is None:
        return pops
    kept, remaining = [], limit
    for pop in pops:
        batch = pop.interactions
        per_user = (batch.n_rounds + 1) * batch.heldout_choices.shape[1]
        n = min(batch.n_users, -(-remaining // per_user))
        if n > 0:
            kept.append(Population(pop.prefix, pop.domain, batch.subset(slice(n)), OptionTexts(
                pop.texts.rounds[:n], pop.texts.queries[:n])))
        remaining -= n * per_user
    return kept


def _document(pop: Population, recommendations: np.ndarray, user: int, n_rounds: int, query: Sequence[str],
              soft: np.ndarray, outcome: int, doc_id: str, query_index: int) -> dict:
    """One document, with the fields of `bt_documents.documents` (and `domain`)."""
    soft = np.asarray(soft, dtype=np.float64)
    return {"id": doc_id, "question": question_text(pop.interactions, pop.texts, recommendations, user,
                                                    n_rounds, query),
            "answer_prefix": f"The best option is {pop.interactions.domain.noun}",
            "labels": [str(k + 1) for k in range(len(query))], "soft_label": (soft / soft.sum()).tolist(),
            "outcome": int(outcome), "user": user, "round": n_rounds, "query": query_index,
            "ba_correct": float(first_argmax(soft) == int(outcome)), "domain": pop.domain}


def heldout_documents(pop: Population, recommendations: np.ndarray, n_rounds: int,
                      predictive: np.ndarray) -> list[dict]:
    """Held-out documents after `n_rounds` rounds, (user, query) order; recommendations (U, R) (the
    first `n_rounds` columns are used), predictive (U, R+1, S, K) the Bayesian Assistant's."""
    batch = pop.interactions
    return [_document(pop, recommendations, u, n_rounds, pop.texts.queries[u][s], predictive[u, n_rounds, s],
                      batch.heldout_choices[u, s], f"{pop.prefix}-u{u}-r{n_rounds}-s{s}", s)
            for u in range(batch.n_users) for s in range(batch.heldout_choices.shape[1])]


def recommendation_documents(pop: Population, recommendations: np.ndarray, n_rounds: int,
                             round_predictive: np.ndarray) -> list[dict]:
    """The request of round `n_rounds + 1` for every user: conversation of the first `n_rounds`
    rounds, then that round's options; soft label = the Bayesian Assistant's (U, R, K) row."""
    batch = pop.interactions
    return [_document(pop, recommendations, u, n_rounds, pop.texts.rounds[u][n_rounds],
                      round_predictive[u, n_rounds], batch.choices[u, n_rounds],
                      f"{pop.prefix}-u{u}-t{n_rounds + 1}-recommend", n_rounds)
            for u in range(batch.n_users)]


@dataclass(frozen=True)
class Transcript:
    """What the model did: recommendations (U, R) and their choice log-likelihoods (U, R, K) per
    population, and the held-out choice log-likelihoods by document id."""

    recommendations: tuple[np.ndarray, ...]
    rec_loglikelihoods: tuple[np.ndarray, ...]
    heldout: dict[str, list[float]]


def play(pops: Sequence[Population], score: Callable[[list[dict]], list[np.ndarray]],
         progress: Callable[[str], None] = print, state: dict | None = None,
         checkpoint: Callable[[dict], None] | None = None) -> Transcript:
    """Run the protocol (module doc). `score(docs)` returns each document's choice log-likelihoods
    and is called once per step with every population's documents; `state` (a checkpoint written by
    `checkpoint` after each step) resumes from the first step it lacks."""
    rounds = {pop.interactions.n_rounds for pop in pops}
    if len(rounds) != 1:
        raise ValueError(f"populations differ in rounds: {sorted(rounds)}")
    n_rounds = rounds.pop()
    predictives = [BayesianAssistant().predictive(pop.interactions) for pop in pops]
    round_preds = [round_predictives(pop.interactions.domain, pop.interactions.features,
                                     pop.interactions.choices) for pop in pops]
    state = state or {"done": -1, "recommendations": [np.full(pop.interactions.choices.shape, -1).tolist()
                                                      for pop in pops],
                      "rec_loglikelihoods": [np.zeros(p.shape).tolist() for p in round_preds], "heldout": {}}
    recs = [np.array(r, dtype=int) for r in state["recommendations"]]
    rec_lls = [np.array(r, dtype=float) for r in state["rec_loglikelihoods"]]
    heldout: dict[str, list[float]] = dict(state["heldout"])
    for step in range(state["done"] + 1, n_rounds + 1):
        if step > 0:  # round `step`: the model recommends, given its own rounds 1..step-1
            docs = [recommendation_documents(pop, rec, step - 1, pred)
                    for pop, rec, pred in zip(pops, recs, round_preds, strict=True)]
            progress(f"  round {step}/{n_rounds}: {sum(map(len, docs))} recommendations")
            scores = iter(score([doc for part in docs for doc in part]))
            for part, rec, lls in zip(docs, recs, rec_lls, strict=True):
                for doc in part:
                    row = np.asarray(next(scores), dtype=float)
                    rec[doc["user"], step - 1] = int(first_argmax(row))
                    lls[doc["user"], step - 1] = row
        docs = [doc for pop, rec, pred in zip(pops, recs, predictives, strict=True)
                for doc in heldout_documents(pop, rec, step, pred)]
        progress(f"  after {step} round(s): {len(docs)} held-out documents")
        for doc, row in zip(docs, score(docs), strict=True):
            heldout[doc["id"]] = [float(v) for v in row]
        if checkpoint is not None:
            checkpoint({"done": step, "recommendations": [r.tolist() for r in recs],
                        "rec_loglikelihoods": [r.tolist() for r in rec_lls], "heldout": heldout})
    return Transcript(tuple(recs), tuple(rec_lls), heldout)


def bernoulli_summary(hits: np.ndarray) -> tuple[float, float]:
    """(mean, stderr) of 0/1 values as lm-eval writes a mean: stderr = sample std (n - 1) / sqrt(n)."""
    hits = np.asarray(hits, dtype=float).ravel()
    stderr = float(hits.std(ddof=1) / math.sqrt(len(hits))) if len(hits) > 1 else float("nan")
    return float(hits.mean()), stderr


def recommendation_metrics(pops: Sequence[Population], transcript: Transcript) -> dict[str, tuple[float, float]]:
    """{metric: (value, stderr)}: rec_agree, rec_acc overall and per rounds seen (`_r<t>`)."""
    agree = np.concatenate([rec == first_argmax(round_predictives(pop.interactions.domain,
                                                                  pop.interactions.features,
                                                                  pop.interactions.choices))
                            for pop, rec in zip(pops, transcript.recommendations, strict=True)])
    correct = np.concatenate([rec == pop.interactions.choices
                              for pop, rec in zip(pops, transcript.recommendations, strict=True)])
    out = {"rec_agree": bernoulli_summary(agree), "rec_acc": bernoulli_summary(correct)}
    for t in range(agree.shape[1]):
        out[f"rec_agree_r{t}"] = bernoulli_summary(agree[:, t])
        out[f"rec_acc_r{t}"] = bernoulli_summary(correct[:, t])
    return out


def transcript_records(pops: Sequence[Population], transcript: Transcript) -> list[dict]:
    """One line per user for `recommendations.jsonl` (0-based option indices)."""
    records = []
    for pop, rec, lls in zip(pops, transcript.recommendations, transcript.rec_loglikelihoods, strict=True):
        batch = pop.interactions
        assistant = first_argmax(round_predictives(batch.domain, batch.features, batch.choices))
        for u in range(batch.n_users):
            records.append({"user": u, "domain": pop.domain, "recommendations": rec[u].tolist(),
                            "assistant": assistant[u].tolist(), "choices": batch.choices[u].tolist(),
                            "rec_loglikelihoods": lls[u].round(6).tolist()})
    return records


# --- through lm-eval ----------------------------------------------------------------------------

def _set_docs(task_obj, docs: list[dict]) -> None:
    from datasets import Dataset, DatasetDict

    task_obj.dataset = DatasetDict({task_obj.config.test_split: Dataset.from_list(docs)})


def request_scorer(task_obj, lm, chat: bool) -> Callable[[list[dict]], list[np.ndarray]]:
    """`score(docs)`: the task's lm-eval requests for `docs` (built as `requests.task_requests` and
    lm-eval's evaluator build them) in one `lm.loglikelihood` call -> (K,) log-likelihoods per doc."""

    def score(docs: list[dict]) -> list[np.ndarray]:
        _set_docs(task_obj, docs)
        task_obj.build_all_requests(apply_chat_template=chat,
                                    chat_template=lm.apply_chat_template if chat else None,
                                    tokenizer_name=getattr(lm, "tokenizer_name", "") if chat else "")
        instances = list(task_obj.instances)
        responses = lm.loglikelihood(instances)
        rows = [np.zeros(len(doc["labels"])) for doc in docs]
        for instance, response in zip(instances, responses, strict=True):
            rows[instance.doc_id][instance.idx] = response[0] if isinstance(response, tuple | list) else response
        return rows

    return score


def _replay_lm(lm, scores: dict[str, list[float]]):
    """An lm-eval LM that answers each request with the score recorded for its document and choice
    (is_greedy False), and renders chat templates as `lm` does."""
    from lm_eval.api.model import LM

    class Replay(LM):
        @property
        def tokenizer_name(self) -> str:
            return lm.tokenizer_name

        def loglikelihood(self, requests):
            return [(scores[request.doc["id"]][request.idx], False) for request in requests]

        def loglikelihood_rolling(self, requests):
            return self._only_loglikelihood("loglikelihood_rolling")

        def generate_until(self, requests):
            return self._only_loglikelihood("generate_until")

        @staticmethod
        def _only_loglikelihood(kind: str):
            # the held-out documents are multiple-choice: lm-eval never asks the replay for this
            raise TypeError(f"the replay of recorded scores answers loglikelihood requests, not {kind}")

        def apply_chat_template(self, *args, **kwargs):
            return lm.apply_chat_template(*args, **kwargs)

        def chat_template(self, *args, **kwargs):
            return lm.chat_template(*args, **kwargs)

    return Replay()


def evaluate_interactive(lm, task_obj, task: str, size: str, limit: int | None, chat: bool, folder: Path,
                         identity: dict[str, Any], progress: Callable[[str], None] = print) -> dict[str, Any]:
    """Play the protocol on `task` with `lm` and return lm-eval's output dict (with samples) for the
    held-out documents, plus the recommendation metrics; writes `recommendations.jsonl` into
    `folder` and a checkpoint after every round (resumed when its identity equals `identity`)."""
    import lm_eval

    from ppt_bench.io import write_json_atomic, write_jsonl_atomic

    pops = populations(task, size, limit)
    state_path = folder / STATE_FILE
    state = None
    if state_path.is_file():
        try:
            saved = json.loads(state_path.read_text())
        except (OSError, json.JSONDecodeError):
            saved = {}
        if saved.get("identity") == identity:
            state = saved["state"]
            progress(f"  resuming after {state['done']} round(s) from {state_path}")
    transcript = play(pops, request_scorer(task_obj, lm, chat), progress, state,
                      lambda new: write_json_atomic(state_path, {"identity": identity, "state": new}))
    docs = [doc for pop, rec, pred in zip(pops, transcript.recommendations,
                                          [BayesianAssistant().predictive(p.interactions) for p in pops],
                                          strict=True)
            for doc in _in_static_order(pop, rec, pred)]
    _set_docs(task_obj, docs)
    output = lm_eval.simple_evaluate(model=_replay_lm(lm, transcript.heldout), tasks=[task_obj],
                                     log_samples=True, apply_chat_template=chat)
    entry = output["results"][task]
    for name, (value, stderr) in recommendation_metrics(pops, transcript).items():
        entry[f"{name},none"], entry[f"{name}_stderr,none"] = value, stderr
        output["higher_is_better"].setdefault(task, {})[name] = True
    output["interactive"] = {"users": sum(p.interactions.n_users for p in pops),
                             "rounds": pops[0].interactions.n_rounds, "file": RECOMMENDATIONS_FILE}
    write_jsonl_atomic(folder / RECOMMENDATIONS_FILE, transcript_records(pops, transcript))
    return output


def _in_static_order(pop: Population, recommendations: np.ndarray, predictive: np.ndarray) -> list[dict]:
    """Held-out documents in the static task's order: (user, round, query)."""
    by_round = [heldout_documents(pop, recommendations, r, predictive)
                for r in range(pop.interactions.n_rounds + 1)]
    n_sets = pop.interactions.heldout_choices.shape[1]
    return [by_round[r][u * n_sets + s] for u in range(pop.interactions.n_users)
            for r in range(len(by_round)) for s in range(n_sets)]
