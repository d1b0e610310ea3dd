"""Deterministic sharding (`--shard i/n`) and the manifest that marks a finished shard.

Item j of a run belongs to shard ``j % n``; every per-item seed is a function of j and the run's
seed, never of the shard, so the union of the n shards holds exactly the items of the unsharded run.

A shard's output (a data file, or an eval run directory) is finished when its manifest is there:

    FILE.shard.json  or  RUN_DIR/shard.json
    {"kind": "scenarios", "config": {...}, "shard": [i, n], "items": 123, "sha256": "...",
     "ppt_bench_version": "..."}

`config` is the command's resolved options except `--shard` and `--out`; shards merge only when kind
and config are equal and the shards 0..n-1 are each there once (`check_shards`). `counts` (optional)
are per-shard tallies that the merge adds up (e.g. rejected programs by reason).

Record shards (dialogues, programs) hold one JSON line per kept item, ``{"index": j, "line": TEXT}``,
TEXT being the exact line the unsharded command writes for item j; `merge_record_shards` writes the
lines in index order, so the merged file is byte-for-byte the unsharded one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ppt_bench.errors import PPTBenchError
from ppt_bench.io import atomic_open, write_json_atomic

KINDS = ("scenarios", "dialogues", "programs", "eval")
MANIFEST_SUFFIX = ".shard.json"
RUN_DIR_MANIFEST = "shard.json"


class ShardError(PPTBenchError):
    """Shards that cannot be merged (different runs, missing or repeated shards, unfinished)."""


@dataclass(frozen=True)
class Shard:
    """Shard `index` of `count`: the items j with j % count == index."""

    index: int
    count: int

    def __post_init__(self) -> None:
        if not (self.count >= 1 and 0 <= self.index < self.count):
            raise ValueError(f"a shard is i/n with 0 <= i < n, got {self.index}/{self.count}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"

    def owns(self, item: int) -> bool:
        return item % self.count == self.index

    def indices(self, n_items: int) -> range:
        """The item indices of this shard among 0..n_items-1, in order."""
        return range(self.index, n_items, self.count)


UNSHARDED = Shard(0, 1)


def parse_shard(text: str) -> Shard:
    """`"i/n"` -> Shard(i, n); ValueError with a one-line reason otherwise."""
    try:
        index, count = (int(part) for part in text.split("/"))
    except ValueError:
        raise ValueError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if not (count >= 1 and 0 <= index < count):
        raise ValueError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return Shard(index, count)


@dataclass(frozen=True)
class ShardManifest:
    """What a finished shard records about itself (see the module docstring)."""

    kind: str
    config: Mapping[str, Any]
    shard: Shard
    items: int
    sha256: str | None = None  # of the data file; None for an eval run directory
    counts: Mapping[str, int] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        from ppt_bench import __version__

        return {"kind": self.kind, "config": dict(self.config), "shard": [self.shard.index, self.shard.count],
                "items": self.items, "sha256": self.sha256, "counts": dict(self.counts),
                "ppt_bench_version": __version__}


def manifest_path(output: Path | str) -> Path:
    """Where the manifest of a shard output lives: inside a run directory, else beside the file."""
    output = Path(output)
    return output / RUN_DIR_MANIFEST if output.is_dir() else output.with_name(output.name + MANIFEST_SUFFIX)


def file_sha256(path: Path | str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def jsonable_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """`config` as it reads back from JSON (paths and tuples become strings and lists), so a written
    manifest and a fresh one compare equal."""
    return json.loads(json.dumps(dict(config), default=str))


def write_manifest(output: Path | str, kind: str, config: Mapping[str, Any], shard: Shard, items: int,
                   counts: Mapping[str, int] | None = None) -> Path:
    """Mark `output` as a finished shard (atomically; a data file's sha256 is recorded)."""
    if kind not in KINDS:
        raise ValueError(f"kind must be one of {KINDS}, not {kind!r}")
    output = Path(output)
    sha = None if output.is_dir() else file_sha256(output)
    path = manifest_path(output)
    write_json_atomic(path, ShardManifest(kind, jsonable_config(config), shard, items, sha,
                                          dict(counts or {})).to_json())
    return path


def read_manifest(output: Path | str) -> ShardManifest:
    """The manifest of a shard output; ShardError when it is missing, damaged or out of date."""
    output = Path(output)
    if not output.exists():
        raise ShardError(f"shard {output} not found")
    path = manifest_path(output)
    try:
        record = json.loads(path.read_text())
        manifest = ShardManifest(kind=record["kind"], config=record["config"], shard=Shard(*record["shard"]),
                                 items=int(record["items"]), sha256=record.get("sha256"),
                                 counts=dict(record.get("counts") or {}))
    except FileNotFoundError:
        raise ShardError(f"{output} is not a finished shard (no {path.name}): rerun its command with --shard") \
            from None
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ShardError(f"{path} is damaged ({type(error).__name__}: {error})") from None
    if manifest.kind not in KINDS:
        raise ShardError(f"{path}: unknown shard kind {manifest.kind!r}")
    if manifest.sha256 is not None and file_sha256(output) != manifest.sha256:
        raise ShardError(f"{output} changed after its shard finished (sha256 differs from {path.name}); "
                         f"rerun its command")
    return manifest


def check_shards(outputs: Sequence[Path | str]) -> list[tuple[Path, ShardManifest]]:
    """The shards' (output, manifest) in shard order, after checking that they merge: one kind, one
    config, shards 0..n-1 each exactly once. ShardError (one line) otherwise."""
    if not outputs:
        raise ShardError("no shards to merge")
    shards = [(Path(output), read_manifest(output)) for output in outputs]
    first_path, first = shards[0]
    for path, manifest in shards[1:]:
        if manifest.kind != first.kind:
            raise ShardError(f"{path} is a {manifest.kind} shard, {first_path} a {first.kind} shard")
        if manifest.shard.count != first.shard.count:
            raise ShardError(f"{path} is shard {manifest.shard}, {first_path} shard {first.shard}: "
                             f"different shard counts")
        if manifest.config != first.config:
            keys = sorted(set(manifest.config) | set(first.config))
            differ = [f"{key}: {first.config.get(key)!r} vs {manifest.config.get(key)!r}"
                      for key in keys if manifest.config.get(key) != first.config.get(key)]
            raise ShardError(f"{path} and {first_path} come from different runs ({'; '.join(differ)})")
    seen: dict[int, Path] = {}
    for path, manifest in shards:
        if manifest.shard.index in seen:
            raise ShardError(f"shard {manifest.shard} given twice: {seen[manifest.shard.index]} and {path}")
        seen[manifest.shard.index] = path
    missing = [str(i) for i in range(first.shard.count) if i not in seen]
    if missing:
        raise ShardError(f"missing shard(s) {', '.join(f'{i}/{first.shard.count}' for i in missing)}")
    return sorted(shards, key=lambda item: item[1].shard.index)


RECORD_KINDS = ("dialogues", "programs")


def record_line(index: int, line: str) -> str:
    """A record shard's line for item `index` whose unsharded line is `line` (without its newline)."""
    return json.dumps({"index": index, "line": line}, ensure_ascii=False) + "\n"


def write_record_shard(path: Path | str, kind: str, config: Mapping[str, Any], shard: Shard,
                       records: Iterable[tuple[int, str]], counts: Mapping[str, int] | None = None) -> int:
    """Write `(index, line)` records of `shard` atomically, then its manifest; returns the count."""
    count = 0
    with atomic_open(path) as handle:
        for index, line in records:
            if not shard.owns(index):
                raise ValueError(f"item {index} is not in shard {shard}")
            handle.write(record_line(index, line))
            count += 1
    write_manifest(path, kind, config, shard, count, counts)
    return count


def merge_record_shards(outputs: Sequence[Path | str], out: Path | str) -> tuple[int, dict[str, int]]:
    """Join record shards into `out` (atomically): their lines in index order. Returns the number of
    lines and the summed `counts`."""
    checked = check_shards(outputs)
    kind = checked[0][1].kind
    if kind not in RECORD_KINDS:
        raise ShardError(f"{checked[0][0]} is a {kind} shard, not one of {', '.join(RECORD_KINDS)}")
    lines: dict[int, str] = {}
    counts: dict[str, int] = {}
    for path, manifest in checked:
        with path.open(encoding="utf-8") as handle:
            records = [json.loads(raw) for raw in handle if raw.strip()]
        if len(records) != manifest.items:
            raise ShardError(f"{path} holds {len(records)} of its {manifest.items} records; rerun shard "
                             f"{manifest.shard}")
        for record in records:
            index = int(record["index"])
            if not manifest.shard.owns(index) or index in lines:
                raise ShardError(f"{path}: item {index} does not belong to shard {manifest.shard}")
            lines[index] = record["line"]
        for key, value in manifest.counts.items():
            counts[key] = counts.get(key, 0) + int(value)
    with atomic_open(out) as handle:
        for index in sorted(lines):
            handle.write(lines[index] + "\n")
    return len(lines), counts
