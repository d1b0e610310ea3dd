"""Fine-tune a causal LM on PPT soft labels or Bayesian-teaching conversations.

    ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml [key=value ...]

Reads top to bottom: config -> data -> model -> train -> eval -> save. transformers' `Trainer` does
the optimisation (AdamW, cosine schedule with warmup, gradient accumulation, checkpoints, resumption,
accelerate / DeepSpeed / FSDP); this file adds what is specific to ppt-bench: turning records into
token ids with *answer slots*, the collator, and the losses.

Objectives (`objective=`):

- `soft_label` (PPT, Zhang et al. 2026): KL(q || p) at the answer position of each scenario, with q the
  exact posterior soft label and p the model's distribution over the K choices.
- `hard_label` (control): the same loss with a one-hot target on the program's realised outcome (a
  draw from q; `hard_target=outcome`) or on argmax q (`hard_target=mode`), i.e. -log p_y.
- `sft` (Bayesian / Oracle teaching, Qiu et al. 2026): next-token cross-entropy on assistant tokens only.
- `soft_teaching` (both papers combined): KL(q_t || p_t) at every assistant turn t, with q_t the Bayesian
  Assistant's predictive over that round's options (the record's `soft_labels[t]`).

How p is defined (the same as evaluation, `ppt_bench.harness.prompting`): lm-eval scores a
multiple-choice document by the log-likelihood of each continuation " <label>" after the context
(question, then the answer prefix `Answer:`, inside the chat template when the model has one), and
ppt-bench's distribution is the softmax of those K log-likelihoods. The labels are single tokens, so
that is the next-token distribution at the end of the context restricted to the K label tokens and
renormalised: p_k = exp(z_{c_k}) / sum_j exp(z_{c_j}), z the logits, c_k the token of choice k.
Training the renormalised p (not the full-vocabulary probability) optimises exactly what the harness
scores and leaves the mass on other tokens, which the harness never sees, free. Token ids follow
lm-eval's `_encode_pair` (see `choice_token_ids`).

Answer position in a teaching conversation: assistant turns read "The best option is Flight N.". The
conversation is rendered once with the chat template and tokenised with character offsets; the option
number is the first digit in the assistant turn, and the answer slot is the token holding it (the
logits one position earlier predict it). The K candidates are that token with N replaced by 1..K,
each of which must be a single token (checked; so K <= 9). This is lm-eval's rule for the bt_* tasks'
continuation " N" after "... Flight": a shared leading token (SmolLM2 splits " 3" into "Ġ" + "3")
cancels in the softmax.
"""

from __future__ import annotations

import csv
import importlib.util
import json
import logging
import math
import re
import typing
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import yaml
from transformers import Trainer, TrainingArguments, set_seed
from transformers.trainer_utils import get_last_checkpoint

from ppt_bench.errors import ConfigError, DataError
from ppt_bench.harness import prompting

log = logging.getLogger("ppt_bench.training")

OBJECTIVES = ("soft_label", "hard_label", "sft", "soft_teaching")
SCENARIO_OBJECTIVES = ("soft_label", "hard_label")
CHOICES = {"objective": OBJECTIVES, "finetune": ("lora", "full"), "hard_target": ("outcome", "mode"),
           "precision": ("auto", "fp32", "bf16", "fp16"),
           "lr_scheduler": ("cosine", "linear", "constant_with_warmup", "cosine_with_min_lr")}
IGNORE = -100  # label id that transformers' cross-entropy skips


# ---------------------------------------------------------------------------------------------- config

