"""The model to train: the base model as `ppt-bench eval` loads it, LoRA adapters, the precision."""

from __future__ import annotations

import torch

from ppt_bench.errors import ConfigError
from ppt_bench.training.config import TrainConfig


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
