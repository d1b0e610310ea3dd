"""Shared fixtures: where the external data sets are (never downloaded in tests)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def external_data_root() -> Path | None:
    """`$PPT_BENCH_DATA_DIR`, else `<repo>/../shared/data`, else None."""
    explicit = os.environ.get("PPT_BENCH_DATA_DIR")
    if explicit:
        return Path(explicit)
    shared = REPO.parent / "shared" / "data"
    return shared if shared.is_dir() else None


@pytest.fixture(scope="session")
def data_root() -> Path:
    """A data root holding the external data sets (skips the test when there is none)."""
    root = external_data_root()
    if root is None:
        pytest.skip("no external data: set PPT_BENCH_DATA_DIR to a folder holding the data sets "
                    "(e.g. a copy fetched with `ppt-bench data fetch all`)")
    return root


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path_factory, monkeypatch):
    """Never touch the user's cache; never reach the network by accident."""
    monkeypatch.setenv("PPT_BENCH_CACHE_DIR", str(tmp_path_factory.mktemp("cache")))


@pytest.fixture(scope="session")
def bayesian_teaching_dir() -> Path:
    """The unzipped Bayesian-teaching folder (contains `eval/`) under the external data root, or skip."""
    root = external_data_root()
    candidate = root / "bayesian_teaching" if root is not None else None
    if candidate is None or not (candidate / "eval" / "interaction" / "flight.jsonl").is_file():
        pytest.skip(f"Bayesian-teaching data not found (looked in {candidate}): set PPT_BENCH_DATA_DIR "
                    "to a data root containing bayesian_teaching/")
    return candidate
