"""`ppt-bench run`: the main job (what `make run` calls).

1. evaluate the model (default: the embedded SmolLM2) on a suite, resumably, in `runs/<model>/`;
2. evaluate the reference models `ppt-bayes` and `ppt-uniform` on the same suite (no model weights);
3. write the model's calibration report (`runs/<model>/report/`);
4. rebuild the leaderboard (`leaderboards/`) from every run directory under `runs/` and redraw the
   figures (`figures/`);
5. print a short summary with the paths.
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
    parser.add_argument("--leaderboard", type=Path, default=Path("leaderboards"), metavar="DIR",
                        help="leaderboard folder (default leaderboards/)")
    parser.add_argument("--figures", type=Path, default=Path("figures"), metavar="DIR",
                        help="figures folder (default figures/)")


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
    board = build_leaderboard(runs)
    command = f"ppt-bench leaderboard {' '.join(str(run.path) for run in runs)} --out {args.leaderboard}"
    board_paths = write_leaderboard(board, runs, args.leaderboard, command)
    figures = [outcome for outcome in draw_figures(runs, args.figures) if not outcome.skipped]

    ranked = [task for task in sizes if not task.endswith(CALIB_SUFFIX)]
    print(f"\nppt-bench run: {args.model} on the {args.suite} suite ({len(ranked)} tasks and "
          f"{len(sizes) - len(ranked)} calibration twins), "
          f"evaluated in {evaluated:.0f} s, {time.perf_counter() - started:.0f} s in all")
    print(f"{'task':<22} {'acc':>6} {'nll':>6} {'nll_ts':>7} {'ece':>6} {'ece_ts':>7} {'kl':>6}")
    for task in ranked:
        result = _task_metrics(model_dir, task)
        print(f"{task:<22} " + " ".join(
            f"{result.get(name, float('nan')):>{width}.3f}"
            for name, width in (("acc", 6), ("nll", 6), ("nll_ts", 7), ("ece", 6), ("ece_ts", 7), ("kl", 6))))
    print(f"results:     {model_dir}/<task>/results.json (reference models in {runs_root}/ppt-bayes, "
          f"{runs_root}/ppt-uniform)")
    print(f"report:      {', '.join(map(str, report_paths.values()))}")
    print(f"leaderboard: {', '.join(map(str, board_paths))}")
    print(f"figures:     {len(figures)} in {args.figures}/ (PNG and PDF)")
    return 0


def _task_metrics(run_dir: Path, task: str) -> dict[str, float]:
    """The task's `metric,none` values from its results file, as {metric: value}."""
    import json

    results = json.loads((run_dir / task / "results.json").read_text())["results"][task]
    return {key.split(",")[0]: value for key, value in results.items()
            if key.endswith(",none") and "_stderr" not in key and isinstance(value, int | float)}
