"""`ppt-bench generate dialogues`: Bayesian or Oracle teaching conversations (JSON lines).

    ppt-bench generate dialogues --domain flight --teacher bayesian --users 624 --seed 0 --out FILE
"""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", default="flight",
                        help="flight, flight_Nfeatures (N = 2..8), hotel, shopping_CATEGORY")
    parser.add_argument("--teacher", choices=("bayesian", "oracle"), required=True)
    parser.add_argument("--users", type=int, default=None,
                        help="number of simulated users (default: every user type once)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output .jsonl (written atomically)")


def execute(args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from ppt_bench.errors import PPTBenchError
    from ppt_bench.io import write_jsonl_atomic
    from ppt_bench.recommend import get_domain, simulate, teaching_records

    try:
        domain = get_domain(args.domain)
    except ValueError as error:
        raise PPTBenchError(str(error)) from None
    if args.users is not None and args.users < 1:
        raise PPTBenchError("--users must be at least 1")
    interactions = simulate(domain, n_users=args.users, n_heldout=0, n_rounds=args.rounds,
                            seed=args.seed)
    records = tqdm(teaching_records(interactions, args.teacher), total=interactions.n_users,
                   desc=f"{args.teacher} dialogues", unit="user", disable=None)
    count = write_jsonl_atomic(args.out, records)
    print(f"wrote {count} {args.teacher}-teaching dialogues ({domain.name}) to {args.out}")
    return 0
