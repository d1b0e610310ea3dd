"""`ppt-bench generate scenarios`: PPT scenarios with exact soft labels (JSONL or parquet)."""

from __future__ import annotations

import argparse
from pathlib import Path


def _shard(text: str) -> tuple[int, int]:
    try:
        part, parts = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"--shard must look like i/n (e.g. 0/4), got {text!r}") from None
    if not (parts >= 1 and 0 <= part < parts):
        raise argparse.ArgumentTypeError(f"--shard i/n needs 0 <= i < n, got {text!r}")
    return part, parts


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=10_000, help="number of scenarios (before sharding)")
    parser.add_argument("--seed", type=int, default=0, help="run seed; the output is a function of it")
    parser.add_argument("--split", choices=("train", "heldout", "all"), default="train",
                        help="motifs to draw from: training motifs, held-out motifs, or all")
    parser.add_argument("--out", type=Path, required=True,
                        help="output file; an existing partial file from the same run is resumed")
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    parser.add_argument("--shard", type=_shard, default=(0, 1), metavar="I/N",
                        help="write only the scenarios with index %% N == I")
    parser.add_argument("--degenerate-fraction", type=float, default=0.05,
                        help="at most this fraction of items may put >= 99%% on one choice (default 0.05)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.programs.generate import write_scenarios

    if args.n < 1:
        raise PPTBenchError("--n must be at least 1")
    if not 0.0 <= args.degenerate_fraction <= 1.0:
        raise PPTBenchError("--degenerate-fraction must be between 0 and 1")
    if args.out.is_dir():
        raise PPTBenchError(f"--out {args.out} is a directory; give a file name")
    report = write_scenarios(args.out, args.n, args.seed, args.split, shard=args.shard, fmt=args.format,
                             progress=not args.no_progress, degenerate_fraction=args.degenerate_fraction)
    print(report.summary())
    return 0
