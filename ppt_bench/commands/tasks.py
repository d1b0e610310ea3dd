"""`ppt-bench tasks path`: where the lm-eval task folders are (for `lm_eval --include_path`).

    lm_eval --include_path "$(ppt-bench tasks path)" --tasks ppt_smoke --model hf --model_args ...

In a source checkout that is `tasks/`; in an installed wheel, `ppt_bench/tasks/` inside the package.
"""

from __future__ import annotations

import argparse


def configure(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)
    actions.add_parser("path", help="print the folder of the task YAMLs (for lm_eval --include_path)",
                       description="Print the folder of ppt-bench's lm-eval task YAMLs.")


def execute(args: argparse.Namespace) -> int:
    from ppt_bench.errors import ConfigError
    from ppt_bench.harness.evaluate import TASKS_DIR

    if not TASKS_DIR.is_dir():
        raise ConfigError(f"task folder {TASKS_DIR} not found; reinstall ppt-bench")
    print(TASKS_DIR)
    return 0
