"""`ppt-hf`: lm-eval's HF backend, projecting onto the vocabulary only where continuations are scored.

lm-eval's `HFLM._loglikelihood_tokens` runs the model on a right-padded batch (B, T), takes
log_softmax over the whole vocabulary at every position, (B, T, V), then keeps the last `contlen`
positions of each row's real input. With ppt-bench's single-token labels that is one position in
hundreds: for Gemma 3 (V = 262,144) the (B, T, V) fp32 tensor is ~1 MB per token (a 24 GB machine
runs out of memory at batch 8 on the flight dialogues) and the vocabulary projection costs more than
the rest of the model.

`PositionHFLM` changes two hooks and nothing else:

    _model_call(inps)            (B, T) -> (B, W, V): logits at positions len_b - W .. len_b - 1 of
                                 each row (len_b = its real length), through the model's own
                                 `logits_to_keep` (a (B, W) index tensor), so any final soft-capping
                                 of the model still applies;
    _select_cont_toks(row, ...)  the last `contlen` of those W positions,

where W is the longest continuation of the requests being scored. Rows are right-padded with token 0,
so len_b = 1 + the index of the row's last non-zero token; that is exact when token 0 is a special
token (pad / end-of-text), which cannot end a real input. For any other tokenizer the class falls back
to lm-eval's full computation. The scores equal lm-eval's (checked in tests/harness/test_hf_backend.py).
"""

from __future__ import annotations

import lm_eval.models  # noqa: F401  (must run before register_model, see design.md)
import torch
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM

BACKEND = "ppt-hf"


@register_model(BACKEND)
class PositionHFLM(HFLM):
    """HFLM whose causal log-likelihoods compute logits only at the scored positions."""

    _window: int = 0  # W: the longest continuation of the current `_loglikelihood_tokens` call

    def _zero_is_padding(self) -> bool:
        tokenizer = getattr(self, "tokenizer", None)
        return tokenizer is not None and 0 in set(getattr(tokenizer, "all_special_ids", ()))

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, override_bs: int | None = None):
        use_window = self.backend == "causal" and self._zero_is_padding() and bool(requests)
        self._window = max(len(continuation) for _, _, continuation in requests) if use_window else 0
        try:
            return super()._loglikelihood_tokens(requests, disable_tqdm=disable_tqdm, override_bs=override_bs)
        finally:
            self._window = 0

    def _model_call(self, inps: torch.Tensor, attn_mask=None, labels=None) -> torch.Tensor:
        if not self._window or attn_mask is not None or labels is not None:
            return super()._model_call(inps, attn_mask=attn_mask, labels=labels)
        n_rows, width = inps.shape
        real = (inps != 0).flip(1).to(torch.int64)
        lengths = width - real.argmax(dim=1)                               # (B,) 1 + last non-zero index
        offsets = torch.arange(-self._window, 0, device=inps.device)       # (W,)
        positions = (lengths[:, None] + offsets[None, :]).clamp(min=0)     # (B, W)
        with torch.no_grad(), torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                                             enabled=self.mixed_precision_dtype is not None):
            return self.model(inps, logits_to_keep=positions).logits      # (B, W, V)

    def _select_cont_toks(self, logits: torch.Tensor, contlen: int | None = None, inplen: int | None = None):
        if not self._window:
            return super()._select_cont_toks(logits, contlen=contlen, inplen=inplen)
        return logits[self._window - contlen:self._window]
