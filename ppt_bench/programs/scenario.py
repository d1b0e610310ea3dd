"""One scenario: run a motif's numpyro program once, then label it exactly.

    params       ~ motif.sample_params(rng)                  (numpy; the randomised numbers)
    (obs, value) ~ trace(seed(motif.model, key))(**params)   (numpyro; the program draws everything)
    soft_label   = motif.exact(params, obs)                  (K,) float64, sums to 1
    outcome      = index of the choice containing value      (what the program actually drew)

Because the latent value and the observations come from one joint draw of the program, the exact
posterior soft labels are calibrated against the outcomes; `tests/programs` checks this per motif.
"""

from __future__ import annotations

import functools
import inspect
import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field

import numpy as np

from ppt_bench.metrics import check_soft_label
from ppt_bench.programs._motif import Choices, Motif, options_text

INSTRUCTION = "Answer with the letter of the most likely option."


@dataclass(frozen=True)
class Scenario:
    """One multiple-choice item with an exact soft label (a JSON Lines record).

    ``soft_label`` (K,) float64 sums to 1 over ``choices``; ``outcome`` is the index of the choice that
    holds the value the program drew; ``program`` is {"motif", "params", "observations"} (or
    {"source", ...} for an authored program), enough to rebuild the soft label.
    """

    id: str
    motif: str
    split: str
    skin: str
    prompt: str
    choices: tuple[str, ...]
    labels: tuple[str, ...]
    soft_label: tuple[float, ...]
    outcome: int
    program: Mapping = field(hash=False)
    seed: int
    query_value: float

    def __post_init__(self) -> None:
        check_soft_label(self.soft_label, len(self.choices))
        if not 0 <= self.outcome < len(self.choices):
            raise ValueError(f"{self.id}: outcome {self.outcome} outside 0..{len(self.choices) - 1}")

    def to_json(self) -> str:
        """One line of JSON (no newline inside)."""
        return json.dumps(asdict(self), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, line: str) -> Scenario:
        record = json.loads(line)
        for key in ("choices", "labels", "soft_label"):
            record[key] = tuple(record[key])
        return cls(**record)


@functools.cache
def _model_arguments(model) -> tuple[str, ...]:
    return tuple(inspect.signature(model).parameters)


def model_kwargs(motif: Motif, params: Mapping) -> dict:
    """The params the model takes (renderer-only entries such as names are dropped)."""
    names = _model_arguments(motif.model)
    return {k: v for k, v in params.items() if k in names}


OBSERVATION_DIGITS = 3


def _plain(value):
    """jax/numpy value -> int, float or (nested) list for JSON.

    Real observations are rounded to OBSERVATION_DIGITS significant figures: the prompt shows them so,
    and the soft label is computed from exactly what the prompt shows.
    """
    array = np.asarray(value)
    if np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.bool_):
        return array.astype(np.int64).tolist()
    array = array.astype(np.float64)
    rounded = np.vectorize(lambda x: float(f"{x:.{OBSERVATION_DIGITS}g}"), otypes=[np.float64])(array)
    return rounded.tolist()


def check_observed(motif: Motif, trace: Mapping, observations: Mapping) -> None:
    """Every observed key must name a sample site of the program (numpyro would silently ignore it)."""
    for name in observations:
        if name not in motif.observed or name not in trace or trace[name]["type"] != "sample":
            raise KeyError(f"motif {motif.name}: observation {name!r} is not a sample site of the model "
                           f"(declared: {motif.observed})")


def run_program(motif: Motif, params: Mapping, seed: int) -> tuple[dict, float, dict]:
    """Run the program once with `seed`; return (observations, realised query value, trace)."""
    from numpyro import handlers

    trace = handlers.trace(handlers.seed(motif.model, rng_seed=seed)).get_trace(**model_kwargs(motif, params))
    observations = {name: _plain(trace[name]["value"]) for name in motif.observed_names(params)}
    check_observed(motif, trace, observations)
    value = float(np.asarray(trace[motif.query]["value"]))
    return observations, value, trace


def render_prompt(motif: Motif, params: Mapping, observations: Mapping, skin_name: str,
                  choices: Choices) -> str:
    """Story, observations and question, then the labelled options, then the instruction."""
    story = motif.render(params, observations, motif.skin(skin_name))
    return f"{story}\n{options_text(choices)}\n{INSTRUCTION}"


def derive_seed(*entropy: int) -> int:
    """A 31-bit seed from integers (jax PRNG keys take 32-bit signed seeds)."""
    return int(np.random.SeedSequence([int(e) for e in entropy]).generate_state(1)[0] >> 1)


def make_scenario(motif: Motif, seed: int, scenario_id: str | None = None) -> Scenario:
    """Draw params and a skin with numpy, run the program, label it exactly (pure in `seed`)."""
    rng = np.random.default_rng(seed)
    params = motif.sample_params(rng)
    skin = params.get("skin") or motif.skins[int(rng.integers(len(motif.skins)))].name
    observations, value, _ = run_program(motif, params, seed)
    choices = motif.choices(params, observations)
    soft_label = check_soft_label(motif.exact(params, observations), len(choices.texts))
    return Scenario(
        id=scenario_id or f"{motif.name}-{seed}", motif=motif.name, split=motif.split, skin=skin,
        prompt=render_prompt(motif, params, observations, skin, choices), choices=choices.texts,
        labels=choices.labels, soft_label=tuple(float(p) for p in soft_label),
        outcome=int(choices.index_of(value)),
        program={"motif": motif.name, "params": dict(params), "observations": observations},
        seed=int(seed), query_value=value,
    )
