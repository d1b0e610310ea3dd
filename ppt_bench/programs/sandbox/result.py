"""The sandbox child's reply, checked field by field before the parent uses any of it.

The child writes one JSON line (see `_child`). It runs the authored program, so the parent treats that
line as untrusted: it is read with a byte limit (`runner`), must be UTF-8, is parsed with strict JSON
(no NaN or Infinity; nesting too deep for the parser is a rejection, not a crash) and must have exactly
this shape, else the program is rejected as `bad-result`:

    {"ok": false, "reason": one of CHILD_REASONS, "detail": str}
    {"ok": true, "observations": {site: number or nested list, for each OBSERVED site},
     "answer": finite number, "soft_label": K numbers passing `metrics.check_soft_label`,
     "ess": finite number in [0, num_samples]}

Observations hold finite numbers only (no bools), at most MAX_OBSERVED_VALUES of them per site,
nested at most MAX_OBSERVED_DEPTH lists deep.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from ppt_bench.metrics import check_soft_label
from ppt_bench.programs.sandbox.limits import MAX_OBSERVED_DEPTH, MAX_OBSERVED_VALUES, Rejected

CHILD_REASONS = frozenset({"runtime-error", "memory-limit", "no-answer-site", "bad-answer", "bad-observed",
                           "inference-error", "invalid-soft-label"})


@dataclass(frozen=True)
class SandboxResult:
    """What one sandbox run gives: observations by site, the drawn answer, the (K,) soft label and the ESS.

    ``usage`` is the child's `ChildUsage` (peak memory, CPU and wall time).
    """

    observations: dict
    answer: float
    soft_label: tuple[float, ...]
    ess: float
    usage: object = None


def _bad(detail: str) -> Rejected:
    return Rejected("bad-result", detail)


def _finite(value, name: str) -> float:
    try:
        number = float(value) if type(value) in (int, float) else math.nan  # bool and str are not numbers
    except OverflowError:  # an int with hundreds of digits
        number = math.inf
    if not math.isfinite(number):
        raise _bad(f"{name} must be a finite number, got {type(value).__name__}")
    return number


def _check_observation(value, name: str) -> None:
    """A finite number or nested lists of them, bounded in count and depth (checked without recursion)."""
    stack, count = [(value, 0)], 0
    while stack:
        item, depth = stack.pop()
        if type(item) is list:
            if depth >= MAX_OBSERVED_DEPTH:
                raise _bad(f"observation {name!r} is nested deeper than {MAX_OBSERVED_DEPTH}")
            stack.extend((entry, depth + 1) for entry in item)
            continue
        _finite(item, f"observation {name!r}")
        count += 1
        if count > MAX_OBSERVED_VALUES:
            raise _bad(f"observation {name!r} has more than {MAX_OBSERVED_VALUES} values")


def _reject_constant(name: str):
    raise ValueError(f"{name} is not JSON")


def parse_child_result(stdout: bytes, observed: tuple[str, ...], n_choices: int, num_samples: int) -> SandboxResult:
    """The checked result in the last line of `stdout`; raise Rejected with the child's or our reason."""
    lines = stdout.strip().splitlines()
    if not lines:
        raise Rejected("crash", "no result from the sandbox")
    try:
        result = json.loads(lines[-1].decode("utf-8"), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise _bad(f"the result line is not strict JSON ({type(error).__name__})") from None
    if type(result) is not dict or type(result.get("ok")) is not bool:
        raise _bad("the result must be an object with a boolean 'ok'")
    if not result["ok"]:
        reason, detail = result.get("reason"), result.get("detail", "")
        if reason not in CHILD_REASONS or type(detail) is not str or set(result) != {"ok", "reason", "detail"}:
            raise _bad(f"unknown failure {reason!r:.40}")
        raise Rejected(reason, detail)
    if set(result) != {"ok", "observations", "answer", "soft_label", "ess"}:
        raise _bad(f"unexpected keys {sorted(result)!r:.80}")
    observations = result["observations"]
    if type(observations) is not dict or set(observations) != set(observed):
        raise _bad("observations must have exactly the OBSERVED sites")
    for name, value in observations.items():
        _check_observation(value, name)
    soft_label = result["soft_label"]
    if type(soft_label) is not list or len(soft_label) != n_choices:
        raise _bad(f"soft_label must be a list of {n_choices} numbers")
    probs = tuple(_finite(p, "soft_label") for p in soft_label)
    try:
        check_soft_label(probs, n_choices)
    except ValueError:
        raise _bad("soft_label is not a distribution") from None
    ess = _finite(result["ess"], "ess")
    if not 0 <= ess <= num_samples * (1 + 1e-9):
        raise _bad(f"ess {ess:.3g} outside [0, {num_samples}]")
    return SandboxResult(observations, _finite(result["answer"], "answer"), probs, ess)
