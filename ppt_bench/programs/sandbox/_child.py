"""Runs inside the sandbox subprocess (python -I _child.py CPU_SECONDS MEMORY_BYTES; limits set first).

Reads {"source", "observed", "edges", "seed", "num_samples"} as JSON on stdin; writes one JSON line:
{"ok": true, "observations", "answer", "soft_label", "ess"} or {"ok": false, "reason", "detail"}.
Self-contained on purpose: it imports only numpy, jax and numpyro, never ppt_bench.
"""

import json
import sys


def _fail(reason, detail):
    if isinstance(detail, MemoryError) or "RESOURCE_EXHAUSTED" in str(detail) or "MemoryError" in str(detail):
        reason = "memory-limit"
    sys.stdout.write(json.dumps({"ok": False, "reason": reason, "detail": str(detail)[:300]}) + "\n")
    sys.exit(0)


def _set_limits(cpu_seconds, memory_bytes):
    import resource

    resource.setrlimit(resource.RLIMIT_CPU, (cpu_seconds, cpu_seconds))
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))


def main():
    _set_limits(int(sys.argv[1]), int(sys.argv[2]))  # before anything untrusted is read or run
    request = json.loads(sys.stdin.read())
    import jax
    import jax.numpy as jnp
    import numpy as np
    import numpyro
    import numpyro.distributions as dist
    from numpyro import handlers
    from numpyro.infer import Predictive

    safe_builtins = {name: getattr(__builtins__, name, None) if not isinstance(__builtins__, dict)
                     else __builtins__[name] for name in ("range", "len", "float", "int", "abs", "min", "max")}
    namespace = {"__builtins__": safe_builtins, "numpyro": numpyro, "dist": dist, "jnp": jnp}
    try:
        exec(compile(request["source"], "<authored>", "exec"), namespace)
        model = namespace["model"]
        trace = handlers.trace(handlers.seed(model, rng_seed=request["seed"])).get_trace()
    except Exception as error:  # the program's own failure is a rejection reason, not a crash
        _fail("runtime-error", f"{type(error).__name__}: {error}")  # memory errors are re-labelled
    if "answer" not in trace:
        _fail("no-answer-site", "the model must define numpyro.deterministic('answer', ...)")
    answer = np.asarray(trace["answer"]["value"])
    if answer.shape != () or not np.isfinite(answer):
        _fail("bad-answer", f"answer must be a finite scalar, got shape {answer.shape}")
    observations = {}
    for name in request["observed"]:
        if name not in trace or trace[name]["type"] != "sample" or not trace[name].get("is_observed", False) \
                and trace[name]["value"] is None:
            _fail("bad-observed", f"{name!r} is not a sample site")
        value = np.asarray(trace[name]["value"])
        if value.size > 200 or not np.all(np.isfinite(value)):
            _fail("bad-observed", f"{name!r} must be finite with at most 200 entries")
        observations[name] = value.round(3).tolist() if value.dtype.kind == "f" else value.astype(int).tolist()
    conditioned = {k: jnp.asarray(v) for k, v in observations.items()}

    try:
        def log_lik(sample):
            tr = handlers.trace(handlers.substitute(model, data=sample)).get_trace(**conditioned)
            total = 0.0
            for name in observations:
                site = tr[name]
                if not site["is_observed"]:
                    raise ValueError(f"{name!r} is not passed as obs= to its sample site")
                inside = jnp.all(site["fn"].support(site["value"]))
                total = total + jnp.where(inside, jnp.sum(site["fn"].log_prob(site["value"])), -jnp.inf)
            return total

        samples = Predictive(model, num_samples=request["num_samples"], parallel=True)(
            jax.random.PRNGKey(request["seed"] + 1), **conditioned)
        latent = {k: v for k, v in samples.items() if k not in observations}
        log_w = np.asarray(jax.vmap(log_lik)(latent), dtype=np.float64)
    except Exception as error:
        _fail("inference-error", f"{type(error).__name__}: {error}")
    if np.any(np.isnan(log_w)) or not np.isfinite(log_w.max()):
        _fail("invalid-soft-label", "likelihood weights are NaN or all zero (invalid distribution?)")
    w = np.exp(log_w - log_w.max())
    queries = np.asarray(samples["answer"], dtype=np.float64).reshape(len(w), -1)
    if queries.shape[1] != 1:
        _fail("bad-answer", "answer must be a scalar")
    edges = np.asarray(request["edges"], dtype=np.float64)
    index = np.searchsorted(edges[1:-1], queries[:, 0], side="right")
    probs = np.bincount(index, weights=w, minlength=len(edges) - 1)
    probs = probs / probs.sum()
    ess = float(w.sum() ** 2 / (w ** 2).sum())
    if not np.all(np.isfinite(probs)):  # normalised above: finite means a distribution (the parent checks it)
        _fail("invalid-soft-label", f"{probs}")
    sys.stdout.write(json.dumps({"ok": True, "observations": observations, "answer": float(answer),
                                 "soft_label": probs.tolist(), "ess": ess}) + "\n")


if __name__ == "__main__":
    main()
