#!/usr/bin/env bash
# The experiments of training/README.md on SmolLM2-135M (`make experiments` runs this file), sized to
# see the papers' effects:
#   1. teaching: Bayesian vs Oracle teaching (sft) vs soft_teaching, on the same N_USERS flight users
#      (the same conversations, so the same token budget), each at the learning rate that a small
#      sweep picks on held-out loss; evaluated on bt_flight, bt_hotel, bt_shopping (quick, with their
#      calibration twins) and bt_webshop_official;
#   2. PPT: soft labels vs hard labels vs the base model on N_PPT scenarios; evaluated on
#      ppt_motifs_heldout, ppt_motifs_train (quick, with their twins), human_probcopa, openestimate;
#   3. paired 95% intervals for every effect, raw and temperature-scaled (`ppt-bench compare`), for
#      every seed in SEEDS.
# Then the result records of every run under runs/ are saved into leaderboards/records/, the
# leaderboard is rebuilt from them (rows only added or updated) and the figures are redrawn.
#
# Every step resumes: data files are kept, training continues from its newest checkpoint (a finished
# run is not trained again), evaluation task by task. Sizes are variables (e.g. N_USERS=48 N_PPT=320
# LRS=5e-5 for a small, quick version); DRY_RUN=1 prints the commands without running them.
set -euo pipefail
cd "$(dirname "$0")/.."

PPT_BENCH=${PPT_BENCH:-.venv/bin/ppt-bench}
PYTHON=${PYTHON:-.venv/bin/python}
N_USERS=${N_USERS:-1500}          # teaching conversations per teacher
N_PPT=${N_PPT:-5000}              # PPT training scenarios
SEEDS=${SEEDS:-0}                 # training seeds (e.g. "0 1")
LRS=${LRS:-"1e-5 3e-5 1e-4"}      # the learning-rate sweep; one value skips the sweep
SWEEP_FRACTION=${SWEEP_FRACTION:-10}  # percent of the data each sweep run trains on
THREADS=${THREADS:-0}             # torch threads per training run (0: torch's default)

# Runs a command, or with DRY_RUN set prints it (quoted, so that it can be pasted).
run() { if [ -n "${DRY_RUN:-}" ]; then printf '%q ' "$@"; echo; else "$@"; fi; }

TEACHING_DATA=runs/data/flight_bayesian_${N_USERS}.jsonl   # soft_teaching reads the Bayesian file too
PPT_DATA=runs/data/ppt_train_${N_PPT}.jsonl
declare -A DATA_COMMAND=(
    [bayesian]="ppt-bench generate dialogues --domain flight --teacher bayesian --users $N_USERS --seed 0 --out runs/data/flight_bayesian_${N_USERS}.jsonl"
    [oracle]="ppt-bench generate dialogues --domain flight --teacher oracle --users $N_USERS --seed 0 --out runs/data/flight_oracle_${N_USERS}.jsonl"
    [ppt]="ppt-bench generate scenarios --n $N_PPT --seed 0 --split train --out $PPT_DATA"
)
for key in bayesian oracle ppt; do
    read -ra words <<< "${DATA_COMMAND[$key]}"
    [ -f "${words[-1]}" ] || run "$PPT_BENCH" "${words[@]:1}"
done

# recipe -> (data file, its command)
declare -A RECIPE_DATA=([bayesian_teaching_cpu]=bayesian [oracle_teaching_cpu]=oracle
                        [soft_teaching_cpu]=bayesian [ppt_soft_label_cpu]=ppt [ppt_hard_label_cpu]=ppt)
data_file() { read -ra words <<< "${DATA_COMMAND[${RECIPE_DATA[$1]}]}"; echo "${words[-1]}"; }

train() {  # train RECIPE OUT_DIR [key=value ...]: the recipe on its data file, resumable
    local recipe=$1 out=$2
    shift 2
    run "$PPT_BENCH" train --recipe "training/recipes/$recipe.yaml" "data=$(data_file "$recipe")" \
        "data_command=${DATA_COMMAND[${RECIPE_DATA[$recipe]}]}" "out_dir=$out" "threads=$THREADS" "$@"
}

# The learning rate of a recipe: the one whose sweep run (SWEEP_FRACTION % of the data, 10% of it held
# out) reaches the lowest held-out loss.
best_lr() {
    local recipe=$1 n_records
    read -ra rates <<< "$LRS"
    if [ "${#rates[@]}" -eq 1 ]; then echo "${rates[0]}"; return; fi
    if [ -n "${DRY_RUN:-}" ]; then n_records=$([ "${RECIPE_DATA[$recipe]}" = ppt ] && echo "$N_PPT" || echo "$N_USERS")
    else n_records=$(wc -l < "$(data_file "$recipe")"); fi
    for rate in "${rates[@]}"; do
        train "$recipe" "runs/sweep/$recipe-lr$rate" "learning_rate=$rate" \
            "max_examples=$(( n_records * SWEEP_FRACTION / 100 ))" eval_fraction=0.1 >&2
    done
    if [ -n "${DRY_RUN:-}" ]; then echo "${rates[0]}"; return; fi
    "$PYTHON" - "$recipe" "${rates[@]}" <<'EOF'
import json, sys
recipe, rates = sys.argv[1], sys.argv[2:]
losses = {rate: json.load(open(f"runs/sweep/{recipe}-lr{rate}/metrics.json"))["eval_loss"] for rate in rates}
print(f"{recipe}: held-out loss per learning rate {losses}", file=sys.stderr)
print(min(losses, key=losses.get))
EOF
}

