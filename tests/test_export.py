"""`ppt-bench models export`: a GGUF model becomes a plain Hugging Face folder with the same scores.

The tests export a tiny Llama written here as a Q8_0 GGUF with a part of SmolLM2's tokenizer and its
chat template (copied from the embedded file), so they take the same path as the embedded models: GGUF
loading, de-quantisation, the quantisation flag that blocks `save_pretrained`.
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from ppt_bench.errors import ModelError

HIDDEN, FFN, HEADS, KV_HEADS, LAYERS, VOCAB = 64, 128, 2, 1, 2, 1024
PROMPT = [{"role": "user", "content": "The capital of France is"}]


def _write_tiny_gguf(path) -> None:
    """A 2-layer, width-64 Llama with random Q8_0 weights, the first VOCAB tokens of SmolLM2's tokenizer
    and its chat template."""
    import gguf

    from ppt_bench.models import resolve_model

    source = gguf.GGUFReader(resolve_model("smollm2").gguf_file)
    writer = gguf.GGUFWriter(str(path), "llama")
    # SmolLM2's merge i makes token FIRST_MERGED + i: its first VOCAB tokens and their merges are a
    # whole byte-level BPE tokenizer (the special tokens of the chat template are ids 1 and 2).
    first_merged = len(source.fields["tokenizer.ggml.tokens"].contents()) - len(
        source.fields["tokenizer.ggml.merges"].contents())
    for key, field in source.fields.items():
        if key.startswith("tokenizer."):
            value, kind = field.contents(), field.types[0]
            if key == "tokenizer.ggml.merges":
                value = value[:VOCAB - first_merged]
            elif key in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type"):
                value = value[:VOCAB]
            if kind == gguf.GGUFValueType.ARRAY:
                writer.add_key_value(key, value, kind, sub_type=field.types[-1])
            else:
                writer.add_key_value(key, value, kind)
    vocab = VOCAB
    head_dim = HIDDEN // HEADS
    writer.add_context_length(512)
    writer.add_embedding_length(HIDDEN)
    writer.add_block_count(LAYERS)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(KV_HEADS)
    writer.add_rope_dimension_count(head_dim)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)

    rng = np.random.default_rng(0)

    def add(name, rows, cols=None):
        if cols is None:
            writer.add_tensor(name, (1 + 0.1 * rng.standard_normal(rows)).astype(np.float32))
            return
        weights = (0.2 * rng.standard_normal((rows, cols))).astype(np.float32)
        kind = gguf.GGMLQuantizationType.Q8_0
        writer.add_tensor(name, gguf.quants.quantize(weights, kind), raw_dtype=kind)

    add("token_embd.weight", vocab, HIDDEN)
    for i in range(LAYERS):
        add(f"blk.{i}.attn_norm.weight", HIDDEN)
        add(f"blk.{i}.attn_q.weight", HIDDEN, HIDDEN)
        add(f"blk.{i}.attn_k.weight", KV_HEADS * head_dim, HIDDEN)
        add(f"blk.{i}.attn_v.weight", KV_HEADS * head_dim, HIDDEN)
        add(f"blk.{i}.attn_output.weight", HIDDEN, HIDDEN)
        add(f"blk.{i}.ffn_norm.weight", HIDDEN)
        add(f"blk.{i}.ffn_gate.weight", FFN, HIDDEN)
        add(f"blk.{i}.ffn_up.weight", FFN, HIDDEN)
        add(f"blk.{i}.ffn_down.weight", HIDDEN, FFN)
    add("output_norm.weight", HIDDEN)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()


@pytest.fixture(scope="module")
def tiny_gguf(tmp_path_factory):
    path = tmp_path_factory.mktemp("tiny-gguf") / "tiny.gguf"
    _write_tiny_gguf(path)
    return path


def _logits(model, tokenizer):
    import torch

    ids = tokenizer.apply_chat_template(PROMPT, add_generation_prompt=True, return_tensors="pt", return_dict=True)
    with torch.no_grad():
        return model(input_ids=ids["input_ids"]).logits


def test_export_reloads_with_the_same_logits_tokenizer_and_chat_template(tiny_gguf, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    from ppt_bench.export import export_model
    from ppt_bench.models import load_model, resolve_model

    record = export_model(str(tiny_gguf), tmp_path / "plain", dtype="float32")
    folder = tmp_path / "plain"
    assert record.dtype == "float32" and record.chat_template and record.gguf_file == str(tiny_gguf)
    assert json.loads((folder / "export.json").read_text())["source"] == str(tiny_gguf)
    config = json.loads((folder / "config.json").read_text())
    assert "quantization_config" not in config and config["num_hidden_layers"] == LAYERS
    assert (folder / "model.safetensors").is_file() and not list(folder.glob("*.gguf"))

    source_model, source_tokenizer = load_model(resolve_model(str(tiny_gguf)))
    model = AutoModelForCausalLM.from_pretrained(folder).eval()
    tokenizer = AutoTokenizer.from_pretrained(folder)
    assert model.dtype == torch.float32
    assert tokenizer.chat_template == source_tokenizer.chat_template
    text = "Paris is 3 km away, with probability 0.25."
    assert tokenizer(text)["input_ids"] == source_tokenizer(text)["input_ids"]
    torch.testing.assert_close(_logits(model, tokenizer), _logits(source_model, source_tokenizer), rtol=0, atol=0)
    # The folder is an ordinary local model for ppt-bench too: no GGUF, the chat template found.
    resolved = resolve_model(str(folder))
    assert resolved.gguf_file is None and resolved.chat_template is True


def test_bfloat16_export_holds_bfloat16_weights_close_to_the_source(tiny_gguf, tmp_path):
    import torch
    from transformers import AutoModelForCausalLM

    from ppt_bench.export import export_model
    from ppt_bench.models import load_model, resolve_model

    export_model(str(tiny_gguf), tmp_path / "bf16", dtype="bfloat16")
    model = AutoModelForCausalLM.from_pretrained(tmp_path / "bf16", dtype="auto").eval()
    assert model.dtype == torch.bfloat16
    source_model, _ = load_model(resolve_model(str(tiny_gguf)))
    source, exported = source_model.model.embed_tokens.weight, model.model.embed_tokens.weight
    assert exported.dtype == torch.bfloat16
    torch.testing.assert_close(exported.float(), source, rtol=1e-2, atol=1e-3)  # bfloat16 keeps 8 mantissa bits
    assert not torch.equal(exported.float(), source)


def test_an_earlier_export_is_replaced_and_another_folder_is_refused(tiny_gguf, tmp_path):
    from ppt_bench.export import export_model

    folder = tmp_path / "plain"
    export_model(str(tiny_gguf), folder, dtype="float32")
    (folder / "stale.txt").write_text("from an earlier export")
    export_model(str(tiny_gguf), folder, dtype="bfloat16")
    assert not (folder / "stale.txt").exists()
    assert json.loads((folder / "export.json").read_text())["dtype"] == "bfloat16"
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no staging folder left

    other = tmp_path / "other"
    other.mkdir()
    (other / "notes.txt").write_text("keep me")
    with pytest.raises(ModelError, match="holds no earlier export"):
        export_model(str(tiny_gguf), other)
    assert (other / "notes.txt").read_text() == "keep me"
    with pytest.raises(ModelError, match="dtype must be one of"):
        export_model(str(tiny_gguf), tmp_path / "x", dtype="int8")


def test_cli_export(tiny_gguf, tmp_path, capsys):
    from ppt_bench.cli import main

    assert main(["models", "export", str(tiny_gguf), "--out", str(tmp_path / "cli"), "--dtype", "float32"]) == 0
    assert "in float32, with a chat template" in capsys.readouterr().out
    assert json.loads((tmp_path / "cli" / "export.json").read_text())["dtype"] == "float32"
