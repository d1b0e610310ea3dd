"""Dialogues: conversational shape, teaching exports with soft labels, atomic JSONL, the CLI."""

from __future__ import annotations

import argparse
import json

import numpy as np
import pytest

from ppt_bench.recommend import (
    answer_text,
    dialogue_messages,
    feature_marginals,
    flight_domain,
    parse_answer,
    parse_options,
    posterior_after,
    predictive_after,
    round_predictives,
    simulate,
    teaching_records,
)


@pytest.fixture(scope="module")
def interactions():
    return simulate(flight_domain(), n_users=12, n_heldout=4, seed=11)


def test_dialogue_shape(interactions):
    domain = interactions.domain
    messages = dialogue_messages(domain, interactions.options[0], interactions.choices[0],
                                 interactions.choices[0])
    assert [m["role"] for m in messages] == ["user", "assistant"] * 5
    assert all(m["content"] == answer_text(domain, c)
               for m, c in zip(messages[1::2], interactions.choices[0], strict=True))
    for message, options in zip(messages[::2], interactions.options[0], strict=True):
        option_lines = [line for line in message["content"].splitlines()
                        if line.startswith("Flight ")]
        assert np.array_equal(parse_options(domain, option_lines), options)


def test_prefix_with_query_ends_on_user_turn(interactions):
    domain = interactions.domain
    recommendations = (interactions.choices[0] + 1) % 3                # always wrong
    for n_rounds in range(6):
        messages = dialogue_messages(domain, interactions.options[0], interactions.choices[0],
                                     recommendations, n_rounds, interactions.heldout_options[0])
        assert len(messages) == 2 * n_rounds + 1 and messages[-1]["role"] == "user"
        if n_rounds:
            chosen = interactions.choices[0][n_rounds - 1] + 1
            assert f"I would pick Flight {chosen}" in messages[-1]["content"]
        assert messages[-1]["content"].endswith("Which flight is the best option for me?")


def test_parse_answer():
    domain = flight_domain()
    assert parse_answer(domain, answer_text(domain, 2)) == 2
    assert parse_answer(domain, "I'd go with flight 1, clearly.") == 0
    assert parse_answer(domain, "No idea.") is None


@pytest.mark.parametrize("teacher", ["bayesian", "oracle"])
def test_teaching_records(interactions, teacher):
    records = list(teaching_records(interactions, teacher))
    soft = round_predictives(interactions.domain, interactions.features, interactions.choices)
    assert len(records) == 12
    for u, record in enumerate(records):
        labels = np.array(record["soft_labels"])
        assert labels.shape == (5, 3) and np.allclose(labels.sum(axis=1), 1.0)
        assert np.allclose(labels, soft[u])
        answers = [parse_answer(interactions.domain, m["content"])
                   for m in record["messages"] if m["role"] == "assistant"]
        expected = labels.argmax(axis=1) if teacher == "bayesian" else interactions.choices[u]
        assert answers == list(expected)
        assert record["reward_fn"] == interactions.domain.hypotheses[interactions.user_types[u]].tolist()


def test_round_predictives_agree_with_predictive_after(interactions):
    domain = interactions.domain
    soft = round_predictives(domain, interactions.features, interactions.choices)
    for t in range(5):
        assert np.allclose(soft[3, t], predictive_after(domain, interactions.options[3],
                                                        interactions.choices[3], t,
                                                        interactions.options[3, t]))
    marginals = feature_marginals(domain, posterior_after(domain, interactions.options[3],
                                                          interactions.choices[3], 5))
    assert marginals.shape == (4, 5) and np.allclose(marginals.sum(axis=1), 1.0)


@pytest.mark.parametrize("teacher", ["bayesian", "oracle"])
def test_generate_dialogues_command(tmp_path, capsys, teacher):
    from ppt_bench.commands import generate_dialogues

    parser = argparse.ArgumentParser()
    generate_dialogues.configure(parser)
    out = tmp_path / f"{teacher}.jsonl"
    args = parser.parse_args(["--domain", "flight", "--teacher", teacher, "--users", "30",
                              "--seed", "4", "--out", str(out)])
    assert generate_dialogues.execute(args) == 0
    lines = out.read_text().splitlines()
    assert len(lines) == 30
    record = json.loads(lines[0])
    assert set(record) >= {"messages", "soft_labels"}
    assert record["messages"][0]["role"] == "user" and record["messages"][-1]["role"] == "assistant"
    assert "30" in capsys.readouterr().out
