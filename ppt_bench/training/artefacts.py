"""What a run leaves in its out_dir, and what an earlier run there means for this one.

    out_dir/  model (plain HF folder), loss.csv + loss.png, metrics.json, train_config.json, checkpoints/
"""

from __future__ import annotations

import csv
import json
from dataclasses import asdict
from pathlib import Path

from transformers import Trainer

from ppt_bench.errors import ConfigError
from ppt_bench.training.config import TrainConfig


def write_loss_curve(log_history: list[dict], out_dir: Path) -> None:
    """loss.csv (step, epoch, loss, eval_loss, learning_rate, grad_norm, tokens) and loss.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = ("step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "num_input_tokens_seen")
    rows = [{c: entry.get(c, "") for c in columns} for entry in log_history
            if "loss" in entry or "eval_loss" in entry]
    with (out_dir / "loss.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for key, style in (("loss", "-"), ("eval_loss", "o-")):
        points = [(r["step"], r[key]) for r in rows if r[key] != ""]
        if points:
            axis.plot(*zip(*points, strict=True), style, label=key.replace("_", " "))
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("loss")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out_dir / "loss.png", dpi=120)
    plt.close(figure)


def save_final(trainer: Trainer, tokenizer, cfg: TrainConfig, out_dir: Path) -> None:
    """A plain HF folder (LoRA merged into the weights) that `resolve_model(out_dir)` and lm-eval load."""
    if cfg.finetune == "lora":
        if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
            raise ConfigError("merging LoRA under DeepSpeed/FSDP is not supported; use finetune=full "
                              "there, or LoRA with plain data parallelism")
        if trainer.is_world_process_zero():
            merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
            merged.save_pretrained(out_dir)
    else:
        trainer.save_model(str(out_dir))  # gathers sharded weights under DeepSpeed / FSDP
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out_dir)


RERUN_NEUTRAL = ("resume", "progress", "threads", "keep_checkpoints")  # keys that leave the result alone


def finished_run(cfg: TrainConfig) -> dict | None:
    """The metrics of a finished run in cfg.out_dir made with the same config, None when there is none;
    ConfigError when the finished run used another config (training it further would mix the two)."""
    out_dir = Path(cfg.out_dir)
    if not ((out_dir / "metrics.json").is_file() and (out_dir / "train_config.json").is_file()):
        return None
    recorded = json.loads((out_dir / "train_config.json").read_text()).get("config") or {}
    current = json.loads(json.dumps(asdict(cfg)))
    changed = sorted(key for key in set(recorded) | set(current)
                     if key not in RERUN_NEUTRAL and recorded.get(key) != current.get(key))
    if changed:
        raise ConfigError(f"{out_dir} holds a finished run with other settings ({', '.join(changed)}); "
                          "pass resume=false to train a new one there, or another out_dir")
    return json.loads((out_dir / "metrics.json").read_text())


def prune_checkpoints(checkpoints: Path, steps_run: int, cfg: TrainConfig) -> None:
    """Once the final model is saved: keep the newest `keep_checkpoints` checkpoints, and none for a run
    shorter than save_steps (its only checkpoint is the end-of-training copy of the final model)."""
    import shutil

    found = sorted(checkpoints.glob("checkpoint-*"), key=lambda path: int(path.name.rsplit("-", 1)[1]))
    keep = 0 if steps_run < cfg.save_steps else cfg.keep_checkpoints
    for path in found[:len(found) - keep] if keep else found:
        shutil.rmtree(path, ignore_errors=True)
    if checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()
