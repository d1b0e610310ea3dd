"""Fine-tune a causal LM on PPT soft labels or Bayesian-teaching conversations.

    ppt-bench train --recipe training/recipes/ppt_soft_label_cpu.yaml [key=value ...]

transformers' `Trainer` does the optimisation (AdamW, cosine schedule with warmup, gradient
accumulation, checkpoints, resumption, accelerate / DeepSpeed / FSDP); this package adds what is
specific to ppt-bench. Its modules, in the order a run (`run.main`) uses them:

    config.py     TrainConfig: defaults <- recipe YAML <- key=value (yaml only; no torch)
    examples.py   records -> token ids with labels or answer slots; split; packing (numpy; no torch)
    model.py      the base model as `ppt-bench eval` loads it, LoRA, precision
    collator.py   examples -> padded tensors
    losses.py     choice KL and token cross-entropy (pure), ChoiceTrainer
    artefacts.py  the saved model, loss curve, finished-run check, checkpoint pruning
    run.py        Trainer settings, the schedule check, main
    recipes.py    the commands that remake a trained model (data, recipe + overrides; no torch)

`from ppt_bench.training import main, load_config` works; the names are loaded on first use, so
importing the package (or `config` / `recipes`) does not import torch.

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

import importlib

# public name -> the module that defines it (PEP 562: imported on first access)
_EXPORTS = {
    "OBJECTIVES": "config", "SCENARIO_OBJECTIVES": "config", "CHOICES": "config", "TrainConfig": "config",
    "make_config": "config", "load_config": "config",
    "IGNORE": "examples", "read_jsonl": "examples", "adds_special_tokens": "examples", "encode": "examples",
    "choice_token_ids": "examples", "soft_label_of": "examples", "scenario_example": "examples",
    "assistant_spans": "examples", "conversation_example": "examples", "answer_slot": "examples",
    "build_examples": "examples", "split_examples": "examples", "pack_examples": "examples",
    "Collator": "collator",
    "choice_log_probs": "losses", "choice_kl": "losses", "next_token_mask": "losses",
    "token_cross_entropy": "losses", "ChoiceTrainer": "losses",
    "load_base": "model", "add_lora": "model", "resolved_precision": "model",
    "write_loss_curve": "artefacts", "save_final": "artefacts", "RERUN_NEUTRAL": "artefacts",
    "finished_run": "artefacts", "prune_checkpoints": "artefacts",
    "training_arguments": "run", "planned_steps": "run", "scheduled_learning_rates": "run", "main": "run",
    "RECIPES_DIR": "recipes", "data_command": "recipes", "train_command": "recipes", "training_commands": "recipes",
}
__all__ = sorted(_EXPORTS)


def __getattr__(name: str):
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{module}"), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *_EXPORTS})
