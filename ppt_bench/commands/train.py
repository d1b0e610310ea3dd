"""`ppt-bench train`: fine-tune a model from a training recipe (the trainer is `ppt_bench.training`).

    ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml [key=value ...]
"""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", type=Path, metavar="PATH",
                        help="YAML recipe (e.g. training/recipes/ppt_soft_label_cpu.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="override recipe keys, e.g. max_steps=20 out_dir=runs/train/try")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.training.config import load_config
    from ppt_bench.training.run import main

    config = load_config(args.recipe, args.overrides)
    command = ["ppt-bench", "train", *(["--recipe", str(args.recipe)] if args.recipe else []), *args.overrides]
    metrics = main(config, command=shlex.join(command))
    summary = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()
                        if k in ("train_loss", "eval_loss", "train_runtime") and isinstance(v, float))
    done = "already finished, not trained again:" if metrics.get("already_finished") else "trained"
    print(f"{done} model in {config.out_dir} ({summary})")
    return 0
