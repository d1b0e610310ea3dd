"""Scenario generation at scale: deterministic, shardable, resumable, de-duplicated.

Scenario `index` (0..n-1) of a run with `seed` uses motif ``motifs[index % M]`` (the split's motifs in
library order) and program seed ``derive_seed(seed, index, attempt)``. Attempt 0 is used unless the
item must be redrawn (attempt 1, 2, ...):

- its prompt duplicates one already written in this run, or
- it is degenerate (max soft label >= DEGENERATE_THRESHOLD) and the run already holds
  ``degenerate_fraction * (written + 1)`` degenerate items (so at every point of the file, degenerate
  items are at most that fraction, plus one).

Items are produced in index order and the redraw decisions depend only on earlier items, so a run is
a pure function of (n, seed, split, degenerate_fraction); a resumed run rebuilds the same state from the
lines already in the file and continues exactly where an uninterrupted run would be. Sharded runs
(`ppt_bench/programs/scenario_shards.py`) write each index's candidate draws instead, and their merge
applies both rules over the whole run, so it equals the unsharded file.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from ppt_bench.io import atomic_open, read_complete_lines
from ppt_bench.programs.motifs import motifs_for_split
from ppt_bench.programs.scenario import Scenario, derive_seed, make_scenario

DEGENERATE_THRESHOLD = 0.99
DEGENERATE_FRACTION = 0.05
MAX_ATTEMPTS = 100


def scenario_id(seed: int, index: int) -> str:
    return f"{seed}-{index:07d}"


def index_of_id(identifier: str) -> tuple[int, int]:
    seed, index = identifier.rsplit("-", 1)
    return int(seed), int(index)


def is_degenerate(scenario: Scenario, threshold: float = DEGENERATE_THRESHOLD) -> bool:
    """All (or nearly all) mass on one choice: max_k q_k >= threshold."""
    return max(scenario.soft_label) >= threshold


def prompt_key(scenario: Scenario) -> str:
    return hashlib.sha1(scenario.prompt.encode("utf-8")).hexdigest()


@dataclass
class RunState:
    """What the redraw rules depend on: prompts written so far and how many were degenerate."""

    degenerate_fraction: float = DEGENERATE_FRACTION
    prompts: set[str] = field(default_factory=set)
    done: set[int] = field(default_factory=set)
    written: int = 0
    degenerate: int = 0
    redrawn_duplicates: int = 0
    redrawn_degenerate: int = 0

    def accepts(self, scenario: Scenario) -> str | None:
        """None if the scenario may be written next, else the reason to redraw it."""
        if prompt_key(scenario) in self.prompts:
            return "duplicate"
        if is_degenerate(scenario) and self.degenerate + 1 > self.degenerate_fraction * (self.written + 1):
            return "degenerate"
        return None

    def add(self, scenario: Scenario) -> None:
        self.prompts.add(prompt_key(scenario))
        self.done.add(index_of_id(scenario.id)[1])
        self.written += 1
        self.degenerate += is_degenerate(scenario)


def draw(seed: int, index: int, split: str, attempt: int) -> Scenario:
    """Attempt `attempt` at index `index`: a function of (seed, index, split, attempt) only."""
    motifs = motifs_for_split(split)
    return make_scenario(motifs[index % len(motifs)], derive_seed(seed, index, attempt), scenario_id(seed, index))


def scenario_at(seed: int, index: int, split: str, state: RunState,
                drawn: Sequence[Scenario] = ()) -> Scenario:
    """The scenario written at `index`, given the run state before it (redraws as documented above).

    `drawn` holds attempts 0, 1, ... already made (by a shard); later attempts are drawn here.
    """
    for attempt in range(MAX_ATTEMPTS):
        scenario = drawn[attempt] if attempt < len(drawn) else draw(seed, index, split, attempt)
        reason = state.accepts(scenario)
        if reason is None:
            return scenario
        if reason == "duplicate":
            state.redrawn_duplicates += 1
        else:
            state.redrawn_degenerate += 1
    raise RuntimeError(f"motif {scenario.motif}: no acceptable scenario after {MAX_ATTEMPTS} attempts at {index}")


def generate_scenarios(n: int, seed: int = 0, split: str = "train", *,
                       degenerate_fraction: float = DEGENERATE_FRACTION,
                       state: RunState | None = None) -> Iterator[Scenario]:
    """Yield the scenarios of a run in index order (skipping indices already in `state.done`)."""
    state = state or RunState(degenerate_fraction=degenerate_fraction)
    for index in range(n):
        if index in state.done:
            continue
        scenario = scenario_at(seed, index, split, state)
        state.add(scenario)
        yield scenario


@dataclass(frozen=True)
class GenerationReport:
    """What a `write_scenarios` call did."""

    path: str
    total: int
    resumed: int
    written: int
    degenerate: int
    redrawn_duplicates: int
    redrawn_degenerate: int
    seconds: float

    def summary(self) -> str:
        return (f"{self.total} scenarios in {self.path} ({self.resumed} kept from a previous run, {self.written} "
                f"new, {self.degenerate} degenerate; redrawn: {self.redrawn_duplicates} duplicates, "
                f"{self.redrawn_degenerate} over the degenerate cap) in {self.seconds:.1f}s")


def _read_complete_lines(path: Path) -> tuple[list[Scenario], int]:
    """Scenarios on complete, valid lines, and the byte length they span (the rest is a torn write)."""
    return read_complete_lines(path, lambda raw: Scenario.from_json(raw.decode("utf-8")))


def resume_state(path: Path, seed: int, split: str, n: int, degenerate_fraction: float) -> RunState:
    """Rebuild the run state from a partial file; cut off a half-written last line."""
    from ppt_bench.errors import PPTBenchError

    scenarios, good_bytes = _read_complete_lines(path)
    if path.exists() and path.stat().st_size != good_bytes:
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    state = RunState(degenerate_fraction=degenerate_fraction)
    expected = iter(range(n))
    motifs = motifs_for_split(split)
    for scenario in scenarios:
        file_seed, index = index_of_id(scenario.id)
        if file_seed != seed or index != next(expected, None) or scenario.motif != motifs[index % len(motifs)].name:
            raise PPTBenchError(f"{path} was written by a different run (id {scenario.id}); use another --out "
                                f"or the same --seed/--split")
        state.add(scenario)
    return state


def write_scenarios(path: str | os.PathLike, n: int, seed: int = 0, split: str = "train", *,
                    fmt: str = "jsonl", progress: bool = True,
                    degenerate_fraction: float = DEGENERATE_FRACTION) -> GenerationReport:
    """Write (or finish) a run to `path`. JSONL lines are appended one whole line per write and flushed,
    so an interruption loses at most the line being written; parquet is converted from a JSONL
    working file (`path.partial.jsonl`) at the end."""
    from tqdm import tqdm

    start = time.perf_counter()
    final = Path(path)
    work = final if fmt == "jsonl" else final.with_name(final.name + ".partial.jsonl")
    work.parent.mkdir(parents=True, exist_ok=True)
    state = resume_state(work, seed, split, n, degenerate_fraction)
    resumed = state.written
    total = n
    with work.open("a", encoding="utf-8") as handle, \
            tqdm(total=total, initial=resumed, desc="scenarios", disable=not progress, unit="sc") as bar:
        for scenario in generate_scenarios(n, seed, split, state=state):
            handle.write(scenario.to_json() + "\n")
            handle.flush()
            bar.update(1)
    if fmt == "parquet":
        write_parquet(work, final)
        work.unlink()
    elif fmt != "jsonl":
        raise ValueError(f"unknown format {fmt!r}")
    return GenerationReport(str(final), state.written, resumed, state.written - resumed, state.degenerate,
                            state.redrawn_duplicates, state.redrawn_degenerate, time.perf_counter() - start)


def write_parquet(jsonl_path: Path, parquet_path: Path) -> None:
    """JSONL scenarios -> parquet (program stored as a JSON string: its keys differ between motifs)."""
    import pandas as pd

    rows = []
    with Path(jsonl_path).open(encoding="utf-8") as handle:
        for line in handle:
            record = json.loads(line)
            record["program"] = json.dumps(record["program"], separators=(",", ":"))
            rows.append(record)
    with atomic_open(parquet_path, "wb") as handle:
        pd.DataFrame(rows).to_parquet(handle, index=False)


def read_scenarios(path: str | os.PathLike) -> list[Scenario]:
    """Scenarios from a JSONL or parquet file written by `write_scenarios`."""
    path = Path(path)
    if path.suffix == ".parquet":
        import pandas as pd

        frame = pd.read_parquet(path)
        return [Scenario(**{**row, "choices": tuple(row["choices"]), "labels": tuple(row["labels"]),
                            "soft_label": tuple(float(x) for x in row["soft_label"]),
                            "program": json.loads(row["program"]), "outcome": int(row["outcome"]),
                            "seed": int(row["seed"]), "query_value": float(row["query_value"])})
                for row in frame.to_dict(orient="records")]
    return _read_complete_lines(path)[0]
