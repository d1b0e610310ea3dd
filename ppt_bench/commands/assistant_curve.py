"""`ppt-bench assistant-curve`: per-round accuracy of the recommendation assistants, as JSON.

    ppt-bench assistant-curve --domain flight --json
    ppt-bench assistant-curve --domain flight --data-dir ../shared/data/bayesian_teaching --json
    ppt-bench assistant-curve --domain flight --data-dir ../shared/data/bayesian_teaching --human
        (adds how many human choices are the argmax of the participant's own stated weights)
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

DOMAINS = ("flight", "hotel", "shopping")


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--domain", choices=DOMAINS, required=True)
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="unzipped Bayesian-teaching folder (contains eval/); default: generated "
                             "users")
    parser.add_argument("--users", type=int, default=None,
                        help="number of users (default: every user type, or every official user)")
    parser.add_argument("--heldout", type=int, default=100, help="held-out option sets (default 100)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--features", type=int, default=4,
                        help="flight only: number of features, 2..8 (default 4)")
    parser.add_argument("--human", action="store_true",
                        help="official flight data: the human participants' file")
    parser.add_argument("--temperature", type=float, default=0.0,
                        help="Bayesian Assistant's assumed user choice noise (0 = argmax user)")
    parser.add_argument("--json", action="store_true", help="print the JSON report (default: a table)")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import DataError, PPTBenchError
    from ppt_bench.recommend.curves import curve_report

    if args.data_dir is not None and not (args.data_dir / "eval").is_dir():
        raise DataError(f"{args.data_dir} has no eval/ folder (expected the unzipped "
                        f"Bayesian-teaching data)")
    if args.human and (args.domain != "flight" or args.data_dir is None):
        raise PPTBenchError("--human needs --domain flight and --data-dir")
    try:
        report = curve_report(args.domain, args.data_dir, n_users=args.users,
                              n_heldout=args.heldout, seed=args.seed, n_features=args.features,
                              human=args.human, temperature=args.temperature)
    except ValueError as error:
        raise PPTBenchError(str(error)) from None
    if args.json:
        print(json.dumps(report, indent=2))
        return 0
    config = report["config"]
    print(f"{config['domain']} ({config['source']}, {config['users']} users, "
          f"protocol {config['protocol']})")
    for name, curve in report.items():
        if isinstance(curve, list):
            print(f"  {name:<10} " + " ".join(f"{value:6.1%}" for value in curve))
    if "stated_weights" in report:
        stated = report["stated_weights"]
        print(f"stated weights: {stated['matches']} of {stated['choices']} human choices "
              f"({stated['rate']:.1%}) are the argmax of the participant's own stated weights "
              f"(ties to the lowest option; {stated['tied_rounds']} tied rounds; by round "
              + " ".join(f"{value:.1%}" for value in stated["per_round"]) + ")")
    return 0
