"""Sharded scenario generation: each shard draws its indices' candidates, `merge` picks as one run would.

The unsharded run (`generate.py`) writes, at index j, the first attempt that is not a duplicate of an
earlier prompt and is not degenerate while the run is at its degenerate cap. Both rules look at the
whole run before j, which a shard cannot see. So shard i/n writes, for each of its indices j
(j % n == i), the attempts 0..m in order, m being the first non-degenerate attempt:

    {"index": j, "attempts": [<scenario 0>, ..., <scenario m>]}      one JSON line per index

and `merge_scenario_shards` walks j = 0..N-1 with one `RunState`, taking the first acceptable attempt
from those lines (`generate.scenario_at`). Every attempt is a pure function of (seed, j, split,
attempt), so the merged file is byte-for-byte the unsharded one; an attempt past m (its non-degenerate
draw duplicates an earlier prompt, which is rare) is drawn during the merge.

A shard file is appended one whole line at a time, so an interrupted shard resumes; its manifest
(`ppt_bench/shards.py`) is written when it is complete.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ppt_bench.io import atomic_open, read_complete_lines
from ppt_bench.programs.generate import (
    DEGENERATE_FRACTION,
    MAX_ATTEMPTS,
    GenerationReport,
    RunState,
    draw,
    is_degenerate,
    scenario_at,
    write_parquet,
)
from ppt_bench.programs.scenario import Scenario
from ppt_bench.shards import Shard, ShardError, check_shards, write_manifest

KIND = "scenarios"


def scenario_config(n: int, seed: int, split: str, degenerate_fraction: float) -> dict[str, Any]:
    """What a scenario run is a function of (recorded in each shard's manifest)."""
    return {"n": n, "seed": seed, "split": split, "degenerate_fraction": degenerate_fraction}


def candidates_at(seed: int, index: int, split: str) -> tuple[Scenario, ...]:
    """Attempts 0..m at `index`, m the first non-degenerate one (or the last allowed attempt)."""
    drawn = []
    for attempt in range(MAX_ATTEMPTS):
        drawn.append(draw(seed, index, split, attempt))
        if not is_degenerate(drawn[-1]):
            break
    return tuple(drawn)


def _candidate_line(index: int, attempts: Sequence[Scenario]) -> str:
    record = {"index": index, "attempts": [json.loads(scenario.to_json()) for scenario in attempts]}
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")) + "\n"


def _read_candidates(path: Path) -> tuple[dict[int, tuple[Scenario, ...]], int]:
    """{index: attempts} on complete, valid lines, and the byte length they span (the rest is torn)."""
    def parse(raw: bytes) -> tuple[int, tuple[Scenario, ...]]:
        record = json.loads(raw)
        return int(record["index"]), tuple(Scenario.from_json(json.dumps(item)) for item in record["attempts"])

    records, good_bytes = read_complete_lines(path, parse)
    return dict(records), good_bytes


def write_scenario_shard(path: str | os.PathLike, n: int, seed: int, split: str, shard: Shard, *,
                         degenerate_fraction: float = DEGENERATE_FRACTION, progress: bool = True) -> str:
    """Write (or finish) shard `shard` of the run (n, seed, split) to `path`; returns a summary line."""
    from tqdm import tqdm

    start = time.perf_counter()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    indices = shard.indices(n)
    done, good_bytes = _read_candidates(path)
    if path.exists() and path.stat().st_size != good_bytes:
        with path.open("r+b") as handle:
            handle.truncate(good_bytes)
    if list(done) != list(indices[:len(done)]) or any(s.id.split("-")[0] != str(seed)
                                                      for attempts in done.values() for s in attempts):
        raise ShardError(f"{path} was written by a different run; use another --out or the same "
                         f"--n/--seed/--split/--shard")
    with path.open("a", encoding="utf-8") as handle, \
            tqdm(total=len(indices), initial=len(done), desc=f"shard {shard}", disable=not progress,
                 unit="sc") as bar:
        for index in indices[len(done):]:
            handle.write(_candidate_line(index, candidates_at(seed, index, split)))
            handle.flush()
            bar.update(1)
    write_manifest(path, KIND, scenario_config(n, seed, split, degenerate_fraction), shard, len(indices))
    return (f"shard {shard}: candidates for {len(indices)} of {n} scenarios in {path} ({len(done)} kept from a "
            f"previous run) in {time.perf_counter() - start:.1f}s; join the shards with `ppt-bench merge`")


def merge_scenario_shards(shards: Sequence[str | os.PathLike], out: str | os.PathLike) -> GenerationReport:
    """Join finished scenario shards into the file the unsharded run writes (JSONL, or parquet when
    `out` ends in .parquet), applying the duplicate and degenerate rules over the whole run."""
    start = time.perf_counter()
    checked = check_shards(shards)
    config = checked[0][1].config
    if checked[0][1].kind != KIND:
        raise ShardError(f"{checked[0][0]} is a {checked[0][1].kind} shard, not a scenario shard")
    n, seed, split = config["n"], config["seed"], config["split"]
    candidates: dict[int, tuple[Scenario, ...]] = {}
    for path, manifest in checked:
        found, _ = _read_candidates(path)
        expected = list(manifest.shard.indices(n))
        if list(found) != expected:
            raise ShardError(f"{path} holds {len(found)} of its {len(expected)} indices; rerun shard "
                             f"{manifest.shard}")
        candidates.update(found)
    state = RunState(degenerate_fraction=config["degenerate_fraction"])
    out = Path(out)
    work = out if out.suffix != ".parquet" else out.with_name(out.name + ".partial.jsonl")
    with atomic_open(work) as handle:
        for index in range(n):
            scenario = scenario_at(seed, index, split, state, drawn=candidates[index])
            state.add(scenario)
            handle.write(scenario.to_json() + "\n")
    if work != out:
        write_parquet(work, out)
        work.unlink()
    return GenerationReport(str(out), state.written, 0, state.written, state.degenerate,
                            state.redrawn_duplicates, state.redrawn_degenerate, time.perf_counter() - start)
