"""`ppt-bench run`: the main job (what `make run` calls). It never writes a git-tracked file.

1. evaluate the model (default: the embedded SmolLM2) on a suite, resumably, in `runs/<model>/`;
2. evaluate the reference models `ppt-bayes` and `ppt-uniform` on the same suite (no model weights);
3. write the model's calibration report (`runs/<model>/report/`);
4. build a leaderboard in `runs/leaderboard/`: the committed result records
   (`leaderboards/records/`, read only) merged with every run directory under `runs/` (rows are
   only added or updated), and draw the figures of the local runs into `runs/figures/`;
5. print a short summary: raw metrics and temperature scaling by the one definition (T fitted on
   the calibration split, with its item count and flags), and the paths.

The committed `leaderboards/` and `figures/` change only by an explicit
`ppt-bench leaderboard RUN_DIR... --save-records --out leaderboards` (and `ppt-bench figures`).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from ppt_bench.commands.eval import add_model_arguments, default_run_dir, model_options


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=("quick", "full"), default="quick",
                        help="quick (sized for a laptop CPU, default) or full")
    add_model_arguments(parser)
    parser.add_argument("--leaderboard", type=Path, default=None, metavar="DIR",
                        help="leaderboard folder (default runs/leaderboard/, beside the run directories)")
    parser.add_argument("--figures", type=Path, default=None, metavar="DIR",
                        help="figures folder (default runs/figures/)")


def _run_dirs(root: Path) -> list[Path]:
    """Every run directory under `root` that holds at least one finished task."""
    return sorted(path for path in root.iterdir() if path.is_dir() and any(path.glob("*/results.json")))


def execute(args: argparse.Namespace) -> int:
    import matplotlib

    matplotlib.use("Agg")
    from ppt_bench.harness.evaluate import REFERENCE_MODELS, TASKS_DIR, EvalConfig, evaluate, suite_tasks
    from ppt_bench.harness.scoring import CALIB_SUFFIX
    from ppt_bench.models import default_batch_size
    from ppt_bench.report.calibration_report import build_report, write_report
    from ppt_bench.report.figures import draw_figures
    from ppt_bench.report.leaderboard import build_leaderboard, write_leaderboard
    from ppt_bench.report.records import merge_records, read_records, record_from_run
    from ppt_bench.report.results import read_runs

    started = time.perf_counter()
    include_path = args.include_path or TASKS_DIR
    sizes = suite_tasks(args.suite, include_path)
    model_dir = args.out or default_run_dir(args.model)
    runs_root = model_dir.parent
    for model in (args.model, *REFERENCE_MODELS):
        out_dir = model_dir if model == args.model else runs_root / model
        evaluate(EvalConfig(model=model, tasks=tuple(sizes), sizes=sizes, out_dir=out_dir,
                            limit=args.limit, batch_size=args.batch_size or default_batch_size(model),
                            device=args.device, include_path=include_path,
                            **(model_options(args) if model == args.model else {"dtype": args.dtype})))
    evaluated = time.perf_counter() - started

    report, report_figures = build_report(model_dir, progress=lambda message: None)
    report_paths = write_report(report, report_figures, model_dir / "report")
    runs = read_runs(_run_dirs(runs_root))
    new_records = [record_from_run(run) for run in runs]
    board = build_leaderboard(merge_records(read_records(), new_records))
    board_dir = args.leaderboard or runs_root / "leaderboard"
    figures_dir = args.figures or runs_root / "figures"
    command = f"ppt-bench leaderboard {' '.join(str(run.path) for run in runs)} --out {board_dir}"
    board_paths = write_leaderboard(board, board_dir, command)
    figures = [outcome for outcome in draw_figures(runs, figures_dir) if not outcome.skipped]

    ranked = [task for task in sizes if not task.endswith(CALIB_SUFFIX)]
    record = next(r for r in new_records if Path(r.source) == Path(model_dir))
    print(f"\nppt-bench run: {args.model} on the {args.suite} suite ({len(ranked)} tasks and "
          f"{len(sizes) - len(ranked)} calibration twins" + (f", --limit {args.limit}" if args.limit else "")
          + f"), evaluated in {evaluated:.0f} s, {time.perf_counter() - started:.0f} s in all")
    print(summary_table(record, ranked))
    print("T: fitted on the calibration split (the _calib twin, else a hash split of the task's items), "
          "n = its items; nll and ece on the test split. ⚠: T at its bound or fitted on < 300 items.")
    print(f"results:     {model_dir}/<task>/results.json (reference models in {runs_root}/ppt-bayes, "
          f"{runs_root}/ppt-uniform)")
    print(f"report:      {', '.join(map(str, report_paths.values()))}")
    print(f"leaderboard: {', '.join(map(str, board_paths))} (committed records + runs under {runs_root}/; "
          f"leaderboards/ is unchanged: add these rows with `ppt-bench leaderboard "
          f"{' '.join(str(run.path) for run in runs)} --save-records --out leaderboards`)")
    print(f"figures:     {len(figures)} in {figures_dir}/ (PNG and PDF)")
    return 0


def summary_table(record, tasks: list[str]) -> str:
    """The `run` summary: acc and kl from lm-eval (all items), then T (the items it was fitted on,
    flags) and nll / ece raw -> temperature-scaled on the test split, by the one definition."""
    lines = [f"{'task':<22} {'acc':>6} {'kl':>6}   {'T':>7} {'n':>5}  {'nll raw -> scaled':>17}  "
             f"{'ece raw -> scaled':>17}  flags"]
    for task in tasks:
        entry = record.tasks.get(task)
        if entry is None:
            continue
        values = {name: entry.metrics[name].value if name in entry.metrics else float("nan")
                  for name in ("acc", "kl")}
        line = f"{task:<22} {values['acc']:>6.3f} {values['kl']:>6.3f}"
        fit = entry.temperature
        if fit is None:
            line += f"   {'—':>7} {'—':>5}  {'—':>17}  {'—':>17}  no logged samples"
        else:
            line += (f"   {fit.temperature:>7.3g} {fit.n_calib:>5}  {fit.nll_raw:>7.3f} -> {fit.nll_scaled:<6.3f}"
                     f"  {fit.ece_raw:>7.3f} -> {fit.ece_scaled:<6.3f}  "
                     + ("⚠ " + ", ".join(fit.flags) if fit.flags else ""))
        lines.append(line)
    return "\n".join(lines)
