"""One training run, top to bottom: config -> data -> model -> train -> eval -> save.

    main(load_config("training/recipes/ppt_soft_label_cpu.yaml")) -> metrics (also out_dir/metrics.json)

transformers' `Trainer` does the optimisation (AdamW, schedule with warmup, gradient accumulation,
checkpoints, resumption, accelerate / DeepSpeed / FSDP); the other modules of this package add the
data encoding, the collator and the losses.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import math
from dataclasses import asdict
from pathlib import Path

import torch
from transformers import TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from ppt_bench.errors import ConfigError
from ppt_bench.training.artefacts import finished_run, prune_checkpoints, save_final, write_loss_curve
from ppt_bench.training.collator import Collator
from ppt_bench.training.config import TrainConfig
from ppt_bench.training.examples import build_examples, pack_examples, read_jsonl, split_examples
from ppt_bench.training.losses import ChoiceTrainer
from ppt_bench.training.model import add_lora, load_base, resolved_precision

log = logging.getLogger("ppt_bench.training")


def training_arguments(cfg: TrainConfig, has_eval: bool) -> TrainingArguments:
    """The Trainer's settings from the config (accelerate/DeepSpeed/FSDP come from `accelerate launch`)."""
    evaluate_during = has_eval and cfg.eval_steps > 0
    precision = resolved_precision(cfg.precision)
    return TrainingArguments(
        output_dir=str(Path(cfg.out_dir) / "checkpoints"), seed=cfg.seed, data_seed=cfg.seed,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio, max_grad_norm=cfg.max_grad_norm,
        bf16=precision == "bf16", fp16=precision == "fp16",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        # passed only when on: transformers 5.x warns that the name is deprecated
        **({"gradient_checkpointing": True} if cfg.gradient_checkpointing else {}),
        logging_steps=cfg.logging_steps, logging_first_step=True,
        eval_strategy="steps" if evaluate_during else "no", eval_steps=cfg.eval_steps or None,
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit,
        include_num_input_tokens_seen="non_padding", remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), report_to="none",
        disable_tqdm=not cfg.progress)


def planned_steps(cfg: TrainConfig, n_train: int, world_size: int = 1) -> int:
    """Optimizer steps the run will take: max_steps, else epochs * ceil(batches per epoch / grad_accum)."""
    if cfg.max_steps > 0:
        return cfg.max_steps
    batches = math.ceil(n_train / (cfg.batch_size * world_size))
    return math.ceil(cfg.epochs * max(1, math.ceil(batches / cfg.grad_accum)))


def scheduled_learning_rates(args: TrainingArguments, n_steps: int) -> list[float] | None:
    """The learning rate the Trainer's schedule gives each of `n_steps` optimizer steps (None when the
    schedule needs settings this check does not know). Linear warmup starts at 0, so a run with as
    many warmup steps as steps (e.g. max_steps=1, warmup_ratio=0.1) never changes its weights."""
    from transformers import get_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    try:
        schedule = get_scheduler(args.lr_scheduler_type, optimizer, num_training_steps=n_steps,
                                 num_warmup_steps=args.get_warmup_steps(n_steps),
                                 scheduler_specific_kwargs=args.lr_scheduler_kwargs or {})
    except (TypeError, ValueError):
        return None
    rates = []
    for _ in range(n_steps):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    return rates


