"""Execute a validated program in a subprocess with CPU-time, memory, file-size, output and wall limits.

The child is `python -I _child.py` (isolated: no user site, no PYTHONPATH), started in a fresh empty
temporary directory in its own session; before reading the program it sets RLIMIT_CPU, RLIMIT_AS and
RLIMIT_FSIZE = 0 on itself (it cannot write files). The parent writes the request and reads stdout and
stderr together with a byte limit on each (`exchange`): a child that prints more than the limit, or is
still running after the wall-clock limit, has its whole process group killed and is rejected
(`output-limit`, `timeout`), so the parent never holds more than MAX_STDOUT_BYTES + MAX_STDERR_BYTES of
a child's output. The child is reaped with `os.wait4`, which gives its own rusage (`ChildUsage`). Its
result line is checked by `result.parse_child_result`. The directory is removed afterwards.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from ppt_bench.programs.sandbox.limits import MAX_STDERR_BYTES, MAX_STDOUT_BYTES, Rejected
from ppt_bench.programs.sandbox.result import SandboxResult, parse_child_result
from ppt_bench.programs.sandbox.validate import ProgramSpec

__all__ = ["ChildExit", "ChildUsage", "SandboxResult", "exchange", "run_in_sandbox"]

CPU_SECONDS = 30
MEMORY_BYTES = 6 * 1024 ** 3
WALL_SECONDS = 60
MIN_ESS = 200.0
_CHILD = Path(__file__).with_name("_child.py")
_CHUNK = 64 * 1024


@dataclass(frozen=True)
class ChildUsage:
    """A child's own resource use from `os.wait4`: peak resident memory (bytes), CPU and wall seconds."""

    peak_rss_bytes: int
    cpu_seconds: float
    wall_seconds: float


@dataclass(frozen=True)
class ChildExit:
    """A finished child: its exit code (negative: killed by that signal), bounded output and usage."""

    returncode: int
    stdout: bytes
    stderr: bytes
    usage: ChildUsage


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(process: subprocess.Popen, started: float, deadline: float | None) -> tuple[int, ChildUsage]:
    """Wait for the child (killing its group at `deadline`); its exit code and own rusage."""
    while True:
        pid, status, rusage = os.wait4(process.pid, os.WNOHANG if deadline is not None else 0)
        if pid:
            break
        if time.monotonic() >= deadline:
            _kill_group(process.pid)
            deadline = None
        else:
            time.sleep(0.01)
    process.returncode = os.waitstatus_to_exitcode(status)  # Popen must not wait for it again
    usage = ChildUsage(rusage.ru_maxrss * 1024, rusage.ru_utime + rusage.ru_stime, time.monotonic() - started)
    return process.returncode, usage


