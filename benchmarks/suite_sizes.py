"""Sizes of the suite's tasks: documents, documents per round / motif, tokens, 95% half-widths.

    PYTHONPATH=. python benchmarks/suite_sizes.py [--size quick] [--tasks bt_flight ...] [--json]

Tokens are counted with the SmolLM2 tokenizer on each document's scored context (question + answer
prefix, no chat template; a template adds ~30 tokens per document), every document when there are at
most `--exact` of them, else every k-th document scaled up. `--size paper` (374,400 documents per
generated BT task) is not built: its token count is the full size's mean tokens per round times the
paper's documents per round (the same renderer and protocol). The half-width is the worst-case
(p = 0.5) 95% half-width of an accuracy over the smallest round / motif (`ppt_bench.harness.sizes`),
over all items for a calibration twin. "shared-prefix" counts the tokens a scorer runs when the
documents of one (user, round) conversation share their common prefix (computed once).
"""

from __future__ import annotations

import argparse
import json
from collections import Counter

SUITE = ("ppt_motifs_heldout", "ppt_motifs_train", "bt_flight", "bt_hotel", "bt_shopping",
         "bt_flight_official", "bt_webshop_official", "bt_flight_human", "ppt_motifs_heldout_calib",
         "ppt_motifs_train_calib", "bt_flight_calib", "bt_hotel_calib", "bt_shopping_calib")


def build(task: str, size: str) -> list[dict]:
    from ppt_bench.harness import bt_tasks, ppt_tasks

    if task.startswith("ppt_"):
        return ppt_tasks.ppt_documents(task, size)
    if task.removesuffix("_calib") in bt_tasks.GENERATED:
        return bt_tasks.generated_documents(task, size)
    return bt_tasks.official_documents(task, size)


def paper_shape(task: str) -> dict[int, int]:
    """Documents per round of a BT task at size=paper, without building them."""
    from ppt_bench.harness import bt_tasks
    from ppt_bench.recommend import get_domain

    users, sets = bt_tasks._size("paper", bt_tasks.CALIB_SIZES if task.endswith("_calib") else
                                 bt_tasks.SIZES)
    if task.removesuffix("_calib") in bt_tasks.GENERATED:
        names = bt_tasks.GENERATED[task.removesuffix("_calib")]
        total = sum(get_domain(name).n_hypotheses if users is None
                    else bt_tasks.users_per_domain(users, len(names)) for name in names)
        return {r: total * sets for r in range(6)}
    return {}


def measure(task: str, size: str, tokenizer, exact: int) -> dict:
    from ppt_bench.harness.prompting import model_context
    from ppt_bench.harness.sizes import half_width

    docs = build(task, "full" if size == "paper" else size)
    key = "motif" if task.startswith("ppt_") else "round"
    step = max(1, len(docs) // exact)
    per_key_tokens: dict = {}
    conversations: dict = {}  # (user, round) -> token lists: what a prefix-sharing scorer runs once
    for doc in docs[::step]:
        ids = tokenizer(model_context(doc["question"], doc["answer_prefix"]),
                        add_special_tokens=False)["input_ids"]
        per_key_tokens.setdefault(doc[key], []).append(len(ids))
        conversations.setdefault((doc.get("user", doc["id"]), doc.get("round")), []).append(ids)
    shared = sum(_prefix_shared(group) for group in conversations.values()) * step
    counts = Counter(doc[key] for doc in docs)
    if size == "paper" and (shape := paper_shape(task)):
        counts = Counter(shape)
    tokens = sum(counts[k] * sum(v) / len(v) for k, v in per_key_tokens.items())
    if size == "paper":
        shared *= sum(counts.values()) / len(docs)
    if task.endswith("_calib"):  # the rule for a twin is its total (>= 300 items for T and ECE)
        key, counts = "all", Counter({"all": sum(counts.values())})
    smallest = min(counts.values())
    return {"task": task, "size": size, "documents": sum(counts.values()), "per": key,
            "per_min": smallest, "tokens": round(tokens), "prefix_shared_tokens": round(shared),
            "half_width": round(half_width(smallest), 3),
            "tokens_counted": "all" if step == 1 and size != "paper" else "estimated"}


def _prefix_shared(group: list[list[int]]) -> int:
    """Tokens a scorer runs when the group's common prefix is computed once:
    len(prefix) + sum of the suffixes."""
    first = group[0]
    common = len(first)
    for ids in group[1:]:
        common = next((i for i, (a, b) in enumerate(zip(first[:common], ids, strict=False)) if a != b),
                      min(common, len(ids)))
    return common + sum(len(ids) - common for ids in group)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="quick", choices=("quick", "full", "paper"))
    parser.add_argument("--tasks", nargs="+", default=list(SUITE))
    parser.add_argument("--exact", type=int, default=20_000, help="count every document up to this many")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()

    from transformers import AutoTokenizer

    from ppt_bench.models import resolve_model

    model = resolve_model("smollm2")
    tokenizer = AutoTokenizer.from_pretrained(model.pretrained, gguf_file=model.gguf_file)
    rows = [measure(task, args.size, tokenizer, args.exact) for task in args.tasks]
    if args.json:
        print(json.dumps(rows, indent=1))
        return
    print(f"{'task':<26} {'docs':>9} {'min per':>14} {'tokens':>12} {'shared-prefix':>13} {'95% hw':>7}")
    for row in rows:
        print(f"{row['task']:<26} {row['documents']:>9,} {row['per_min']:>8,} {row['per']:<5} "
              f"{row['tokens']:>12,} {row['prefix_shared_tokens']:>13,} {row['half_width']:>7.3f}")
    print(f"{'total':<26} {sum(r['documents'] for r in rows):>9,} {'':>14} "
          f"{sum(r['tokens'] for r in rows):>12,} {sum(r['prefix_shared_tokens'] for r in rows):>13,}")


if __name__ == "__main__":
    main()
