"""The training configuration: defaults in code, overridden by a recipe (YAML), then by `key=value`.

    load_config("training/recipes/ppt_soft_label_cpu.yaml", ["max_steps=20"]) -> TrainConfig

Light on purpose (yaml only, no torch), so that `ppt_bench.training.recipes` and the report can read
recorded configurations without loading the trainer.
"""

from __future__ import annotations

import typing
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from ppt_bench.errors import ConfigError

OBJECTIVES = ("soft_label", "hard_label", "sft", "soft_teaching")
SCENARIO_OBJECTIVES = ("soft_label", "hard_label")
CHOICES = {"objective": OBJECTIVES, "finetune": ("lora", "full"), "hard_target": ("outcome", "mode"),
           "precision": ("auto", "fp32", "bf16", "fp16"),
           "lr_scheduler": ("cosine", "linear", "constant_with_warmup", "cosine_with_min_lr")}


@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on. Defaults here; a recipe (YAML) overrides them, `key=value` overrides
    that. Batch sizes are per device: global batch = batch_size * grad_accum * number of processes."""

    objective: str = "soft_label"
    model: str = "smollm2"                   # anything `ppt_bench.models.resolve_model` accepts
    data: str = ""                           # JSON Lines: PPT scenarios or teaching conversations
    data_command: str = ""                   # the command that writes `data` (quoted when it is missing)
    out_dir: str = "runs/train/default"      # final model here, checkpoints under out_dir/checkpoints
    chat_template: bool | None = None        # None: as `ppt-bench eval` decides for this model
    hard_target: str = "outcome"             # hard_label: the realised outcome (a draw from q) or the mode
    max_examples: int = 0                    # use the first N records (0: all)
    eval_fraction: float = 0.05              # records held out for the eval loss
    max_length: int = 1024                   # tokens; PPT contexts are cut on the left, chats on the right
    # model: LoRA adapters (merged into the weights at the end) or every weight
    finetune: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj",
                                            "gate_proj", "up_proj", "down_proj")
    # optimisation
    epochs: float = 1.0
    max_steps: int = -1                      # > 0 overrides epochs
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.1
    lr_scheduler: str = "cosine"
    max_grad_norm: float = 1.0
    seed: int = 0
    precision: str = "auto"                  # auto: bf16 where the hardware runs it natively, else fp32
    gradient_checkpointing: bool = False     # recompute activations in the backward pass: less memory
    # speed and memory (none of these changes the loss of a batch; see the tests)
    supervised_logits: bool = True           # LM head only where a loss is taken (else at every position)
    group_by_length: bool = True             # batches of similar lengths (less padding), still shuffled
    pack_length: int = 0                     # scenario objectives: pack examples into rows of <= N tokens
    # bookkeeping
    logging_steps: int = 10
    eval_steps: int = 0                      # 0: evaluate only at the end
    save_steps: int = 100
    save_total_limit: int = 2
    keep_checkpoints: int = 1                # kept once the run is finished (none if it is < save_steps)
    resume: bool = True                      # continue from the newest checkpoint; a finished run is kept
    threads: int = 0                         # torch CPU threads (0: torch's default)
    progress: bool = True


def _coerce(name: str, value, hint):
    """`value` (from YAML or a CLI string parsed as YAML) as the field's type, or ConfigError."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | None)) else ()
    if options:
        if value is None and type(None) in options:
            return None
        hint = next(t for t in options if t is not type(None))
    if typing.get_origin(hint) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{name} must be a list of strings, got {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads `2e-6` (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{name} must be {hint.__name__}, got {value!r}")
    return value


def make_config(values: dict) -> TrainConfig:
    """A validated TrainConfig from a {key: value} mapping; unknown keys and bad values are errors."""
    hints = typing.get_type_hints(TrainConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(hints)}")
    cfg = TrainConfig(**{key: _coerce(key, value, hints[key]) for key, value in values.items()})
    for key, allowed in CHOICES.items():
        if getattr(cfg, key) not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {getattr(cfg, key)!r}")
    if not cfg.data:
        raise ConfigError("no training data: set `data: PATH` in the recipe or data=PATH")
    positive = ("batch_size", "grad_accum", "max_length", "logging_steps", "save_steps", "lora_r")
    for key in positive:
        if getattr(cfg, key) < 1:
            raise ConfigError(f"{key} must be at least 1, got {getattr(cfg, key)}")
    if not 0 <= cfg.eval_fraction < 1 or not 0 <= cfg.warmup_ratio < 1 or cfg.learning_rate <= 0:
        raise ConfigError("need 0 <= eval_fraction < 1, 0 <= warmup_ratio < 1 and learning_rate > 0")
    if cfg.max_steps <= 0 and cfg.epochs <= 0:
        raise ConfigError("set epochs > 0 or max_steps > 0")
    if cfg.pack_length < 0 or (cfg.pack_length and cfg.objective not in SCENARIO_OBJECTIVES):
        raise ConfigError(f"pack_length must be 0, or > 0 with a scenario objective "
                          f"({', '.join(SCENARIO_OBJECTIVES)}); got {cfg.pack_length} with {cfg.objective}")
    if cfg.keep_checkpoints < 0:
        raise ConfigError(f"keep_checkpoints must be at least 0, got {cfg.keep_checkpoints}")
    return cfg


def load_config(recipe: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Defaults <- recipe YAML <- `key=value` overrides (values parsed as YAML: 3, 2e-4, true, [a, b])."""
    values: dict = {}
    if recipe is not None:
        path = Path(recipe)
        if not path.is_file():
            raise ConfigError(f"recipe {path} not found")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"recipe {path} is not valid YAML: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"recipe {path} must be a mapping of key: value")
        values.update(loaded)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value")
        try:
            values[key.strip()] = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            values[key.strip()] = text
    return make_config(values)
