"""`ppt-bench leaderboard`: README.md, leaderboard.csv and index.html from run directories.

    ppt-bench leaderboard runs/smollm2 runs/ppt-bayes runs/ppt-uniform --out leaderboards/

The reference models (ppt-bayes, ppt-uniform) are always rows: pass their run directories too
(the error message gives the `ppt-bench eval` commands that make them, about 2 minutes each), or
pass --allow-missing-references to show them as empty rows with that command in a note.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="+", type=Path, metavar="RUN_DIR",
                        help="run directories written by `ppt-bench eval` (one model each)")
    parser.add_argument("--out", type=Path, default=Path("leaderboards"), metavar="DIR",
                        help="output folder (default leaderboards/)")
    parser.add_argument("--allow-missing-references", action="store_true",
                        help="show ppt-bayes / ppt-uniform as empty rows when no run is given for them")


def command_line(args: argparse.Namespace) -> str:
    """The command, rebuilt from the parsed arguments (so the README says exactly what made it)."""
    words = ["ppt-bench", "leaderboard", *map(str, args.runs), "--out", str(args.out)]
    if args.allow_missing_references:
        words.append("--allow-missing-references")
    return shlex.join(words)


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.report.leaderboard import build_leaderboard, write_leaderboard
    from ppt_bench.report.results import read_runs

    runs = read_runs(args.runs)
    board = build_leaderboard(runs, allow_missing_references=args.allow_missing_references)
    paths = write_leaderboard(board, runs, args.out, command_line(args))
    print(f"leaderboard: {len(board.rows)} models x {len(board.columns)} columns "
          f"({len({c.task for c in board.columns})} tasks)")
    for note in board.notes:
        print(f"note: {note}")
    for path in paths:
        print(f"wrote {path}")
    return 0
