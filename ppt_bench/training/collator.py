"""Batches of examples (`ppt_bench.training.examples`) as padded tensors."""

from __future__ import annotations

import torch

from ppt_bench.training.examples import IGNORE


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
