"""Authored programs: the adversarial suite is rejected with the right reasons and no side effects;
a valid program becomes a scenario; `generate programs` runs end to end with a scripted author."""

import os
import tempfile
from pathlib import Path

import pytest

from ppt_bench.programs.sandbox.adversarial import ADVERSARIAL, RUNTIME, VALID_EXAMPLE
from ppt_bench.programs.sandbox.authored import author_scenarios, scenario_from_source
from ppt_bench.programs.sandbox.authors import scripted_author
from ppt_bench.programs.sandbox.validate import Rejected, validate_source

STATIC = [case for case in ADVERSARIAL if case[0] not in RUNTIME]
DYNAMIC = [case for case in ADVERSARIAL if case[0] in RUNTIME]
SENTINEL = Path("/tmp/ppt_pwned")


def _children() -> set[int]:
    me = str(os.getpid())
    found = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if stat.rsplit(")", 1)[1].split()[1] == me:
                found.add(int(entry))
    return found


def test_suite_size():
    assert len(ADVERSARIAL) >= 25 and len({name for name, _, _ in ADVERSARIAL}) == len(ADVERSARIAL)


@pytest.mark.parametrize("name,reason,source", STATIC, ids=[c[0] for c in STATIC])
def test_static_rejections(name, reason, source):
    with pytest.raises(Rejected) as info:
        validate_source(source)
    assert info.value.reason == reason


def test_runtime_rejections_have_reasons_and_no_side_effects(tmp_path):
    SENTINEL.unlink(missing_ok=True)
    before_tmp = set(os.listdir(tempfile.gettempdir()))
    before_children = _children()
    cwd_before = set(os.listdir("."))
    for index, (name, reason, source) in enumerate(DYNAMIC):
        with pytest.raises(Rejected) as info:
            scenario_from_source(source, seed=index, scenario_id=name)
        assert info.value.reason == reason, (name, info.value)
    assert not SENTINEL.exists()
    assert {f for f in set(os.listdir(tempfile.gettempdir())) - before_tmp if f.startswith("ppt-sandbox-")} == set()
    assert set(os.listdir(".")) == cwd_before
    assert _children() - before_children == set()


def test_valid_program_becomes_a_scenario():
    scenario = scenario_from_source(VALID_EXAMPLE, seed=1, scenario_id="ok")
    assert abs(sum(scenario.soft_label) - 1) < 1e-9 and scenario.labels == ("A", "B")
    assert "Saw " in scenario.prompt and scenario.program["source"] == VALID_EXAMPLE


def test_generate_programs_with_a_scripted_author(tmp_path, capsys):
    from ppt_bench.cli import main
    from ppt_bench.programs.sandbox import authors

    replies = ["```python\n" + VALID_EXAMPLE + "```", "import os\n", "Sorry, I cannot do that."]
    original = authors.resolve_author
    authors.resolve_author = lambda spec: scripted_author(replies)
    try:
        out = tmp_path / "authored.jsonl"
        assert main(["generate", "programs", "--author", "scripted", "--n", "3", "--out", str(out)]) == 0
    finally:
        authors.resolve_author = original
    assert len(out.read_text().splitlines()) == 1
    assert "accepted 1/3" in capsys.readouterr().out


def test_author_report_counts_reasons():
    _, report = author_scenarios(scripted_author(["import os\n", "x = ("]), 4)
    assert report.accepted == 0 and report.rejections == {"import": 2, "syntax-error": 2}
