"""`make experiments` (training/experiments.sh) as planned: its DRY_RUN command list at the issue's sizes."""

from __future__ import annotations

import os
import shlex
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def planned(**env) -> list[list[str]]:
    done = subprocess.run(["bash", "training/experiments.sh"], cwd=REPO, capture_output=True, text=True,
                          env={**os.environ, "DRY_RUN": "1", **env}, check=True)
    return [shlex.split(line) for line in (done.stdout + done.stderr).splitlines() if line.strip()]


def overrides(command: list[str]) -> dict[str, str]:
    return dict(arg.split("=", 1) for arg in command if "=" in arg and not arg.startswith("-"))


def test_the_sized_experiments_train_valid_configs_on_the_data_their_commands_write(train_module):
    commands = planned(N_USERS="1500", N_PPT="5000", SEEDS="0 1")
    generate = [c for c in commands if c[1] == "generate"]
    assert {c[c.index("--users") + 1] for c in generate if c[2] == "dialogues"} == {"1500"}
    assert [c[c.index("--n") + 1] for c in generate if c[2] == "scenarios"] == ["5000"]
    trains = [c for c in commands if c[1] == "train"]
    sweeps = [c for c in trains if "runs/sweep/" in overrides(c)["out_dir"]]
    finals = [c for c in trains if "runs/train/" in overrides(c)["out_dir"]]
    assert len(sweeps) == 5 * 3 and len(finals) == 5 * 2  # 5 recipes x 3 rates; 5 recipes x 2 seeds
    for command in trains:
        values = overrides(command)
        cfg = train_module.load_config(REPO / command[command.index("--recipe") + 1],
                                       [f"{k}={v}" for k, v in values.items()])
        assert shlex.split(cfg.data_command)[-2:] == ["--out", cfg.data]  # the leaderboard shows it
        assert shlex.split(cfg.data_command)[:3] in (["ppt-bench", "generate", "dialogues"],
                                                     ["ppt-bench", "generate", "scenarios"])
    by_name = {Path(overrides(c)["out_dir"]).name: overrides(c) for c in finals}
    # the same conversations (token budget) for Bayesian teaching and soft_teaching; Oracle's differ only
    # in the teacher's answers (same users and option sets: same --users and --seed)
    assert by_name["smollm2-bayesian-teaching-1500-s1"]["data"] == by_name["smollm2-soft-teaching-1500-s1"]["data"]
    assert by_name["smollm2-oracle-teaching-1500-s1"]["data"] == "runs/data/flight_oracle_1500.jsonl"
    assert {v["seed"] for v in by_name.values()} == {"0", "1"}
    sweep_sizes = {overrides(c)["out_dir"].split("/")[-1]: int(overrides(c)["max_examples"]) for c in sweeps}
    assert sweep_sizes["bayesian_teaching_cpu-lr3e-5"] == 150 and sweep_sizes["ppt_soft_label_cpu-lr1e-4"] == 500
    compares = [c for c in commands if c[1] == "compare"]
    assert len(compares) == 5 * 2
    assert [c[1] for c in commands if c[1] in ("leaderboard", "figures")] == ["leaderboard", "figures"]


def test_one_learning_rate_skips_the_sweep():
    commands = planned(N_USERS="48", N_PPT="320", LRS="5e-5")
    trains = [c for c in commands if c[1] == "train"]
    assert len(trains) == 5 and all("learning_rate=5e-5" in c for c in trains)