BT_TASKS=bt_flight,bt_hotel,bt_shopping,bt_flight_calib,bt_hotel_calib,bt_shopping_calib
PPT_TASKS=ppt_motifs_heldout,ppt_motifs_train,ppt_motifs_heldout_calib,ppt_motifs_train_calib
evaluate_teaching() {
    run "$PPT_BENCH" eval --model "runs/train/$1" --tasks "$BT_TASKS" --size quick --out "runs/$1"
    run "$PPT_BENCH" eval --model "runs/train/$1" --tasks bt_webshop_official --out "runs/$1"
}
evaluate_ppt() {
    run "$PPT_BENCH" eval --model "runs/train/$1" --tasks "$PPT_TASKS" --size quick --out "runs/$1"
    run "$PPT_BENCH" eval --model "runs/train/$1" --tasks human_probcopa,openestimate --out "runs/$1"
}

# The base model: the whole quick suite (the reference every effect is measured against).
[ -d runs/smollm2 ] && [ -z "${DRY_RUN:-}" ] || run "$PPT_BENCH" run --model smollm2

declare -A LR
for recipe in bayesian_teaching_cpu oracle_teaching_cpu soft_teaching_cpu ppt_soft_label_cpu ppt_hard_label_cpu; do
    LR[$recipe]=$(best_lr "$recipe")
done

TEACHING_EVAL=bt_flight,bt_hotel,bt_shopping,bt_webshop_official
PPT_EVAL=ppt_motifs_heldout,ppt_motifs_train,human_probcopa,openestimate
for seed in $SEEDS; do
    # 1. teaching: the same users' conversations under each teacher / objective
    bayesian=smollm2-bayesian-teaching-${N_USERS}-s$seed
    oracle=smollm2-oracle-teaching-${N_USERS}-s$seed
    soft=smollm2-soft-teaching-${N_USERS}-s$seed
    for pair in "bayesian_teaching_cpu $bayesian" "oracle_teaching_cpu $oracle" "soft_teaching_cpu $soft"; do
        read -r recipe name <<< "$pair"
        train "$recipe" "runs/train/$name" "seed=$seed" "learning_rate=${LR[$recipe]}"
        evaluate_teaching "$name"
    done
    # 2. PPT: soft vs hard labels on the same scenarios
    ppt_soft=smollm2-ppt-soft-${N_PPT}-s$seed
    ppt_hard=smollm2-ppt-hard-${N_PPT}-s$seed
    for pair in "ppt_soft_label_cpu $ppt_soft" "ppt_hard_label_cpu $ppt_hard"; do
        read -r recipe name <<< "$pair"
        train "$recipe" "runs/train/$name" "seed=$seed" "learning_rate=${LR[$recipe]}"
        evaluate_ppt "$name"
    done
    # 3. effects: paired bootstrap over the same items, raw and after each model's temperature
    effects=leaderboards/effects
    run "$PPT_BENCH" compare runs/smollm2 "runs/$bayesian" "runs/$oracle" "runs/$soft" \
        --tasks "$TEACHING_EVAL" --out "${effects}_teaching_${N_USERS}_s$seed.md"
    run "$PPT_BENCH" compare "runs/$oracle" "runs/$bayesian" --tasks "$TEACHING_EVAL" \
        --out "${effects}_bayesian_vs_oracle_${N_USERS}_s$seed.md"
    run "$PPT_BENCH" compare "runs/$bayesian" "runs/$soft" --tasks "$TEACHING_EVAL" \
        --out "${effects}_soft_teaching_vs_bayesian_${N_USERS}_s$seed.md"
    run "$PPT_BENCH" compare runs/smollm2 "runs/$ppt_soft" "runs/$ppt_hard" --tasks "$PPT_EVAL" \
        --out "${effects}_ppt_${N_PPT}_s$seed.md"
    run "$PPT_BENCH" compare "runs/$ppt_hard" "runs/$ppt_soft" --tasks "$PPT_EVAL" \
        --out "${effects}_soft_vs_hard_${N_PPT}_s$seed.md"
done

# Calibration reports, then the leaderboard and figures over every run.
for run_dir in runs/smollm2-*-s*; do
    [ -d "$run_dir" ] || continue
    run "$PPT_BENCH" report "$run_dir"
done
runs=$(for dir in runs/*/; do if ls "$dir"*/results.json >/dev/null 2>&1; then echo "${dir%/}"; fi; done)
# shellcheck disable=SC2086
run "$PPT_BENCH" leaderboard $runs --save-records --out leaderboards  # adds/updates committed rows
# shellcheck disable=SC2086
run "$PPT_BENCH" figures --runs $runs --out figures