@dataclass(frozen=True)
class TrainConfig:
    """Everything a run depends on. Defaults here; a recipe (YAML) overrides them, `key=value` overrides
    that. Batch sizes are per device: global batch = batch_size * grad_accum * number of processes."""

    objective: str = "soft_label"
    model: str = "smollm2"                   # anything `ppt_bench.models.resolve_model` accepts
    data: str = ""                           # JSON Lines: PPT scenarios or teaching conversations
    data_command: str = ""                   # the command that writes `data` (quoted when it is missing)
    out_dir: str = "runs/train/default"      # final model here, checkpoints under out_dir/checkpoints
    chat_template: bool | None = None        # None: as `ppt-bench eval` decides for this model
    hard_target: str = "outcome"             # hard_label: the realised outcome (a draw from q) or the mode
    max_examples: int = 0                    # use the first N records (0: all)
    eval_fraction: float = 0.05              # records held out for the eval loss
    max_length: int = 1024                   # tokens; PPT contexts are cut on the left, chats on the right
    # model: LoRA adapters (merged into the weights at the end) or every weight
    finetune: str = "lora"
    lora_r: int = 16
    lora_alpha: int = 32
    lora_dropout: float = 0.05
    lora_target_modules: tuple[str, ...] = ("q_proj", "k_proj", "v_proj", "o_proj",
                                            "gate_proj", "up_proj", "down_proj")
    # optimisation
    epochs: float = 1.0
    max_steps: int = -1                      # > 0 overrides epochs
    batch_size: int = 8
    grad_accum: int = 1
    learning_rate: float = 2e-4
    weight_decay: float = 0.0
    warmup_ratio: float = 0.1
    lr_scheduler: str = "cosine"
    max_grad_norm: float = 1.0
    seed: int = 0
    precision: str = "auto"                  # auto: bf16 where the hardware runs it natively, else fp32
    gradient_checkpointing: bool = False     # recompute activations in the backward pass: less memory
    # speed and memory (none of these changes the loss of a batch; see the tests)
    supervised_logits: bool = True           # LM head only where a loss is taken (else at every position)
    group_by_length: bool = True             # batches of similar lengths (less padding), still shuffled
    pack_length: int = 0                     # scenario objectives: pack examples into rows of <= N tokens
    # bookkeeping
    logging_steps: int = 10
    eval_steps: int = 0                      # 0: evaluate only at the end
    save_steps: int = 100
    save_total_limit: int = 2
    keep_checkpoints: int = 1                # kept once the run is finished (none if it is < save_steps)
    resume: bool = True                      # continue from the newest checkpoint; a finished run is kept
    threads: int = 0                         # torch CPU threads (0: torch's default)
    progress: bool = True


def _coerce(name: str, value, hint):
    """`value` (from YAML or a CLI string parsed as YAML) as the field's type, or ConfigError."""
    options = typing.get_args(hint) if typing.get_origin(hint) in (typing.Union, type(int | None)) else ()
    if options:
        if value is None and type(None) in options:
            return None
        hint = next(t for t in options if t is not type(None))
    if typing.get_origin(hint) is tuple:
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple) or not all(isinstance(i, str) for i in items):
            raise ConfigError(f"{name} must be a list of strings, got {value!r}")
        return tuple(i.strip() for i in items if i.strip())
    if hint is float and isinstance(value, str):
        try:  # YAML 1.1 reads `2e-6` (no dot) as a string
            value = float(value)
        except ValueError:
            pass
    if hint is float and isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if hint is str and isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, hint) or (hint is int and isinstance(value, bool)):
        raise ConfigError(f"{name} must be {hint.__name__}, got {value!r}")
    return value


def make_config(values: dict) -> TrainConfig:
    """A validated TrainConfig from a {key: value} mapping; unknown keys and bad values are errors."""
    hints = typing.get_type_hints(TrainConfig)
    unknown = sorted(set(values) - set(hints))
    if unknown:
        raise ConfigError(f"unknown config key(s) {', '.join(unknown)}; known: {', '.join(hints)}")
    cfg = TrainConfig(**{key: _coerce(key, value, hints[key]) for key, value in values.items()})
    for key, allowed in CHOICES.items():
        if getattr(cfg, key) not in allowed:
            raise ConfigError(f"{key} must be one of {', '.join(allowed)}, got {getattr(cfg, key)!r}")
    if not cfg.data:
        raise ConfigError("no training data: set `data: PATH` in the recipe or data=PATH")
    positive = ("batch_size", "grad_accum", "max_length", "logging_steps", "save_steps", "lora_r")
    for key in positive:
        if getattr(cfg, key) < 1:
            raise ConfigError(f"{key} must be at least 1, got {getattr(cfg, key)}")
    if not 0 <= cfg.eval_fraction < 1 or not 0 <= cfg.warmup_ratio < 1 or cfg.learning_rate <= 0:
        raise ConfigError("need 0 <= eval_fraction < 1, 0 <= warmup_ratio < 1 and learning_rate > 0")
    if cfg.max_steps <= 0 and cfg.epochs <= 0:
        raise ConfigError("set epochs > 0 or max_steps > 0")
    if cfg.pack_length < 0 or (cfg.pack_length and cfg.objective not in SCENARIO_OBJECTIVES):
        raise ConfigError(f"pack_length must be 0, or > 0 with a scenario objective "
                          f"({', '.join(SCENARIO_OBJECTIVES)}); got {cfg.pack_length} with {cfg.objective}")
    if cfg.keep_checkpoints < 0:
        raise ConfigError(f"keep_checkpoints must be at least 0, got {cfg.keep_checkpoints}")
    return cfg


