"""The commands that remake a trained model, from what its run recorded (yaml only; no torch).

    training_commands(model_dir) -> [data command, train command]   (from model_dir/train_config.json)

The shipped recipes are data of the source checkout (`training/recipes/*.yaml`, `RECIPES_DIR`); a
wheel install has none, and `train_command` then says so instead of naming one.
"""

from __future__ import annotations

import json
import shlex
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
RECIPES_DIR = REPO / "training" / "recipes"


def data_command(config: dict) -> str:
    """The command that wrote a training run's data file: the config's `data_command` when it writes
    that file (its `--out` is the config's `data`), else a comment naming the file."""
    data, command = config.get("data") or "", config.get("data_command") or ""
    if command and data and shlex.split(command)[-2:] == ["--out", data]:
        return command
    return f"# training data {data or '?'}: the command that wrote it was not recorded"


def _override(value) -> str:
    text = ",".join(map(str, value)) if isinstance(value, list | tuple) else str(value).lower() \
        if isinstance(value, bool) else str(value)
    return shlex.quote(text)


def train_command(config: dict, recipes_dir: Path = RECIPES_DIR) -> str:
    """A `ppt-bench train` command that reproduces a recorded training configuration (for models
    trained before train_config.json recorded its command line): the shipped recipe that needs the
    fewest overrides, then `key=value` for every field that differs from recipe-or-default."""
    import yaml

    from ppt_bench.training.config import TrainConfig

    defaults = vars(TrainConfig())
    best: tuple[int, str, list[str]] | None = None
    for recipe in sorted(Path(recipes_dir).glob("*.yaml")):
        values = {**defaults, **(yaml.safe_load(recipe.read_text()) or {})}
        overrides = [f"{key}={_override(value)}" for key, value in config.items()
                     if key in values and value != (list(values[key]) if isinstance(values[key], tuple)
                                                    else values[key])]
        if best is None or len(overrides) < best[0]:
            name = recipe.relative_to(REPO) if recipe.is_relative_to(REPO) else recipe
            best = (len(overrides), str(name), overrides)
    if best is None:
        return "ppt-bench train (no recipes found to reconstruct the command)"
    return " ".join(["ppt-bench train --recipe", best[1], *best[2]])


def training_commands(model_dir: Path | str) -> list[str]:
    """[data command, train command] of a model folder written by `ppt-bench train` (its
    train_config.json: the recorded command line, else one rebuilt by `train_command`); [] for any
    other model."""
    trained = Path(model_dir) / "train_config.json"
    if not trained.is_file():
        return []
    record = json.loads(trained.read_text())
    config = record.get("config") or {}
    return [data_command(config), record.get("command") or train_command(config)]
