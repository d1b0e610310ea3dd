"""Strict checks of an authored program's metadata (the literal STORY, QUESTION, CHOICES, EDGES, OBSERVED).

Types are exact (a bool is not a number, a tuple of strings is accepted where a list is), lengths are
bounded (`limits`), text is printable (no control, format, private-use or surrogate characters, so no
bidirectional overrides, zero-width tricks or text that cannot be written as UTF-8), and choices are
one line each and distinct, so an option cannot forge another option's label.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass

from ppt_bench.programs.sandbox.limits import (
    MAX_CHOICE_CHARS,
    MAX_CHOICES,
    MAX_OBSERVED,
    MAX_QUESTION_CHARS,
    MAX_STORY_CHARS,
    MIN_CHOICES,
    Rejected,
)
from ppt_bench.programs.sandbox.template import Parts, parse_template

QUERY_SITE = "answer"
_BAD_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn", "Zl", "Zp"})


@dataclass(frozen=True)
class Metadata:
    """The checked metadata: ``edges`` (K+1,) finite increasing floats for the K ``choices``."""

    story: str
    story_parts: Parts
    question: str
    choices: tuple[str, ...]
    edges: tuple[float, ...]
    observed: tuple[str, ...]


def _text(value, name: str, max_chars: int, *, newlines: bool = False) -> str:
    if type(value) is not str:
        raise Rejected("bad-metadata", f"{name} must be a string, got {type(value).__name__}")
    if not value.strip() or len(value) > max_chars:
        raise Rejected("bad-metadata", f"{name} must have 1..{max_chars} characters, got {len(value)}")
    for index, char in enumerate(value):
        if char == "\n" and newlines:
            continue
        if unicodedata.category(char) in _BAD_CATEGORIES:
            raise Rejected("bad-metadata", f"{name} has a non-printable character U+{ord(char):04X} at {index}")
    return value


def _sequence(value, name: str) -> tuple:
    if type(value) not in (list, tuple):
        raise Rejected("bad-metadata", f"{name} must be a list, got {type(value).__name__}")
    return tuple(value)


def _number(value, name: str) -> float:
    if type(value) not in (int, float) or not math.isfinite(value):
        raise Rejected("bad-choices", f"{name} must be finite numbers (not bool), got {value!r:.40}")
    return float(value)


def check_metadata(values: Mapping[str, object], arguments: tuple[str, ...]) -> Metadata:
    """Typed, bounded metadata from the literal values, or Rejected; `arguments` are model's parameters."""
    choices = _sequence(values["CHOICES"], "CHOICES")
    if not MIN_CHOICES <= len(choices) <= MAX_CHOICES:
        raise Rejected("bad-choices", f"CHOICES must be {MIN_CHOICES}..{MAX_CHOICES} strings, got {len(choices)}")
    choices = tuple(_text(choice, f"CHOICES[{i}]", MAX_CHOICE_CHARS) for i, choice in enumerate(choices))
    if len(set(choices)) != len(choices):
        raise Rejected("bad-choices", "CHOICES must be distinct")
    edges = _sequence(values["EDGES"], "EDGES")
    if len(edges) != len(choices) + 1:
        raise Rejected("bad-choices", f"EDGES must be len(CHOICES) + 1 = {len(choices) + 1} numbers, got {len(edges)}")
    edges = tuple(_number(edge, "EDGES") for edge in edges)
    if not all(a < b for a, b in zip(edges, edges[1:], strict=False)):
        raise Rejected("bad-choices", "EDGES must be strictly increasing")
    observed = _sequence(values["OBSERVED"], "OBSERVED")
    if not 1 <= len(observed) <= MAX_OBSERVED or any(type(name) is not str for name in observed):
        raise Rejected("bad-metadata", f"OBSERVED must be 1..{MAX_OBSERVED} site names")
    if len(set(observed)) != len(observed) or not set(observed) <= set(arguments) or QUERY_SITE in observed:
        raise Rejected("bad-metadata", f"OBSERVED must name distinct model arguments other than {QUERY_SITE!r}")
    story = _text(values["STORY"], "STORY", MAX_STORY_CHARS, newlines=True)
    question = _text(values["QUESTION"], "QUESTION", MAX_QUESTION_CHARS)
    return Metadata(story, parse_template(story, frozenset(observed)), question, choices, edges, observed)
