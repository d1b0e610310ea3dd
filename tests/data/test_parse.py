"""Readers: canary lines skipped, malformed files reported with their line number."""

import json

import pytest

from ppt_bench.data import (
    iter_jsonl,
    read_json,
    read_openestimate_variables,
    read_probcopa_items,
    read_probcopa_ratings,
    summarize_dataset,
)
from ppt_bench.errors import DataError


def test_probcopa_canaries_are_skipped(data_root):
    path = data_root / "probcopa" / "probcopa_CANARY.jsonl"
    raw_lines = path.read_text().splitlines()
    canaries = sum(json.loads(line).get("type") == "canary" for line in raw_lines)
    ratings = read_probcopa_ratings(path)
    assert canaries == 50
    assert len(ratings) == len(raw_lines) - canaries == 5858
    assert len({rating.uid for rating in ratings}) == 210
    assert len(read_probcopa_items(data_root / "probcopa" / "probcopa_items.jsonl")) == 210


def test_canary_lines_skipped_in_a_small_file(tmp_path):
    path = tmp_path / "ratings.jsonl"
    path.write_text('{"type": "canary", "canary_hex": "ab", "description": "x"}\n'
                    '{"UID": 3, "workerid": "7", "response": 40}\n\n')
    assert [(r.uid, r.worker_id, r.response) for r in read_probcopa_ratings(path)] == [(3, "7", 40.0)]


def test_malformed_jsonl_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"UID": 1, "workerid": "a", "response": 10}\n'
                    '\n{"UID": 2, "workerid": "b", response: 3}\n')
    with pytest.raises(DataError, match=r"bad.jsonl: line 3: invalid JSON"):
        list(iter_jsonl(path))


def test_invalid_field_names_the_line(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"UID": 1, "workerid": "a", "response": 10}\n'
                    '{"UID": 2, "workerid": "b", "response": 300}\n')
    with pytest.raises(DataError, match="line 2: response 300 outside"):
        read_probcopa_ratings(path)
    path.write_text('{"UID": 1, "workerid": "a"}\n')
    with pytest.raises(DataError, match="line 1: missing field 'response'"):
        read_probcopa_ratings(path)


def test_malformed_json_names_the_line(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text('{\n  "a": 1,\n  "b": \n}\n')
    with pytest.raises(DataError, match="line 4"):
        read_json(path)


def test_openestimate_variables(data_root):
    folder = data_root / "openestimate" / "variables"
    counts = {d: len(read_openestimate_variables(folder / f"{d}_variables.json", d))
              for d in ("glassdoor", "nhanes", "pitchbook")}
    assert counts == {"glassdoor": 46, "nhanes": 74, "pitchbook": 61}
    assert summarize_dataset("openestimate", data_root / "openestimate").startswith("181 variables")


def test_openestimate_rejects_invalid_distribution(tmp_path):
    path = tmp_path / "x_variables.json"
    path.write_text(json.dumps({"v": {"variable": "q", "mean": 1, "std": 0,
                                      "ground_truth_distribution_type": "normal"}}))
    with pytest.raises(DataError, match="variable 'v'"):
        read_openestimate_variables(path, "x")
