"""`ppt-hf` scores exactly what lm-eval's `hf` scores: logits only at the scored positions, and
shared prefixes run once from a key/value cache."""

import pytest


def _load(folder, dtype):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    return (AutoModelForCausalLM.from_pretrained(folder, dtype=getattr(torch, dtype)),
            AutoTokenizer.from_pretrained(folder))


@pytest.fixture(scope="module")
def backends(tiny_model_dir):
    from lm_eval.models.huggingface import HFLM

    from ppt_bench.harness.hf_backend import PositionHFLM

    model, tokenizer = _load(tiny_model_dir, "float32")
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


CONVERSATION = ("You help a user choose flights. Each flight has a departure time, a duration, a number of "
                "stops and a price. In round 1 the user chose flight 2 out of three; in round 2 the user "
                "chose flight 1, the cheapest one with no stops; in round 3 the user chose flight 3. ")


def _shared_requests(tokenizer, n_conversations=3, n_queries=4):
    """bt-like requests: each conversation repeated for several queries, each query with single-token
    and multi-token choices (" 1" is two tokens, " ", "1", as in bt documents)."""
    requests = []
    for c in range(n_conversations):
        for q in range(n_queries):
            history = " ".join(f"In round {r + 4} the user chose flight {(r * c + c) % 3 + 1}." for r in range(8))
            context = f"{CONVERSATION}{history} Query {q}: flights {q}, {q + 1}, {q + 2}. The best is flight"
            for choice in (" A", " B", " C", " 1", " 2, then 3"):
                requests.append(((context, choice), tokenizer(context).input_ids,
                                 tokenizer(choice, add_special_tokens=False).input_ids))
    return requests


def _scores(lm, requests):
    return lm._loglikelihood_tokens(requests, disable_tqdm=True)


def test_same_scores_as_lm_eval_hf(backends):
    plain, positional, _, tokenizer = backends
    requests = _requests(tokenizer)
    assert max(len(r[2]) for r in requests) > 1
    expected, got = _scores(plain, requests), _scores(positional, requests)
    assert [g for _, g in got] == [g for _, g in expected]
    assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in expected], abs=1e-5)


def test_shared_prefixes_give_the_same_scores_as_lm_eval_hf(backends):
    plain, positional, _, tokenizer = backends
    requests = _shared_requests(tokenizer)
    expected, got = _scores(plain, requests), _scores(positional, requests)
    stats = positional.scoring_stats
    assert stats["shared_prefixes"] >= 3 and stats["positions"] < stats["plain_positions"] / 2
    assert [g for _, g in got] == [g for _, g in expected]
    assert max(abs(a - b) for (a, _), (b, _) in zip(got, expected, strict=True)) <= 1e-5


def test_one_forward_row_per_document_for_single_token_choices(tiny_model_dir):
    from ppt_bench.harness.hf_backend import PositionHFLM

    model, tokenizer = _load(tiny_model_dir, "float32")
    lm = PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=4)
    requests = [r for r in _shared_requests(tokenizer) if len(r[2]) == 1]  # 12 documents x A, B, C
    _scores(lm, requests)  # the once-per-model cache check runs here
    rows = []
    hook = model.register_forward_pre_hook(lambda module, args: rows.append(tuple(args[0].shape)))
    try:
        _scores(lm, requests)
    finally:
        hook.remove()
    prefix_rows = [shape for shape in rows if shape[0] == 1 and shape[1] > 40]
    suffix_rows = sum(shape[0] for shape in rows if shape not in prefix_rows)
    assert len(prefix_rows) == lm.scoring_stats["shared_prefixes"] == 3
    assert suffix_rows == 12 == len(requests) // 3


def test_a_cache_that_disagrees_falls_back_to_the_plain_path(tiny_model_dir, caplog):
    from ppt_bench.harness.hf_backend import PositionHFLM

    model, tokenizer = _load(tiny_model_dir, "float32")
    lm = PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3)
    honest = lm._prefix_cache
    lm._prefix_cache = lambda prefix: honest(tuple(reversed(prefix)))  # keys and values of another text
    requests = _shared_requests(tokenizer, n_conversations=2, n_queries=2)
    reference = _scores(PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3, prefix_reuse=False),
                        requests)
    with caplog.at_level("WARNING"):
        got = _scores(lm, requests)
    assert "does not reproduce plain scores" in caplog.text and lm._cache_checked is False
    assert [ll for ll, _ in got] == pytest.approx([ll for ll, _ in reference], abs=1e-6)


def test_a_model_that_cannot_take_a_cache_falls_back_to_the_plain_path(tiny_model_dir, caplog):
    from ppt_bench.harness.hf_backend import PositionHFLM

    model, tokenizer = _load(tiny_model_dir, "float32")
    lm = PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3)

    def no_cache(prefix):
        raise TypeError("forward() got an unexpected keyword argument 'cache'")

    lm._prefix_cache = no_cache
    requests = _shared_requests(tokenizer, n_conversations=1, n_queries=2)
    with caplog.at_level("WARNING"):
        got = _scores(lm, requests)
    assert "scoring from a cache failed: TypeError" in caplog.text
    assert len(got) == len(requests) and all(ll < 0 for ll, _ in got)


