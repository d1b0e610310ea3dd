import json

import numpy as np
import pytest

from ppt_bench.io import write_json_atomic, write_jsonl_atomic


def test_write_jsonl_atomic_keeps_the_old_file_on_failure(tmp_path):
    path = tmp_path / "out" / "d.jsonl"
    assert write_jsonl_atomic(path, ({"i": i} for i in range(3))) == 3
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()] == [0, 1, 2]

    def failing():
        yield {"i": 9}
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        write_jsonl_atomic(path, failing())
    assert [json.loads(line)["i"] for line in path.read_text().splitlines()] == [0, 1, 2]
    assert [p.name for p in path.parent.iterdir()] == ["d.jsonl"]  # no temp file left


def test_write_json_atomic_handles_numpy(tmp_path):
    path = tmp_path / "r.json"
    write_json_atomic(path, {"probs": np.array([0.25, 0.75]), "n": np.int64(3)})
    assert json.loads(path.read_text()) == {"probs": [0.25, 0.75], "n": 3}


def test_read_complete_lines_stops_at_a_torn_or_bad_line(tmp_path):
    import json

    from ppt_bench.io import read_complete_lines

    path = tmp_path / "part.jsonl"
    assert read_complete_lines(path, json.loads) == ([], 0)
    good = b'{"a": 1}\n{"a": 2}\n'
    path.write_bytes(good + b'{"a": 3')  # an interrupted write
    assert read_complete_lines(path, json.loads) == ([{"a": 1}, {"a": 2}], len(good))
    path.write_bytes(good + b'not json\n{"a": 4}\n')
    assert read_complete_lines(path, lambda raw: json.loads(raw)["a"]) == ([1, 2], len(good))
