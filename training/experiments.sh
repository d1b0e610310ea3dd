#!/usr/bin/env bash
# The experiments of training/README.md on SmolLM2-135M (`make experiments` runs this file):
#   1. Bayesian vs Oracle teaching on flight -> bt_flight, bt_hotel, bt_shopping against the base model;
#   2. PPT soft labels vs hard labels vs base -> ppt_motifs_heldout, ppt_motifs_train (raw and
#      temperature-scaled), human_probcopa, openestimate.
# Then the result records of every run under runs/ are saved into leaderboards/records/, the
# leaderboard is rebuilt from them (rows only added or updated) and the figures are redrawn.
#
# The CPU recipes are cut to a size this 2-core machine trains in ~20-30 min each: N_PPT scenarios
# (PPT) and N_USERS conversations (teaching). Every step resumes: training from its newest
# checkpoint, evaluation task by task. Sizes are variables: N_PPT=1600 N_USERS=384 bash ... runs the
# full CPU recipes (~2 h each).
set -euo pipefail
cd "$(dirname "$0")/.."

PPT_BENCH=${PPT_BENCH:-.venv/bin/ppt-bench}
N_PPT=${N_PPT:-320}
N_USERS=${N_USERS:-48}
THREADS=${THREADS:-0}   # torch threads per training run (0: torch's default)

PPT_DATA=runs/data/ppt_train_1600.jsonl
[ -f "$PPT_DATA" ] || $PPT_BENCH generate scenarios --n 1600 --seed 0 --split train --out "$PPT_DATA"
for teacher in bayesian oracle; do
    data=runs/data/flight_${teacher}_${N_USERS}.jsonl
    [ -f "$data" ] || $PPT_BENCH generate dialogues --domain flight --teacher "$teacher" \
        --users "$N_USERS" --seed 0 --out "$data"
done

PPT_TASKS=ppt_motifs_heldout,ppt_motifs_train,ppt_motifs_heldout_calib,ppt_motifs_train_calib
BT_TASKS=bt_flight,bt_hotel,bt_shopping,bt_flight_calib,bt_hotel_calib,bt_shopping_calib

# 1. Bayesian vs Oracle teaching (sft on assistant tokens), evaluated where the base model was.
for teacher in bayesian oracle; do
    name=smollm2-${teacher}-teaching-${N_USERS}
    data=runs/data/flight_${teacher}_${N_USERS}.jsonl
    $PPT_BENCH train --recipe "training/recipes/${teacher}_teaching_cpu.yaml" "data=$data" \
        "data_command=ppt-bench generate dialogues --domain flight --teacher $teacher --users $N_USERS --seed 0 --out $data" \
        "out_dir=runs/train/$name" "threads=$THREADS"
    $PPT_BENCH eval --model "runs/train/$name" --tasks "$BT_TASKS" --size quick --out "runs/$name"
done

# 2. PPT soft vs hard labels on the same scenarios (the first N_PPT of the 1600).
for label in soft hard; do
    name=smollm2-ppt-${label}-${N_PPT}
    $PPT_BENCH train --recipe "training/recipes/ppt_${label}_label_cpu.yaml" \
        "max_examples=$N_PPT" "out_dir=runs/train/$name" "threads=$THREADS"
    $PPT_BENCH eval --model "runs/train/$name" --tasks "$PPT_TASKS" --size quick --out "runs/$name"
    $PPT_BENCH eval --model "runs/train/$name" --tasks human_probcopa,openestimate --out "runs/$name"
    # transfer to the recommendation tasks (and the first- vs final-round figure)
    $PPT_BENCH eval --model "runs/train/$name" --tasks bt_flight,bt_hotel,bt_shopping --size quick \
        --out "runs/$name"
done

# Calibration reports of the trained models, then the leaderboard and figures over every run.
for run in runs/smollm2-*-"$N_USERS" runs/smollm2-ppt-*-"$N_PPT"; do
    $PPT_BENCH report "$run"
done
# Effects against the base model (paired bootstrap, raw and temperature-scaled), kept with the leaderboard.
[ -d runs/smollm2 ] || $PPT_BENCH run --model smollm2
$PPT_BENCH compare runs/smollm2 "runs/smollm2-bayesian-teaching-$N_USERS" "runs/smollm2-oracle-teaching-$N_USERS" \
    --tasks bt_flight,bt_hotel,bt_shopping --out leaderboards/effects_teaching.md
$PPT_BENCH compare "runs/smollm2-oracle-teaching-$N_USERS" "runs/smollm2-bayesian-teaching-$N_USERS" \
    --tasks bt_flight,bt_hotel,bt_shopping --out leaderboards/effects_bayesian_vs_oracle.md
$PPT_BENCH compare runs/smollm2 "runs/smollm2-ppt-soft-$N_PPT" "runs/smollm2-ppt-hard-$N_PPT" \
    --tasks ppt_motifs_heldout,ppt_motifs_train,human_probcopa,openestimate,bt_flight,bt_hotel,bt_shopping \
    --out leaderboards/effects_ppt.md
$PPT_BENCH compare "runs/smollm2-ppt-hard-$N_PPT" "runs/smollm2-ppt-soft-$N_PPT" \
    --tasks ppt_motifs_heldout,ppt_motifs_train,human_probcopa,openestimate --out leaderboards/effects_soft_vs_hard.md
runs=$(for dir in runs/*/; do if ls "$dir"*/results.json >/dev/null 2>&1; then echo "${dir%/}"; fi; done)
# shellcheck disable=SC2086
$PPT_BENCH leaderboard $runs --save-records --out leaderboards  # adds/updates committed rows
# shellcheck disable=SC2086
$PPT_BENCH figures --runs $runs --out figures
