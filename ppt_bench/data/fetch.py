"""Locate, download and verify external data sets.

Where data is looked for (first match wins):

1. an explicit `data_dir` (the `--data-dir` option), else `$PPT_BENCH_DATA_DIR`: only that folder;
2. otherwise `<checkout>/../shared/data` when it exists (a read-only mirror beside a source checkout),
   then the download cache `$PPT_BENCH_CACHE_DIR` (default `~/.cache/ppt-bench`).

Downloads go to the first writable candidate (1, else the cache), through a temporary file that is
verified before it is renamed into place, so a half-written or corrupt file never sits under the
final name. Nothing else is ever deleted.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ppt_bench.data.registry import Archive, Dataset, RemoteFile, get_dataset
from ppt_bench.errors import DataError
from ppt_bench.io import atomic_open, write_text_atomic

log = logging.getLogger(__name__)

ENV_DATA_DIR = "PPT_BENCH_DATA_DIR"
ENV_CACHE_DIR = "PPT_BENCH_CACHE_DIR"
ENV_OFFLINE = "PPT_BENCH_OFFLINE"
RECORDED_DIGEST = ".archive.sha256"  # digest of an unpinned archive, recorded on first download
_CHUNK = 1 << 20


@dataclass(frozen=True)
class FetchedFile:
    """A file that is present and verified: where it is, its sha256, and how it got there."""

    path: Path
    sha256: str
    source: str  # "local" (already present) or "downloaded"
    pinned: bool = True


def cache_dir() -> Path:
    """The download cache: `$PPT_BENCH_CACHE_DIR`, default `~/.cache/ppt-bench`."""
    return Path(os.environ.get(ENV_CACHE_DIR) or Path.home() / ".cache" / "ppt-bench").expanduser()


def shared_data_dir() -> Path | None:
    """`<checkout>/../shared/data` when ppt_bench runs from a source checkout that has one."""
    candidate = Path(__file__).resolve().parents[3] / "shared" / "data"
    return candidate if candidate.is_dir() else None


def data_roots(data_dir: str | os.PathLike | None = None) -> list[Path]:
    """Folders searched for data, in order; the last one is where downloads go."""
    explicit = data_dir or os.environ.get(ENV_DATA_DIR)
    if explicit:
        return [Path(explicit).expanduser()]
    shared = shared_data_dir()
    return [root for root in (shared, cache_dir()) if root is not None]


def offline_requested() -> bool:
    return os.environ.get(ENV_OFFLINE, "").lower() in {"1", "true", "yes"}


def sha256_of(path: Path) -> str:
    """Hex sha256 of a file, read in 1 MiB blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while block := handle.read(_CHUNK):
            digest.update(block)
    return digest.hexdigest()


def _where_to_look(roots: list[Path]) -> str:
    return ", ".join(str(root) for root in roots)


def fetch_file(entry: RemoteFile, data_dir=None, offline: bool | None = None) -> FetchedFile:
    """Return the verified local copy of `entry`, downloading it into the data root if absent.

    A present file whose sha256 differs is an error (the file is left alone for the user to inspect).
    """
    roots = data_roots(data_dir)
    for root in roots:
        path = root / entry.path
        if path.is_file():
            actual = sha256_of(path)
            if actual != entry.sha256:
                raise DataError(f"checksum mismatch for {path}: sha256 {actual}, expected {entry.sha256} "
                                f"(from {entry.url}); remove or replace the file and fetch again")
            return FetchedFile(path, actual, "local")
    target = roots[-1] / entry.path
    offline = offline_requested() if offline is None else offline
    if offline:
        raise DataError(f"{entry.path} is not in {_where_to_look(roots)} and offline mode is on; "
                        f"download {entry.url} there, or set {ENV_DATA_DIR} to a folder holding a copy")
    digest = download(entry.url, target, expected_sha256=entry.sha256, roots=roots)
    return FetchedFile(target, digest, "downloaded")


def download(url: str, target: Path, expected_sha256: str | None, roots: list[Path] | None = None,
             timeout: float = 60.0) -> str:
    """Download `url` to `target` atomically (temp file in the same folder, verify, rename).

    Returns the sha256 of the downloaded bytes. Raises DataError on network failure or checksum
    mismatch; in both cases nothing is left under `target` and the temp file is removed.
    """
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DataError(f"cannot create {target.parent}: {error.strerror}; set {ENV_DATA_DIR} "
                        "to a writable folder") from None
    digest = hashlib.sha256()
    with atomic_open(target, "wb") as handle:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as response:
                total = int(response.headers.get("Content-Length") or 0) or None
                with _progress(total, target.name) as bar:
                    while block := response.read(_CHUNK):
                        handle.write(block)
                        digest.update(block)
                        bar.update(len(block))
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", None) or error
            looked = f" (looked in {_where_to_look(roots)})" if roots else ""
            raise DataError(f"{target} is missing{looked} and could not be downloaded from {url}: "
                            f"{reason}; connect to the network, or set {ENV_DATA_DIR} to a folder "
                            "holding a copy") from None
        actual = digest.hexdigest()
        if expected_sha256 is not None and actual != expected_sha256:
            raise DataError(f"checksum mismatch for download {url}: sha256 {actual}, expected "
                            f"{expected_sha256}; nothing was saved")
    return actual


