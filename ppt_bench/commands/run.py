"""`ppt-bench run`: the main job. Evaluate a model (default: the embedded SmolLM2) on a suite."""

from __future__ import annotations

import argparse
import time

from ppt_bench.commands.eval import add_model_arguments, default_run_dir


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--suite", choices=("quick", "full"), default="quick",
                        help="quick (sized for a laptop CPU, default) or full")
    add_model_arguments(parser)


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.harness.evaluate import TASKS_DIR, EvalConfig, evaluate, results_table, suite_tasks

    started = time.perf_counter()
    include_path = args.include_path or TASKS_DIR
    sizes = suite_tasks(args.suite, include_path)
    config = EvalConfig(model=args.model, tasks=tuple(sizes), sizes=sizes,
                        out_dir=args.out or default_run_dir(args.model), limit=args.limit,
                        batch_size=args.batch_size, device=args.device,
                        include_path=include_path)
    results = evaluate(config)
    print(results_table(results))
    print(f"ppt-bench run: {args.model} on the {args.suite} suite ({', '.join(config.tasks)}) "
          f"in {time.perf_counter() - started:.0f} s")
    print(f"results: {config.out_dir}/<task>/results.json, samples: {config.out_dir}/<task>/samples.jsonl")
    return 0
