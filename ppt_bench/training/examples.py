"""Records -> token ids with labels or *answer slots* (the data half of the trainer; numpy, no torch).

An example is a dict: {"input_ids", "labels"} for `sft` (IGNORE where no loss is taken), or
{"input_ids", "slots"} for the choice objectives, each slot (position, K choice token ids, target q)
with q float64 over the K choices summing to 1. Token ids follow lm-eval (`choice_token_ids`), so the
trained p is the p the harness scores (see the `ppt_bench.training` docstring).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from ppt_bench.errors import DataError
from ppt_bench.harness import prompting
from ppt_bench.metrics import check_soft_label
from ppt_bench.training.config import SCENARIO_OBJECTIVES, TrainConfig

IGNORE = -100  # label id that transformers' cross-entropy skips


def read_jsonl(path: str | Path, data_command: str = "") -> list[dict]:
    """Records of a JSON Lines file; a missing file names the command that writes it."""
    path = Path(path)
    if not path.is_file():
        hint = f"; create it with `{data_command}`" if data_command else ""
        raise DataError(f"training data {path} not found{hint}")
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def adds_special_tokens(tokenizer, text: str) -> bool:
    """lm-eval's HF backend (`HFLM.tok_encode`) lets the tokenizer add its special tokens unless the
    text already starts with the prefix token (BOS, else EOS), as chat-templated text often does."""
    prefix_id = tokenizer.bos_token_id if tokenizer.bos_token_id is not None else tokenizer.eos_token_id
    prefix = tokenizer.decode(prefix_id) if prefix_id is not None else ""
    return not (prefix and text.startswith(prefix))


def encode(tokenizer, text: str) -> list[int]:
    """Token ids of `text` as lm-eval makes them (see `adds_special_tokens`)."""
    return tokenizer.encode(text, add_special_tokens=adds_special_tokens(tokenizer, text))


def choice_token_ids(tokenizer, context: str, continuations: Sequence[str]) -> tuple[list[int], list[int]]:
    """(ids up to the answer slot, the K choice token ids) for scoring `continuations` after `context`.

    lm-eval (`_encode_pair`) moves the context's trailing spaces into the continuation and takes the
    continuation's tokens as encode(context + continuation) minus encode(context). Tokens that every
    continuation shares (e.g. a lone "Ġ" before a digit) add the same log-probability to each choice
    and cancel in the softmax, so they join the context; what remains must be one token per choice.
    """
    stripped = context.rstrip()
    context_ids = encode(tokenizer, stripped)
    tails = []
    for continuation in continuations:
        whole = encode(tokenizer, context + continuation)
        if whole[:len(context_ids)] != context_ids:
            raise DataError("the context tokenises differently on its own and before a choice")
        tails.append(whole[len(context_ids):])
    shared = 0
    while all(len(tail) > shared + 1 for tail in tails) and len({tail[shared] for tail in tails}) == 1:
        shared += 1
    if any(len(tail) != shared + 1 for tail in tails) or len({tail[shared] for tail in tails}) < len(tails):
        raise DataError(f"choices {list(continuations)} are not distinct single tokens after the context "
                        "with this tokenizer; the choice objectives need single-token labels")
    return context_ids + tails[0][:shared], [tail[shared] for tail in tails]


def soft_label_of(values, n_choices: int) -> list[float]:
    """A soft label as float64 K values summing to 1 (`metrics.check_soft_label`), as a list."""
    try:
        probs = check_soft_label(values, n_choices)
    except (ValueError, TypeError) as error:
        raise DataError(f"training record: {error}") from None
    return (probs / probs.sum()).tolist()


def scenario_example(record: dict, tokenizer, chat: bool, objective: str, hard_target: str,
                     max_length: int) -> dict:
    """A PPT scenario -> {"input_ids", "slots"}: the context and one answer slot at its last token."""
    try:
        prompt, labels, soft, outcome = (record[k] for k in ("prompt", "labels", "soft_label", "outcome"))
    except KeyError as error:
        raise DataError(f"scenario record lacks {error}; expected a PPT scenario "
                        "(`ppt-bench generate scenarios`)") from None
    # The PPT task's document: question = the scenario's prompt, then the harness's answer prefix.
    answer_prefix = record.get("answer_prefix", prompting.ANSWER_PREFIX)
    context = prompting.model_context(prompt, answer_prefix, tokenizer, chat)
    context_ids, label_ids = choice_token_ids(tokenizer, context, prompting.continuations(labels))
    target = soft_label_of(soft, len(labels))
    if objective == "hard_label":
        index = int(outcome) if hard_target == "outcome" else int(np.argmax(target))
        target = [float(k == index) for k in range(len(labels))]
    context_ids = context_ids[-max_length:]  # lm-eval also cuts contexts on the left
    return {"input_ids": context_ids, "slots": [(len(context_ids) - 1, label_ids, target)]}


def assistant_spans(tokenizer, messages: list[dict]) -> tuple[str, list[tuple[int, int]]]:
    """The templated conversation and the character span of each assistant turn in it (its content
    and the template's end-of-turn text), found by rendering each prefix of the conversation."""
    text = tokenizer.apply_chat_template(messages, tokenize=False)
    spans = []
    for i, message in enumerate(messages):
        if message["role"] != "assistant":
            continue
        before = tokenizer.apply_chat_template(messages[:i], tokenize=False, add_generation_prompt=True)
        through = tokenizer.apply_chat_template(messages[:i + 1], tokenize=False)
        if not (through.startswith(before) and text.startswith(through)):
            raise DataError("the chat template does not render conversations prefix by prefix; "
                            "cannot locate the assistant turns")
        spans.append((len(before), len(through)))
    return text, spans


def conversation_example(record: dict, tokenizer, objective: str, max_length: int) -> dict:
    """A teaching conversation -> {"input_ids", "labels"} (sft) or {"input_ids", "slots"} (soft_teaching)."""
    if getattr(tokenizer, "chat_template", None) is None:
        raise DataError("teaching conversations need a tokenizer with a chat template")
    messages = record.get("messages")
    if not messages:
        raise DataError("teaching record lacks `messages` (expected `ppt-bench generate dialogues` output)")
    text, spans = assistant_spans(tokenizer, messages)
    encoding = tokenizer(text, add_special_tokens=adds_special_tokens(tokenizer, text),
                         return_offsets_mapping=True)
    input_ids, offsets = encoding["input_ids"][:max_length], encoding["offset_mapping"][:max_length]
    if objective == "sft":
        labels = [token if any(a <= start < b for a, b in spans) and end > start else IGNORE
                  for token, (start, end) in zip(input_ids, offsets, strict=True)]
        return {"input_ids": input_ids, "labels": labels}
    soft_labels = record.get("soft_labels")
    if soft_labels is None or len(soft_labels) != len(spans):
        raise DataError(f"soft_teaching needs one soft label per assistant turn ({len(spans)}), "
                        f"got {None if soft_labels is None else len(soft_labels)}")
    slots = []
    for (start, end), soft in zip(spans, soft_labels, strict=True):
        match = re.search(r"\d+", text[start:end])
        if match is None or len(match.group()) > 1:
            raise DataError(f"assistant turn {text[start:end]!r} names no option number 1..9")
        slot = answer_slot(tokenizer, text, input_ids, offsets, start + match.start(), len(soft))
        if slot is not None:  # None: cut off by max_length
            slots.append((slot[0], slot[1], soft_label_of(soft, len(soft))))
    return {"input_ids": input_ids, "slots": slots}


def answer_slot(tokenizer, text: str, input_ids: list[int], offsets, digit: int, n_choices: int):
    """(position whose logits predict the option number, K candidate token ids) or None if truncated."""
    index = next((t for t, (a, b) in enumerate(offsets) if a <= digit < b), None)
    if index is None:
        return None
    start, end = offsets[index]
    if n_choices > 9:
        raise DataError("soft_teaching supports at most 9 options (one digit each)")
    candidates = []
    for k in range(1, n_choices + 1):
        ids = tokenizer.encode(text[start:digit] + str(k) + text[digit + 1:end], add_special_tokens=False)
        if len(ids) != 1:
            raise DataError(f"option number {k} is not a single token in {text[start:end]!r}")
        candidates.append(ids[0])
    if input_ids[index] not in candidates or len(set(candidates)) != n_choices:
        raise DataError(f"cannot match the option token {text[start:end]!r} to the candidates")
    return index - 1, candidates


def build_examples(cfg: TrainConfig, tokenizer, chat: bool) -> list[dict]:
    """Every record of `cfg.data` as token ids with labels or answer slots (tokenised once, up front)."""
    records = read_jsonl(cfg.data, cfg.data_command)
    if cfg.max_examples > 0:
        records = records[:cfg.max_examples]
    if not records:
        raise DataError(f"training data {cfg.data} holds no records")
    if cfg.objective in SCENARIO_OBJECTIVES:
        examples = [scenario_example(r, tokenizer, chat, cfg.objective, cfg.hard_target, cfg.max_length)
                    for r in records]
    else:
        examples = [conversation_example(r, tokenizer, cfg.objective, cfg.max_length) for r in records]
    return [e for e in examples if e.get("slots") or "labels" in e]


def split_examples(examples: list[dict], eval_fraction: float, seed: int) -> tuple[list, list]:
    """(train, eval): a seeded random `eval_fraction` of the examples held out (at least one if > 0)."""
    order = np.random.default_rng(seed).permutation(len(examples))
    n_eval = min(len(examples) - 1, math.ceil(eval_fraction * len(examples))) if eval_fraction > 0 else 0
    return [examples[i] for i in order[n_eval:]], [examples[i] for i in order[:n_eval]]


def pack_examples(examples: list[dict], pack_length: int, seed: int) -> list[dict]:
    """Scenario examples packed into rows of at most `pack_length` tokens (first fit, in a seeded random
    order); an example longer than that keeps a row of its own.

    A row is {"input_ids", "position_ids", "slots"}: the examples' ids concatenated, positions that
    restart at 0 with each example (from which transformers builds a block-diagonal causal mask, so no
    example attends to another), and each example's answer slots moved by its offset in the row. Every
    slot's loss is the one it has unpacked (test); a step then averages over more slots per row.
    """
    order = np.random.default_rng(seed).permutation(len(examples))
    rows: list[dict] = []
    for index in order:
        example = examples[index]
        size = len(example["input_ids"])
        row = next((r for r in rows if len(r["input_ids"]) + size <= pack_length), None)
        if row is None:
            row = {"input_ids": [], "position_ids": [], "slots": []}
            rows.append(row)
        offset = len(row["input_ids"])
        row["input_ids"] += example["input_ids"]
        row["position_ids"] += list(range(size))
        row["slots"] += [(offset + position, ids, target) for position, ids, target in example["slots"]]
    return rows
