"""Benchmark: float32 vs bfloat16 scoring of the quick suite, per task: how far the answers move.

    PYTHONPATH=. python benchmarks/dtype_agreement.py --limit 20        # the first 20 documents of each task
    PYTHONPATH=. python benchmarks/dtype_agreement.py --tasks bt_flight,ppt_motifs_heldout --limit 200

Runs `ppt-bench eval --model MODEL --tasks TASKS --size quick --dtype {float32,bfloat16} --limit N`
into OUT/float32 and OUT/bfloat16 (resumable: finished tasks are reused), then compares the two runs
document by document. p is the model's distribution over a document's choices (softmax of the choice
log-likelihoods). Per task: max and mean |delta p| over documents and choices, the share of documents
whose argmax is the same, and each key metric of the leaderboard in both dtypes. It ends with one JSON
line. Where bfloat16 is not native (a CPU without AMX or avx512_bf16) it is emulated: several times
slower, with bfloat16's numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
DTYPES = ("float32", "bfloat16")


def choice_probs(lls) -> np.ndarray:
    """softmax over a document's choice log-likelihoods, (K,)."""
    z = np.asarray(lls, dtype=np.float64)
    z = np.exp(z - z.max())
    return z / z.sum()


def compare_task(task: str, runs: dict) -> dict:
    """The agreement figures of one task between the float32 and bfloat16 runs (module docstring)."""
    from ppt_bench.report.leaderboard import key_metrics
    from ppt_bench.report.results import logged_loglikelihoods, sample_records

    probs = {}
    for dtype, run in runs.items():
        records = sample_records(run.tasks[task])
        lls = {int(r["doc_id"]): logged_loglikelihoods(r) for r in records}
        probs[dtype] = {doc: choice_probs(ll) for doc, ll in lls.items() if ll}  # generation tasks log text
    shared = sorted(set(probs["float32"]) & set(probs["bfloat16"]))
    gaps = [np.abs(probs["float32"][d] - probs["bfloat16"][d]) for d in shared]
    same = [int(np.argmax(probs["float32"][d]) == np.argmax(probs["bfloat16"][d])) for d in shared]
    metrics = {}
    for name in key_metrics(task):
        values = [run.tasks[task].metrics.get(name) for run in runs.values()]
        if all(v is not None for v in values):
            metrics[name] = {"float32": values[0].value, "bfloat16": values[1].value,
                             "delta": values[1].value - values[0].value}
    return {"task": task, "docs": len(shared), "max_abs_dp": float(max(g.max() for g in gaps)) if gaps else None,
            "mean_abs_dp": float(np.mean(np.concatenate(gaps))) if gaps else None,
            "argmax_same": float(np.mean(same)) if same else None, "metrics": metrics}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2")
    parser.add_argument("--tasks", default="ppt_suite_quick", help="comma-separated tasks or a suite")
    parser.add_argument("--limit", type=int, default=20, help="documents per task (0: all)")
    parser.add_argument("--out", type=Path, default=Path("runs/dtype_agreement"))
    args = parser.parse_args()

    from ppt_bench.report.results import read_run

    env = {**os.environ, "PYTHONPATH": str(REPO)}
    for dtype in DTYPES:
        command = [sys.executable, "-m", "ppt_bench.cli", "eval", "--model", args.model, "--tasks", args.tasks,
                   "--size", "quick", "--dtype", dtype, "--out", str(args.out / dtype)]
        if args.limit:
            command += ["--limit", str(args.limit)]
        print("$ " + " ".join(command[2:]), flush=True)
        subprocess.run(command, check=True, env=env)
    runs = {dtype: read_run(args.out / dtype) for dtype in DTYPES}
    tasks = [t for t in runs["float32"].tasks if t in runs["bfloat16"].tasks]
    rows = [compare_task(task, runs) for task in tasks]
    print(f"\n{'task':<26}{'docs':>6}{'max|dp|':>9}{'mean|dp|':>10}{'argmax same':>13}  key metrics fp32 -> bf16")
    for row in (r for r in rows if r["max_abs_dp"] is not None):
        changes = ", ".join(f"{name} {m['float32']:.3f} -> {m['bfloat16']:.3f}" for name, m in row["metrics"].items())
        print(f"{row['task']:<26}{row['docs']:>6}{row['max_abs_dp']:>9.3f}{row['mean_abs_dp']:>10.4f}"
              f"{row['argmax_same']:>13.3f}  {changes}")
    (args.out / "agreement.json").write_text(json.dumps(rows, indent=1))
    measured = [r for r in rows if r["max_abs_dp"] is not None]
    print(json.dumps({"limit": args.limit, "max_abs_dp": max(r["max_abs_dp"] for r in measured),
                      "tasks": {r["task"]: {"max_abs_dp": round(r["max_abs_dp"], 4),
                                            "argmax_same": round(r["argmax_same"], 3)} for r in measured}}))


if __name__ == "__main__":
    main()
