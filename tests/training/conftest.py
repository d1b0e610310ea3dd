"""A tiny Llama and a word-level tokenizer with a ChatML template, built here (no hub access), plus
small PPT-scenario and teaching-conversation files in the formats the trainer reads."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ppt_bench import training

CHAT_TEMPLATE = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
                 "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")
SPECIAL = ["<unk>", "<pad>", "<|im_start|>", "<|im_end|>"]


@pytest.fixture(scope="session")
def train_module():
    return training


def scenario_records(n: int = 16) -> list[dict]:
    """PPT scenario records (the fields `Scenario.to_json` writes), K = 3 or 4 choices. The soft labels
    vary but all peak on choice B, and 3 outcomes in 4 are B, so a few steps can lower either loss."""
    records = []
    for i in range(n):
        k = 3 + i % 2
        heads = i % 5
        weights = [0.5 + 8.0 * (j == 1) + 0.5 * j * (i % 3) for j in range(k)]
        soft = [w / sum(weights) for w in weights]
        labels = list("ABCD"[:k])
        options = "\n".join(f"{label}. bucket {j}" for j, label in enumerate(labels))
        prompt = (f"A coin lands heads {heads} times in {4 + i % 3} flips.\nWhich bucket holds its rate?\n"
                  f"{options}\nAnswer with the letter of the most likely option.")
        records.append({"id": f"t-{i}", "motif": "toy", "split": "train", "skin": "coins", "prompt": prompt,
                        "choices": [f"bucket {j}" for j in range(k)], "labels": labels, "soft_label": soft,
                        "outcome": 1 if i % 4 else i % k, "program": {}, "seed": i, "query_value": 0.5})
    return records


def dialogue_records(n_users: int = 6, teacher: str = "bayesian") -> list[dict]:
    """Teaching conversations from the real generator (flight, 5 rounds)."""
    from ppt_bench.recommend import get_domain, simulate, teaching_records

    interactions = simulate(get_domain("flight"), n_users=n_users, n_heldout=0, n_rounds=5, seed=0)
    return [json.loads(json.dumps(r)) for r in teaching_records(interactions, teacher)]


def _words(records: list[dict]) -> set[str]:
    texts = [r["prompt"] for r in records if "prompt" in r]
    texts += [m["content"] for r in records for m in r.get("messages", [])]
    texts += ["system user assistant Answer : A B C D 1 2 3 4 5 6 7 8 9"]
    return {w for text in texts for w in re.findall(r"\w+|[^\w\s]+", text)}


def build_tokenizer(words: set[str]):
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    vocab = {token: i for i, token in enumerate(SPECIAL + sorted(words))}
    backend = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>",
                                        bos_token="<|im_start|>", eos_token="<|im_end|>")
    tokenizer.chat_template = CHAT_TEMPLATE
    return tokenizer


@pytest.fixture(scope="session")
def data_files(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("train-data")
    files = {"scenarios": scenario_records(), "bayesian": dialogue_records(),
             "oracle": dialogue_records(teacher="oracle")}
    paths = {}
    for name, records in files.items():
        paths[name] = folder / f"{name}.jsonl"
        paths[name].write_text("".join(json.dumps(r) + "\n" for r in records))
    return paths


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory, data_files) -> Path:
    """A 2-layer, 32-wide Llama and its tokenizer saved as a plain HF folder."""
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    records = [json.loads(line) for path in data_files.values() for line in path.read_text().splitlines()]
    tokenizer = build_tokenizer(_words(records))
    torch.manual_seed(0)
    config = LlamaConfig(vocab_size=len(tokenizer), hidden_size=32, intermediate_size=64,
                         num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                         max_position_embeddings=2048, tie_word_embeddings=True,
                         pad_token_id=tokenizer.pad_token_id, bos_token_id=tokenizer.bos_token_id,
                         eos_token_id=tokenizer.eos_token_id)
    folder = tmp_path_factory.mktemp("tiny-llama")
    LlamaForCausalLM(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder
