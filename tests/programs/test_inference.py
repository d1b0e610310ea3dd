"""Exact inference vs generic numpyro inference: total variation <= 0.02 per motif."""

import pytest

from ppt_bench.metrics import tv
from ppt_bench.programs import MOTIFS, make_scenario
from ppt_bench.programs.inference import (
    exact_choice_probs,
    generic_choice_probs,
    importance_choice_probs,
)

TV_MAX = 0.02
FAST = ["causal_strength", "elapsed_total", "sensor_fusion", "explaining_away"]  # all 16: slow tests


def _tv(name, seed, method="is", **options):
    motif = MOTIFS[name]
    s = make_scenario(motif, seed)
    params, obs = s.program["params"], s.program["observations"]
    return tv(exact_choice_probs(motif, params, obs),
              generic_choice_probs(motif, params, obs, method=method, seed=seed, **options))


@pytest.mark.parametrize("name", FAST)
def test_importance_sampling_matches_exact(name):
    assert _tv(name, 101, min_ess=10_000) <= TV_MAX


@pytest.mark.slow
@pytest.mark.parametrize("name", list(MOTIFS))
@pytest.mark.parametrize("seed", [1000, 1001, 1002])
def test_importance_sampling_matches_exact_all_motifs(name, seed):
    assert _tv(name, seed) <= TV_MAX


@pytest.mark.slow
@pytest.mark.parametrize("name", [m.name for m in MOTIFS.values() if m.nuts_ok])
@pytest.mark.parametrize("seed", [2000, 2001])
def test_nuts_matches_exact(name, seed):
    assert _tv(name, seed, method="nuts", num_samples=20_000) <= TV_MAX


def test_generic_rejects_unknown_observation():
    motif = MOTIFS["rate_from_counts"]
    with pytest.raises(KeyError):
        importance_choice_probs(motif, {"n": 5, "a": 1.0, "b": 1.0}, {"succeses": 2})


def test_nuts_refuses_discrete_latents():
    motif = MOTIFS["diagnosis"]
    s = make_scenario(motif, 0)
    with pytest.raises(ValueError, match="discrete"):
        generic_choice_probs(motif, s.program["params"], s.program["observations"], method="nuts")
