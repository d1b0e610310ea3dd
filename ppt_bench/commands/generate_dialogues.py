"""`ppt-bench generate dialogues`: Bayesian or Oracle teaching conversations (JSON lines).

    ppt-bench generate dialogues --domain flight --teacher bayesian --users 624 --seed 0 --out FILE

With `--shard i/n` the users are simulated as in the unsharded run (one seeded draw for all of them)
and only the conversations of users u % n == i are computed; `ppt-bench merge` joins the shards.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from ppt_bench.commands._shard import add_shard_argument


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", default="flight",
                        help="flight, flight_Nfeatures (N = 2..8), hotel, shopping_CATEGORY")
    parser.add_argument("--teacher", choices=("bayesian", "oracle"), required=True)
    parser.add_argument("--users", type=int, default=None,
                        help="number of simulated users (default: every user type once)")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, required=True, help="output .jsonl (written atomically)")
    add_shard_argument(parser, "write the conversations of the users")


def execute(args: argparse.Namespace) -> int:
    import json

    import numpy as np
    from tqdm import tqdm

    from ppt_bench.errors import PPTBenchError
    from ppt_bench.io import jsonable, write_jsonl_atomic
    from ppt_bench.recommend import get_domain, simulate, teaching_records

    try:
        domain = get_domain(args.domain)
    except ValueError as error:
        raise PPTBenchError(str(error)) from None
    if args.users is not None and args.users < 1:
        raise PPTBenchError("--users must be at least 1")
    interactions = simulate(domain, n_users=args.users, n_heldout=0, n_rounds=args.rounds,
                            seed=args.seed)
    if args.shard is None:
        records = tqdm(teaching_records(interactions, args.teacher), total=interactions.n_users,
                       desc=f"{args.teacher} dialogues", unit="user", disable=None)
        count = write_jsonl_atomic(args.out, records)
        print(f"wrote {count} {args.teacher}-teaching dialogues ({domain.name}) to {args.out}")
        return 0
    from ppt_bench.shards import write_record_shard

    users = np.asarray(args.shard.indices(interactions.n_users))
    if len(users) == 0:
        raise PPTBenchError(f"--shard {args.shard} holds none of the {interactions.n_users} users; use fewer shards")
    config = {"domain": args.domain, "teacher": args.teacher, "users": args.users, "rounds": args.rounds,
              "seed": args.seed}

    def lines():
        for record in tqdm(teaching_records(interactions.subset(users), args.teacher), total=len(users),
                           desc=f"{args.teacher} dialogues, shard {args.shard}", unit="user", disable=None):
            record["idx"] = int(users[record["idx"]])  # the user's index in the whole run
            yield record["idx"], json.dumps(record, default=jsonable, ensure_ascii=False)

    count = write_record_shard(args.out, "dialogues", config, args.shard, lines())
    print(f"shard {args.shard}: wrote {count} of {interactions.n_users} {args.teacher}-teaching dialogues "
          f"({domain.name}) to {args.out}; join the shards with `ppt-bench merge`")
    return 0
