"""`ppt-bench report RUN_DIR`: calibration report (raw vs temperature-scaled) from logged samples, and
the per-round accuracy and agreement of the Bayesian-teaching tasks (`ppt_bench/report/rounds.py`)."""

from __future__ import annotations

import argparse
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run_dir", type=Path, metavar="RUN_DIR",
                        help="run directory written by `ppt-bench eval` / `ppt-bench run`")
    parser.add_argument("--out", type=Path, metavar="DIR", help="output folder (default RUN_DIR/report)")
    parser.add_argument("--n-boot", type=int, default=1000, metavar="N",
                        help="bootstrap resamples of the test items (default 1000)")
    parser.add_argument("--seed", type=int, default=0, help="bootstrap seed (default 0)")
    parser.add_argument("--calib-fraction", type=float, default=None, metavar="F",
                        help="held-out fraction for T when a task has no <task>_calib run (default: "
                             "clip(300 / n, 0.3, 0.5), 300 items where the data allow)")


def execute(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only; never a window

    from ppt_bench.report.calibration_report import build_report, write_report
    from ppt_bench.report.results import warn_if_incomplete

    warn_if_incomplete(args.run_dir)
    report, figures = build_report(args.run_dir, n_boot=args.n_boot, seed=args.seed,
                                   fraction=args.calib_fraction, progress=print)
    paths = write_report(report, figures, args.out or args.run_dir / "report")
    from ppt_bench.report.report_render import temperature_text

    print(f"{'task':<24} {'T':>7}  {'split':<18} {'n cal/test':>10}  {'nll raw -> scaled':>18}  "
          f"{'ece raw -> scaled':>18}  flags")
    for section in report["tasks"]:
        nll, ece = section["metrics"]["nll"], section["metrics"]["ece"]
        split = section["split"]
        print(f"{section['task']:<24} {section['temperature']:>7.3f}  {split['kind']:<18} "
              f"{split['n_calib']:>4}/{split['n_test']:<5}  "
              f"{nll['raw']['value']:>7.3f} -> {nll['scaled']['value']:<7.3f}  "
              f"{ece['raw']['value']:>7.3f} -> {ece['scaled']['value']:<7.3f}  "
              f"{temperature_text(section).partition(' ⚠ ')[2]}")
    for task, reason in report["skipped"].items():
        print(f"skipped {task}: {reason}")
    from ppt_bench.errors import PPTBenchError
    from ppt_bench.report.results import read_run
    from ppt_bench.report.rounds import render_rounds, run_rows, write_rounds

    try:
        rows = run_rows(read_run(args.run_dir))
    except PPTBenchError:  # no whole results file: the calibration report above said what is missing
        rows = []
    if rows:  # Bayesian-teaching tasks: per-round accuracy and agreement (Wilson 95%)
        print("\nper round (Wilson 95% intervals):\n" + render_rounds(rows))
        paths.update(zip(("rounds_json", "rounds_md"), write_rounds(rows, args.out or args.run_dir / "report"),
                         strict=True))
    print("report: " + ", ".join(str(path) for path in paths.values()))
    return 0
