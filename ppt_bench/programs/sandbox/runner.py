"""Execute a validated program in a subprocess with CPU-time, memory and file-size limits.

The child is `python -I _child.py` (isolated: no user site, no PYTHONPATH), started in a fresh empty
temporary directory in its own session; before reading the program it sets RLIMIT_CPU, RLIMIT_AS and
RLIMIT_FSIZE = 0 on itself (it cannot write files). After a wall-clock timeout its whole process group
is killed. The directory is removed afterwards.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ppt_bench.programs.sandbox.validate import ProgramSpec, Rejected

CPU_SECONDS = 30
MEMORY_BYTES = 6 * 1024 ** 3
WALL_SECONDS = 60
MIN_ESS = 200.0
_CHILD = Path(__file__).with_name("_child.py")


@dataclass(frozen=True)
class SandboxResult:
    observations: dict
    answer: float
    soft_label: tuple[float, ...]
    ess: float


def run_in_sandbox(spec: ProgramSpec, seed: int, *, num_samples: int = 50_000, cpu_seconds: int = CPU_SECONDS,
                   memory_bytes: int = MEMORY_BYTES, wall_seconds: int = WALL_SECONDS) -> SandboxResult:
    """Draw the observations and answer from the program, then label it by likelihood weighting."""
    request = json.dumps({"source": spec.source, "observed": list(spec.observed), "edges": list(spec.edges),
                          "seed": int(seed), "num_samples": int(num_samples)})
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=1", "HOME": "/nonexistent"}
    with tempfile.TemporaryDirectory(prefix="ppt-sandbox-") as workdir:
        # The child sets its own rlimits before it reads the program (no preexec_fn: forking a
        # multithreaded jax parent and running Python before exec can deadlock).
        process = subprocess.Popen([sys.executable, "-I", str(_CHILD), str(cpu_seconds), str(memory_bytes)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   cwd=workdir, env=env, start_new_session=True)
        try:
            stdout, stderr = process.communicate(request.encode(), timeout=wall_seconds)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
            raise Rejected("timeout", f"over {wall_seconds}s wall clock") from None
        finally:
            try:
                os.killpg(process.pid, signal.SIGKILL)  # anything the child left in its group
            except ProcessLookupError:
                pass
    if process.returncode != 0:
        if process.returncode in (-signal.SIGXCPU, -signal.SIGKILL) or b"CPU time" in stderr:
            raise Rejected("cpu-limit", f"exit {process.returncode}")
        if b"MemoryError" in stderr or b"RESOURCE_EXHAUSTED" in stderr or b"bad_alloc" in stderr \
                or b"Out of memory" in stderr or process.returncode == -signal.SIGABRT:
            raise Rejected("memory-limit", f"exit {process.returncode}")
        last_lines = stderr.decode(errors="replace").strip().splitlines()[-1:]
        raise Rejected("crash", last_lines[0] if last_lines else f"exit {process.returncode}")
    try:
        result = json.loads(stdout.decode().strip().splitlines()[-1])
    except (ValueError, IndexError):
        raise Rejected("crash", "no result from the sandbox") from None
    if not result["ok"]:
        raise Rejected(result["reason"], result["detail"])
    if result["ess"] < MIN_ESS:
        raise Rejected("low-ess", f"effective sample size {result['ess']:.0f} < {MIN_ESS:.0f}")
    return SandboxResult(result["observations"], result["answer"], tuple(result["soft_label"]), result["ess"])