def test_bfloat16_shared_prefixes_match_bfloat16_plain_scores(tiny_model_dir):
    from ppt_bench.harness.hf_backend import BF16_LOGLIK_TOLERANCE, PositionHFLM

    model, tokenizer = _load(tiny_model_dir, "bfloat16")
    requests = _shared_requests(tokenizer)
    cached = _scores(PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3), requests)
    plain = _scores(PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=3, prefix_reuse=False), requests)
    assert max(abs(a - b) for (a, _), (b, _) in zip(cached, plain, strict=True)) <= BF16_LOGLIK_TOLERANCE


def test_logits_are_computed_only_at_the_scored_positions(backends):
    _, positional, model, tokenizer = backends
    shapes = []
    hook = model.lm_head.register_forward_hook(lambda module, args, output: shapes.append(tuple(output.shape)))
    try:
        positional._loglikelihood_tokens(_requests(tokenizer), disable_tqdm=True)
        positional._loglikelihood_tokens(_shared_requests(tokenizer), disable_tqdm=True)
    finally:
        hook.remove()
    window = max(len(r[2]) for r in _requests(tokenizer) + _shared_requests(tokenizer))  # W = 6 tokens
    assert shapes and all(shape[1] <= window for shape in shapes)  # (B, W, V), never (B, T, V)


@pytest.fixture(scope="module")
def smollm2_bt_requests():
    """SmolLM2 (float32) and the requests of 12 real `bt_flight` documents: one user, 6 rounds,
    2 held-out sets per round (each round's conversation shared by its 2 documents)."""
    from lm_eval.models.huggingface import HFLM

    from ppt_bench.harness.bt_documents import EVAL_SEED, documents, grid_option_texts
    from ppt_bench.harness.requests import task_requests
    from ppt_bench.models import load_model, resolve_model
    from ppt_bench.recommend import get_domain, simulate

    model, tokenizer = load_model(resolve_model("smollm2"))
    interactions = simulate(get_domain("flight"), n_users=1, n_heldout=2, seed=EVAL_SEED)
    texts = grid_option_texts(interactions)
    docs = [{**doc, "domain": "flight"} for doc in documents(interactions, texts, "bt_flight")]
    stock = HFLM(pretrained=model, tokenizer=tokenizer, batch_size=6)
    return stock, model, tokenizer, task_requests("bt_flight", stock, docs=docs)


def test_smollm2_on_real_bt_documents_scores_as_lm_eval_hf(smollm2_bt_requests):
    from ppt_bench.harness.hf_backend import PositionHFLM

    stock, model, tokenizer, requests = smollm2_bt_requests
    assert len(requests) == 12 * 3
    expected = [ll for ll, _ in stock.loglikelihood(requests, disable_tqdm=True)]
    lm = PositionHFLM(pretrained=model, tokenizer=tokenizer, batch_size=6)
    got = [ll for ll, _ in lm.loglikelihood(requests, disable_tqdm=True)]
    stats = lm.scoring_stats  # one input per document (the 3 choices " 1", " 2", " 3" share " ")
    assert stats["inputs"] == 12 and stats["shared_prefixes"] >= 3
    assert stats["positions"] < stats["plain_positions"] / 1.5
    # Within 1e-5 relative, |delta| <= 1e-5 max(1, |ll|): float32 over 30 layers rounds differently for
    # other matrix shapes; lm-eval's `hf` itself differs by 8.8e-6 between batch sizes 1 and 6 here.
    assert max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(got, expected, strict=True)) <= 1e-5


@pytest.mark.slow  # bfloat16 is emulated (several times slower than float32) on CPUs without AMX/avx512_bf16
def test_smollm2_bfloat16_shared_prefixes_within_the_stated_tolerance(smollm2_bt_requests):
    import copy

    import torch

    from ppt_bench.harness.hf_backend import BF16_LOGLIK_TOLERANCE, PositionHFLM

    _, model, tokenizer, requests = smollm2_bt_requests
    bf16 = copy.deepcopy(model).to(torch.bfloat16)
    cached = PositionHFLM(pretrained=bf16, tokenizer=tokenizer, batch_size=6).loglikelihood(requests, disable_tqdm=True)
    plain = PositionHFLM(pretrained=bf16, tokenizer=tokenizer, batch_size=6,
                         prefix_reuse=False).loglikelihood(requests, disable_tqdm=True)
    assert max(abs(a - b) for (a, _), (b, _) in zip(cached, plain, strict=True)) <= BF16_LOGLIK_TOLERANCE
