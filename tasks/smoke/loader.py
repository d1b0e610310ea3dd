"""Items of `ppt_smoke`: small probability questions whose answers are computed exactly here.

Each item: a question, the exact answer (a Fraction computed below, not typed), and distractors.
Options are labelled A..D in an order fixed by a seeded shuffle, so the task is deterministic.
"""

from __future__ import annotations

import random
from fractions import Fraction as F
from math import comb

LABELS = "ABCD"


def _bayes(prior: F, hit: F, false_alarm: F) -> F:
    """P(H | positive) = P(pos|H) P(H) / (P(pos|H) P(H) + P(pos|not H) P(not H))."""
    return hit * prior / (hit * prior + false_alarm * (1 - prior))


QUESTIONS: tuple[tuple[str, F, tuple[F, ...]], ...] = (
    ("A fair coin is tossed twice. What is the probability that both tosses land heads?",
     F(1, 2) ** 2, (F(1, 2), F(3, 4), F(1, 3))),
    ("A fair six-sided die is rolled once. What is the probability of rolling a number greater than 4?",
     F(2, 6), (F(1, 2), F(1, 6), F(2, 3))),
    ("Two fair six-sided dice are rolled. What is the probability that they show the same number?",
     F(6, 36), (F(1, 36), F(1, 3), F(1, 12))),
    ("A bag holds 3 red and 2 blue marbles. One marble is drawn at random. What is the probability "
     "that it is blue?", F(2, 5), (F(3, 5), F(1, 2), F(1, 5))),
    ("A bag holds 3 red and 2 blue marbles. Two marbles are drawn without replacement. What is the "
     "probability that both are red?", F(3, 5) * F(2, 4), (F(9, 25), F(3, 5), F(1, 10))),
    ("A fair coin is tossed three times. What is the probability of exactly two heads?",
     F(comb(3, 2), 8), (F(1, 2), F(1, 4), F(2, 3))),
    ("1% of people have a condition. A test detects it 90% of the time and gives a false positive 10% "
     "of the time. Someone tests positive. What is the probability they have the condition?",
     _bayes(F(1, 100), F(9, 10), F(1, 10)), (F(9, 10), F(1, 2), F(1, 10))),
    ("Half of the boxes in a shop are from supplier X, whose boxes are damaged 20% of the time; the "
     "rest come from supplier Y, damaged 5% of the time. A box is damaged. What is the probability "
     "that it came from supplier X?", _bayes(F(1, 2), F(1, 5), F(1, 20)), (F(1, 2), F(1, 5), F(1, 4))),
    ("A fair six-sided die is rolled twice. What is the probability that the sum is 7?",
     F(6, 36), (F(1, 12), F(7, 36), F(1, 3))),
    ("A card is drawn from a standard 52-card deck. What is the probability that it is a heart or an ace?",
     F(13 + 4 - 1, 52), (F(17, 52), F(1, 4), F(1, 13))),
    ("A fair coin is tossed four times. What is the probability of at least one tail?",
     1 - F(1, 2) ** 4, (F(1, 2), F(3, 4), F(1, 16))),
    ("It rains on 30% of days. On a rainy day the bus is late with probability 1/2; on a dry day with "
     "probability 1/10. What is the probability that the bus is late on a random day?",
     F(3, 10) * F(1, 2) + F(7, 10) * F(1, 10), (F(3, 5), F(3, 10), F(1, 2))),
)


def _text(value: F) -> str:
    return str(value.numerator) if value.denominator == 1 else f"{value.numerator}/{value.denominator}"


def build_items(seed: int = 0) -> list[dict]:
    """The documents: `question`, `options` (labelled), `choices` (labels) and `answer` (index)."""
    rng = random.Random(seed)
    items = []
    for index, (question, answer, distractors) in enumerate(QUESTIONS):
        assert answer not in distractors, question
        values = [answer, *distractors]
        rng.shuffle(values)
        options = "\n".join(f"{label}. {_text(value)}" for label, value in zip(LABELS, values, strict=True))
        items.append({"id": index, "question": question, "options": options,
                      "choices": list(LABELS), "answer": values.index(answer)})
    return items


def load(**metadata):
    """`custom_dataset` entry point for lm-eval: a DatasetDict with one `test` split."""
    import datasets

    return datasets.DatasetDict({"test": datasets.Dataset.from_list(build_items())})