def load_config(recipe: str | Path | None = None, overrides: Sequence[str] = ()) -> TrainConfig:
    """Defaults <- recipe YAML <- `key=value` overrides (values parsed as YAML: 3, 2e-4, true, [a, b])."""
    values: dict = {}
    if recipe is not None:
        path = Path(recipe)
        if not path.is_file():
            raise ConfigError(f"recipe {path} not found")
        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except yaml.YAMLError as error:
            raise ConfigError(f"recipe {path} is not valid YAML: {error}") from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"recipe {path} must be a mapping of key: value")
        values.update(loaded)
    for item in overrides:
        key, sep, text = item.partition("=")
        if not sep or not key:
            raise ConfigError(f"override {item!r} must look like key=value")
        try:
            values[key.strip()] = yaml.safe_load(text) if text else ""
        except yaml.YAMLError:
            values[key.strip()] = text
    return make_config(values)


# ------------------------------------------------------------------------------------------------ data

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
    """A soft label as float64 K values summing to 1 (asserted), as a list."""
    probs = np.asarray(values, dtype=np.float64)
    if probs.shape != (n_choices,) or np.any(probs < 0) or abs(probs.sum() - 1.0) > 1e-6:
        raise DataError(f"soft label {values} is not a distribution over {n_choices} choices")
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


class Collator:
    """Right-pads a list of examples into a batch.

    input_ids, attention_mask (B, T); position_ids (B, T) for packed rows (`pack_examples`; the padding
    is one more sequence, positions from 0); `labels` (B, T) for sft; for the choice objectives
    slot_positions (B, S) long, slot_mask (B, S), choice_ids (B, S, K), choice_mask (B, S, K) and
    targets (B, S, K) float, padded to the largest S (answer slots per example) and K (choices).
    """

    def __init__(self, pad_token_id: int):
        self.pad_token_id = pad_token_id

    def __call__(self, examples: list[dict]) -> dict[str, torch.Tensor]:
        n, length = len(examples), max(len(e["input_ids"]) for e in examples)
        input_ids = torch.full((n, length), self.pad_token_id, dtype=torch.long)
        attention_mask = torch.zeros((n, length), dtype=torch.long)
        for b, example in enumerate(examples):
            input_ids[b, :len(example["input_ids"])] = torch.tensor(example["input_ids"])
            attention_mask[b, :len(example["input_ids"])] = 1
        batch = {"input_ids": input_ids, "attention_mask": attention_mask}
        if "position_ids" in examples[0]:
            position_ids = torch.zeros((n, length), dtype=torch.long)
            for b, example in enumerate(examples):
                size = len(example["position_ids"])
                position_ids[b, :size] = torch.tensor(example["position_ids"])
                position_ids[b, size:] = torch.arange(length - size)
            batch["position_ids"] = position_ids
        if "labels" in examples[0]:
            labels = torch.full((n, length), IGNORE, dtype=torch.long)
            for b, example in enumerate(examples):
                labels[b, :len(example["labels"])] = torch.tensor(example["labels"])
            batch["labels"] = labels
            return batch
        n_slots = max(len(e["slots"]) for e in examples)
        n_choices = max(len(ids) for e in examples for _, ids, _ in e["slots"])
        batch.update(slot_positions=torch.zeros((n, n_slots), dtype=torch.long),
                     slot_mask=torch.zeros((n, n_slots), dtype=torch.bool),
                     choice_ids=torch.zeros((n, n_slots, n_choices), dtype=torch.long),
                     choice_mask=torch.zeros((n, n_slots, n_choices), dtype=torch.bool),
                     targets=torch.zeros((n, n_slots, n_choices), dtype=torch.float32))
        for b, example in enumerate(examples):
            for s, (position, ids, target) in enumerate(example["slots"]):
                batch["slot_positions"][b, s], batch["slot_mask"][b, s] = position, True
                batch["choice_ids"][b, s, :len(ids)] = torch.tensor(ids)
                batch["choice_mask"][b, s, :len(ids)] = True
                batch["targets"][b, s, :len(ids)] = torch.tensor(target, dtype=torch.float32)
        return batch


