"""`ppt-bench figures`: the papers' figures (PNG and PDF) from run directories.

    ppt-bench figures --runs runs/smollm2 runs/ppt-bayes runs/ppt-uniform --out figures/

A figure whose task no run has is skipped with a note; see ppt_bench/report/figures.py for what each
figure shows.
"""

from __future__ import annotations

import argparse
from pathlib import Path

# = report.figures.FIGURES (kept light here)
NAMES = ("a_accuracy_by_round", "b_agreement_by_round", "c_first_vs_final", "d_reliability",
         "e_heldout_motif_kl", "f_probcopa_ratings", "g_accuracy_vs_features", "h_direct_vs_belief",
         "i_accuracy_by_protocol", "j_agreement_by_protocol", "k_taught_first_vs_final")  # = report.figures.FIGURES


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--runs", nargs="+", type=Path, required=True, metavar="RUN_DIR",
                        help="run directories written by `ppt-bench eval` (one model each)")
    parser.add_argument("--out", type=Path, default=Path("figures"), metavar="DIR",
                        help="output folder (default figures/)")
    parser.add_argument("--only", nargs="+", choices=NAMES, metavar="NAME",
                        help=f"draw only these figures ({', '.join(NAMES)})")


def execute(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ppt_bench.report.figures import draw_figures
    from ppt_bench.report.results import read_runs

    runs = read_runs(args.runs)
    for outcome in draw_figures(runs, args.out, names=args.only):
        if outcome.skipped:
            print(f"{outcome.name}: skipped ({outcome.skipped})")
        else:
            print(f"{outcome.name}: " + ", ".join(map(str, outcome.paths)))
    return 0
