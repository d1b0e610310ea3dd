"""`ppt-bench generate scenarios`: PPT scenarios with exact soft labels (JSONL or parquet)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ppt_bench.commands._shard import add_shard_argument


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--n", type=int, default=10_000, help="number of scenarios (before sharding)")
    parser.add_argument("--seed", type=int, default=0, help="run seed; the output is a function of it")
    parser.add_argument("--split", choices=("train", "heldout", "all"), default="train",
                        help="motifs to draw from: training motifs, held-out motifs, or all")
    parser.add_argument("--out", type=Path, required=True,
                        help="output file; an existing partial file from the same run is resumed")
    parser.add_argument("--format", choices=("jsonl", "parquet"), default="jsonl")
    add_shard_argument(parser, "draw the candidates (JSONL) of the scenarios")
    parser.add_argument("--degenerate-fraction", type=float, default=0.05,
                        help="at most this fraction of items may put >= 99%% on one choice (default 0.05)")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import PPTBenchError

    if args.n < 1:
        raise PPTBenchError("--n must be at least 1")
    if not 0.0 <= args.degenerate_fraction <= 1.0:
        raise PPTBenchError("--degenerate-fraction must be between 0 and 1")
    if args.out.is_dir():
        raise PPTBenchError(f"--out {args.out} is a directory; give a file name")
    if args.shard is not None:
        from ppt_bench.programs.scenario_shards import write_scenario_shard

        if args.format != "jsonl":
            raise PPTBenchError("a shard is written as JSONL; give `ppt-bench merge` an --out ending in "
                                ".parquet for parquet")
        print(write_scenario_shard(args.out, args.n, args.seed, args.split, args.shard,
                                   degenerate_fraction=args.degenerate_fraction, progress=not args.no_progress))
        return 0
    from ppt_bench.programs.generate import write_scenarios

    report = write_scenarios(args.out, args.n, args.seed, args.split, fmt=args.format,
                             progress=not args.no_progress, degenerate_fraction=args.degenerate_fraction)
    print(report.summary())
    return 0