def _progress(total: int | None, name: str):
    from tqdm.auto import tqdm

    return tqdm(total=total, unit="B", unit_scale=True, desc=f"download {name}", leave=False,
                disable=None)


def fetch_archive(dataset: Dataset, data_dir=None, offline: bool | None = None) -> FetchedFile:
    """Return the unpacked folder of an archive data set, downloading and unpacking it if needed.

    An existing folder counts when every `required` path is present. For an unpinned archive the
    digest of the first download is recorded beside the folder and checked on later downloads.
    """
    archive = dataset.archive
    assert archive is not None
    roots = data_roots(data_dir)
    for root in roots:
        folder = root / dataset.name
        if all((folder / required).is_file() for required in archive.required):
            recorded = folder / RECORDED_DIGEST
            digest = recorded.read_text().strip() if recorded.is_file() else ""
            return FetchedFile(folder, digest, "local", pinned=archive.sha256 is not None)
    offline = offline_requested() if offline is None else offline
    folder = roots[-1] / dataset.name
    if offline:
        raise DataError(f"{dataset.name}: no unpacked copy with {', '.join(archive.required)} in "
                        f"{_where_to_look(roots)} and offline mode is on; download {archive.url}, unzip "
                        f"it as {folder}, or set {ENV_DATA_DIR} to a folder holding {dataset.name}/")
    zip_path = roots[-1] / f".{dataset.name}.zip"
    digest = download(archive.url, zip_path, expected_sha256=archive.sha256, roots=roots)
    try:
        recorded = folder / RECORDED_DIGEST
        if archive.sha256 is None and recorded.is_file() and recorded.read_text().strip() != digest:
            raise DataError(f"{dataset.name}: the archive at {archive.url} changed since it was first "
                            f"downloaded (sha256 {digest}, recorded {recorded.read_text().strip()})")
        unpack(zip_path, folder, archive)
        write_text_atomic(recorded, digest + "\n")
    finally:
        zip_path.unlink(missing_ok=True)
    return FetchedFile(folder, digest, "downloaded", pinned=archive.sha256 is not None)


def unpack(zip_path: Path, folder: Path, archive: Archive) -> None:
    """Unpack `zip_path` into `folder`, dropping the archive's top folder; refuses unsafe member paths.

    Members are extracted into a temporary sibling folder that is renamed into place only when every
    required file is there, so an interrupted unpack leaves no partial folder under the final name.
    """
    staging = Path(tempfile.mkdtemp(dir=folder.parent, prefix=f".{folder.name}.", suffix=".unpack"))
    try:
        with zipfile.ZipFile(zip_path) as bundle:
            for member in bundle.infolist():
                parts = Path(member.filename).parts
                if parts and parts[0] == archive.strip:
                    parts = parts[1:]
                if not parts or member.is_dir():
                    continue
                if any(part in ("..", "") for part in parts) or Path(member.filename).is_absolute():
                    raise DataError(f"{zip_path.name}: unsafe member path {member.filename!r}")
                destination = staging.joinpath(*parts)
                destination.parent.mkdir(parents=True, exist_ok=True)
                with bundle.open(member) as source, open(destination, "wb") as sink:
                    while block := source.read(_CHUNK):
                        sink.write(block)
        missing = [required for required in archive.required if not (staging / required).is_file()]
        if missing:
            raise DataError(f"{zip_path.name}: archive lacks {', '.join(missing)}")
        if folder.exists():
            raise DataError(f"{folder} exists but is incomplete (missing {', '.join(archive.required)}); "
                            "move it aside and fetch again")
        os.replace(staging, folder)
    except zipfile.BadZipFile as error:
        raise DataError(f"{zip_path.name}: not a valid zip archive ({error})") from None
    finally:
        if staging.exists():
            shutil.rmtree(staging)


def fetch(name: str, data_dir=None, offline: bool | None = None) -> list[FetchedFile]:
    """Make every file of data set `name` present and verified; return them (one folder for archives)."""
    dataset = get_dataset(name)
    if dataset.archive is not None:
        return [fetch_archive(dataset, data_dir, offline)]
    return [fetch_file(entry, data_dir, offline) for entry in dataset.files]


def dataset_path(name: str, data_dir=None, offline: bool | None = None) -> Path:
    """The folder holding data set `name` (fetched and verified first): `<root>/<name>`."""
    fetched = fetch(name, data_dir, offline)
    if get_dataset(name).archive is not None:
        return fetched[0].path
    first = fetched[0]
    return first.path.parents[len(Path(get_dataset(name).files[0].path).parts) - 2]
