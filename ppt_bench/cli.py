"""The `ppt-bench` command line.

Each subcommand lives in its own module under `ppt_bench/commands/` (a path in `COMMANDS`) exposing

    configure(parser: argparse.ArgumentParser) -> None   # add its arguments (light imports only)
    execute(args: argparse.Namespace) -> int              # do the work, return the exit status

Heavy libraries (torch, jax, lm-eval) are imported inside `execute`, so `ppt-bench --help` stays fast.
A command whose module does not exist yet is still listed, and exits with status 2 and a clear message.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import logging
import sys
from dataclasses import dataclass

from ppt_bench import __version__
from ppt_bench.errors import PPTBenchError

log = logging.getLogger("ppt_bench")


@dataclass(frozen=True)
class Command:
    """One subcommand: its name, one-line help, and the module that implements it."""

    name: str
    help: str
    module: str


# `generate` has subcommands of its own; everything else is flat.
COMMANDS: tuple[Command, ...] = (
    Command("run", "main job: evaluate a model (default: the embedded SmolLM2) on the quick suite",
            "ppt_bench.commands.run"),
    Command("eval", "evaluate a model on ppt-bench tasks through lm-eval", "ppt_bench.commands.eval"),
    Command("assistant-curve", "per-round accuracy of the recommendation assistants (JSON)",
            "ppt_bench.commands.assistant_curve"),
    Command("report", "calibration report (raw vs temperature-scaled) for a run directory",
            "ppt_bench.commands.report"),
    Command("compare", "effects of fine-tuning against a baseline run, raw and temperature-scaled",
            "ppt_bench.commands.compare"),
    Command("leaderboard", "build the leaderboard (markdown, CSV, HTML) from run directories",
            "ppt_bench.commands.leaderboard"),
    Command("figures", "draw the papers' figures from run directories", "ppt_bench.commands.figures"),
    Command("train", "fine-tune a model from a training recipe", "ppt_bench.commands.train"),
    Command("merge", "join the shards of a `--shard i/n` run (generation files or eval run directories)",
            "ppt_bench.commands.merge"),
    Command("data", "fetch, verify and locate external data sets", "ppt_bench.commands.data"),
    Command("models", "list, locate, install and export the embedded models", "ppt_bench.commands.models"),
    Command("tasks", "locate the lm-eval task folders (`lm_eval --include_path`)", "ppt_bench.commands.tasks"),
)
GENERATE: tuple[Command, ...] = (
    Command("scenarios", "PPT scenarios with exact soft labels (JSONL or parquet)",
            "ppt_bench.commands.generate_scenarios"),
    Command("dialogues", "Bayesian / Oracle teaching conversations for fine-tuning",
            "ppt_bench.commands.generate_dialogues"),
    Command("programs", "scenarios written as programs by a model, validated in a sandbox",
            "ppt_bench.commands.generate_programs"),
)


def _implemented(command: Command) -> bool:
    return importlib.util.find_spec(command.module) is not None


def _add_command(subparsers, command: Command, prog_words: str) -> None:
    if _implemented(command):
        parser = subparsers.add_parser(command.name, help=command.help, description=command.help)
        module = importlib.import_module(command.module)
        module.configure(parser)
        parser.set_defaults(_execute=module.execute)
    else:
        parser = subparsers.add_parser(
            command.name, help=f"{command.help} [not available yet]",
            description=f"{command.help}. Not available yet in ppt-bench {__version__}.")
        parser.set_defaults(_execute=_unavailable(f"{prog_words} {command.name}"))


def _unavailable(words: str):
    def execute(args: argparse.Namespace) -> int:
        raise PPTBenchError(f"`{words}` is not available yet in ppt-bench {__version__}; "
                           "see README.md for the commands that are.")
    return execute


def build_parser() -> argparse.ArgumentParser:
    """The full argument parser (imports every command module, which must import only light things)."""
    parser = argparse.ArgumentParser(
        prog="ppt-bench",
        description="Evaluation, calibration and training for probabilistic reasoning in LLMs.")
    parser.add_argument("--version", action="version", version=f"ppt-bench {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0,
                        help="more log output (-v info, -vv debug)")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for command in COMMANDS[:2]:
        _add_command(subparsers, command, "ppt-bench")
    generate = subparsers.add_parser("generate", help="generate training and evaluation data",
                                     description="Generate training and evaluation data.")
    generate_sub = generate.add_subparsers(dest="what", metavar="WHAT", required=True)
    for command in GENERATE:
        _add_command(generate_sub, command, "ppt-bench generate")
    for command in COMMANDS[2:]:
        _add_command(subparsers, command, "ppt-bench")
    return parser


def _configure_logging(verbosity: int) -> None:
    level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity == 1 else logging.DEBUG
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `ppt-bench` console script; returns the exit status."""
    args = build_parser().parse_args(argv)
    _configure_logging(args.verbose)
    try:
        return int(args._execute(args) or 0)
    except PPTBenchError as error:
        print(f"ppt-bench: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ppt-bench: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
