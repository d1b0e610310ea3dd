"""`ppt-bench compare BASE_RUN RUN...`: effects of fine-tuning against a baseline run, raw and
temperature-scaled, with paired bootstrap intervals (`ppt_bench/report/compare.py`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("base", type=Path, metavar="BASE_RUN", help="baseline run directory (e.g. runs/smollm2)")
    parser.add_argument("runs", type=Path, nargs="+", metavar="RUN", help="run directories to compare with it")
    parser.add_argument("--tasks", metavar="TASKS", help="comma-separated tasks (default: every task both scored)")
    parser.add_argument("--n-boot", type=int, default=1000, metavar="N", help="bootstrap resamples (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--out", type=Path, metavar="FILE.md",
                        help="also write the tables here (and the numbers beside it as .json)")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.io import write_json_atomic, write_text_atomic
    from ppt_bench.report.compare import compare_runs, render_markdown

    tasks = [task.strip() for task in args.tasks.split(",") if task.strip()] if args.tasks else None
    comparisons = [compare_runs(args.base, run, tasks, n_boot=args.n_boot, seed=args.seed) for run in args.runs]
    text = "\n".join(render_markdown(comparison) for comparison in comparisons)
    print(text, end="")
    if args.out:
        write_text_atomic(args.out, text)
        write_json_atomic(args.out.with_suffix(".json"), comparisons)
        print(f"written: {args.out}, {args.out.with_suffix('.json')}")
    return 0
