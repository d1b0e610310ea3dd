"""Datasets and scoring of the Bayesian-teaching lm-eval tasks (called from `tasks/*/utils.py`).

Generated users come from `simulate(..., seed=EVAL_SEED)`; official users from the Bayesian-teaching
archive (`ppt-bench data fetch bayesian_teaching`). `size` (lm-eval metadata of the task, `size: quick`,
overridden in the suites) picks how many users and held-out sets: see `bt_documents.SIZES` and
`ppt_bench/harness/sizes.py` (without it: "full", never "paper"). The fixed participant and web-shop
files (`bt_flight_human`, `bt_webshop_official`) keep their natural size: every user at every size.
Each generated task has a calibration twin, `<task>_calib` (other users and held-out sets, drawn
with `CALIB_SEED`, sized by `CALIB_SIZES`), on which `ppt-bench report` fits the temperature.
"""

from __future__ import annotations

import json
from typing import Any

from ppt_bench.harness.bt_documents import EVAL_SEED, SIZES, OptionTexts, documents, grid_option_texts
from ppt_bench.harness.scoring import CALIB_SUFFIX, choice_loglikelihoods, item_metrics, lm_eval_dataset
from ppt_bench.harness.sizes import DEFAULT_SIZE, announce, check_size

GENERATED = {"bt_flight": ("flight",), "bt_hotel": ("hotel",),
             "bt_shopping": ("shopping_running_shoes", "shopping_backpacks", "shopping_coffee_makers")}
# Number of features: `bt_flight_f2` .. `bt_flight_f8`, generated flight users with the first F of
# `recommend.domains.FLIGHT_FEATURES` (bt_flight_f4 is bt_flight: the same domain, seed and documents).
FEATURE_TASKS = {f"bt_flight_f{n}": n for n in range(2, 9)}
GENERATED.update({task: ("flight" if n == 4 else f"flight_{n}features",) for task, n in FEATURE_TASKS.items()})
# The "paper" size and the exact references use every user type while there are at most this many
# (5^5 - 1: flight with up to 5 features, hotel); above it a seeded sample of `SAMPLED_USERS` users
# (the posterior is still exact over all 5^F - 1 types; only the users scored are a sample).
MAX_ALL_USERS = 5 ** 5 - 1
SAMPLED_USERS = 100
CALIB_SEED = 15_485_863  # the calibration twins' users and option sets; differs from EVAL_SEED and 0
# (users, held-out sets) of the twins: >= 300 calibration items per family (`sizes.MIN_CALIB`)
CALIB_SIZES = {"quick": (10, 5), "full": (100, 5), "paper": (100, 5)}
NATURAL_SIZE = ("bt_flight_human", "bt_webshop_official")  # fixed data: every user at every size


def _size(size: str, sizes: dict = SIZES) -> tuple[int | None, int]:
    check_size(size, sizes)
    return sizes[size]


def users_per_domain(n_users: int | None, n_domains: int) -> int | None:
    """Users drawn per domain when a task pools several (shopping): ceil(n_users / n_domains), so
    the task has at least `n_users` users (None: every user type of each domain)."""
    return None if n_users is None else -(-n_users // n_domains)


def population_users(n_hypotheses: int) -> int | None:
    """Users of the "paper" size and of the references: None (every user type once) up to
    `MAX_ALL_USERS` types, else `SAMPLED_USERS` drawn with the task's seed."""
    return None if n_hypotheses <= MAX_ALL_USERS else SAMPLED_USERS


def generated_documents(task: str, size: str = DEFAULT_SIZE) -> list[dict]:
    """Documents of a generated-users task (`bt_flight`, `bt_hotel`, `bt_shopping`, or their
    calibration twins `bt_flight_calib`, ...)."""
    from ppt_bench.recommend import get_domain, simulate

    family = task.removesuffix(CALIB_SUFFIX)
    calib = family != task
    n_users, n_heldout = _size(size, CALIB_SIZES if calib else SIZES)
    docs = []
    for name in GENERATED[family]:
        domain = get_domain(name)
        # Shopping pools several categories: split the user budget between them.
        users = users_per_domain(n_users, len(GENERATED[family]))
        if users is None:
            users = population_users(domain.n_hypotheses)
        interactions = simulate(domain, n_users=users, n_heldout=n_heldout,
                                seed=CALIB_SEED if calib else EVAL_SEED)
        part = documents(interactions, grid_option_texts(interactions), f"{task}-{domain.name}")
        docs += [{**doc, "domain": domain.name} for doc in part]
    return docs


def official_documents(task: str, size: str = DEFAULT_SIZE, data_dir=None) -> list[dict]:
    """Documents built from the published data: `bt_flight_official`, `bt_hotel_official`,
    `bt_webshop_official`, `bt_flight_human`."""
    from ppt_bench.data import dataset_path
    from ppt_bench.recommend import official

    folder = dataset_path("bayesian_teaching", data_dir)
    n_users, n_heldout = _size(size)
    if task in NATURAL_SIZE:
        n_users = None
    if task in ("bt_flight_official", "bt_hotel_official"):
        name = task.removeprefix("bt_").removesuffix("_official")
        batch = official.load_weight_records(folder, name).head(n_users, n_heldout)
        return [{**doc, "domain": name} for doc in documents(batch, grid_option_texts(batch), task)]
    if task == "bt_flight_human":
        # Participants as users: predict each one's next actual choice from the earlier rounds.
        batch = official.load_weight_records(folder, "flight_human", heldout_name="flight").head(n_users)
        texts = grid_option_texts(batch)
        return [{**doc, "domain": "flight_human"} for doc in documents(batch, texts, task, protocol="next")]
    if task == "bt_webshop_official":
        docs = []
        for category in official.webshop_categories(folder):
            batch = official.load_webshop(folder, category).head(n_users)
            path = folder / "eval" / "interaction" / "webshop" / f"{category}.jsonl"
            records = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
            rounds = [[round_["options"] for round_ in record["rounds"]] for record in records]
            texts = OptionTexts(rounds=rounds[:batch.n_users], queries=rounds[:batch.n_users])
            docs += [{**doc, "domain": f"webshop/{category}"}
                     for doc in documents(batch, texts, f"{task}-{category}", protocol="next")]
        return docs
    raise ValueError(f"unknown Bayesian-teaching task {task!r}")


def load(task: str, size: str = DEFAULT_SIZE, **metadata: Any):
    """`custom_dataset` entry point: `size` comes from the task's or the suite's metadata; prints
    how many documents it built (and how many per round)."""
    if task.removesuffix(CALIB_SUFFIX) in GENERATED:
        docs = generated_documents(task, size)
    else:
        docs = official_documents(task, size, metadata.get("data_dir"))
    rounds = sorted({doc["round"] for doc in docs})
    announce(task, size, len(docs), f"{len(rounds)} rounds, "
             f"{min(sum(doc['round'] == r for doc in docs) for r in rounds):,} or more per round")
    return lm_eval_dataset(docs)


def process_results(doc: dict, results: list) -> dict[str, Any]:
    """Per-item values: `acc` vs the user's choice, `agree` with the Bayesian Assistant's pick, `kl`
    to its predictive, calibration payloads, and the same split by round (`acc_r<r>`, `agree_r<r>`)."""
    values = item_metrics(choice_loglikelihoods(results), doc["soft_label"], doc["outcome"])
    values["agree"] = values.pop("mode_agree")
    values["ba_acc"] = doc["ba_correct"]
    round_ = doc["round"]
    values[f"acc_r{round_}"] = values["acc"]
    values[f"agree_r{round_}"] = values["agree"]
    return values
