"""lm-eval's own command line with ppt-bench's backends registered (`ppt-bayes`, `ppt-uniform`, `ppt-hf`):

    python -m ppt_bench.harness.lm_eval_cli --model ppt-bayes --include_path tasks \
        --tasks bt_flight --metadata '{"size": "quick"}' --limit 8

The plain `lm_eval` command cannot find them: lm-eval 0.4.13 has no plugin entry point for models,
and it creates the model before it imports anything of a task folder, so `--include_path` cannot
register one. Every argument is lm-eval's (`--help` lists them).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    import lm_eval.models  # noqa: F401  (built-in backends first, see design.md)
    from lm_eval.__main__ import cli_evaluate

    import ppt_bench.harness.hf_backend  # noqa: F401  (registers ppt-hf)
    import ppt_bench.harness.reference_models  # noqa: F401  (registers ppt-bayes, ppt-uniform)

    if argv is not None:
        sys.argv = [sys.argv[0], *argv]
    cli_evaluate()


if __name__ == "__main__":
    main()
