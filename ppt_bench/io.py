"""Atomic file writes: a temporary file beside the target, then a rename.

A crash or an exception leaves either the old file or the new one under the final name, never half
a file, and the temporary file is removed.
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any


@contextmanager
def atomic_open(path: Path | str, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside `path` for writing; rename it to `path` when the block succeeds."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    encoding = None if "b" in mode else "utf-8"
    handle = tempfile.NamedTemporaryFile(mode, encoding=encoding, dir=path.parent,
                                         prefix=f".{path.name}.", suffix=".tmp", delete=False)
    try:
        with handle:
            yield handle
        os.replace(handle.name, path)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise


def jsonable(value: Any) -> Any:
    """How the writers here store a value JSON lacks: numpy values as lists, anything else as its str."""
    if hasattr(value, "tolist"):  # numpy arrays and scalars
        return value.tolist()
    return str(value)


def write_text_atomic(path: Path | str, text: str) -> None:
    with atomic_open(path) as handle:
        handle.write(text)


def write_json_atomic(path: Path | str, payload: Any) -> None:
    """JSON with indentation; numpy values become lists, anything else unknown becomes its str."""
    with atomic_open(path) as handle:
        json.dump(payload, handle, indent=2, default=jsonable, ensure_ascii=False)
        handle.write("\n")


def write_jsonl_atomic(path: Path | str, records: Iterable[Any]) -> int:
    """One JSON document per line; returns the number of records written."""
    count = 0
    with atomic_open(path) as handle:
        for record in records:
            handle.write(json.dumps(record, default=jsonable, ensure_ascii=False) + "\n")
            count += 1
    return count


def read_complete_lines(path: Path | str, parse: Callable[[bytes], Any]) -> tuple[list[Any], int]:
    """`parse` of each complete, valid line of a resumable JSON Lines file, and the byte length those
    lines span: reading stops at a line without its newline or one `parse` rejects (ValueError,
    TypeError, KeyError), the torn end of an interrupted write. ([], 0) for a missing file."""
    items: list[Any] = []
    good_bytes = 0
    path = Path(path)
    if not path.exists():
        return items, 0
    with path.open("rb") as handle:
        for raw in handle:
            if not raw.endswith(b"\n"):
                break
            try:
                items.append(parse(raw))
            except (ValueError, TypeError, KeyError):
                break
            good_bytes += len(raw)
    return items, good_bytes
