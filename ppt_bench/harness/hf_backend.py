"""`ppt-hf`: lm-eval's HF backend with the same scores for a fraction of the work.

Two savings over lm-eval's `HFLM._loglikelihood_tokens`, which runs every request's whole context on a
right-padded batch (B, T) and takes log_softmax over the vocabulary at every position, (B, T, V):

1. **Shared prefixes are computed once.** Requests are reduced to distinct model inputs
   x = (context + continuation)[:-1] (one input for all single-token choices of a document, as in
   lm-eval's one-token cache), grouped by `prefix_plan.plan_prefix_groups` (a bt document's whole
   conversation, the instructions every document starts with), and each group's prefix x[:L] is run
   once with a key/value cache; the members' suffixes x[L:] are then scored in batches of `batch_size`
   from copies of that cache (right-padded: a padded position comes after every real one, so the
   causal mask keeps it out of every scored position). Inputs without a long enough shared prefix are
   scored the plain way, L = 0.
2. **Logits only where scored.** The model projects onto the vocabulary only at each input's last
   `window` positions (`logits_to_keep`), and log_softmax runs in float32 whatever the weights' dtype.

The scores equal lm-eval's `hf` within float32 rounding (tests/harness/test_hf_backend.py: a tiny
model and SmolLM2 on real bt documents). A model whose cache gives different scores (checked once per
run on the first shared prefix, against the plain computation) and lm-eval's `batch_size=auto` use
the plain path, which keeps saving 2 (`_model_call`, `_select_cont_toks`).
"""

from __future__ import annotations

import logging

import lm_eval.models  # noqa: F401  (must run before register_model, see design.md)
import torch
import torch.nn.functional as F
from lm_eval.api.registry import register_model
from lm_eval.models.huggingface import HFLM
from tqdm import tqdm

from ppt_bench.harness.prefix_plan import MIN_SHARED_PREFIX, PrefixGroup, plan_prefix_groups

BACKEND = "ppt-hf"
log = logging.getLogger(__name__)

# Largest |log-likelihood difference| between cached-prefix and plain scoring accepted by the
# once-per-run check: float32 rounding is ~1e-6; bfloat16 changes the order of a few roundings.
CACHE_CHECK_TOLERANCE = {torch.float32: 1e-3, torch.float64: 1e-6, torch.bfloat16: 0.25, torch.float16: 0.1}
# Stated agreement of shared-prefix and plain scores in bfloat16 (|delta log-likelihood| per request):
# the cache holds keys and values rounded to bfloat16 once, where the plain path recomputes them in a
# batch of another shape; measured on SmolLM2 and bt documents by benchmarks/bench_scoring.py.
BF16_LOGLIK_TOLERANCE = 0.1


