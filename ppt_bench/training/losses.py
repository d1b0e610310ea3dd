"""The losses (pure functions of tensors) and the Trainer that takes them at the answer slots.

    choice KL:  KL(q || p) = sum_k q_k (log q_k - log p_k),  p = softmax of the logits at the K choice tokens
    sft:        sum_i -log softmax(z_i)[y_i] / (supervised tokens), on assistant tokens only
"""

from __future__ import annotations

import torch
from transformers import Trainer

from ppt_bench.training.examples import IGNORE


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
