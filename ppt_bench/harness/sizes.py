"""How big a task is: the sizing rule of the suites and the line each loader prints.

Sizes are names, passed as lm-eval metadata (`size: quick`): "quick" (a 2-core CPU), "full" (about
one GPU-hour of a 7B model for the whole `ppt_suite`) and "paper" (the Bayesian-teaching paper's
protocol, every user type x 100 held-out sets: 374,400 documents for `bt_flight`). A task without size
metadata uses `DEFAULT_SIZE` ("full"), never "paper". The counts per size live beside each family's
loader (`bt_documents.SIZES`, `bt_tasks.CALIB_SIZES`, `ppt_tasks.SIZES`); `tasks/suites/README.md`
states the rule and what each size buys.

The rule (worst case p = 0.5 of a binomial accuracy, normal approximation):

    half_width(n) = 1.96 * sqrt(p (1 - p) / n)   ->  n >= 200 gives <= 0.0693 per round
    >= 100 items per held-out motif               ->  +-0.098 per motif
    >= 300 calibration items per task family      (HELM: a stable binned ECE needs about 300)
"""

from __future__ import annotations

import math
import sys

SIZE_NAMES = ("quick", "full", "paper")
DEFAULT_SIZE = "full"
Z95 = 1.96
MIN_PER_ROUND = 200  # documents per (task, round): 95% half-width <= 0.07
MIN_PER_MOTIF = 100  # documents per held-out motif
MIN_CALIB = 300  # calibration items per task family (HELM's threshold for a stable binned ECE)


def half_width(n: int, p: float = 0.5, z: float = Z95) -> float:
    """95% half-width of a binomial proportion from n items: z * sqrt(p (1 - p) / n) (inf for n = 0)."""
    return z * math.sqrt(p * (1.0 - p) / n) if n > 0 else math.inf


def check_size(size: str, sizes: dict) -> None:
    """A clear error for a size name the table does not have."""
    if size not in sizes:
        raise ValueError(f"size must be one of {sorted(sizes)}, not {size!r}")


def announce(task: str, size: str, n_documents: int, detail: str = "") -> None:
    """The one line a loader prints when lm-eval builds a task (stderr, so every log shows it)."""
    extra = f" ({detail})" if detail else ""
    print(f"ppt-bench: {task} size={size}: {n_documents:,} documents{extra}", file=sys.stderr, flush=True)