def main(cfg: TrainConfig, command: str | None = None) -> dict:
    """Train per `cfg`; returns the final metrics (also written to out_dir/metrics.json). `command`,
    the command line that asked for it, is recorded in out_dir/train_config.json."""
    from ppt_bench.harness.evaluate import provenance
    from ppt_bench.io import write_json_atomic

    out_dir = Path(cfg.out_dir)
    if cfg.resume and (finished := finished_run(cfg)) is not None:
        log.warning("%s: already finished with these settings (metrics.json); not trained again "
                    "(resume=false trains a new run there)", out_dir)
        return {**finished, "already_finished": True}
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)

    if not Path(cfg.data).is_file():
        read_jsonl(cfg.data, cfg.data_command)  # fail before loading anything, naming the command
    if cfg.finetune == "lora" and importlib.util.find_spec("peft") is None:
        raise ConfigError("finetune=lora needs peft (`pip install peft`); or set finetune=full")
    # Trainer settings first: under `accelerate launch` with DeepSpeed ZeRO-3 they must exist before
    # the model loads, so that from_pretrained partitions the weights as it reads them.
    args = training_arguments(cfg, has_eval=cfg.eval_fraction > 0)

    # model, then data (the tokenizer decides the token ids)
    model, tokenizer, chat = load_base(cfg.model, cfg.chat_template)
    examples = build_examples(cfg, tokenizer, chat)
    train_set, eval_set = split_examples(examples, cfg.eval_fraction, cfg.seed)
    log.info("%d training and %d eval examples from %s", len(train_set), len(eval_set), cfg.data)
    n_train, n_eval = len(train_set), len(eval_set)
    if cfg.pack_length:
        train_set, eval_set = (pack_examples(part, cfg.pack_length, cfg.seed) for part in (train_set, eval_set))
        log.info("packed into %d training and %d eval rows of at most %d tokens", len(train_set),
                 len(eval_set), cfg.pack_length)
    if cfg.finetune == "lora":
        model = add_lora(model, cfg)

    # train (resuming from the newest checkpoint when there is one)
    trainer = ChoiceTrainer(model=model, args=args, data_collator=Collator(tokenizer.pad_token_id),
                            train_dataset=train_set, eval_dataset=eval_set or None,
                            processing_class=tokenizer, supervised_logits=cfg.supervised_logits)
    checkpoints = Path(args.output_dir)
    resume = get_last_checkpoint(str(checkpoints)) if cfg.resume and checkpoints.is_dir() else None
    if resume:
        log.warning("resuming from %s", resume)
    elif checkpoints.is_dir() and trainer.is_world_process_zero():
        import shutil

        if any(checkpoints.iterdir()):
            log.warning("%s: removing the earlier checkpoints in %s", "resume=false" if not cfg.resume
                        else "no complete checkpoint to resume from", checkpoints)
        shutil.rmtree(checkpoints)
    n_steps = planned_steps(cfg, len(train_set), args.world_size)
    rates = scheduled_learning_rates(args, n_steps)
    if rates is not None and not any(rate > 0 for rate in rates):
        log.warning("no effective update: the learning rate is 0 at all %d optimizer step(s) (warmup of "
                    "%d step(s)); the saved weights will equal the base model's. Raise max_steps or set "
                    "warmup_ratio=0", n_steps, args.get_warmup_steps(n_steps))
    start_step = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"] if resume else 0
    result = trainer.train(resume_from_checkpoint=resume)
    steps_run = trainer.state.global_step - start_step

    # eval: held-out loss (the benchmark itself is `ppt-bench eval --model OUT_DIR`); the train loss is
    # the mean over the steps run now (None when resuming found nothing left to run)
    metrics = {**result.metrics, "train_loss": result.training_loss if steps_run > 0 else None,
               "steps_run": steps_run, "num_input_tokens_seen": trainer.state.num_input_tokens_seen}
    if eval_set:
        metrics.update(trainer.evaluate())

    # save
    save_final(trainer, tokenizer, cfg, out_dir)
    if trainer.is_world_process_zero():
        write_loss_curve(trainer.state.log_history, out_dir)
        record = {"command": command, "config": asdict(cfg), "chat_template": chat,
                  "precision": resolved_precision(cfg.precision), "n_train": n_train, "n_eval": n_eval,
                  "rows_packed": len(train_set) if cfg.pack_length else None, "resumed_from": resume, **provenance()}
        write_json_atomic(out_dir / "train_config.json", record)
        write_json_atomic(out_dir / "metrics.json", metrics)  # last: marks the run finished
        prune_checkpoints(checkpoints, trainer.state.global_step, cfg)
    return metrics
