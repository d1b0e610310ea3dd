"""`ppt-hf` scores exactly what lm-eval's `hf` scores, computing logits only at the scored positions."""

import pytest


@pytest.fixture(scope="module")
def backends(tiny_model_dir):
    import torch
    from lm_eval.models.huggingface import HFLM
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ppt_bench.harness.hf_backend import PositionHFLM

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = AutoModelForCausalLM.from_pretrained(tiny_model_dir, dtype=torch.float32)
    return (HFLM(pretrained=model, tokenizer=tokenizer, batch_size=3),
            PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3), model, tokenizer)


def _requests(tokenizer):
    """Contexts of different lengths (right-padding in a batch), shared contexts (lm-eval's one-token
    cache), and continuations of one and several tokens."""
    contexts = ["Question: which bag? Answer:", "A much longer story about marbles drawn from three bags, "
                "one after another, with a question at the end. Answer:", "Short. Answer:"]
    continuations = [" A", " B", " C", " 12", " the second bag"]
    return [((c, k), tokenizer(c).input_ids, tokenizer(k, add_special_tokens=False).input_ids)
            for c in contexts for k in continuations]


def test_same_scores_as_lm_eval_hf(backends):
    plain, positional, _, tokenizer = backends
    requests = _requests(tokenizer)
    assert max(len(r[2]) for r in requests) > 1
    expected = plain._loglikelihood_tokens(requests, disable_tqdm=True)
    got = positional._loglikelihood_tokens(requests, disable_tqdm=True)
    assert [g for _, g in got] == [g for _, g in expected]
    assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in expected], abs=1e-4)


def test_logits_are_computed_only_at_the_scored_positions(backends):
    _, positional, model, tokenizer = backends
    shapes = []
    hook = model.lm_head.register_forward_hook(lambda module, args, output: shapes.append(tuple(output.shape)))
    try:
        positional._loglikelihood_tokens(_requests(tokenizer), disable_tqdm=True)
    finally:
        hook.remove()
    window = max(len(r[2]) for r in _requests(tokenizer))
    assert shapes and all(shape[1] == window for shape in shapes)  # (B, W, V), never (B, T, V)
