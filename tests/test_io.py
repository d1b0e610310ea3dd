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
