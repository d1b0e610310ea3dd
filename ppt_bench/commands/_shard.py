"""The `--shard I/N` option, shared by the commands that shard (`ppt_bench/shards.py`)."""

from __future__ import annotations

import argparse


def shard_argument(text: str):
    """argparse type for `--shard i/n`: a `Shard`, or argparse's one-line error."""
    from ppt_bench.shards import parse_shard

    try:
        return parse_shard(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def add_shard_argument(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument("--shard", type=shard_argument, metavar="I/N",
                        help=f"{what} of index %% N == I only, and a manifest of the shard; "
                             "`ppt-bench merge` joins the N shards into the unsharded result")
