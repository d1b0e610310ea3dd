"""Per-round accuracy and agreement of the Bayesian-teaching tasks of a run, with Wilson 95% intervals.

One row per (task, r rounds seen), from `RUN_DIR/<task>/results.json` and its samples:

    acc        held-out accuracy after r rounds (`acc_r<r>`), n = the round's held-out documents
    agree      held-out agreement with the Bayesian Assistant given the same conversation (`agree_r<r>`)
    rec_agree  interactive protocol only: the model's own recommendation in round r + 1 equals the
               Bayesian Assistant's (`rec_agree_r<r>`), n = users; rec_acc: it equals the user's choice

Intervals: `figures.wilson_interval(k, n)` with k = value * n. `ppt-bench report` prints the table and
writes it as rounds.json and rounds.md beside the calibration report.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ppt_bench.report.results import RunRecord, TaskResult, read_samples


@dataclass(frozen=True)
class Estimate:
    """A proportion over n items and its Wilson 95% interval."""

    value: float
    n: int
    low: float
    high: float


@dataclass(frozen=True)
class RoundRow:
    task: str
    protocol: str
    round: int
    acc: Estimate
    agree: Estimate | None
    rec_agree: Estimate | None = None
    rec_acc: Estimate | None = None


def _estimate(value: float, n: int) -> Estimate:
    from ppt_bench.report.figures import wilson_interval

    low, high = wilson_interval(np.array(value * n), np.array(n))
    return Estimate(float(value), int(n), float(low), float(high))


def round_counts(result: TaskResult) -> dict[int, int]:
    """Held-out documents per round in the task's logged samples."""
    counts: dict[int, int] = {}
    for sample in read_samples(result):
        if sample.round is not None:
            counts[sample.round] = counts.get(sample.round, 0) + 1
    return counts


def recommendation_users(result: TaskResult) -> int | None:
    """Users of an interactive run (one recommendation per user and round), from results.json."""
    users = (json.loads(result.path.read_text()).get("interactive") or {}).get("users")
    return int(users) if isinstance(users, int) else None


def task_rows(result: TaskResult) -> list[RoundRow]:
    """The rows of one task result (empty for a task without per-round accuracy)."""
    metrics = result.metrics
    rounds = sorted(int(name[5:]) for name in metrics if name.startswith("acc_r") and name[5:].isdigit())
    if not rounds:
        return []
    counts = round_counts(result)
    users = recommendation_users(result)
    rows = []
    for r in rounds:
        n = counts.get(r, 0)
        if n == 0:
            continue

        def get(name: str, size: int | None) -> Estimate | None:
            value = metrics.get(name)
            return None if value is None or not size else _estimate(value.value, size)

        rows.append(RoundRow(result.task, result.protocol, r, _estimate(metrics[f"acc_r{r}"].value, n),
                             get(f"agree_r{r}", n), get(f"rec_agree_r{r}", users), get(f"rec_acc_r{r}", users)))
    return rows


def run_rows(run: RunRecord) -> list[RoundRow]:
    return [row for task in sorted(run.tasks) for row in task_rows(run.tasks[task])]


def _cell(estimate: Estimate | None) -> str:
    if estimate is None:
        return "-"
    return f"{estimate.value:.3f} [{estimate.low:.3f}, {estimate.high:.3f}]"


def render_rounds(rows: list[RoundRow]) -> str:
    """A markdown table of the rows (values with Wilson 95% intervals)."""
    lines = ["| task | protocol | rounds seen | n | accuracy [95%] | agreement with BA [95%] | "
             "own recommendation = BA's [95%] | own recommendation = user's [95%] |",
             "|---|---|---:|---:|---|---|---|---|"]
    for row in rows:
        lines.append(f"| {row.task} | {row.protocol} | {row.round} | {row.acc.n} | {_cell(row.acc)} | "
                     f"{_cell(row.agree)} | {_cell(row.rec_agree)} | {_cell(row.rec_acc)} |")
    return "\n".join(lines) + "\n"


def write_rounds(rows: list[RoundRow], out_dir: Path) -> list[Path]:
    """rounds.json and rounds.md in `out_dir` (atomic writes)."""
    from ppt_bench.io import write_json_atomic, write_text_atomic

    out_dir = Path(out_dir)
    write_json_atomic(out_dir / "rounds.json", [asdict(row) for row in rows])
    write_text_atomic(out_dir / "rounds.md", render_rounds(rows))
    return [out_dir / "rounds.json", out_dir / "rounds.md"]
