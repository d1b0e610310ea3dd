"""`ppt-bench eval`: evaluate a model on ppt-bench tasks through lm-eval (results under runs/)."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from ppt_bench.commands._shard import add_shard_argument
from ppt_bench.harness.evaluate import BACKENDS
from ppt_bench.harness.sizes import SIZE_NAMES


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """Options shared by `eval` and `run`."""
    parser.add_argument("--model", default="smollm2",
                        help="smollm2 (default), gemma3-270m, a local path or a Hugging Face id")
    parser.add_argument("--limit", type=int, metavar="N",
                        help="evaluate only the first N documents per task (a positive integer)")
    parser.add_argument("--batch-size", type=int, metavar="B",
                        help="documents per forward pass (default 8; 2 for gemma3-270m, whose vocabulary "
                             "has 262k tokens)")
    parser.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:0, ...)")
    parser.add_argument("--dtype", choices=("auto", "float32", "bfloat16"), default="auto",
                        help="compute dtype; auto (default): bfloat16 on CUDA or a CPU with native bfloat16 "
                             "(AMX, avx512_bf16), else float32")
    parser.add_argument("--chat-template", action=argparse.BooleanOptionalAction, default=None,
                        help="wrap prompts in the model's chat template (default: when its tokenizer has one; "
                             "a fine-tuned folder: as it was trained)")
    parser.add_argument("--backend", choices=BACKENDS, default=BACKENDS[0],
                        help="lm-eval model that scores it: ppt-hf (default; transformers, shared prefixes "
                             "scored once), hf (lm-eval's own), vllm (needs vLLM and a Hugging Face folder: "
                             "`ppt-bench models export`)")
    parser.add_argument("--model-args", type=parse_model_args, default={}, metavar="K=V,...",
                        help="extra model arguments for the backend, as lm-eval's --model_args (e.g. "
                             "tensor_parallel_size=4,gpu_memory_utilization=0.9 for vllm); recorded with the run")
    parser.add_argument("--out", type=Path, metavar="DIR", help="run directory (default runs/<model>)")
    parser.add_argument("--include-path", type=Path, metavar="DIR",
                        help="task folder (default: the checkout's tasks/)")


def model_options(args: argparse.Namespace) -> dict:
    """The EvalConfig fields set by the options of `add_model_arguments` beyond model and batch."""
    return {"dtype": args.dtype, "apply_chat_template": args.chat_template, "backend": args.backend,
            "extra_model_args": args.model_args}


def parse_model_args(text: str) -> dict[str, bool | int | float | str]:
    """`"a=1,b=true,c=x"` -> {"a": 1, "b": True, "c": "x"}: lm-eval's --model_args form (true/false,
    integers and decimals become values; anything else stays a string)."""
    parsed: dict[str, bool | int | float | str] = {}
    for pair in (p for p in text.split(",") if p.strip()):
        key, equals, value = pair.partition("=")
        if not equals or not key.strip():
            raise argparse.ArgumentTypeError(f"expected KEY=VALUE pairs separated by commas, got {pair!r}")
        value = value.strip()
        if value.lower() in ("true", "false"):
            parsed[key.strip()] = value.lower() == "true"
            continue
        for kind in (int, float):
            try:
                parsed[key.strip()] = kind(value)
                break
            except ValueError:
                continue
        else:
            parsed[key.strip()] = value
    return parsed


def default_run_dir(model: str) -> Path:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "_", Path(model).name if Path(model).exists() else model).strip("_")
    return Path("runs") / slug


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tasks", required=True, metavar="TASKS",
                        help="comma-separated task names (e.g. bt_flight,human_probcopa), or a suite "
                             "group (ppt_suite_quick, ppt_suite)")
    parser.add_argument("--size", choices=SIZE_NAMES,
                        help="dataset size for every task: quick, full or paper (default: each suite member's own; "
                             "full for a task outside a suite)")
    parser.add_argument("--protocol", choices=("assistant-context", "interactive"), default="assistant-context",
                        help="Bayesian-teaching tasks: assistant-context (default; the static lm-eval documents, "
                             "earlier rounds show the Bayesian Assistant's recommendations) or interactive (the "
                             "model plays the assistant: its own recommendations and the user's feedback; "
                             "bt_flight, bt_hotel, bt_shopping, bt_*_official); --limit then keeps whole users")
    add_model_arguments(parser)
    add_shard_argument(parser, "score each task's documents (after --limit)")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.harness.evaluate import SUITES, TASKS_DIR, EvalConfig, evaluate, results_table, suite_tasks
    from ppt_bench.models import default_batch_size

    include_path = args.include_path or TASKS_DIR
    sizes: dict[str, str] = {}
    for name in (t for t in args.tasks.split(",") if t):
        members = suite_tasks(name, include_path) if name in SUITES.values() else {name: "full"}
        sizes.update({task: args.size or size for task, size in members.items()})
    config = EvalConfig(model=args.model, tasks=tuple(sizes), sizes=sizes,
                        out_dir=args.out or default_run_dir(args.model), limit=args.limit,
                        batch_size=args.batch_size or default_batch_size(args.model), device=args.device,
                        include_path=include_path, protocol=args.protocol, shard=args.shard,
                        **model_options(args))
    results = evaluate(config)
    print(results_table(results))
    print(f"results: {config.out_dir}")
    return 0
