"""The reference backends from lm-eval's own command line (`python -m ppt_bench.harness.lm_eval_cli`)."""

from __future__ import annotations

import json
import subprocess
import sys

from ppt_bench.harness.evaluate import REPO_ROOT, TASKS_DIR


def test_lm_eval_command_line_knows_the_reference_models(tmp_path):
    command = [sys.executable, "-m", "ppt_bench.harness.lm_eval_cli", "--model", "ppt-uniform",
               "--include_path", str(TASKS_DIR), "--tasks", "ppt_smoke", "--limit", "4",
               "--output_path", str(tmp_path)]
    done = subprocess.run(command, capture_output=True, text=True, cwd=REPO_ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    [path] = tmp_path.rglob("results_*.json")
    results = json.loads(path.read_text())
    assert results["config"]["model"] == "ppt-uniform"
    assert 0.0 <= results["results"]["ppt_smoke"]["acc,none"] <= 1.0
    assert results["n-samples"]["ppt_smoke"]["effective"] == 4
