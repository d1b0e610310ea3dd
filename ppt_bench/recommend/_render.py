"""Option strings: render levels the way the published records do, and parse them back.

``"Flight 1: departure time: 02:00 PM, duration: 30 min, number of stops: 1, price: $370"``; one option
per line. :func:`parse_options` inverts :func:`render_options` exactly (round trip tested).
"""

from __future__ import annotations

import re

import numpy as np

from ppt_bench.recommend._domain import Domain


def render_option(domain: Domain, levels: np.ndarray, number: int) -> str:
    """One option ``(n_features,)`` levels -> ``"{Noun} {number}: label: value, ..."`` (1-based)."""
    fields = ", ".join(f"{feature.label}: {feature.render(feature.values[int(level)])}"
                       for feature, level in zip(domain.features, levels, strict=True))
    return f"{domain.noun} {number}: {fields}"


def render_options(domain: Domain, options: np.ndarray) -> str:
    """An option set ``(n_options, n_features)`` -> one rendered option per line, numbered from 1."""
    return "\n".join(render_option(domain, levels, k + 1) for k, levels in enumerate(options))


def _option_pattern(domain: Domain) -> re.Pattern:
    fields = ", ".join(f"{re.escape(feature.label)}: (.+?)" for feature in domain.features)
    return re.compile(rf"{re.escape(domain.noun)} (\d+): {fields}")


def parse_option(domain: Domain, text: str) -> tuple[int, np.ndarray]:
    """``"Flight 2: ..."`` -> (2, levels ``(n_features,)``); ``ValueError`` on anything else."""
    match = _option_pattern(domain).fullmatch(text.strip())
    if match is None:
        raise ValueError(f"not a {domain.name} option: {text!r}")
    values = match.groups()[1:]
    levels = [feature.parse(value) for feature, value in zip(domain.features, values, strict=True)]
    return int(match.group(1)), np.array(levels, dtype=int)


def parse_options(domain: Domain, text: str | list[str]) -> np.ndarray:
    """Rendered options (a string with one per line, or a list of strings) -> ``(K, n_features)``.

    Options must be numbered 1..K in order.
    """
    lines = text.splitlines() if isinstance(text, str) else list(text)
    parsed = [parse_option(domain, line) for line in lines if line.strip()]
    numbers = [number for number, _ in parsed]
    if numbers != list(range(1, len(parsed) + 1)):
        raise ValueError(f"options are numbered {numbers}, expected 1..{len(parsed)}")
    return np.stack([levels for _, levels in parsed])
