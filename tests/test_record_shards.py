"""Record shards (`generate dialogues`, `generate programs`): merged shards equal the unsharded file."""

import pytest

from ppt_bench.cli import main
from ppt_bench.shards import Shard, ShardError, merge_record_shards, parse_shard, write_record_shard


def test_parse_shard():
    assert parse_shard("1/3") == Shard(1, 3) and list(Shard(1, 3).indices(8)) == [1, 4, 7]
    for bad in ("3/3", "1", "a/b", "-1/2"):
        with pytest.raises(ValueError, match="--shard"):
            parse_shard(bad)


def test_dialogue_shards_merge_to_the_unsharded_file(tmp_path, capsys):
    base = ["generate", "dialogues", "--domain", "flight", "--teacher", "bayesian", "--users", "7",
            "--seed", "3"]
    assert main([*base, "--out", str(tmp_path / "whole.jsonl")]) == 0
    parts = [tmp_path / f"d{i}.jsonl" for i in range(3)]
    for i, part in enumerate(parts):
        assert main([*base, "--shard", f"{i}/3", "--out", str(part)]) == 0
    assert main(["merge", "--out", str(tmp_path / "merged.jsonl"), *map(str, parts)]) == 0
    assert (tmp_path / "merged.jsonl").read_bytes() == (tmp_path / "whole.jsonl").read_bytes()
    assert main([*base[:-1], "4", "--shard", "1/3", "--out", str(tmp_path / "other.jsonl")]) == 0
    capsys.readouterr()
    assert main(["merge", "--out", str(tmp_path / "bad.jsonl"), str(parts[0]), str(tmp_path / "other.jsonl"),
                 str(parts[2])]) == 2
    assert "different runs (seed: 3 vs 4)" in capsys.readouterr().err


def test_program_shards_merge_to_the_unsharded_file(tmp_path, monkeypatch, capsys):
    from ppt_bench.programs.sandbox import authors
    from ppt_bench.programs.sandbox.adversarial import VALID_EXAMPLE

    replies = ["```python\n" + VALID_EXAMPLE + "```", "import os\n", "```python\n" + VALID_EXAMPLE + "```"]
    monkeypatch.setattr(authors, "resolve_author", lambda spec: authors.scripted_author(replies))
    # request i of seed 1 gets reply (100_003 + i) % 3: 1 (rejected), 2, 0 (accepted)
    base = ["generate", "programs", "--author", "scripted", "--n", "3", "--seed", "1"]
    assert main([*base, "--out", str(tmp_path / "whole.jsonl")]) == 0
    parts = [tmp_path / f"p{i}.jsonl" for i in range(2)]
    for i, part in enumerate(parts):
        assert main([*base, "--shard", f"{i}/2", "--out", str(part)]) == 0
    capsys.readouterr()
    assert main(["merge", "--out", str(tmp_path / "merged.jsonl"), *map(str, parts)]) == 0
    whole = (tmp_path / "whole.jsonl").read_bytes()
    assert whole.count(b"\n") == 2 and (tmp_path / "merged.jsonl").read_bytes() == whole
    assert "accepted: 2, rejected import: 1, requested: 3" in capsys.readouterr().out


def test_record_merge_refuses_truncated_and_foreign_items(tmp_path):
    config = {"n": 4}
    first, second = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    write_record_shard(first, "programs", config, Shard(0, 2), [(0, "{}"), (2, "{}")])
    write_record_shard(second, "programs", config, Shard(1, 2), [(1, "{}")])
    assert merge_record_shards([first, second], tmp_path / "m.jsonl")[0] == 3
    with pytest.raises(ValueError, match="not in shard"):
        write_record_shard(second, "programs", config, Shard(1, 2), [(2, "{}")])
    second.write_text("")  # changed after it finished
    with pytest.raises(ShardError, match="changed after its shard finished"):
        merge_record_shards([first, second], tmp_path / "m2.jsonl")