# ------------------------------------------------------------------------------------------------ loss

def choice_log_probs(logits: torch.Tensor, choice_ids: torch.Tensor, choice_mask: torch.Tensor):
    """log p over the choices: logits (..., V) restricted to choice_ids (..., K) and renormalised;
    padded choices (choice_mask False) get probability 0 (log p set to 0 so 0 * log p stays 0).
    Padding uses the lowest finite value, not -inf: a row that is all padding (a padded slot) must
    stay finite, or its NaNs would reach the gradient even though the loss never selects it."""
    lowest = torch.finfo(torch.float32).min
    picked = torch.gather(logits.float(), -1, choice_ids).masked_fill(~choice_mask, lowest)
    return torch.log_softmax(picked, dim=-1).masked_fill(~choice_mask, 0.0)


def choice_kl(logits, choice_ids, choice_mask, targets) -> torch.Tensor:
    """KL(q || p) = sum_k q_k (log q_k - log p_k) per slot: (...,) from logits (..., V), targets q (..., K).
    With one-hot q this is the cross-entropy -log p_y (the hard-label loss)."""
    log_p = choice_log_probs(logits, choice_ids, choice_mask)
    return (torch.xlogy(targets, targets) - targets * log_p).sum(-1)


def next_token_mask(labels: torch.Tensor) -> torch.Tensor:
    """(B, T) bool: True at position t when token t+1 is supervised (labels[:, t+1] != IGNORE), i.e. where
    the logits enter the causal-LM loss. The last position predicts nothing."""
    mask = torch.zeros_like(labels, dtype=torch.bool)
    mask[:, :-1] = labels[:, 1:] != IGNORE
    return mask


def token_cross_entropy(logits: torch.Tensor, labels: torch.Tensor, mask: torch.Tensor,
                        num_items_in_batch=None) -> torch.Tensor:
    """Causal-LM loss from the logits at the supervised positions only.

    logits (N, V) at the N True positions of mask (B, T) (`next_token_mask(labels)`), row-major as
    `hidden[mask]` orders them; the targets are labels[:, 1:] at the same positions. Returns
    sum_i -log softmax(logits_i)[y_i] divided by num_items_in_batch (the supervised tokens of the whole
    accumulated batch, as the Trainer counts them) when given, else by N: what transformers'
    `ForCausalLMLoss` returns from the full (B, T, V) logits.
    """
    targets = labels[:, 1:][mask[:, :-1]]
    total = torch.nn.functional.cross_entropy(logits.float(), targets, reduction="sum")
    if num_items_in_batch is not None:
        return total / num_items_in_batch
    return total / max(1, targets.numel())


