"""Synthetic run directories (the layout of ppt_bench/harness/evaluate.py), written per test session.

A model with `skill` s answers p = s * q + (1 - s) / K (q the soft label); `ppt-bayes` is s = 1 and
`ppt-uniform` s = 0. Aggregates are computed from the per-item values, stderr = std / sqrt(n) for
means and "N/A" for pooled metrics, as lm-eval writes them.
"""

from __future__ import annotations

import json
import zlib
from pathlib import Path

import numpy as np
import pytest

from ppt_bench import metrics

MODELS = {"ppt-bayes": 1.0, "ppt-uniform": 0.0, "model-good": 0.7, "model-weak": 0.2}
MOTIFS = ("change_point", "marbles", "tug_of_war")
POOLED = ("ece", "nll_cv", "ece_cv", "spearman")


def _docs(task: str, rng: np.random.Generator) -> list[dict]:
    docs = []
    if task == "bt_flight" or task.startswith("bt_flight_f"):  # bt_flight_f2..f8: the same shape
        for user in range(4):
            for rnd in range(6):
                q = rng.dirichlet(np.ones(3) * (0.5 + rnd))
                docs.append({"labels": ["1", "2", "3"], "soft_label": q.tolist(),
                             "outcome": int(rng.choice(3, p=q)), "user": user, "round": rnd})
    elif task == "ppt_motifs_heldout":
        for i in range(24):
            k = 4 + i % 3
            q = rng.dirichlet(np.ones(k))
            docs.append({"labels": list("ABCDEFG"[:k]), "soft_label": q.tolist(),
                         "outcome": int(rng.choice(k, p=q)), "motif": MOTIFS[i % len(MOTIFS)]})
    elif task == "human_probcopa":
        for _ in range(30):
            q = rng.dirichlet(np.ones(5) * 0.7)
            docs.append({"labels": list("ABCDE"), "soft_label": q.tolist(), "outcome": int(np.argmax(q)),
                         "human_mean": float(q @ np.array([10, 30, 50, 70, 90]))})
    else:
        raise ValueError(task)
    return docs


def _item(doc: dict, skill: float) -> dict:
    q = np.array(doc["soft_label"])
    p = skill * q + (1 - skill) / len(q)
    y = doc["outcome"]
    values = {"acc": metrics.acc(p, y), "nll": metrics.nll(p, y), "kl": metrics.kl(q, p),
              "w1": metrics.w1(q, p)}
    if "round" in doc:
        values["agree"] = float(metrics.first_argmax(p) == metrics.first_argmax(q))
        values["ba_acc"] = float(metrics.first_argmax(q) == y)
        values[f"acc_r{doc['round']}"] = values["acc"]
        values[f"agree_r{doc['round']}"] = values["agree"]
    return {"p": p, "values": values}


def write_run(root: Path, model: str, skill: float, tasks=("bt_flight", "ppt_motifs_heldout", "human_probcopa"),
              lm_eval_version: str = "0.4.13") -> Path:
    run_dir = root / model
    run_dir.mkdir(parents=True, exist_ok=True)
    provenance = {"package_versions": {"lm_eval": lm_eval_version}, "git_sha": "0" * 40,
                  "date": "2026-01-01T00:00:00+00:00"}
    (run_dir / "run.json").write_text(json.dumps({"model": model, "backend": "synthetic",
                                                  "model_args": {}, **provenance}))
    for task in tasks:
        docs = _docs(task, np.random.default_rng(zlib.crc32(task.encode())))
        items = [_item(doc, skill) for doc in docs]
        entry: dict = {"alias": task}
        names = sorted({name for item in items for name in item["values"]})
        for name in names:
            column = np.array([it["values"][name] for it in items if name in it["values"]])
            entry[f"{name},none"] = float(column.mean())
            entry[f"{name}_stderr,none"] = float(column.std(ddof=1) / np.sqrt(len(column)))
        confidences = [it["p"].max() for it in items]
        correct = [metrics.acc(it["p"], d["outcome"]) for it, d in zip(items, docs, strict=True)]
        entry["ece,none"] = metrics.ece(confidences, correct)
        if task == "human_probcopa":
            entry["spearman,none"] = metrics.spearman(
                [d["human_mean"] for d in docs], [it["p"] @ np.array([10, 30, 50, 70, 90]) for it in items])
        for name in POOLED:
            if f"{name},none" in entry:
                entry[f"{name}_stderr,none"] = "N/A"
        higher = {name: name in ("acc", "agree", "ba_acc", "spearman") or name.startswith(("acc_r", "agree_r"))
                  for name in [*names, "ece", "spearman"]}
        output = {"results": {task: entry}, "higher_is_better": {task: higher}, "versions": {task: 1.0},
                  "n-samples": {task: {"original": len(docs), "effective": len(docs)}},
                  "lm_eval_version": lm_eval_version,
                  "ppt_bench": {"model": model, "model_args": {}, "size": "quick", "limit": None, **provenance}}
        (run_dir / task).mkdir(exist_ok=True)
        (run_dir / task / "results.json").write_text(json.dumps(output))
        with (run_dir / task / "samples.jsonl").open("w") as handle:
            for i, (doc, item) in enumerate(zip(docs, items, strict=True)):
                lls = np.log(np.maximum(item["p"], 1e-30))
                record = {"doc_id": i, "doc": doc, "target": doc["outcome"],
                          "filtered_resps": [[float(ll), False] for ll in lls], **item["values"]}
                handle.write(json.dumps(record) + "\n")
    return run_dir


@pytest.fixture(scope="session")
def synthetic_runs(tmp_path_factory) -> dict[str, Path]:
    """{model: run dir} for the reference models and two synthetic models."""
    root = tmp_path_factory.mktemp("runs")
    return {model: write_run(root, model, skill) for model, skill in MODELS.items()}


@pytest.fixture(scope="session")
def make_run():
    """`write_run` itself, for tests that need a run dir of their own (no `import conftest`)."""
    return write_run
