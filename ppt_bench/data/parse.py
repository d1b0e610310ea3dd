"""Readers for the external files, validating as they go: errors name the file and the line.

Records are frozen dataclasses; readers are plain functions from a path to a tuple of records.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ppt_bench.errors import DataError


def iter_jsonl(path: Path, skip_canaries: bool = False) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield `(line_number, object)` for each non-blank line of a JSON Lines file.

    With `skip_canaries`, lines `{"type": "canary", ...}` (contamination markers) are skipped.
    A line that is not a JSON object raises DataError naming the file and line number.
    """
    with open(path, encoding="utf-8") as handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                raise DataError(f"{path}: line {number}: invalid JSON ({error.msg})") from None
            if not isinstance(record, dict):
                raise DataError(f"{path}: line {number}: expected a JSON object, got {type(record).__name__}")
            if skip_canaries and record.get("type") == "canary":
                continue
            yield number, record


def read_json(path: Path) -> Any:
    """Parse a JSON file; a syntax error raises DataError with the line number."""
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except json.JSONDecodeError as error:
        raise DataError(f"{path}: line {error.lineno}: invalid JSON ({error.msg})") from None


def _field(path: Path, number: int, record: dict, key: str, kind: type | tuple[type, ...]):
    if key not in record:
        raise DataError(f"{path}: line {number}: missing field {key!r}")
    value = record[key]
    if not isinstance(value, kind) or isinstance(value, bool):
        raise DataError(f"{path}: line {number}: field {key!r} has type {type(value).__name__}")
    return value


# --- ProbCOPA ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class ProbcopaItem:
    """One ProbCOPA item: how likely is `hypothesis` (an effect) given `premise`."""

    uid: int
    premise: str
    hypothesis: str
    asks_for: str


@dataclass(frozen=True)
class ProbcopaRating:
    """One participant's 0-100 likelihood rating of one item."""

    uid: int
    worker_id: str
    response: float


def read_probcopa_items(path: Path) -> tuple[ProbcopaItem, ...]:
    """The 210 items of `probcopa_items.jsonl`, in file order."""
    return tuple(
        ProbcopaItem(uid=_field(path, n, r, "UID", int), premise=_field(path, n, r, "premise", str),
                     hypothesis=_field(path, n, r, "hypothesis", str),
                     asks_for=_field(path, n, r, "asks-for", str))
        for n, r in iter_jsonl(path, skip_canaries=True)
    )


def read_probcopa_ratings(path: Path) -> tuple[ProbcopaRating, ...]:
    """The ratings of `probcopa_CANARY.jsonl`, canary lines skipped; responses must lie in [0, 100]."""
    ratings = []
    for number, record in iter_jsonl(path, skip_canaries=True):
        response = _field(path, number, record, "response", (int, float))
        if not 0 <= response <= 100:
            raise DataError(f"{path}: line {number}: response {response} outside [0, 100]")
        ratings.append(ProbcopaRating(uid=_field(path, number, record, "UID", int),
                                      worker_id=str(_field(path, number, record, "workerid", (str, int))),
                                      response=float(response)))
    return tuple(ratings)


# --- OpenEstimate ------------------------------------------------------------------------------

@dataclass(frozen=True)
class EstimationVariable:
    """One OpenEstimate variable: the question text and its ground-truth distribution."""

    id: str
    domain: str
    question: str
    mean: float
    std: float
    se: float
    distribution: str  # "normal" or "beta"
    base_variable: str
    conditions: Any


def read_openestimate_variables(path: Path, domain: str) -> tuple[EstimationVariable, ...]:
    """Variables of one `{domain}_variables.json` file (a JSON object keyed by variable id)."""
    table = read_json(path)
    if not isinstance(table, dict):
        raise DataError(f"{path}: expected a JSON object keyed by variable id")
    variables = []
    for variable_id, entry in table.items():
        where = f"{path}: variable {variable_id!r}"
        try:
            mean, std = float(entry["mean"]), float(entry["std"])
            distribution = entry["ground_truth_distribution_type"]
            question = entry["variable"]
        except (KeyError, TypeError, ValueError) as error:
            raise DataError(f"{where}: missing or invalid field ({error})") from None
        if distribution not in ("normal", "beta") or not (math.isfinite(mean) and std > 0):
            raise DataError(f"{where}: invalid distribution {distribution!r} (mean {mean}, std {std})")
        variables.append(EstimationVariable(
            id=variable_id, domain=domain, question=str(question), mean=mean, std=std,
            se=float(entry.get("se", math.nan)),
            distribution=distribution, base_variable=str(entry.get("base_variable", variable_id)),
            conditions=entry.get("conditions")))
    return tuple(variables)


# --- whole data sets ---------------------------------------------------------------------------

def summarize_dataset(name: str, folder: Path) -> str:
    """Parse every file of data set `name` under `folder` (validating it); return a one-line summary."""
    if name == "probcopa":
        items = read_probcopa_items(folder / "probcopa_items.jsonl")
        ratings = read_probcopa_ratings(folder / "probcopa_CANARY.jsonl")
        return f"{len(items)} items, {len(ratings)} ratings (canary lines skipped)"
    if name == "openestimate":
        counts = {domain: len(read_openestimate_variables(
            folder / "variables" / f"{domain}_variables.json", domain))
            for domain in ("glassdoor", "nhanes", "pitchbook")}
        return f"{sum(counts.values())} variables ({', '.join(f'{k} {v}' for k, v in counts.items())})"
    files = sorted(folder.rglob("*.json*"))
    records = 0
    for path in files:
        if path.suffix == ".jsonl":
            records += sum(1 for _ in iter_jsonl(path))
        else:
            read_json(path)
            records += 1
    return f"{len(files)} files, {records} records"