class ChoiceTrainer(Trainer):
    """`Trainer` whose loss is the choice KL at the answer slots, or the token cross-entropy on assistant
    tokens for sft batches (those with `labels`).

    With `supervised_logits` (the default) the LM head runs only where a loss is taken: (B, S, V)
    logits at the answer slots, (N, V) at the N supervised tokens, instead of (B, T, V); the losses are
    the same (tests). Without it, every position goes through the LM head (transformers' plain path).
    """

    supervised_logits: bool = True

    def __init__(self, *args, supervised_logits: bool = True, **kwargs):
        super().__init__(*args, **kwargs)
        self.supervised_logits = supervised_logits

    def compute_loss(self, model, inputs, return_outputs=False, num_items_in_batch=None):
        if "labels" in inputs:
            if not self.supervised_logits:
                return super().compute_loss(model, inputs, return_outputs, num_items_in_batch)
            return self._token_loss(model, inputs, return_outputs, num_items_in_batch)
        keep = inputs["slot_positions"] if self.supervised_logits else 0
        if "position_ids" in inputs:  # packed rows: the mask comes from the restarting positions, which
            # transformers reads only without an attention mask and without a key/value cache
            outputs = model(input_ids=inputs["input_ids"], position_ids=inputs["position_ids"],
                            logits_to_keep=keep, use_cache=False)
        else:
            outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                            logits_to_keep=keep)
        logits = outputs.logits
        if not self.supervised_logits:  # (B, T, V) -> (B, S, V) at the slot positions
            logits = torch.take_along_dim(logits, inputs["slot_positions"][..., None], dim=1)
        kl = choice_kl(logits, inputs["choice_ids"], inputs["choice_mask"], inputs["targets"])
        # Mean over the answer slots of this micro-batch; the Trainer divides by grad_accum.
        loss = kl[inputs["slot_mask"]].mean()
        return (loss, outputs) if return_outputs else loss

    def _token_loss(self, model, inputs, return_outputs, num_items_in_batch):
        """sft loss with the LM head at the supervised positions only (`token_cross_entropy`),
        normalised and scaled as `Trainer.compute_loss` would normalise the model's own loss."""
        mask = next_token_mask(inputs["labels"])
        outputs = model(input_ids=inputs["input_ids"], attention_mask=inputs["attention_mask"],
                        logits_to_keep=mask)
        normalised = self.model_accepts_loss_kwargs and num_items_in_batch is not None
        loss = token_cross_entropy(outputs.logits, inputs["labels"], mask,
                                   num_items_in_batch if normalised else None)
        if normalised and self.args.average_tokens_across_devices:
            # as Trainer.compute_loss: num_items_in_batch counts every process's tokens
            loss = loss * (self.accelerator.num_processes // self.get_tp_size()
                           if self.args.n_gpu <= 1 else self.args.n_gpu)
        return (loss, outputs) if return_outputs else loss

    def prediction_step(self, model, inputs, prediction_loss_only, ignore_keys=None):
        """Eval loss only (no logits gathered)."""
        inputs = self._prepare_inputs(inputs)
        with torch.no_grad():
            loss = self.compute_loss(model, inputs)
        return loss.detach(), None, None


# ----------------------------------------------------------------------------------------------- model

def load_base(model_name: str, chat_template: bool | None):
    """(model, tokenizer, chat) for training. GGUF weights arrive de-quantised to float32 but still
    flagged as GGUF-quantised, which would block training and `save_pretrained`: drop the flag."""
    from ppt_bench.models import load_model, resolve_model

    resolved = resolve_model(model_name)
    model, tokenizer = load_model(resolved)
    if getattr(model, "hf_quantizer", None) is not None and resolved.gguf_file is not None:
        model.hf_quantizer.remove_quantization_config(model)
    if tokenizer.pad_token_id is None:
        tokenizer.pad_token = tokenizer.eos_token
    # Same rule as `ppt-bench eval`: the model's flag, else whether the tokenizer has a template.
    chat = chat_template if chat_template is not None else (
        resolved.chat_template if resolved.chat_template is not None
        else getattr(tokenizer, "chat_template", None) is not None)
    return model, tokenizer, chat


def add_lora(model, cfg: TrainConfig):
    """Wrap `model` with LoRA adapters on `cfg.lora_target_modules` (peft)."""
    try:
        from peft import LoraConfig, get_peft_model
    except ImportError:
        raise ConfigError("finetune=lora needs peft (`pip install peft`); or set finetune=full") from None
    config = LoraConfig(r=cfg.lora_r, lora_alpha=cfg.lora_alpha, lora_dropout=cfg.lora_dropout,
                        target_modules=list(cfg.lora_target_modules), task_type="CAUSAL_LM")
    model = get_peft_model(model, config)
    if cfg.gradient_checkpointing:
        model.enable_input_require_grads()  # checkpointed blocks need an input that requires grad
    return model


