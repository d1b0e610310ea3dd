"""The package works without a source checkout: the wheel holds every package and the task folders,
`ppt-bench tasks path` finds them, and lint covers every Python file of the checkout."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from ppt_bench.harness.evaluate import REPO_ROOT, TASKS_DIR

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())


def test_the_package_list_names_every_package_and_task_folder():
    setuptools = PYPROJECT["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"ppt_bench.tasks": "tasks"}
    packages = {".".join(path.parent.relative_to(REPO_ROOT).parts)
                for path in (REPO_ROOT / "ppt_bench").rglob("__init__.py")}
    task_folders = {f"ppt_bench.tasks.{path.parent.name}" for path in (REPO_ROOT / "tasks").glob("*/*.yaml")}
    assert len(task_folders) >= 5
    assert set(setuptools["packages"]) == packages | {"ppt_bench.tasks"} | task_folders


def test_tasks_path_prints_the_checkout_task_folder(capsys):
    from ppt_bench.cli import main

    assert main(["tasks", "path"]) == 0
    assert Path(capsys.readouterr().out.strip()) == TASKS_DIR == REPO_ROOT / "tasks"
    assert (TASKS_DIR / "smoke" / "ppt_smoke.yaml").is_file()


def test_make_lint_covers_every_python_folder():
    lint = re.search(r"^lint:.*\n\t(.*)$", (REPO_ROOT / "Makefile").read_text(), re.M).group(1)
    linted = set(lint.split()[2:])
    tracked = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "*.py"], capture_output=True,
                             text=True, check=True).stdout.split()
    folders = {Path(path).parts[0] for path in tracked if len(Path(path).parts) > 1}
    assert folders and folders <= linted, f"not linted: {sorted(folders - linted)}"
    assert not [path for path in tracked if len(Path(path).parts) == 1], "a top-level .py file is not linted"


@pytest.mark.slow
def test_a_wheel_installed_into_a_fresh_venv_runs_a_task(tmp_path):
    """Build the wheel, install it (--no-deps) into a new venv, and run from a folder outside the
    checkout. The dependencies (torch, lm-eval, ...) are not installed again: a .pth file in the new
    venv appends this interpreter's site-packages to its path (no network). The source checkout is not
    on that path, so everything the commands read comes from the installed wheel."""
    import sysconfig
    import venv

    # build from a copy of the checkout's files (tracked or not ignored): setuptools leaves build/ in
    # the source folder, and a stale build/lib there would slip deleted modules into the wheel
    source = tmp_path / "source"
    listed = subprocess.run(["git", "-C", str(REPO_ROOT), "ls-files", "--cached", "--others", "--exclude-standard"],
                            capture_output=True, text=True, check=True).stdout.split()
    for name in listed:
        if (REPO_ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(REPO_ROOT / name, source / name)
    wheels = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                    str(source), "-w", str(wheels)], check=True, capture_output=True, timeout=600)
    wheel = next(wheels.glob("ppt_bench-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=False)
    python = env_dir / "bin" / "python"
    site = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # --ignore-installed: pip run by this interpreter can see the checkout's editable ppt-bench and
    # would call the requirement satisfied
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps",
                    "--ignore-installed", "-q", str(wheel)], check=True, capture_output=True, timeout=600)
    (Path(site) / "main-venv-dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")

    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(HF_HUB_OFFLINE="1", PATH=f"{env_dir / 'bin'}:{env['PATH']}")

    def run(*command: str) -> str:
        done = subprocess.run(command, cwd=work, env=env, capture_output=True, text=True, timeout=900)
        assert done.returncode == 0, done.stderr[-3000:]
        return done.stdout

    where = run("python", "-c", "import ppt_bench; print(ppt_bench.__file__)")
    assert Path(where.strip()).is_relative_to(site)
    tasks = Path(run("ppt-bench", "tasks", "path").strip())
    assert tasks == Path(site) / "ppt_bench" / "tasks" and (tasks / "bayesian_teaching" / "bt_flight.yaml").is_file()

    out = work / "runs" / "bayes"
    run("ppt-bench", "eval", "--model", "ppt-bayes", "--tasks", "bt_flight", "--limit", "2", "--out", str(out))
    assert (out / "bt_flight" / "results.json").is_file()
    assert len((out / "bt_flight" / "samples.jsonl").read_text().splitlines()) == 2

    # plain lm-eval (`python -m lm_eval`: its console script is not in the new venv) on the installed
    # task folder, with the embedded SmolLM2 located by the installed package
    model_args = run("ppt-bench", "models", "args", "smollm2").strip()
    run("python", "-m", "lm_eval", "--model", "hf", "--model_args", model_args, "--device", "cpu",
        "--include_path", str(tasks), "--tasks", "ppt_smoke", "--limit", "2", "--output_path", str(work / "lm_eval"))
    [path] = (work / "lm_eval").rglob("results_*.json")
    assert json.loads(path.read_text())["n-samples"]["ppt_smoke"]["effective"] == 2
