"""Run the adversarial set (`adversarial`) in this process and measure what it cost this process.

    python -m ppt_bench.programs.sandbox.audit [--runtime] [--json]

Every case is expected to end in `Rejected` with its stated reason; anything else (another exception,
an accepted program, a wrong reason) is a failure of the sandbox's parent side. Then one batch
(`author_scenarios` with a scripted author replying with every program and reply) must count each
request under a reason. Memory is read from rusage: this process's peak resident set
(RUSAGE_SELF ru_maxrss) before the first case and after the batch, and each sandbox child's own peak
(from `os.wait4`). Without `--runtime` the cases that need a sandbox run (`RUNTIME`) are left out.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
from collections import Counter
from dataclasses import asdict, dataclass

from ppt_bench.programs.sandbox import adversarial
from ppt_bench.programs.sandbox.limits import Rejected

CHILD_WALL_SECONDS = 2.0


@dataclass(frozen=True)
class CaseOutcome:
    """One case: the reason it must give, the one it gave, and the child's peak memory if one ran."""

    kind: str
    name: str
    expected: str
    got: str
    child_peak_bytes: int | None

    @property
    def ok(self) -> bool:
        return self.expected == self.got


def peak_rss_bytes(who: int = resource.RUSAGE_SELF) -> int:
    """Peak resident set of this process (or of its reaped children), in bytes (Linux ru_maxrss is KiB)."""
    return resource.getrusage(who).ru_maxrss * 1024


def _outcome(kind: str, name: str, expected: str, call) -> CaseOutcome:
    try:
        call()
    except Rejected as rejection:
        usage = rejection.usage
        return CaseOutcome(kind, name, expected, rejection.reason, usage.peak_rss_bytes if usage else None)
    except Exception as error:  # the failure this audit exists to find
        return CaseOutcome(kind, name, expected, f"exception:{type(error).__name__}", None)
    return CaseOutcome(kind, name, expected, "accepted", None)


def _child_process(code: str):
    from ppt_bench.programs.sandbox.runner import exchange

    process = subprocess.Popen([sys.executable, "-I", "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, start_new_session=True)
    exchange(process, b"{}", CHILD_WALL_SECONDS)


def run_audit(runtime: bool = False) -> dict:
    """All cases and one batch; a JSON-ready summary with this process's peak before and after."""
    from ppt_bench.programs.sandbox.authored import author_scenarios, scenario_from_reply, scenario_from_source
    from ppt_bench.programs.sandbox.authors import scripted_author
    from ppt_bench.programs.sandbox.result import parse_child_result

    programs = [case for case in adversarial.ADVERSARIAL if runtime or case[0] not in adversarial.RUNTIME]
    before = peak_rss_bytes()
    cases = [_outcome("program", name, reason, lambda s=source, i=i, n=name: scenario_from_source(s, i, n))
             for i, (name, reason, source) in enumerate(programs)]
    cases += [_outcome("reply", name, reason, lambda r=reply, n=name: scenario_from_reply(r, 0, n))
              for name, reason, reply in adversarial.REPLIES]
    cases += [_outcome("child-result", name, reason, lambda b=line: parse_child_result(b, ("x",), 2, 50_000))
              for name, reason, line in adversarial.CHILD_RESULTS]
    cases += [_outcome("child-process", name, reason, lambda c=code: _child_process(c))
              for name, reason, code in adversarial.CHILD_PROCESSES]
    replies = ["```python\n" + source + "```" for _, _, source in programs]
    replies += [reply for _, _, reply in adversarial.REPLIES]
    _, report = author_scenarios(scripted_author(replies), len(replies))
    expected_batch = Counter(reason for _, reason, _ in programs) + Counter(r for _, r, _ in adversarial.REPLIES)
    after = peak_rss_bytes()
    return {"cases": [asdict(case) | {"ok": case.ok} for case in cases],
            "failed": [case.name for case in cases if not case.ok],
            "batch": {"requested": report.requested, "accepted": report.accepted, "rejections": report.rejections,
                      "as_expected": report.rejections == dict(expected_batch)},
            "parent_peak_before_bytes": before, "parent_peak_after_bytes": after,
            "parent_growth_bytes": after - before,
            "child_peak_bytes": max([c.child_peak_bytes or 0 for c in cases] + [0])}


def _table(summary: dict) -> str:
    mib = 1024 ** 2
    lines = [f"{'kind':<14}{'case':<28}{'expected':<19}{'got':<19}child peak"]
    for case in summary["cases"]:
        peak = f"{case['child_peak_bytes'] / mib:.0f} MiB" if case["child_peak_bytes"] else "-"
        mark = "" if case["ok"] else "  <- WRONG"
        lines.append(f"{case['kind']:<14}{case['name']:<28}{case['expected']:<19}{case['got']:<19}{peak}{mark}")
    batch = summary["batch"]
    lines += [f"{len(summary['cases'])} cases, {len(summary['failed'])} wrong; batch: {batch['accepted']}/"
              f"{batch['requested']} accepted, {sum(batch['rejections'].values())} counted under "
              f"{len(batch['rejections'])} reasons (as expected: {batch['as_expected']})",
              f"parent peak RSS {summary['parent_peak_before_bytes'] / mib:.1f} -> "
              f"{summary['parent_peak_after_bytes'] / mib:.1f} MiB (+{summary['parent_growth_bytes'] / mib:.1f}); "
              f"largest child peak {summary['child_peak_bytes'] / mib:.0f} MiB"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m ppt_bench.programs.sandbox.audit",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--runtime", action="store_true", help="include the cases that need a sandbox run (slow)")
    parser.add_argument("--json", action="store_true", help="print the summary as JSON")
    args = parser.parse_args(argv)
    summary = run_audit(args.runtime)
    print(json.dumps(summary) if args.json else _table(summary))
    return 0 if not summary["failed"] and summary["batch"]["as_expected"] else 1


if __name__ == "__main__":
    sys.exit(main())
