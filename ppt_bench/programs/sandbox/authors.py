"""Authors: callables `(prompt, seed) -> text`. A scripted one (tests), a local transformers model, or an
OpenAI-compatible server (e.g. vLLM) reached with urllib only.

`seed` is the request's own seed (a function of the run seed and the request index), so a reply does
not depend on which requests came before it: the shards of a `--shard i/n` run ask what the
unsharded run asks.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Sequence

from ppt_bench.programs.sandbox.limits import MAX_REPLY_CHARS, Rejected

MAX_RESPONSE_BYTES = 8 * MAX_REPLY_CHARS  # the JSON around a reply, escapes included


def scripted_author(replies: Sequence[str]):
    """Reply `replies[seed % len(replies)]` (in turn for consecutive seeds): for tests and demos."""

    def author(prompt: str, seed: int) -> str:
        return replies[seed % len(replies)]

    return author


def openai_author(url: str, model: str = "default", max_tokens: int = 600, timeout: float = 120.0):
    """POST {url}/v1/chat/completions (OpenAI-compatible, with the request's `seed`) and return the
    message text.

    At most MAX_RESPONSE_BYTES of the response are read (a longer one is rejected as `too-long`), and
    `timeout` bounds each socket operation.
    """
    endpoint = url.rstrip("/") + ("/chat/completions" if url.rstrip("/").endswith("/v1") else "/v1/chat/completions")

    def author(prompt: str, seed: int) -> str:
        body = json.dumps({"model": model, "messages": [{"role": "user", "content": prompt}],
                           "max_tokens": max_tokens, "temperature": 0.8, "seed": seed}).encode()
        request = urllib.request.Request(endpoint, data=body, headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(request, timeout=timeout) as response:
            raw = response.read(MAX_RESPONSE_BYTES + 1)
        if len(raw) > MAX_RESPONSE_BYTES:
            raise Rejected("too-long", f"server response over {MAX_RESPONSE_BYTES} bytes")
        return json.loads(raw)["choices"][0]["message"]["content"]

    return author


def transformers_author(name: str, max_new_tokens: int = 400):
    """A local model by any name `ppt_bench.models.resolve_model` accepts (imported lazily); each reply
    is sampled with torch seeded by the request's seed."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ppt_bench.models import resolve_model

    spec = resolve_model(name)
    kwargs = {"gguf_file": spec.gguf_file} if getattr(spec, "gguf_file", None) else {}
    tokenizer = AutoTokenizer.from_pretrained(spec.pretrained, **kwargs)
    model = AutoModelForCausalLM.from_pretrained(spec.pretrained, torch_dtype=torch.float32, **kwargs)

    def author(prompt: str, seed: int) -> str:
        if getattr(tokenizer, "chat_template", None):
            text = tokenizer.apply_chat_template([{"role": "user", "content": prompt}], tokenize=False,
                                                 add_generation_prompt=True)
        else:
            text = prompt
        inputs = tokenizer(text, return_tensors="pt")
        torch.manual_seed(seed)
        with torch.no_grad():
            output = model.generate(**inputs, max_new_tokens=max_new_tokens, do_sample=True, temperature=0.8)
        return tokenizer.decode(output[0, inputs["input_ids"].shape[1]:], skip_special_tokens=True)

    return author


def resolve_author(spec: str):
    """'http(s)://...' -> OpenAI-compatible server (model name after '#', optional); else a local model."""
    if spec.startswith(("http://", "https://")):
        url, _, model = spec.partition("#")
        return openai_author(url, model or "default")
    return transformers_author(spec)
