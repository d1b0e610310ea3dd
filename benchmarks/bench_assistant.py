"""Benchmark: the vectorised Bayesian Assistant against a straightforward per-user loop.

Workload (issue 3): all 624 flight users x 6 evaluation points (after 0..5 rounds) x 100 held-out
sets, the full posterior predictive over each set's 3 options. Both implementations are timed in the
same run on the same generated data, their outputs are checked equal, and the speed-up is printed.

    PYTHONPATH=. python benchmarks/bench_assistant.py [--users 624] [--heldout 100] [--repeats 5]
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=None, help="default: all 624 user types")
    parser.add_argument("--heldout", type=int, default=100)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--repeats", type=int, default=5, help="vectorised runs (best is kept)")
    parser.add_argument("--target", type=float, default=20.0, help="required speed-up")
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    args = parser.parse_args(argv)

    import numpy as np

    from ppt_bench.recommend import BayesianAssistant, flight_domain, simulate
    from ppt_bench.recommend.assistants import per_user_loop_predictive

    interactions = simulate(flight_domain(), n_users=args.users, n_heldout=args.heldout,
                            seed=args.seed)
    assistant = BayesianAssistant()
    assistant.predictive(interactions.subset(slice(2)))              # warm-up (allocations, BLAS)

    vectorised_times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        fast = assistant.predictive(interactions)
        vectorised_times.append(time.perf_counter() - start)
    start = time.perf_counter()
    slow = per_user_loop_predictive(interactions)
    loop_time = time.perf_counter() - start

    vectorised = min(vectorised_times)
    figures = {
        "users": interactions.n_users, "evaluation_points": interactions.n_rounds + 1,
        "heldout_sets": args.heldout, "hypotheses": interactions.domain.n_hypotheses,
        "vectorised_s": round(vectorised, 4), "per_user_loop_s": round(loop_time, 3),
        "speedup": round(loop_time / vectorised, 1), "target": args.target,
        "max_abs_difference": float(np.abs(fast - slow).max()),
        "python": platform.python_version(), "numpy": np.__version__,
    }
    figures["meets_target"] = figures["speedup"] >= args.target
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(f"workload: {figures['users']} users x {figures['evaluation_points']} evaluation points"
              f" x {figures['heldout_sets']} held-out sets ({figures['hypotheses']} hypotheses)")
        print(f"vectorised (best of {args.repeats}): {vectorised * 1e3:9.1f} ms")
        print(f"per-user loop:              {loop_time * 1e3:9.1f} ms")
        print(f"speed-up: {figures['speedup']:.1f}x (target >= {args.target:g}x: "
              f"{'met' if figures['meets_target'] else 'NOT met'}); "
              f"max |difference| = {figures['max_abs_difference']:.2e}")
    return 0 if figures["meets_target"] and figures["max_abs_difference"] < 1e-9 else 1


if __name__ == "__main__":
    sys.exit(main())
