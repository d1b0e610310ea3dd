"""Benchmark: exact-path generation throughput vs the generic NUTS path, in one run.

    PYTHONPATH=. python benchmarks/bench_generate.py [--n 10000] [--nuts-sample 6]

Prints scenarios/s for `--n` scenarios (the `generate scenarios` code path, written to a temporary
JSONL file) and the per-scenario cost of labelling a sample of them with NUTS instead (continuous-latent
motifs only; NUTS cannot sample discrete latents), and their ratio, as one JSON object.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--nuts-sample", type=int, default=6, help="scenarios labelled with NUTS")
    parser.add_argument("--nuts-samples", type=int, default=4000, help="NUTS draws per scenario")
    args = parser.parse_args()

    from ppt_bench.metrics import tv
    from ppt_bench.programs import MOTIFS, write_scenarios
    from ppt_bench.programs.inference import nuts_choice_probs

    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        report = write_scenarios(Path(tmp) / "bench.jsonl", args.n, args.seed, "train", progress=False)
        exact_seconds = time.perf_counter() - start
        sample = [json.loads(line) for line in (Path(tmp) / "bench.jsonl").open()]
    sample = [r for r in sample if MOTIFS[r["motif"]].nuts_ok][: args.nuts_sample]

    start, tvs = time.perf_counter(), []
    for record in sample:
        motif = MOTIFS[record["motif"]]
        params, obs = record["program"]["params"], record["program"]["observations"]
        probs = nuts_choice_probs(motif, params, obs, seed=record["seed"], num_samples=args.nuts_samples)
        tvs.append(tv(record["soft_label"], probs))
    nuts_per_scenario = (time.perf_counter() - start) / max(len(sample), 1)
    exact_per_scenario = exact_seconds / report.total
    print(json.dumps({
        "n": report.total, "exact_total_s": round(exact_seconds, 1),
        "exact_scenarios_per_s": round(report.total / exact_seconds, 1),
        "exact_ms_per_scenario": round(1000 * exact_per_scenario, 2),
        "nuts_sample": [r["motif"] for r in sample], "nuts_draws": args.nuts_samples,
        "nuts_s_per_scenario": round(nuts_per_scenario, 2),
        "nuts_over_exact_cost_ratio": round(nuts_per_scenario / exact_per_scenario, 1),
        "nuts_vs_exact_max_tv": round(max(tvs), 4) if tvs else None,
    }, indent=1))


if __name__ == "__main__":
    main()
