"""`ppt-bench generate programs`: scenarios written as programs by a model, validated in a sandbox.

Each request has its own seed (`authored.request_seed`), so `--shard i/n` asks for the programs of
index % n == i exactly as the unsharded run would; `ppt-bench merge` joins the shards.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ppt_bench.commands._shard import add_shard_argument


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--author", required=True,
                        help="model name (as for `ppt-bench models`) or an OpenAI-compatible URL (URL#model)")
    parser.add_argument("--n", type=int, default=20, help="number of programs to request (before sharding)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSONL file of accepted scenarios")
    add_shard_argument(parser, "request the programs")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.io import atomic_open
    from ppt_bench.programs.sandbox.authored import author_scenarios
    from ppt_bench.programs.sandbox.authors import resolve_author

    if args.n < 1:
        raise PPTBenchError("--n must be at least 1")
    indices = None if args.shard is None else args.shard.indices(args.n)
    if indices is not None and len(indices) == 0:
        raise PPTBenchError(f"--shard {args.shard} holds none of the {args.n} requests; use fewer shards")
    author = resolve_author(args.author)
    scenarios, report = author_scenarios(author, args.n, args.seed, name=args.author, progress=True,
                                         indices=indices)
    if args.shard is None:
        with atomic_open(args.out) as handle:  # a crash never leaves half a file
            for scenario in scenarios:
                handle.write(scenario.to_json() + "\n")
        print(report.summary())
        return 0
    from ppt_bench.shards import write_record_shard

    config = {"author": args.author, "n": args.n, "seed": args.seed}
    counts = {"requested": report.requested, "accepted": report.accepted,
              **{f"rejected {reason}": count for reason, count in report.rejections.items()}}
    records = ((int(scenario.id.rsplit("-", 1)[1]), scenario.to_json()) for scenario in scenarios)
    write_record_shard(args.out, "programs", config, args.shard, records, counts)
    print(f"shard {args.shard}: {report.summary()}; join the shards with `ppt-bench merge`")
    return 0
