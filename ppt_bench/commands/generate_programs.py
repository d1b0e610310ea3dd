"""`ppt-bench generate programs`: scenarios written as programs by a model, validated in a sandbox."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--author", required=True,
                        help="model name (as for `ppt-bench models`) or an OpenAI-compatible URL (URL#model)")
    parser.add_argument("--n", type=int, default=20, help="number of programs to request")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="JSONL file of accepted scenarios")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.io import atomic_open
    from ppt_bench.programs.sandbox.authored import author_scenarios
    from ppt_bench.programs.sandbox.authors import resolve_author

    if args.n < 1:
        raise PPTBenchError("--n must be at least 1")
    author = resolve_author(args.author)
    scenarios, report = author_scenarios(author, args.n, args.seed, name=args.author, progress=True)
    with atomic_open(args.out) as handle:  # a crash never leaves half a file
        for scenario in scenarios:
            handle.write(scenario.to_json() + "\n")
    print(report.summary())
    return 0