def resolved_precision(precision: str, cuda: bool | None = None, flags: frozenset[str] | None = None) -> str:
    """fp32, bf16 or fp16 for `precision`; auto -> bf16 mixed precision where the hardware runs bfloat16
    natively (CUDA, or a CPU with AMX or avx512_bf16: `ppt_bench.models.resolve_dtype`), else fp32
    (emulated bfloat16 is slower than float32)."""
    from ppt_bench.models import resolve_dtype

    if precision != "auto":
        return precision
    device = "cuda" if (torch.cuda.is_available() if cuda is None else cuda) else "cpu"
    return "bf16" if resolve_dtype("auto", device, flags) == "bfloat16" else "fp32"


def training_arguments(cfg: TrainConfig, has_eval: bool) -> TrainingArguments:
    """The Trainer's settings from the config (accelerate/DeepSpeed/FSDP come from `accelerate launch`)."""
    evaluate_during = has_eval and cfg.eval_steps > 0
    precision = resolved_precision(cfg.precision)
    return TrainingArguments(
        output_dir=str(Path(cfg.out_dir) / "checkpoints"), seed=cfg.seed, data_seed=cfg.seed,
        num_train_epochs=cfg.epochs, max_steps=cfg.max_steps,
        per_device_train_batch_size=cfg.batch_size, per_device_eval_batch_size=cfg.batch_size,
        gradient_accumulation_steps=cfg.grad_accum, learning_rate=cfg.learning_rate,
        weight_decay=cfg.weight_decay, lr_scheduler_type=cfg.lr_scheduler,
        warmup_steps=cfg.warmup_ratio, max_grad_norm=cfg.max_grad_norm,
        bf16=precision == "bf16", fp16=precision == "fp16",
        train_sampling_strategy="group_by_length" if cfg.group_by_length else "random",
        # passed only when on: transformers 5.x warns that the name is deprecated
        **({"gradient_checkpointing": True} if cfg.gradient_checkpointing else {}),
        logging_steps=cfg.logging_steps, logging_first_step=True,
        eval_strategy="steps" if evaluate_during else "no", eval_steps=cfg.eval_steps or None,
        save_strategy="steps", save_steps=cfg.save_steps, save_total_limit=cfg.save_total_limit,
        include_num_input_tokens_seen="non_padding", remove_unused_columns=False,
        dataloader_num_workers=0, dataloader_pin_memory=torch.cuda.is_available(), report_to="none",
        disable_tqdm=not cfg.progress)


# ------------------------------------------------------------------------------------------- artefacts

