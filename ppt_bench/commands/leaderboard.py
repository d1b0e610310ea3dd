"""`ppt-bench leaderboard`: README.md, leaderboard.csv and index.html from result records and runs.

    ppt-bench leaderboard --out leaderboards/                     # the committed records only
    ppt-bench leaderboard runs/smollm2 runs/ppt-bayes runs/ppt-uniform --out DIR
    ppt-bench leaderboard runs/my-model --save-records --out leaderboards/   # add/update a committed row

The committed records (`leaderboards/records/*.json`, compact: no logged samples) are always read
(unless --no-records) and merged with the records of the run directories given: a model's row is
only added or updated, task by task, never dropped. Nothing under --records changes without
--save-records. The reference models (ppt-bayes, ppt-uniform) are always rows: an error names the
`ppt-bench eval` commands that make them, or --allow-missing-references shows them empty.
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("runs", nargs="*", type=Path, metavar="RUN_DIR",
                        help="run directories written by `ppt-bench eval` (one model each)")
    parser.add_argument("--out", type=Path, default=Path("leaderboards"), metavar="DIR",
                        help="output folder (default leaderboards/)")
    parser.add_argument("--records", type=Path, default=None, metavar="DIR",
                        help="committed result records to start from (default leaderboards/records/ of "
                             "this checkout)")
    parser.add_argument("--no-records", action="store_true", help="start from no records: only RUN_DIRs")
    parser.add_argument("--save-records", action="store_true",
                        help="write the merged records of the given runs into the records folder")
    parser.add_argument("--allow-missing-references", action="store_true",
                        help="show ppt-bayes / ppt-uniform as empty rows when no run is given for them")


def command_line(args: argparse.Namespace) -> str:
    """The command, rebuilt from the parsed arguments (so the README says exactly what made it);
    --save-records is left out: it changes the records, not the tables."""
    words = ["ppt-bench", "leaderboard", *map(str, args.runs), "--out", str(args.out)]
    if args.records is not None:
        words += ["--records", str(args.records)]
    if args.no_records:
        words.append("--no-records")
    if args.allow_missing_references:
        words.append("--allow-missing-references")
    return shlex.join(words)


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import ConfigError
    from ppt_bench.report import records as record_store
    from ppt_bench.report.leaderboard import build_leaderboard, write_leaderboard
    from ppt_bench.report.results import read_runs

    folder = args.records or record_store.RECORDS_DIR
    if args.save_records and (args.no_records or not args.runs):
        raise ConfigError("--save-records needs run directories and the records folder (not --no-records)")
    committed = () if args.no_records else record_store.read_records(folder)
    new = [record_store.record_from_run(run) for run in read_runs(args.runs)]
    records = record_store.merge_records(committed, new)
    board = build_leaderboard(records, allow_missing_references=args.allow_missing_references)
    if args.save_records:
        changed = {record.model for record in new}
        for path in record_store.write_records([r for r in records if r.model in changed], folder):
            print(f"wrote {path}")
    paths = write_leaderboard(board, args.out, command_line(args))
    print(f"leaderboard: {len([r for r in records if r.tasks])} models ({len(committed)} committed records, "
          f"{len(new)} runs) x {len(board.tables)} tasks")
    for note in board.notes:
        print(f"note: {note}")
    for path in paths:
        print(f"wrote {path}")
    return 0
