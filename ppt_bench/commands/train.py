"""`ppt-bench train`: fine-tune a model from a training recipe (the trainer is `training/train.py`).

    ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml [key=value ...]

`training/` sits beside the package in the checkout (a readable script, not library code), so it is
imported by path from the repository root.
"""

from __future__ import annotations

import argparse
import importlib.util
import shlex
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
TRAINER = REPO / "training" / "train.py"
MODULE_NAME = "ppt_bench_training"


def load_trainer_module():
    """`training/train.py` as a module (imported once; heavy: torch, transformers)."""
    from ppt_bench.errors import ConfigError

    if MODULE_NAME in sys.modules:
        return sys.modules[MODULE_NAME]
    if not TRAINER.is_file():
        raise ConfigError(f"{TRAINER} not found: `ppt-bench train` needs a source checkout of ppt-bench")
    spec = importlib.util.spec_from_file_location(MODULE_NAME, TRAINER)
    module = importlib.util.module_from_spec(spec)
    sys.modules[MODULE_NAME] = module  # dataclasses look their module up while the class is built
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[MODULE_NAME]
        raise
    return module


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--recipe", type=Path, metavar="PATH",
                        help="YAML recipe (e.g. training/recipes/ppt_soft_label_cpu.yaml)")
    parser.add_argument("overrides", nargs="*", metavar="key=value",
                        help="override recipe keys, e.g. max_steps=20 out_dir=runs/train/try")


def execute(args: argparse.Namespace) -> int:
    training = load_trainer_module()
    config = training.load_config(args.recipe, args.overrides)
    command = ["ppt-bench", "train", *(["--recipe", str(args.recipe)] if args.recipe else []), *args.overrides]
    metrics = training.main(config, command=shlex.join(command))
    summary = ", ".join(f"{k}={v:.4g}" for k, v in metrics.items()
                        if k in ("train_loss", "eval_loss", "train_runtime") and isinstance(v, float))
    done = "already finished, not trained again:" if metrics.get("already_finished") else "trained"
    print(f"{done} model in {config.out_dir} ({summary})")
    return 0
