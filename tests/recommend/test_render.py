"""Rendering: published option strings, and render -> parse -> same levels for every domain."""

from __future__ import annotations

import numpy as np
import pytest

from ppt_bench.recommend import get_domain, parse_option, parse_options, render_options
from ppt_bench.recommend.domains import clock, hours_minutes

DOMAINS = ["flight", "hotel", "shopping_running_shoes", "shopping_backpacks",
           "shopping_coffee_makers"] + [f"flight_{n}features" for n in range(2, 9)]


def test_published_flight_string():
    domain = get_domain("flight")
    text = "Flight 1: departure time: 02:00 PM, duration: 30 min, number of stops: 1, price: $370"
    number, levels = parse_option(domain, text)
    assert number == 1 and list(levels) == [5, 0, 1, 3]
    assert render_options(domain, levels[None]) == text


def test_time_and_duration_formats():
    assert [clock(m) for m in (360, 720, 1320, 744)] == ["06:00 AM", "12:00 PM", "10:00 PM",
                                                         "12:24 PM"]
    assert [hours_minutes(m) for m in (30, 147, 1200, 0)] == ["30 min", "2 hr 27 min", "20 hr",
                                                              "0 min"]


@pytest.mark.parametrize("name", DOMAINS)
def test_round_trip(name):
    domain = get_domain(name)
    option_sets = domain.sample_options(np.random.default_rng(0), (50,))
    for options in option_sets:
        text = render_options(domain, options)
        assert np.array_equal(parse_options(domain, text), options)
        assert np.allclose(domain.encode(parse_options(domain, text.splitlines())),
                           domain.encode(options))
    every_level = np.stack([np.arange(max(f.n_levels for f in domain.features)) % f.n_levels
                            for f in domain.features], axis=-1)
    assert np.array_equal(parse_options(domain, render_options(domain, every_level)), every_level)


def test_parse_rejects_foreign_text():
    domain = get_domain("flight")
    with pytest.raises(ValueError):
        parse_options(domain, "Flight 1: departure time: 02:01 PM, duration: 30 min, "
                              "number of stops: 1, price: $370")
    with pytest.raises(ValueError):
        parse_options(domain, "Hotel 1: distance to downtown: 3 miles")
    text = render_options(domain, domain.sample_options(np.random.default_rng(1), (1,))[0])
    with pytest.raises(ValueError):                   # misnumbered
        parse_options(domain, text.replace("Flight 2", "Flight 5"))
