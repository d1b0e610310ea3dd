"""Fetching: local copies verified, atomic checksum-verified downloads (from a loopback server),
clear errors offline or on a bad checksum, archives unpacked safely."""

import hashlib
import http.server
import shutil
import threading
import zipfile
from functools import partial
from pathlib import Path

import pytest

from ppt_bench.cli import main
from ppt_bench.data import DATASETS, Archive, Dataset, RemoteFile, dataset_path, fetch
from ppt_bench.data.fetch import RECORDED_DIGEST, fetch_archive, fetch_file
from ppt_bench.errors import DataError

PROBCOPA_ITEMS = DATASETS["probcopa"].files[1]


@pytest.fixture
def server(tmp_path):
    """A loopback HTTP server over a fresh folder; yields (folder, base_url)."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = partial(http.server.SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield folder, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_good_local_copy_is_verified(data_root):
    fetched = fetch("probcopa", data_dir=data_root, offline=True)
    assert [item.sha256 for item in fetched] == [entry.sha256 for entry in DATASETS["probcopa"].files]
    assert all(item.source == "local" and item.path.is_file() for item in fetched)
    assert dataset_path("openestimate", data_dir=data_root, offline=True) == data_root / "openestimate"


def test_bad_checksum_is_an_error_and_deletes_nothing(data_root, tmp_path):
    copy = tmp_path / PROBCOPA_ITEMS.path
    copy.parent.mkdir(parents=True)
    data = (data_root / PROBCOPA_ITEMS.path).read_bytes()
    copy.write_bytes(data.replace(b"premise", b"Premise", 1))
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch_file(PROBCOPA_ITEMS, data_dir=tmp_path, offline=True)
    assert copy.read_bytes() != data  # the user's file is left for inspection


def test_missing_offline_is_a_clear_error(tmp_path):
    with pytest.raises(DataError, match="offline mode is on") as error:
        fetch("probcopa", data_dir=tmp_path, offline=True)
    first = DATASETS["probcopa"].files[0]
    assert "PPT_BENCH_DATA_DIR" in str(error.value) and first.url in str(error.value)


def test_unreachable_server_is_a_clear_error_and_leaves_nothing(tmp_path):
    entry = RemoteFile("demo/file.txt", "http://127.0.0.1:9/file.txt", "0" * 64)
    with pytest.raises(DataError, match="could not be downloaded"):
        fetch_file(entry, data_dir=tmp_path, offline=False)
    assert list((tmp_path / "demo").iterdir()) == []


def test_download_is_verified_and_atomic(server, tmp_path):
    folder, base = server
    payload = b'{"a": 1}\n' * 1000
    (folder / "file.jsonl").write_bytes(payload)
    entry = RemoteFile("demo/file.jsonl", f"{base}/file.jsonl", _sha256(payload))
    root = tmp_path / "root"
    fetched = fetch_file(entry, data_dir=root, offline=False)
    assert fetched.source == "downloaded" and fetched.path.read_bytes() == payload
    again = fetch_file(entry, data_dir=root, offline=True)  # now a verified local copy
    assert again.source == "local" and again.sha256 == entry.sha256


def test_download_with_wrong_checksum_saves_nothing(server, tmp_path):
    folder, base = server
    (folder / "file.jsonl").write_bytes(b"tampered\n")
    entry = RemoteFile("demo/file.jsonl", f"{base}/file.jsonl", _sha256(b"original\n"))
    with pytest.raises(DataError, match="checksum mismatch for download"):
        fetch_file(entry, data_dir=tmp_path, offline=False)
    assert list((tmp_path / "demo").iterdir()) == []  # neither the file nor a temp file remains


def _archive_dataset(base: str, sha256=None) -> Dataset:
    return Dataset(name="demo_archive", title="demo", licence="MIT", citation="-",
                   archive=Archive(url=f"{base}/data.zip", sha256=sha256, strip="data",
                                   required=("eval/a.jsonl",)))


def test_archive_is_unpacked_and_its_digest_recorded(server, tmp_path):
    folder, base = server
    with zipfile.ZipFile(folder / "data.zip", "w") as bundle:
        bundle.writestr("data/eval/a.jsonl", '{"x": 1}\n')
        bundle.writestr("data/README.md", "demo\n")
    digest = _sha256((folder / "data.zip").read_bytes())
    root = tmp_path / "root"
    fetched = fetch_archive(_archive_dataset(base), data_dir=root, offline=False)
    assert fetched.path == root / "demo_archive" and (fetched.path / "eval/a.jsonl").is_file()
    assert (fetched.path / RECORDED_DIGEST).read_text().strip() == digest == fetched.sha256
    assert not fetched.pinned
    assert fetch_archive(_archive_dataset(base), data_dir=root, offline=True).source == "local"
    assert [p.name for p in root.iterdir()] == ["demo_archive"]  # no zip or staging left


def test_archive_with_unsafe_paths_is_refused(server, tmp_path):
    folder, base = server
    with zipfile.ZipFile(folder / "data.zip", "w") as bundle:
        bundle.writestr("data/eval/a.jsonl", "{}\n")
        bundle.writestr("data/../../escape.txt", "no\n")
    with pytest.raises(DataError, match="unsafe member path"):
        fetch_archive(_archive_dataset(base), data_dir=tmp_path / "root", offline=False)
    assert not (tmp_path / "escape.txt").exists()
    assert list((tmp_path / "root").iterdir()) == []


def test_bayesian_teaching_local_copy(data_root):
    fetched = fetch("bayesian_teaching", data_dir=data_root, offline=True)
    assert fetched[0].path == data_root / "bayesian_teaching" and fetched[0].source == "local"


def test_cli_fetch_reports_verified_sha256(data_root, capsys):
    assert main(["data", "fetch", "probcopa", "--data-dir", str(data_root), "--offline"]) == 0
    out = capsys.readouterr().out
    assert f"sha256 {PROBCOPA_ITEMS.sha256} verified" in out
    assert "210 items, 5858 ratings" in out


def test_cli_fetch_with_empty_dir_fails_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("PPT_BENCH_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("PPT_BENCH_OFFLINE", "1")
    assert main(["data", "fetch", "probcopa"]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("ppt-bench: error: ")


def test_unknown_dataset_lists_known_names():
    with pytest.raises(DataError, match="known: bayesian_teaching, openestimate, probcopa"):
        fetch("nope")


def test_copied_data_root_is_used_first(data_root, tmp_path, monkeypatch):
    shutil.copytree(data_root / "probcopa", tmp_path / "probcopa")
    monkeypatch.setenv("PPT_BENCH_DATA_DIR", str(tmp_path))
    assert {item.path.parent for item in fetch("probcopa")} == {tmp_path / "probcopa"}
    assert Path(dataset_path("probcopa")) == tmp_path / "probcopa"
