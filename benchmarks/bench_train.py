"""Benchmark: training throughput and peak memory, before and after the speed-ups, per objective.

Each (objective, variant) trains the same model on the same examples for a few optimizer steps with
the trainer of `ppt_bench.training` (same collator, loss and Trainer settings as a recipe), in a fresh
subprocess so that its memory figures are its own. The first step is a warm-up and is not timed.

Variants (config overrides of `ppt_bench.training.TrainConfig`):
    before   supervised_logits=false group_by_length=false precision=fp32: the LM head at every
             position, shuffled batches (the trainer as it was)
    after    the defaults: LM head only where a loss is taken, length-grouped batches,
             precision=auto (bf16 where the hardware runs it natively, else fp32)
    lowmem   after + gradient_checkpointing=true (activations recomputed in the backward pass)
    lora     after + finetune=lora (LoRA r=16 adapters)
    packed   after + pack_length=1024 batch_size=2: scenarios packed into rows of <= 1024 tokens
             (scenario objectives only; the same scenarios as the other variants)

    PYTHONPATH=. python benchmarks/bench_train.py                  # soft_label, sft, soft_teaching
    PYTHONPATH=. python benchmarks/bench_train.py --objectives sft --variants before,after --steps 4

Without --scenarios / --dialogues, small data files are generated first (`ppt-bench generate`).
Figures: optimizer steps/s, training tokens/s (non-padding input tokens), peak resident memory while
training (sampled; the whole process, model included) and the growth over the loaded model, and the
after/before ratios. It ends with one JSON line (`--json` prints every row too).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


VARIANTS = {
    "before": {"supervised_logits": False, "group_by_length": False, "precision": "fp32"},
    "after": {},
    "lowmem": {"gradient_checkpointing": True},
    "lora": {"finetune": "lora", "learning_rate": 2e-4},
    "packed": {"pack_length": 1024, "batch_size": 2},  # scenario objectives only
}


def measure(args: argparse.Namespace, objective: str, variant: str) -> dict:
    """Train `args.steps` steps of `objective` as `variant` (VARIANTS) in this process; the figures."""
    import torch
    from transformers import TrainerCallback
    from transformers.trainer_utils import SaveStrategy

    from ppt_bench import training as train

    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as out_dir:
        batch_size = batch_size_of(args, objective)
        data = args.scenarios if objective in train.SCENARIO_OBJECTIVES else args.dialogues
        cfg = train.make_config({
            "objective": objective, "model": args.model, "data": str(data), "out_dir": out_dir,
            "finetune": "full", "batch_size": batch_size, "max_steps": args.steps,
            "max_examples": batch_size * args.steps, "eval_fraction": 0.0, "max_length": args.max_length,
            "learning_rate": 2e-5, "progress": False, **VARIANTS[variant]})
        model, tokenizer, chat = train.load_base(cfg.model, cfg.chat_template)
        examples = train.build_examples(cfg, tokenizer, chat)
        if cfg.pack_length:  # as `main` does: the same scenarios, in rows of <= pack_length tokens
            examples = train.pack_examples(examples, cfg.pack_length, cfg.seed)
        if cfg.finetune == "lora":
            model = train.add_lora(model, cfg)
        training_args = train.training_arguments(cfg, has_eval=False)
        training_args.save_strategy = SaveStrategy.NO  # time the steps, not the checkpoint writes
        marks: list[tuple[float, int]] = []

        class Clock(TrainerCallback):
            def on_step_end(self, _args, state, _control, **_kwargs):
                marks.append((time.perf_counter(), state.num_input_tokens_seen))

        trainer = train.ChoiceTrainer(model=model, args=training_args, train_dataset=examples,
                                      data_collator=train.Collator(tokenizer.pad_token_id),
                                      processing_class=tokenizer, callbacks=[Clock()],
                                      supervised_logits=cfg.supervised_logits)
        loaded_rss = _rss()
        with RssSampler() as sampler:
            trainer.train()
    (t0, n0), (t1, n1) = marks[0], marks[-1]  # from the end of step 1 (warm-up) to the last step
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"variant": variant, "objective": objective, "steps_timed": len(marks) - 1,
            "precision": train.resolved_precision(cfg.precision), "batch_size": cfg.batch_size,
            "seconds_per_step": (t1 - t0) / (len(marks) - 1),
            "steps_per_s": (len(marks) - 1) / (t1 - t0), "tokens_per_s": (n1 - n0) / (t1 - t0),
            "tokens_per_step": (n1 - n0) / (len(marks) - 1), "trainable_params": trainable,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "rss_after_load_gib": loaded_rss / 2**30, "train_peak_rss_gib": sampler.peak / 2**30,
            "train_growth_gib": (sampler.peak - loaded_rss) / 2**30,
            "threads": torch.get_num_threads()}


def _rss() -> int:
    """Resident memory of this process now, in bytes (Linux /proc; 0 elsewhere)."""
    try:
        with open("/proc/self/statm") as handle:
            return int(handle.read().split()[1]) * resource.getpagesize()
    except OSError:
        return 0


class RssSampler:
    """Peak resident memory while the block runs, sampled every 20 ms by a thread (`ru_maxrss`
    also counts the model load, whose GGUF de-quantisation peaks higher than training)."""

    def __enter__(self):
        import threading

        self.peak, self._stop = _rss(), threading.Event()

        def sample():
            while not self._stop.wait(0.02):
                self.peak = max(self.peak, _rss())

        self._thread = threading.Thread(target=sample, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def batch_size_of(args: argparse.Namespace, objective: str) -> int:
    """Scenarios train in batches of --batch-size, conversations (~900 tokens) in --chat-batch-size."""
    return args.batch_size if objective in ("soft_label", "hard_label") else args.chat_batch_size


def default_data(kind: str, n: int) -> Path:
    """A small generated training file (scenarios or Bayesian-teaching flight dialogues), cached."""
    path = Path(tempfile.gettempdir()) / f"ppt-bench-bench-{kind}-{n}.jsonl"
    if not path.is_file():
        command = (["scenarios", "--n", str(n), "--split", "train", "--no-progress"] if kind == "scenarios"
                   else ["dialogues", "--domain", "flight", "--teacher", "bayesian", "--users", str(n)])
        subprocess.run([sys.executable, "-m", "ppt_bench.cli", "generate", *command, "--seed", "0",
                        "--out", str(path)], check=True, cwd=REPO)
    return path


def table(rows: list[dict]) -> str:
    lines = [f"{'objective':<14}{'variant':<8}{'prec':<6}{'batch':>6}{'s/step':>8}{'tokens/s':>10}"
             f"{'tokens/step':>12}{'peak RSS GiB':>14}{'growth GiB':>12}"]
    for row in rows:
        lines.append(f"{row['objective']:<14}{row['variant']:<8}{row['precision']:<6}{row['batch_size']:>6}"
                     f"{row['seconds_per_step']:>8.2f}{row['tokens_per_s']:>10.1f}{row['tokens_per_step']:>12.0f}"
                     f"{row['train_peak_rss_gib']:>14.2f}{row['train_growth_gib']:>12.2f}")
    return "\n".join(lines)


def ratios(rows: list[dict]) -> dict:
    """{objective: {variant: {"tokens_per_s": x, "train_peak_rss": y, "train_growth": z}}} against
    the objective's `before` row (x > 1: faster; y, z < 1: less memory)."""
    out: dict = {}
    for objective in dict.fromkeys(row["objective"] for row in rows):
        by_variant = {row["variant"]: row for row in rows if row["objective"] == objective}
        base = by_variant.get("before")
        if base is None:
            continue
        out[objective] = {
            variant: {"tokens_per_s": row["tokens_per_s"] / base["tokens_per_s"],
                      "train_peak_rss": row["train_peak_rss_gib"] / base["train_peak_rss_gib"],
                      "train_growth": row["train_growth_gib"] / max(base["train_growth_gib"], 1e-9)}
            for variant, row in by_variant.items() if variant != "before"}
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objectives", default="soft_label,sft,soft_teaching",
                        help="comma-separated: soft_label, hard_label, sft, soft_teaching")
    parser.add_argument("--variants", default="before,after,lowmem", help=f"comma-separated: {', '.join(VARIANTS)}")
    parser.add_argument("--scenarios", type=Path, help="PPT scenarios JSONL (default: 64 generated)")
    parser.add_argument("--dialogues", type=Path, help="teaching dialogues JSONL (default: 16 generated users)")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--steps", type=int, default=4, help="optimizer steps per run (first untimed)")
    parser.add_argument("--batch-size", type=int, default=8, help="scenarios per step")
    parser.add_argument("--chat-batch-size", type=int, default=2, help="conversations per step")
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="print every row as JSON too")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is not timed)")
    objectives, variants = args.objectives.split(","), args.variants.split(",")
    bad = sorted(set(objectives) - {"soft_label", "hard_label", "sft", "soft_teaching"}) + \
        sorted(set(variants) - set(VARIANTS))
    if bad:
        parser.error(f"unknown objective or variant: {', '.join(bad)}")
    if args.child:
        objective, variant = args.child.split(":")
        print("RESULT " + json.dumps(measure(args, objective, variant)), flush=True)
        return 0

    if any(o in ("soft_label", "hard_label") for o in objectives):
        args.scenarios = args.scenarios or default_data("scenarios", 64)
    if any(o in ("sft", "soft_teaching") for o in objectives):
        args.dialogues = args.dialogues or default_data("dialogues", 16)
    rows = []
    for objective in objectives:
        for variant in variants:
            if variant == "packed" and objective not in ("soft_label", "hard_label"):
                continue
            command = [sys.executable, __file__, "--child", f"{objective}:{variant}", "--model", args.model,
                       "--steps", str(args.steps), "--batch-size", str(args.batch_size),
                       "--chat-batch-size", str(args.chat_batch_size), "--max-length", str(args.max_length),
                       "--threads", str(args.threads)]
            for flag in ("scenarios", "dialogues"):
                if getattr(args, flag):
                    command += [f"--{flag}", str(getattr(args, flag))]
            done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
            lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
            if done.returncode != 0 or not lines:
                print(done.stderr[-3000:], file=sys.stderr)
                return 1
            rows.append(json.loads(lines[-1][len("RESULT "):]))
            print(table(rows[-1:]).splitlines()[-1], file=sys.stderr, flush=True)
    print(f"model {args.model}, {args.steps - 1} timed steps per run; "
          f"{platform.processor() or platform.machine()}, {rows[0]['threads']} torch threads")
    print(table(rows))
    summary = ratios(rows)
    for objective, by_variant in summary.items():
        for variant, ratio in by_variant.items():
            print(f"{objective} {variant} / before: tokens/s x{ratio['tokens_per_s']:.2f}, peak RSS "
                  f"x{ratio['train_peak_rss']:.2f}, growth over the loaded model x{ratio['train_growth']:.2f}")
    if args.json:
        print(json.dumps(rows, indent=2))
    speeds = {f"{row['objective']}:{row['variant']}": round(row["tokens_per_s"], 1) for row in rows}
    print(json.dumps({"ratios": summary, "tokens_per_s": speeds}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