def write_loss_curve(log_history: list[dict], out_dir: Path) -> None:
    """loss.csv (step, epoch, loss, eval_loss, learning_rate, grad_norm, tokens) and loss.png."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    columns = ("step", "epoch", "loss", "eval_loss", "learning_rate", "grad_norm", "num_input_tokens_seen")
    rows = [{c: entry.get(c, "") for c in columns} for entry in log_history
            if "loss" in entry or "eval_loss" in entry]
    with (out_dir / "loss.csv").open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    for key, style in (("loss", "-"), ("eval_loss", "o-")):
        points = [(r["step"], r[key]) for r in rows if r[key] != ""]
        if points:
            axis.plot(*zip(*points, strict=True), style, label=key.replace("_", " "))
    axis.set_xlabel("optimizer step")
    axis.set_ylabel("loss")
    axis.legend()
    figure.tight_layout()
    figure.savefig(out_dir / "loss.png", dpi=120)
    plt.close(figure)


def save_final(trainer: Trainer, tokenizer, cfg: TrainConfig, out_dir: Path) -> None:
    """A plain HF folder (LoRA merged into the weights) that `resolve_model(out_dir)` and lm-eval load."""
    if cfg.finetune == "lora":
        if trainer.is_deepspeed_enabled or trainer.is_fsdp_enabled:
            raise ConfigError("merging LoRA under DeepSpeed/FSDP is not supported; use finetune=full "
                              "there, or LoRA with plain data parallelism")
        if trainer.is_world_process_zero():
            merged = trainer.accelerator.unwrap_model(trainer.model).merge_and_unload()
            merged.save_pretrained(out_dir)
    else:
        trainer.save_model(str(out_dir))  # gathers sharded weights under DeepSpeed / FSDP
    if trainer.is_world_process_zero():
        tokenizer.save_pretrained(out_dir)


# ---------------------------------------------------------------------------------------------- reruns

RERUN_NEUTRAL = ("resume", "progress", "threads", "keep_checkpoints")  # keys that leave the result alone


def finished_run(cfg: TrainConfig) -> dict | None:
    """The metrics of a finished run in cfg.out_dir made with the same config, None when there is none;
    ConfigError when the finished run used another config (training it further would mix the two)."""
    out_dir = Path(cfg.out_dir)
    if not ((out_dir / "metrics.json").is_file() and (out_dir / "train_config.json").is_file()):
        return None
    recorded = json.loads((out_dir / "train_config.json").read_text()).get("config") or {}
    current = json.loads(json.dumps(asdict(cfg)))
    changed = sorted(key for key in set(recorded) | set(current)
                     if key not in RERUN_NEUTRAL and recorded.get(key) != current.get(key))
    if changed:
        raise ConfigError(f"{out_dir} holds a finished run with other settings ({', '.join(changed)}); "
                          "pass resume=false to train a new one there, or another out_dir")
    return json.loads((out_dir / "metrics.json").read_text())


def planned_steps(cfg: TrainConfig, n_train: int, world_size: int = 1) -> int:
    """Optimizer steps the run will take: max_steps, else epochs * ceil(batches per epoch / grad_accum)."""
    if cfg.max_steps > 0:
        return cfg.max_steps
    batches = math.ceil(n_train / (cfg.batch_size * world_size))
    return math.ceil(cfg.epochs * max(1, math.ceil(batches / cfg.grad_accum)))


def scheduled_learning_rates(args: TrainingArguments, n_steps: int) -> list[float] | None:
    """The learning rate the Trainer's schedule gives each of `n_steps` optimizer steps (None when the
    schedule needs settings this check does not know). Linear warmup starts at 0, so a run with as
    many warmup steps as steps (e.g. max_steps=1, warmup_ratio=0.1) never changes its weights."""
    from transformers import get_scheduler

    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=args.learning_rate)
    try:
        schedule = get_scheduler(args.lr_scheduler_type, optimizer, num_training_steps=n_steps,
                                 num_warmup_steps=args.get_warmup_steps(n_steps),
                                 scheduler_specific_kwargs=args.lr_scheduler_kwargs or {})
    except (TypeError, ValueError):
        return None
    rates = []
    for _ in range(n_steps):
        rates.append(schedule.get_last_lr()[0])
        optimizer.step()
        schedule.step()
    return rates


def prune_checkpoints(checkpoints: Path, steps_run: int, cfg: TrainConfig) -> None:
    """Once the final model is saved: keep the newest `keep_checkpoints` checkpoints, and none for a run
    shorter than save_steps (its only checkpoint is the end-of-training copy of the final model)."""
    import shutil

    found = sorted(checkpoints.glob("checkpoint-*"), key=lambda path: int(path.name.rsplit("-", 1)[1]))
    keep = 0 if steps_run < cfg.save_steps else cfg.keep_checkpoints
    for path in found[:len(found) - keep] if keep else found:
        shutil.rmtree(path, ignore_errors=True)
    if checkpoints.is_dir() and not any(checkpoints.iterdir()):
        checkpoints.rmdir()


def main(cfg: TrainConfig, command: str | None = None) -> dict:
    """Train per `cfg`; returns the final metrics (also written to out_dir/metrics.json). `command`,
    the command line that asked for it, is recorded in out_dir/train_config.json."""
    from ppt_bench.harness.evaluate import provenance
    from ppt_bench.io import write_json_atomic

    out_dir = Path(cfg.out_dir)
    if cfg.resume and (finished := finished_run(cfg)) is not None:
        log.warning("%s: already finished with these settings (metrics.json); not trained again "
                    "(resume=false trains a new run there)", out_dir)
        return {**finished, "already_finished": True}
    if cfg.threads > 0:
        torch.set_num_threads(cfg.threads)
    set_seed(cfg.seed)

    if not Path(cfg.data).is_file():
        read_jsonl(cfg.data, cfg.data_command)  # fail before loading anything, naming the command
    if cfg.finetune == "lora" and importlib.util.find_spec("peft") is None:
        raise ConfigError("finetune=lora needs peft (`pip install peft`); or set finetune=full")
    # Trainer settings first: under `accelerate launch` with DeepSpeed ZeRO-3 they must exist before
    # the model loads, so that from_pretrained partitions the weights as it reads them.
    args = training_arguments(cfg, has_eval=cfg.eval_fraction > 0)

    # model, then data (the tokenizer decides the token ids)
    model, tokenizer, chat = load_base(cfg.model, cfg.chat_template)
    examples = build_examples(cfg, tokenizer, chat)
    train_set, eval_set = split_examples(examples, cfg.eval_fraction, cfg.seed)
    log.info("%d training and %d eval examples from %s", len(train_set), len(eval_set), cfg.data)
    n_train, n_eval = len(train_set), len(eval_set)
    if cfg.pack_length:
        train_set, eval_set = (pack_examples(part, cfg.pack_length, cfg.seed) for part in (train_set, eval_set))
        log.info("packed into %d training and %d eval rows of at most %d tokens", len(train_set),
                 len(eval_set), cfg.pack_length)
    if cfg.finetune == "lora":
        model = add_lora(model, cfg)

    # train (resuming from the newest checkpoint when there is one)
    trainer = ChoiceTrainer(model=model, args=args, data_collator=Collator(tokenizer.pad_token_id),
                            train_dataset=train_set, eval_dataset=eval_set or None,
                            processing_class=tokenizer, supervised_logits=cfg.supervised_logits)
    checkpoints = Path(args.output_dir)
    resume = get_last_checkpoint(str(checkpoints)) if cfg.resume and checkpoints.is_dir() else None
    if resume:
        log.warning("resuming from %s", resume)
    elif checkpoints.is_dir() and trainer.is_world_process_zero():
        import shutil

        if any(checkpoints.iterdir()):
            log.warning("%s: removing the earlier checkpoints in %s", "resume=false" if not cfg.resume
                        else "no complete checkpoint to resume from", checkpoints)
        shutil.rmtree(checkpoints)
    n_steps = planned_steps(cfg, len(train_set), args.world_size)
    rates = scheduled_learning_rates(args, n_steps)
    if rates is not None and not any(rate > 0 for rate in rates):
        log.warning("no effective update: the learning rate is 0 at all %d optimizer step(s) (warmup of "
                    "%d step(s)); the saved weights will equal the base model's. Raise max_steps or set "
                    "warmup_ratio=0", n_steps, args.get_warmup_steps(n_steps))
    start_step = json.loads((Path(resume) / "trainer_state.json").read_text())["global_step"] if resume else 0
    result = trainer.train(resume_from_checkpoint=resume)
    steps_run = trainer.state.global_step - start_step

    # eval: held-out loss (the benchmark itself is `ppt-bench eval --model OUT_DIR`); the train loss is
    # the mean over the steps run now (None when resuming found nothing left to run)
    metrics = {**result.metrics, "train_loss": result.training_loss if steps_run > 0 else None,
               "steps_run": steps_run, "num_input_tokens_seen": trainer.state.num_input_tokens_seen}
    if eval_set:
        metrics.update(trainer.evaluate())

    # save
    save_final(trainer, tokenizer, cfg, out_dir)
    if trainer.is_world_process_zero():
        write_loss_curve(trainer.state.log_history, out_dir)
        record = {"command": command, "config": asdict(cfg), "chat_template": chat,
                  "precision": resolved_precision(cfg.precision), "n_train": n_train, "n_eval": n_eval,
                  "rows_packed": len(train_set) if cfg.pack_length else None, "resumed_from": resume, **provenance()}
        write_json_atomic(out_dir / "train_config.json", record)
        write_json_atomic(out_dir / "metrics.json", metrics)  # last: marks the run finished
        prune_checkpoints(checkpoints, trainer.state.global_step, cfg)
    return metrics

