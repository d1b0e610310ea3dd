"""The parent side of the sandbox: every adversarial case ends in its `Rejected` reason, a batch counts
every failure, and ppt-bench's own process stays within PARENT_GROWTH_BOUND of memory (measured from
rusage in a fresh process, so earlier tests cannot hide growth under an older peak)."""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from ppt_bench.programs.sandbox import authored
from ppt_bench.programs.sandbox.adversarial import VALID_EXAMPLE
from ppt_bench.programs.sandbox.authored import author_scenarios, extract_code
from ppt_bench.programs.sandbox.limits import Rejected
from ppt_bench.programs.sandbox.result import parse_child_result
from ppt_bench.programs.sandbox.runner import exchange
from ppt_bench.programs.sandbox.template import parse_template, render_template
from ppt_bench.programs.sandbox.validate import validate_source

PARENT_GROWTH_BOUND = 50 * 1024 ** 2
ROOT = Path(__file__).resolve().parents[2]


def _audit(*flags: str) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    done = subprocess.run([sys.executable, "-m", "ppt_bench.programs.sandbox.audit", "--json", *flags],
                          capture_output=True, text=True, env=env, timeout=900)
    assert done.stdout, done.stderr[-2000:]
    return json.loads(done.stdout)


def _check_audit(summary: dict) -> None:
    assert summary["failed"] == [], [c for c in summary["cases"] if not c["ok"]]
    batch = summary["batch"]
    assert batch["as_expected"] and batch["accepted"] == 0
    assert sum(batch["rejections"].values()) == batch["requested"]
    assert 0 <= summary["parent_growth_bytes"] < PARENT_GROWTH_BOUND, summary["parent_growth_bytes"]
    # the measurement can see growth: a child that allocated 256 MiB shows it in its own rusage
    flood = next(c for c in summary["cases"] if c["name"] == "one_huge_line")
    assert flood["child_peak_bytes"] > 256 * 1024 ** 2 > PARENT_GROWTH_BOUND


def test_adversarial_set_in_a_fresh_parent():
    summary = _audit()
    _check_audit(summary)
    kinds = {c["kind"] for c in summary["cases"]}
    assert kinds == {"program", "reply", "child-result", "child-process"}


@pytest.mark.slow
def test_adversarial_set_with_sandbox_runs_in_a_fresh_parent():
    summary = _audit("--runtime")
    _check_audit(summary)
    assert any(c["name"] == "memory_bomb" and c["got"] == "memory-limit" for c in summary["cases"])


def test_batch_counts_every_failure_and_never_aborts(monkeypatch):
    def failing_author(prompt, seed):
        raise ConnectionError("server down")

    _, report = author_scenarios(failing_author, 2)
    assert report.rejections == {"author-error:ConnectionError": 2}
    replies = iter(["import os\n", "boom", "recursion", "memory", None])

    def broken(reply, *args):
        if reply == "boom":
            raise KeyError("a bug")
        if reply == "recursion":
            raise RecursionError
        if reply == "memory":
            raise MemoryError
        return real(reply, *args)

    real = authored.scenario_from_reply
    monkeypatch.setattr(authored, "scenario_from_reply", broken)
    _, report = author_scenarios(lambda prompt, seed: next(replies), 5)
    assert report.accepted == 0 and report.rejections == {
        "import": 1, "internal-error:KeyError": 1, "internal-error:RecursionError": 1,
        "internal-error:MemoryError": 1, "bad-reply": 1}


def test_template_plain_placeholders_and_escaped_braces():
    parts = parse_template("Saw {x} and {y}; {{literal}}.", {"x", "y"})
    assert parts == (("Saw ", "x"), (" and ", "y"), ("; {literal}.", None))
    assert render_template(parts, {"x": "1", "y": "2, 3"}, 100) == "Saw 1 and 2, 3; {literal}."
    with pytest.raises(Rejected) as info:
        render_template(parts, {"x": "9" * 90, "y": ""}, 100)
    assert info.value.reason == "too-long"
    for bad in ("{x:>5}", "{x!r}", "{x.real}", "{x[0]}", "{z}", "{x", "x}", "{}"):
        with pytest.raises(Rejected):
            parse_template(bad, {"x"})


def test_valid_program_keeps_its_metadata_exact():
    spec = validate_source(VALID_EXAMPLE.replace("EDGES = [-1000.0, 0.0, 1000.0]", "EDGES = (-1000, 0, 1000.0)"))
    assert spec.edges == (-1000.0, 0.0, 1000.0) and all(type(e) is float for e in spec.edges)
    assert spec.choices == ("low", "high") and spec.observed == ("x",)
    assert spec.story_parts == (("Saw ", "x"), (".", None))


def test_extract_code_is_linear_and_takes_the_first_python_block():
    assert extract_code("Here:\n```python\nA = 1\n```\n```python\nB = 2\n```") == "A = 1\n"
    assert extract_code("```js\nno\n```\n```\nplain\n```") == "plain\n"
    assert extract_code("no fences at all") == "no fences at all"
    # unclosed, at the reply limit: the whole reply (a backtracking regex needed minutes on this input)
    assert extract_code("```" + "\n" * 99_000) == "```" + "\n" * 99_000


def test_a_good_child_result_is_accepted():
    line = b'noise\n{"ok": true, "observations": {"x": [1.5, 2]}, "answer": 0.25, "soft_label": [0.25, 0.75], ' \
           b'"ess": 400.0}\n'
    result = parse_child_result(line, ("x",), 2, 50_000)
    assert result.observations == {"x": [1.5, 2]} and result.soft_label == (0.25, 0.75) and result.ess == 400.0
    with pytest.raises(Rejected) as info:
        parse_child_result(b'{"ok": false, "reason": "no-answer-site", "detail": "say\\nwhy"}', ("x",), 2, 10)
    assert info.value.reason == "no-answer-site" and info.value.detail == "say why"


def _popen(code: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-I", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True)


def test_exchange_passes_a_well_behaved_child_through():
    child = exchange(_popen("import sys\ndata = sys.stdin.buffer.read()\nprint(len(data))"), b"x" * 200_000, 30)
    assert child.returncode == 0 and child.stdout == b"200000\n" and child.stderr == b""
    assert child.usage.peak_rss_bytes > 0 and child.usage.wall_seconds > 0


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_exchange_kills_the_whole_group_at_the_deadline(tmp_path):
    pid_file = tmp_path / "grandchild.pid"
    code = ("import pathlib, subprocess, sys\n"
            "p = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(3600)'])\n"
            f"pathlib.Path({str(pid_file)!r}).write_text(str(p.pid))\n")  # then exits; the grandchild holds the pipes
    with pytest.raises(Rejected) as info:
        exchange(_popen(code), b"", 3)
    assert info.value.reason == "timeout" and info.value.usage is not None
    grandchild = int(pid_file.read_text())
    deadline = time.monotonic() + 5
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not _alive(grandchild)


def test_exchange_stops_reading_at_the_byte_limit():
    with pytest.raises(Rejected) as info:
        exchange(_popen("import sys\nsys.stdout.write('x' * 10_000)"), b"", 30, max_stdout=1_000)
    assert info.value.reason == "output-limit" and "stdout" in info.value.detail