def exchange(process: subprocess.Popen, request: bytes, wall_seconds: float, *,
             max_stdout: int = MAX_STDOUT_BYTES, max_stderr: int = MAX_STDERR_BYTES) -> ChildExit:
    """Write `request` to the child's stdin, read its stdout and stderr with byte limits, reap it.

    Raises Rejected('timeout') after `wall_seconds` and Rejected('output-limit') when a stream passes
    its limit; either way the child's process group is killed and reaped first.
    """
    started = time.monotonic()
    deadline = started + wall_seconds
    stdin_fd, stdout_fd = process.stdin.fileno(), process.stdout.fileno()
    limits = {stdout_fd: max_stdout, process.stderr.fileno(): max_stderr}
    buffers = {fd: bytearray() for fd in limits}
    pending = memoryview(request)
    selector = selectors.DefaultSelector()
    for stream in (process.stdin, process.stdout, process.stderr):
        os.set_blocking(stream.fileno(), False)
    selector.register(stdin_fd, selectors.EVENT_WRITE)
    for fd in limits:
        selector.register(fd, selectors.EVENT_READ)
    stop = None
    try:
        while selector.get_map() and stop is None:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                stop = Rejected("timeout", f"over {wall_seconds:g}s wall clock")
                break
            for key, _ in selector.select(remaining):
                if key.fd == stdin_fd:
                    try:
                        pending = pending[os.write(key.fd, pending[:_CHUNK]):]
                    except BrokenPipeError:
                        pending = pending[:0]  # the child stopped reading; its exit status says why
                    if not pending:
                        selector.unregister(key.fd)
                        process.stdin.close()
                    continue
                data = os.read(key.fd, _CHUNK)
                if not data:
                    selector.unregister(key.fd)
                    continue
                buffers[key.fd] += data
                if len(buffers[key.fd]) > limits[key.fd]:
                    name = "stdout" if key.fd == stdout_fd else "stderr"
                    stop = Rejected("output-limit", f"more than {limits[key.fd]} bytes on {name}")
                    break
    finally:
        selector.close()
    if stop is not None:
        _kill_group(process.pid)
    returncode, usage = _reap(process, started, None if stop is not None else deadline)
    for stream in (process.stdin, process.stdout, process.stderr):
        stream.close()
    if stop is not None:
        stop.usage = usage
        raise stop
    if time.monotonic() > deadline and returncode == -signal.SIGKILL:
        raise Rejected("timeout", f"over {wall_seconds:g}s wall clock", usage)
    stdout, stderr = (bytes(buffers[fd]) for fd in limits)
    return ChildExit(returncode, stdout, stderr, usage)


def _classify_failure(child: ChildExit) -> Rejected:
    """A Rejected for a child that exited non-zero (limits first, then the last line of stderr)."""
    code, stderr = child.returncode, child.stderr
    if code in (-signal.SIGXCPU, -signal.SIGKILL) or b"CPU time" in stderr:
        return Rejected("cpu-limit", f"exit {code}", child.usage)
    if b"MemoryError" in stderr or b"RESOURCE_EXHAUSTED" in stderr or b"bad_alloc" in stderr \
            or b"Out of memory" in stderr or code == -signal.SIGABRT:
        return Rejected("memory-limit", f"exit {code}", child.usage)
    last_lines = stderr.decode(errors="replace").strip().splitlines()[-1:]
    return Rejected("crash", last_lines[0] if last_lines else f"exit {code}", child.usage)


def run_in_sandbox(spec: ProgramSpec, seed: int, *, num_samples: int = 50_000, cpu_seconds: int = CPU_SECONDS,
                   memory_bytes: int = MEMORY_BYTES, wall_seconds: int = WALL_SECONDS) -> SandboxResult:
    """Draw the observations and answer from the program, then label it by likelihood weighting."""
    request = json.dumps({"source": spec.source, "observed": list(spec.observed), "edges": list(spec.edges),
                          "seed": int(seed), "num_samples": int(num_samples)}).encode()
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "JAX_PLATFORMS": "cpu", "OMP_NUM_THREADS": "1",
           "XLA_FLAGS": "--xla_force_host_platform_device_count=1", "HOME": "/nonexistent"}
    with tempfile.TemporaryDirectory(prefix="ppt-sandbox-") as workdir:
        # The child sets its own rlimits before it reads the program (no preexec_fn: forking a
        # multithreaded jax parent and running Python before exec can deadlock).
        process = subprocess.Popen([sys.executable, "-I", str(_CHILD), str(cpu_seconds), str(memory_bytes)],
                                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                   cwd=workdir, env=env, start_new_session=True)
        try:
            child = exchange(process, request, wall_seconds)
        finally:
            _kill_group(process.pid)  # anything the child left in its group
    if child.returncode != 0:
        raise _classify_failure(child)
    try:
        result = parse_child_result(child.stdout, spec.observed, len(spec.choices), num_samples)
    except Rejected as rejection:
        rejection.usage = child.usage
        raise
    if result.ess < MIN_ESS:
        raise Rejected("low-ess", f"effective sample size {result.ess:.0f} < {MIN_ESS:.0f}", child.usage)
    return SandboxResult(result.observations, result.answer, result.soft_label, result.ess, child.usage)
