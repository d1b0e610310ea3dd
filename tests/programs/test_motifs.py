"""The motif library: size, splits, skins, soft labels, records, observed-site checks."""

import json

import numpy as np
import pytest

from ppt_bench.programs import LABELS, MOTIFS, Scenario, make_scenario, motifs_for_split
from ppt_bench.programs.scenario import check_observed, derive_seed, run_program


def test_library_size_and_splits():
    assert len(MOTIFS) >= 16
    assert len(motifs_for_split("heldout")) >= 4
    assert len(motifs_for_split("train")) + len(motifs_for_split("heldout")) == len(motifs_for_split("all"))
    for motif in MOTIFS.values():
        assert len({skin.name for skin in motif.skins}) >= 5


@pytest.mark.parametrize("name", list(MOTIFS))
def test_scenarios_are_valid_and_varied(name):
    motif = MOTIFS[name]
    scenarios = [make_scenario(motif, derive_seed(7, i)) for i in range(8)]
    for s in scenarios:
        q = np.asarray(s.soft_label)
        assert q.dtype == np.float64 and abs(q.sum() - 1) < 1e-9 and (q >= 0).all()
        assert s.labels == LABELS[: len(s.choices)] and 2 <= len(s.choices) <= 10
        assert 0 <= s.outcome < len(s.choices)
        assert all(f"{label}. {text}" in s.prompt for label, text in zip(s.labels, s.choices, strict=False))
        assert Scenario.from_json(s.to_json()) == s and "\n" not in s.to_json()
        assert s.split == motif.split and s.motif == name
    assert len({s.prompt for s in scenarios}) == len(scenarios)  # randomised numbers and skins
    assert len({s.skin for s in scenarios}) >= 2


@pytest.mark.parametrize("name", list(MOTIFS))
def test_soft_label_rebuilds_from_program_reference(name):
    motif = MOTIFS[name]
    s = make_scenario(motif, 11)
    params, observations = s.program["params"], s.program["observations"]
    params, observations = json.loads(json.dumps(params)), json.loads(json.dumps(observations))
    assert np.allclose(motif.exact(params, observations), s.soft_label, atol=1e-12)


def test_scenario_is_a_pure_function_of_its_seed():
    motif = MOTIFS["tug_of_war"]
    assert make_scenario(motif, 5) == make_scenario(motif, 5)
    assert make_scenario(motif, 5).prompt != make_scenario(motif, 6).prompt


def test_outcome_is_the_value_the_program_drew():
    motif = MOTIFS["rate_from_counts"]
    s = make_scenario(motif, 3)
    observations, value, trace = run_program(motif, s.program["params"], 3)
    assert observations == s.program["observations"] and value == s.query_value
    edges = motif.choices(s.program["params"], observations).edges
    assert edges[s.outcome] <= trace["rate"]["value"] < edges[s.outcome + 1]


def test_unknown_observed_key_is_an_error():
    motif = MOTIFS["rate_from_counts"]
    _, _, trace = run_program(motif, {"n": 5, "a": 1.0, "b": 1.0}, 0)
    with pytest.raises(KeyError, match="not a sample site"):
        check_observed(motif, trace, {"sucesses": 3})


def test_soft_label_must_sum_to_one():
    s = make_scenario(MOTIFS["diagnosis"], 1)
    record = json.loads(s.to_json())
    record["soft_label"] = [0.5] * len(record["choices"])
    with pytest.raises(ValueError, match="not a distribution"):
        Scenario.from_json(json.dumps(record))