@register_model(BACKEND)
class PositionHFLM(HFLM):
    """HFLM that scores shared prefixes once and computes logits only at the scored positions.

    Extra model args (lm-eval `--model_args`): `prefix_reuse` (default True), `min_shared_prefix`
    (tokens, default 32).
    """

    _window: int = 0  # W: the longest continuation of the current plain `_loglikelihood_tokens` call

    def __init__(self, *args, prefix_reuse: bool = True, min_shared_prefix: int = MIN_SHARED_PREFIX, **kwargs):
        super().__init__(*args, **kwargs)
        self.prefix_reuse = _as_bool(prefix_reuse)
        self.min_shared_prefix = int(min_shared_prefix)
        self._cache_checked: bool | None = None  # None: not yet checked on this model
        # Work of the last shared-prefix call: requests, distinct inputs, shared prefixes, and token
        # positions run through the model (`positions`) against scoring each distinct input plainly.
        self.scoring_stats: dict[str, int] = {}
        if self.softmax_dtype is None:
            self.softmax_dtype = torch.float32  # log-probabilities of bfloat16 logits, kept in float32

    # --- the shared-prefix path -------------------------------------------------------------------

    def _loglikelihood_tokens(self, requests, disable_tqdm: bool = False, override_bs: int | None = None):
        if not requests:
            return []
        batch_size = override_bs or self.batch_size
        if self.prefix_reuse and self.backend == "causal" and batch_size != "auto" and self._cache_checked is not False:
            try:
                return self._prefix_loglikelihoods(requests, int(batch_size), disable_tqdm)
            except _CacheMismatch as mismatch:
                log.warning("%s: the key/value cache of this model does not reproduce plain scores (%s); "
                            "scoring without shared prefixes", BACKEND, mismatch)
        return self._plain_loglikelihoods(requests, disable_tqdm, override_bs)

    def _prefix_loglikelihoods(self, requests, batch_size: int, disable_tqdm: bool) -> list[tuple[float, bool]]:
        inputs: dict[tuple[int, ...], int] = {}
        windows: list[int] = []
        users: list[list[int]] = []  # users[i]: the requests scored from input i
        for index, (_, context, continuation) in enumerate(requests):
            if not context or not continuation or len(continuation) > self.max_length:
                raise ValueError(f"request {index}: empty context or continuation, or a continuation longer "
                                 f"than the model's {self.max_length} tokens")
            tokens = tuple((context + continuation)[-(self.max_length + 1):][:-1])
            slot = inputs.setdefault(tokens, len(inputs))
            if slot == len(windows):
                windows.append(0)
                users.append([])
            windows[slot] = max(windows[slot], len(continuation))
            users[slot].append(index)
        sequences = list(inputs)
        groups = plan_prefix_groups(sequences, windows, self.min_shared_prefix)
        plain = [i for group in groups if not group.prefix_len for i in group.members]
        shared = [group for group in groups if group.prefix_len]

        if shared and self._cache_checked is None:
            self._check_cache(sequences, windows, shared[0])
        self.scoring_stats = {
            "requests": len(requests), "inputs": len(sequences), "shared_prefixes": len(shared),
            "positions": sum(g.prefix_len + sum(len(sequences[i]) - g.prefix_len for i in g.members)
                             for g in groups),
            "plain_positions": sum(len(x) for x in sequences),
        }
        answers: list[tuple[float, bool] | None] = [None] * len(requests)
        progress = tqdm(total=len(requests), disable=disable_tqdm or self.rank != 0,
                        desc=f"Scoring ({len(shared)} shared prefixes)")

        def record(slot: int, logprobs: torch.Tensor) -> None:
            """logprobs (window_slot, V): log-probabilities at input `slot`'s last positions."""
            for index in users[slot]:
                request, _, continuation = requests[index]
                answers[index] = _answer(logprobs, continuation)
                if request is not None:
                    self.cache_hook.add_partial("loglikelihood", request, answers[index])
                progress.update(1)

        for group in shared:
            self._score_group(sequences, windows, group, batch_size, record)
        self._score_group(sequences, windows, PrefixGroup(0, tuple(plain)), batch_size, record)
        progress.close()
        return answers

    def _score_group(self, sequences, windows, group: PrefixGroup, batch_size: int, record) -> None:
        """Score every member of `group` from its prefix (L = 0: plainly), longest suffix first."""
        if not group.members:
            return
        length = group.prefix_len
        prefix_cache = self._prefix_cache(sequences[group.members[0]][:length]) if length else None
        members = sorted(group.members, key=lambda i: -len(sequences[i]))
        for start in range(0, len(members), batch_size):
            batch = members[start:start + batch_size]
            suffixes = [sequences[i][length:] for i in batch]
            logprobs = self._suffix_logprobs(suffixes, [windows[i] for i in batch], prefix_cache)
            for slot, row in zip(batch, logprobs, strict=True):
                record(slot, row)

    @torch.no_grad()
    def _prefix_cache(self, prefix: tuple[int, ...]):
        """The model's key/value cache after `prefix` (one row)."""
        from transformers import DynamicCache

        ids = torch.tensor([prefix], dtype=torch.long, device=self.device)
        with self._autocast():
            output = self.model(ids, cache=DynamicCache(config=self.model.config), use_cache=True, logits_to_keep=1)
        return output.cache

    @torch.no_grad()
    def _suffix_logprobs(self, suffixes, windows, prefix_cache) -> list[torch.Tensor]:
        """Log-probabilities (window_b, V) at each suffix's last window_b positions, after the prefix.

        suffixes: B token sequences, right-padded with token 0 into (B, S); the scored positions
        len_b - W .. len_b - 1 of row b (W = max window) come back through `logits_to_keep`.
        """
        from transformers import DynamicCache

        n_rows, width = len(suffixes), max(len(s) for s in suffixes)
        ids = torch.zeros((n_rows, width), dtype=torch.long)
        for row, suffix in enumerate(suffixes):
            ids[row, :len(suffix)] = torch.tensor(suffix, dtype=torch.long)
        window = max(windows)
        lengths = torch.tensor([len(s) for s in suffixes])
        positions = (lengths[:, None] + torch.arange(-window, 0)[None, :]).clamp(min=0)  # (B, W)
        kwargs = {}
        if prefix_cache is not None:
            layers = [(keys.expand(n_rows, -1, -1, -1), values.expand(n_rows, -1, -1, -1), *rest)
                      for keys, values, *rest in prefix_cache]
            kwargs = {"cache": DynamicCache(layers, config=self.model.config), "use_cache": True}
        with self._autocast():
            logits = self.model(ids.to(self.device), logits_to_keep=positions.to(self.device), **kwargs).logits
        logprobs = F.log_softmax(logits, dim=-1, dtype=self.softmax_dtype)  # (B, W, V)
        return [logprobs[row, window - w:] for row, w in enumerate(windows)]

    def _check_cache(self, sequences, windows, group: PrefixGroup) -> None:
        """Compare cached-prefix scores of (up to) two members of `group` with the plain computation."""
        members = list(group.members[:2])
        suffixes = [sequences[i][group.prefix_len:] for i in members]
        member_windows = [windows[i] for i in members]
        prefix = sequences[members[0]][:group.prefix_len]
        try:
            cached = self._suffix_logprobs(suffixes, member_windows, self._prefix_cache(prefix))
        except (TypeError, ValueError, AttributeError, NotImplementedError, RuntimeError) as error:
            self._cache_checked = False
            raise _CacheMismatch(f"scoring from a cache failed: {type(error).__name__}: {error}") from error
        plain = self._suffix_logprobs([sequences[i] for i in members], member_windows, None)
        difference = max(float((a - b).abs().max()) for a, b in zip(cached, plain, strict=True))
        tolerance = CACHE_CHECK_TOLERANCE.get(self.model.dtype, 1e-3)
        self._cache_checked = difference <= tolerance
        if not self._cache_checked:
            raise _CacheMismatch(f"max |delta log p| {difference:.3g} > {tolerance:g}")
        log.info("%s: shared-prefix scores match plain scores (max |delta log p| %.2g)", BACKEND, difference)

    def _autocast(self):
        return torch.autocast(device_type=self.device.type, dtype=self.mixed_precision_dtype,
                              enabled=self.mixed_precision_dtype is not None)

    # --- the plain path: lm-eval's loop, logits only at the scored positions ------------------------

    def _zero_is_padding(self) -> bool:
        tokenizer = getattr(self, "tokenizer", None)
        return tokenizer is not None and 0 in set(getattr(tokenizer, "all_special_ids", ()))

    def _plain_loglikelihoods(self, requests, disable_tqdm: bool, override_bs: int | None):
        use_window = self.backend == "causal" and self._zero_is_padding()
        self._window = max(len(continuation) for _, _, continuation in requests) if use_window else 0
        try:
            return super()._loglikelihood_tokens(requests, disable_tqdm=disable_tqdm, override_bs=override_bs)
        finally:
            self._window = 0

    def _model_call(self, inps: torch.Tensor, attn_mask=None, labels=None) -> torch.Tensor:
        """(B, T) -> (B, W, V): logits at positions len_b - W .. len_b - 1 of each row.

        Rows are right-padded with token 0, so len_b = 1 + the index of the row's last non-zero token;
        exact when token 0 is a special token (pad / end-of-text), which cannot end a real input.
        """
        if not self._window or attn_mask is not None or labels is not None:
            return super()._model_call(inps, attn_mask=attn_mask, labels=labels)
        n_rows, width = inps.shape
        real = (inps != 0).flip(1).to(torch.int64)
        lengths = width - real.argmax(dim=1)                               # (B,) 1 + last non-zero index
        offsets = torch.arange(-self._window, 0, device=inps.device)       # (W,)
        positions = (lengths[:, None] + offsets[None, :]).clamp(min=0)     # (B, W)
        with torch.no_grad(), self._autocast():
            return self.model(inps, logits_to_keep=positions).logits      # (B, W, V)

    def _select_cont_toks(self, logits: torch.Tensor, contlen: int | None = None, inplen: int | None = None):
        if not self._window:
            return super()._select_cont_toks(logits, contlen=contlen, inplen=inplen)
        return logits[self._window - contlen:self._window]


class _CacheMismatch(RuntimeError):
    """The model's key/value cache does not reproduce its plain scores."""


def _answer(logprobs: torch.Tensor, continuation: list[int]) -> tuple[float, bool]:
    """(sum of log p(continuation), whether it is the greedy continuation) from logprobs (>= C, V)."""
    scored = logprobs[logprobs.shape[0] - len(continuation):]                      # (C, V)
    tokens = torch.tensor(continuation, dtype=torch.long, device=scored.device)
    greedy = bool((scored.argmax(dim=-1) == tokens).all())
    return float(scored.gather(1, tokens[:, None]).sum()), greedy


def _as_bool(value) -> bool:
    """lm-eval passes `--model_args` values as strings."""
    if isinstance(value, str):
        return value.strip().lower() not in ("0", "false", "no", "off")
    return bool(value)
