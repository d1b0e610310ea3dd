"""`ppt-bench merge`: join the shards of one `--shard i/n` run into the unsharded result.

    ppt-bench merge --out FILE  SHARD_FILE...     generate scenarios / dialogues / programs shards
    ppt-bench merge --out DIR   SHARD_RUN_DIR...  eval shards (run directories)

The kind is read from the shards' manifests (`ppt_bench/shards.py`); shards of different runs,
missing or repeated shards and unfinished shards are refused.
"""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("shards", nargs="+", type=Path, metavar="SHARD",
                        help="the outputs of every shard 0/N..N-1/N of one command (files, or eval run directories)")
    parser.add_argument("--out", type=Path, required=True,
                        help="merged output: a file for generation shards (scenarios: .jsonl or .parquet), "
                             "a run directory for eval shards (written atomically)")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.shards import read_manifest

    kind = read_manifest(args.shards[0]).kind
    if args.out.resolve() in {path.resolve() for path in args.shards}:
        raise PPTBenchError(f"--out {args.out} is one of the shards; give another path")
    if kind == "scenarios":
        from ppt_bench.programs.scenario_shards import merge_scenario_shards

        report = merge_scenario_shards(args.shards, args.out)
        print(f"merged {len(args.shards)} shards: {report.summary()}")
    elif kind == "eval":
        from ppt_bench.harness.eval_shards import merge_eval_shards

        tasks = merge_eval_shards(args.shards, args.out)
        print(f"merged {len(args.shards)} eval shards into {args.out} ({len(tasks)} tasks: {', '.join(tasks)})")
    else:
        from ppt_bench.shards import merge_record_shards

        count, counts = merge_record_shards(args.shards, args.out)
        tallies = "".join(f", {key}: {value}" for key, value in sorted(counts.items()))
        print(f"merged {len(args.shards)} {kind} shards: {count} records in {args.out}{tallies}")
    return 0
