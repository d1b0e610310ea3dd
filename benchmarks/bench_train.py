"""Benchmark: training throughput and peak memory of LoRA vs full fine-tuning on CPU.

Each mode trains the same model on the same examples for a few optimizer steps with the trainer of
`training/train.py` (same collator, loss and Trainer settings as a recipe), in a fresh subprocess so
that its memory figures are its own. The first step is a warm-up and is not timed.

    PYTHONPATH=. python benchmarks/bench_train.py                          # soft_label on 64 scenarios
    PYTHONPATH=. python benchmarks/bench_train.py --objective sft --data train/bayesian.jsonl

Without --data, a small scenario file is generated first (`ppt-bench generate scenarios`).
Figures: optimizer steps/s, training tokens/s (non-padding input tokens), peak resident memory while
training (sampled) and over the whole process (`ru_maxrss`, includes loading the model), and the
LoRA/full ratios. The same numbers size the CPU recipes (training/README.md).
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


def measure(args: argparse.Namespace, mode: str) -> dict:
    """Train `args.steps` steps in `mode` (lora | full) in this process; return the figures."""
    import torch
    from transformers import TrainerCallback
    from transformers.trainer_utils import SaveStrategy

    sys.path.insert(0, str(REPO))
    from ppt_bench.commands.train import load_trainer_module

    train = load_trainer_module()
    if args.threads:
        torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as out_dir:
        cfg = train.make_config({
            "objective": args.objective, "model": args.model, "data": str(args.data), "out_dir": out_dir,
            "finetune": mode, "batch_size": args.batch_size, "max_steps": args.steps,
            "max_examples": args.batch_size * args.steps, "eval_fraction": 0.0, "max_length": args.max_length,
            "learning_rate": 2e-4 if mode == "lora" else 2e-5, "progress": False})
        model, tokenizer, chat = train.load_base(cfg.model, cfg.chat_template)
        examples = train.build_examples(cfg, tokenizer, chat)
        if mode == "lora":
            model = train.add_lora(model, cfg)
        training_args = train.training_arguments(cfg, has_eval=False)
        training_args.save_strategy = SaveStrategy.NO  # time the steps, not the checkpoint writes
        marks: list[tuple[float, int]] = []

        class Clock(TrainerCallback):
            def on_step_end(self, _args, state, _control, **_kwargs):
                marks.append((time.perf_counter(), state.num_input_tokens_seen))

        trainer = train.ChoiceTrainer(model=model, args=training_args, train_dataset=examples,
                                      data_collator=train.Collator(tokenizer.pad_token_id),
                                      processing_class=tokenizer, callbacks=[Clock()])
        loaded_rss = _rss()
        with RssSampler() as sampler:
            trainer.train()
    (t0, n0), (t1, n1) = marks[0], marks[-1]  # from the end of step 1 (warm-up) to the last step
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return {"mode": mode, "objective": args.objective, "steps_timed": len(marks) - 1,
            "batch_size": args.batch_size, "seconds_per_step": (t1 - t0) / (len(marks) - 1),
            "steps_per_s": (len(marks) - 1) / (t1 - t0), "tokens_per_s": (n1 - n0) / (t1 - t0),
            "tokens_per_step": (n1 - n0) / (len(marks) - 1), "trainable_params": trainable,
            "peak_rss_gib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20,
            "rss_after_load_gib": loaded_rss / 2**30, "train_peak_rss_gib": sampler.peak / 2**30,
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


def default_data(n: int) -> Path:
    path = Path(tempfile.gettempdir()) / f"ppt-bench-bench-scenarios-{n}.jsonl"
    if not path.is_file():
        subprocess.run([sys.executable, "-m", "ppt_bench.cli", "generate", "scenarios", "--n", str(n),
                        "--seed", "0", "--split", "train", "--out", str(path), "--no-progress"],
                       check=True, cwd=REPO)
    return path


def table(rows: list[dict]) -> str:
    lines = [f"{'mode':<6}{'steps/s':>9}{'s/step':>8}{'tokens/s':>10}{'tokens/step':>12}"
             f"{'train peak RSS GiB':>20}{'process peak GiB':>18}{'trainable':>13}"]
    for row in rows:
        lines.append(f"{row['mode']:<6}{row['steps_per_s']:>9.3f}{row['seconds_per_step']:>8.2f}"
                     f"{row['tokens_per_s']:>10.1f}{row['tokens_per_step']:>12.0f}"
                     f"{row['train_peak_rss_gib']:>20.2f}{row['peak_rss_gib']:>18.2f}"
                     f"{row['trainable_params']:>13,}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--objective", default="soft_label",
                        choices=("soft_label", "hard_label", "sft", "soft_teaching"))
    parser.add_argument("--data", type=Path, help="JSONL (default: 64 generated training scenarios)")
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--modes", default="lora,full", help="comma-separated: lora, full")
    parser.add_argument("--steps", type=int, default=6, help="optimizer steps per mode (first untimed)")
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--max-length", type=int, default=1024)
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0: torch's default)")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON too")
    parser.add_argument("--child", choices=("lora", "full"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.steps < 2:
        parser.error("--steps must be at least 2 (the first step is not timed)")
    if args.child:
        print("RESULT " + json.dumps(measure(args, args.child)), flush=True)
        return 0

    data = args.data or default_data(64)
    rows = []
    for mode in args.modes.split(","):
        command = [sys.executable, __file__, "--child", mode, "--objective", args.objective, "--data",
                   str(data), "--model", args.model, "--steps", str(args.steps), "--batch-size",
                   str(args.batch_size), "--max-length", str(args.max_length), "--threads", str(args.threads)]
        done = subprocess.run(command, capture_output=True, text=True, cwd=REPO)
        lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
        if done.returncode != 0 or not lines:
            print(done.stderr[-3000:], file=sys.stderr)
            return 1
        rows.append(json.loads(lines[-1][len("RESULT "):]))
    print(f"{args.objective} on {data.name}, model {args.model}, batch {args.batch_size}, "
          f"{args.steps - 1} timed steps; {platform.processor() or platform.machine()}, "
          f"{rows[0]['threads']} torch threads")
    print(table(rows))
    by_mode = {row["mode"]: row for row in rows}
    if {"lora", "full"} <= by_mode.keys():
        lora, full = by_mode["lora"], by_mode["full"]
        print(f"LoRA / full: tokens/s x{lora['tokens_per_s'] / full['tokens_per_s']:.2f}, "
              f"train peak RSS x{lora['train_peak_rss_gib'] / full['train_peak_rss_gib']:.2f}")
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
