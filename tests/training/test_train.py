"""The trainer on a tiny in-test Llama: config handling, data encoding, the losses, training, resumption."""

from __future__ import annotations

import csv
import json
import shutil

import numpy as np
import pytest
import torch

from ppt_bench.errors import ConfigError, DataError


def run_config(train_module, model_dir, data, out_dir, **overrides):
    """A fast CPU config for the tiny model (full fine-tuning unless told otherwise)."""
    values = {"model": str(model_dir), "data": str(data), "out_dir": str(out_dir), "finetune": "full",
              "batch_size": 4, "learning_rate": 3e-3, "warmup_ratio": 0.0, "max_steps": 24,
              "logging_steps": 1, "save_steps": 1000, "eval_fraction": 0.0, "progress": False,
              "lr_scheduler": "constant_with_warmup", **overrides}
    return train_module.make_config(values)


def logged_losses(out_dir) -> list[float]:
    with (out_dir / "loss.csv").open() as handle:
        return [float(row["loss"]) for row in csv.DictReader(handle) if row["loss"]]


# ---------------------------------------------------------------------------------------------- config

def test_config_layers_defaults_recipe_and_overrides(train_module, tmp_path):
    recipe = tmp_path / "r.yaml"
    recipe.write_text("objective: sft\ndata: d.jsonl\nlearning_rate: 2e-6\nbatch_size: 4\n"
                      "lora_target_modules: [q_proj, v_proj]\n")
    cfg = train_module.load_config(recipe, ["batch_size=2", "chat_template=true"])
    assert (cfg.objective, cfg.learning_rate, cfg.batch_size, cfg.chat_template) == ("sft", 2e-6, 2, True)
    assert cfg.lora_target_modules == ("q_proj", "v_proj")
    assert cfg.seed == train_module.TrainConfig().seed  # untouched keys keep the code's defaults


@pytest.mark.parametrize("overrides, message", [
    (["data=x", "learning_rat=1"], "unknown config key"),
    (["data=x", "batch_size=two"], "batch_size must be int"),
    (["data=x", "objective=dpo"], "objective must be one of"),
    (["data=x", "batch_size=0"], "at least 1"),
    (["batch_size"], "key=value"),
    ([], "no training data"),
])
def test_bad_configs_are_config_errors(train_module, overrides, message):
    with pytest.raises(ConfigError, match=message):
        train_module.load_config(None, overrides)


def test_missing_data_names_the_command_that_makes_it(train_module, tmp_path):
    cfg = train_module.make_config({"data": str(tmp_path / "none.jsonl"),
                                    "data_command": "ppt-bench generate scenarios --n 8 --out X"})
    with pytest.raises(DataError, match="ppt-bench generate scenarios --n 8 --out X"):
        train_module.main(cfg)


# ------------------------------------------------------------------------------------------------ data

@pytest.fixture(scope="module")
def tiny(train_module, tiny_model_dir):
    """(model, tokenizer, chat) loaded the way the trainer loads them."""
    return train_module.load_base(str(tiny_model_dir), None)


@pytest.mark.parametrize("chat", [False, True])
def test_choice_tokens_follow_lm_eval(train_module, tiny, chat):
    _, tokenizer, _ = tiny
    from ppt_bench.harness import prompting

    context = prompting.model_context("Which bucket?", "Answer:", tokenizer, chat)
    context_ids, label_ids = train_module.choice_token_ids(tokenizer, context, [" A", " B", " C"])
    assert tokenizer.convert_ids_to_tokens(label_ids) == ["A", "B", "C"]
    # lm-eval's rule: continuation tokens = encode(context + continuation) minus encode(context)
    assert tokenizer.encode(context + " B", add_special_tokens=False) == context_ids + [label_ids[1]]


def test_sft_labels_only_assistant_tokens(train_module, tiny, data_files):
    _, tokenizer, _ = tiny
    record = json.loads(data_files["bayesian"].read_text().splitlines()[0])
    example = train_module.conversation_example(record, tokenizer, "sft", max_length=4096)
    labelled = [t for t, label in zip(example["input_ids"], example["labels"], strict=True)
                if label != train_module.IGNORE]
    expected = []
    for message in record["messages"]:
        if message["role"] == "assistant":
            expected += tokenizer.encode(message["content"], add_special_tokens=False)
            expected.append(tokenizer.convert_tokens_to_ids("<|im_end|>"))
    assert labelled == expected
    assert all(label in (train_module.IGNORE, token)
               for token, label in zip(example["input_ids"], example["labels"], strict=True))


def test_soft_teaching_slots_sit_before_each_option_number(train_module, tiny, data_files):
    _, tokenizer, _ = tiny
    record = json.loads(data_files["bayesian"].read_text().splitlines()[1])
    example = train_module.conversation_example(record, tokenizer, "soft_teaching", max_length=4096)
    answers = [m["content"] for m in record["messages"] if m["role"] == "assistant"]
    assert len(example["slots"]) == len(answers) == len(record["soft_labels"])
    for (position, ids, target), answer, soft in zip(example["slots"], answers, record["soft_labels"],
                                                     strict=True):
        assert tokenizer.convert_ids_to_tokens(ids) == ["1", "2", "3"]
        said = tokenizer.convert_ids_to_tokens(example["input_ids"][position + 1])
        assert f"Flight {said}." in answer
        assert tokenizer.decode(example["input_ids"][position - 4:position + 1]) == "The best option is Flight"
        np.testing.assert_allclose(target, soft)


def test_soft_label_loss_is_kl_to_renormalised_choice_probs(train_module, tiny, data_files):
    """The trainer's loss on a batch of two scenarios (K = 3 and 4, so padding is exercised) equals
    mean_i KL(q_i || p_i) computed by hand from the full next-token logits."""
    model, tokenizer, chat = tiny
    records = [json.loads(line) for line in data_files["scenarios"].read_text().splitlines()[:2]]
    examples = [train_module.scenario_example(r, tokenizer, chat, "soft_label", "outcome", 4096)
                for r in records]
    batch = train_module.Collator(tokenizer.pad_token_id)(examples)
    trainer = train_module.ChoiceTrainer.__new__(train_module.ChoiceTrainer)  # only compute_loss is used
    with torch.no_grad():
        loss = trainer.compute_loss(model, batch).item()
        expected = []
        for example, record in zip(examples, records, strict=True):
            logits = model(torch.tensor([example["input_ids"]])).logits[0, -1].double().numpy()
            position, ids, _ = example["slots"][0]
            assert position == len(example["input_ids"]) - 1
            z = logits[ids]
            log_p = z - np.log(np.exp(z - z.max()).sum()) - z.max()
            q = np.asarray(record["soft_label"])
            expected.append(float(np.sum(q * (np.log(q) - log_p))))
    assert loss == pytest.approx(np.mean(expected), rel=1e-5)


def test_padded_slots_keep_gradients_finite(train_module, tiny, data_files):
    """Conversations cut at different lengths have different numbers of answer slots in one batch."""
    model, tokenizer, _ = tiny
    record = json.loads(data_files["bayesian"].read_text().splitlines()[0])
    examples = [train_module.conversation_example(record, tokenizer, "soft_teaching", n) for n in (4096, 300)]
    assert len(examples[0]["slots"]) > len(examples[1]["slots"]) > 0
    batch = train_module.Collator(tokenizer.pad_token_id)(examples)
    trainer = train_module.ChoiceTrainer.__new__(train_module.ChoiceTrainer)
    model.zero_grad()
    loss = trainer.compute_loss(model, batch)
    loss.backward()
    assert torch.isfinite(loss)
    assert all(torch.isfinite(p.grad).all() for p in model.parameters() if p.grad is not None)
    model.zero_grad()


def test_hard_label_targets(train_module, tiny, data_files):
    _, tokenizer, chat = tiny
    record = json.loads(data_files["scenarios"].read_text().splitlines()[3])
    outcome = train_module.scenario_example(record, tokenizer, chat, "hard_label", "outcome", 4096)
    mode = train_module.scenario_example(record, tokenizer, chat, "hard_label", "mode", 4096)
    assert np.argmax(outcome["slots"][0][2]) == record["outcome"]
    assert np.argmax(mode["slots"][0][2]) == np.argmax(record["soft_label"])
    assert sum(outcome["slots"][0][2]) == sum(mode["slots"][0][2]) == 1.0


# -------------------------------------------------------------------------------------------- training

@pytest.mark.parametrize("objective, data", [
    ("soft_label", "scenarios"), ("hard_label", "scenarios"), ("sft", "bayesian"),
    ("soft_teaching", "bayesian")])
def test_each_objective_lowers_its_loss(train_module, tiny_model_dir, data_files, tmp_path, objective, data):
    out = tmp_path / "out"
    # sft falls fastest (from ~log V): fewer steps keep the test quick
    # shuffled batches: length-grouped ones of 4 noisy hard labels make the per-epoch means too noisy
    cfg = run_config(train_module, tiny_model_dir, data_files[data], out, objective=objective,
                     eval_fraction=0.25, max_steps=12 if objective == "sft" else 24, group_by_length=False)
    metrics = train_module.main(cfg)
    losses = logged_losses(out)
    assert len(losses) == cfg.max_steps
    # 12 (scenarios) or 4 (conversations) training examples in batches of 4: compare whole epochs
    per_epoch = 3 if data == "scenarios" else 1
    assert np.mean(losses[-per_epoch:]) < 0.7 * np.mean(losses[:per_epoch]), losses
    assert "eval_loss" in metrics and (out / "loss.png").stat().st_size > 0
    record = json.loads((out / "train_config.json").read_text())
    assert record["config"]["objective"] == objective and "git_sha" in record


def test_output_folder_loads_with_resolve_model(train_module, tiny_model_dir, data_files, tmp_path):
    from ppt_bench.models import load_model, resolve_model

    out = tmp_path / "out"
    train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], out, max_steps=2))
    resolved = resolve_model(str(out))
    assert resolved.gguf_file is None and resolved.pretrained == str(out.resolve())
    model, tokenizer = load_model(resolved)
    assert tokenizer.chat_template is not None and model.config.vocab_size == len(tokenizer)


def test_checkpoint_resumes_to_the_same_state(train_module, tiny_model_dir, data_files, tmp_path):
    """8 steps in one go == 4 steps, a checkpoint, then 4 more from it (params and the next losses);
    16 examples in batches of 4 cross an epoch boundary; the checkpoint is at the end of epoch 1."""
    from safetensors.torch import load_file

    straight, resumed = tmp_path / "straight", tmp_path / "resumed"
    settings = {"max_steps": 8, "save_steps": 4, "save_total_limit": 5, "keep_checkpoints": 5,
                "lr_scheduler": "cosine", "warmup_ratio": 0.25}
    train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], straight,
                                 **settings))
    shutil.copytree(straight / "checkpoints" / "checkpoint-4", resumed / "checkpoints" / "checkpoint-4")
    metrics = train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], resumed,
                                           **settings))
    record = json.loads((resumed / "train_config.json").read_text())
    assert record["resumed_from"].endswith("checkpoint-4")
    assert metrics["steps_run"] == 4  # train_loss is the mean over these 4, not over all 8
    assert metrics["train_loss"] == pytest.approx(np.mean(logged_losses(resumed)[-4:]), rel=1e-4)
    assert logged_losses(resumed)[-4:] == pytest.approx(logged_losses(straight)[-4:], rel=1e-5)
    first, second = load_file(straight / "model.safetensors"), load_file(resumed / "model.safetensors")
    assert first.keys() == second.keys()
    for name in first:
        torch.testing.assert_close(first[name], second[name], rtol=1e-5, atol=1e-6)


def test_lora_trains_and_saves_merged_weights(train_module, tiny_model_dir, data_files, tmp_path):
    pytest.importorskip("peft")
    from safetensors.torch import load_file

    out = tmp_path / "out"
    train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], out,
                                 finetune="lora", lora_r=4, lora_alpha=8, lora_dropout=0.0,
                                 learning_rate=1e-2, max_steps=12))
    losses = logged_losses(out)
    assert np.mean(losses[-3:]) < np.mean(losses[:3]), losses
    assert not (out / "adapter_config.json").exists()
    base, tuned = load_file(tiny_model_dir / "model.safetensors"), load_file(out / "model.safetensors")
    assert base.keys() == tuned.keys()  # merged: plain Llama weights, no lora_A / lora_B
    assert any(not torch.equal(base[name], tuned[name]) for name in base)


def test_cli_trains_and_reports_config_errors(tiny_model_dir, data_files, tmp_path, capsys):
    from ppt_bench.cli import main

    recipe = tmp_path / "recipe.yaml"
    recipe.write_text(f"objective: soft_label\nmodel: {tiny_model_dir}\ndata: {data_files['scenarios']}\n"
                      "finetune: full\nmax_steps: 2\nbatch_size: 4\nprogress: false\n")
    assert main(["train", "--recipe", str(recipe), "no_such_key=1"]) == 2
    assert "unknown config key(s) no_such_key" in capsys.readouterr().err
    out = tmp_path / "out"
    assert main(["train", "--recipe", str(recipe), f"out_dir={out}"]) == 0
    assert (out / "config.json").is_file() and (out / "metrics.json").is_file()


def test_every_shipped_recipe_is_a_valid_config(train_module):
    from ppt_bench.training.recipes import RECIPES_DIR

    recipes = sorted(RECIPES_DIR.glob("*.yaml"))
    assert len(recipes) >= 10
    for recipe in recipes:
        cfg = train_module.load_config(recipe)
        assert cfg.data_command.split()[:3] in (["ppt-bench", "generate", "scenarios"],
                                               ["ppt-bench", "generate", "dialogues"]), recipe
        assert cfg.data_command.split()[-1] == cfg.data, recipe  # the command writes the recipe's file
        if recipe.stem.endswith("_gpu"):
            assert cfg.batch_size * cfg.grad_accum * 8 == 128, recipe  # on the 8 GPUs of the configs


# ---------------------------------------------------------------------------------------------- reruns

def test_a_run_without_effective_update_warns(train_module, tiny_model_dir, data_files, tmp_path, caplog):
    """max_steps=1 with warmup: the learning rate is 0 at the only step."""
    import logging

    cfg = run_config(train_module, tiny_model_dir, data_files["scenarios"], tmp_path / "out", max_steps=1,
                     warmup_ratio=0.1, lr_scheduler="cosine")
    with caplog.at_level(logging.WARNING, logger="ppt_bench.training"):
        train_module.main(cfg)
    assert any("no effective update" in r.getMessage() for r in caplog.records)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="ppt_bench.training"):
        train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], tmp_path / "b",
                                     max_steps=2, warmup_ratio=0.1, lr_scheduler="cosine"))
    assert not any("no effective update" in r.getMessage() for r in caplog.records)


def test_a_finished_run_is_not_trained_again(train_module, tiny_model_dir, data_files, tmp_path):
    out = tmp_path / "out"
    cfg = run_config(train_module, tiny_model_dir, data_files["scenarios"], out, max_steps=3)
    first = train_module.main(cfg)
    assert first["steps_run"] == 3 and first["train_loss"] > 0
    weights, losses = (out / "model.safetensors").read_bytes(), logged_losses(out)
    again = train_module.main(cfg)
    assert again["already_finished"] and again["train_loss"] == first["train_loss"]
    assert (out / "model.safetensors").read_bytes() == weights and logged_losses(out) == losses
    with pytest.raises(ConfigError, match=r"finished run with other settings \(max_steps\)"):
        train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], out, max_steps=4))
    fresh = train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], out,
                                         max_steps=4, resume=False))
    assert fresh["steps_run"] == 4 and "already_finished" not in fresh and len(logged_losses(out)) == 4


def test_checkpoints_are_bounded(train_module, tiny_model_dir, data_files, tmp_path):
    short, long = tmp_path / "short", tmp_path / "long"
    train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], short, max_steps=2))
    assert not (short / "checkpoints").exists()  # shorter than save_steps: the final model is enough
    train_module.main(run_config(train_module, tiny_model_dir, data_files["scenarios"], long, max_steps=6,
                                 save_steps=2, save_total_limit=5))
    assert [p.name for p in (long / "checkpoints").iterdir()] == ["checkpoint-6"]


# ------------------------------------------------------------------------------------- speed and memory

def _loss_and_grads(trainer, model, batch, num_items):
    model.zero_grad()
    loss = trainer.compute_loss(model, dict(batch), num_items_in_batch=num_items)
    loss.backward()
    grads = {name: p.grad.detach().clone() for name, p in model.named_parameters() if p.grad is not None}
    model.zero_grad()
    return loss.item(), grads


@pytest.mark.parametrize("objective, data", [
    ("sft", "bayesian"), ("soft_teaching", "bayesian"), ("soft_label", "scenarios"), ("hard_label", "scenarios")])
def test_supervised_logits_give_the_plain_loss_and_gradients(train_module, tiny, data_files, tmp_path,
                                                             objective, data):
    """In float32 the LM head at the supervised positions only gives the loss and gradients of the
    plain path (logits at every position), with and without the Trainer's token count, on a padded
    batch; and it really runs the head at fewer positions."""
    from transformers import TrainingArguments

    model, tokenizer, chat = tiny
    records = [json.loads(line) for line in data_files[data].read_text().splitlines()[:3]]
    if data == "scenarios":
        examples = [train_module.scenario_example(r, tokenizer, chat, objective, "outcome", 4096) for r in records]
    else:  # three lengths: padding, and conversations cut inside their turns
        examples = [train_module.conversation_example(r, tokenizer, objective, n)
                    for r, n in zip(records, (4096, 300, 180), strict=True)]
    batch = train_module.Collator(tokenizer.pad_token_id)(examples)
    args = TrainingArguments(output_dir=str(tmp_path), report_to="none", use_cpu=True)
    trainer = train_module.ChoiceTrainer(model=model, args=args, processing_class=tokenizer)
    head_rows = []
    hook = model.get_output_embeddings().register_forward_hook(
        lambda _module, inputs, _output: head_rows.append(inputs[0].shape[:-1].numel()))
    counts = [None]
    if objective == "sft":
        counts.append(int((batch["labels"][:, 1:] != train_module.IGNORE).sum()))
    try:
        for num_items in counts:
            trainer.supervised_logits = False
            plain_loss, plain_grads = _loss_and_grads(trainer, model, batch, num_items)
            trainer.supervised_logits = True
            loss, grads = _loss_and_grads(trainer, model, batch, num_items)
            assert loss == pytest.approx(plain_loss, rel=1e-6)
            assert grads.keys() == plain_grads.keys()
            for name, grad in grads.items():
                torch.testing.assert_close(grad, plain_grads[name], rtol=1e-5, atol=1e-7, msg=name)
    finally:
        hook.remove()
    n_positions = batch["input_ids"].numel()
    assert head_rows[0::2] == [n_positions] * len(counts)  # plain: every position
    assert all(rows < n_positions / 2 for rows in head_rows[1::2])


def test_precision_auto_is_bf16_only_where_it_is_native(train_module):
    resolve = train_module.resolved_precision
    assert resolve("auto", cuda=False, flags=frozenset({"avx2", "avx512f"})) == "fp32"
    assert resolve("auto", cuda=False, flags=frozenset({"amx_bf16"})) == "bf16"
    assert resolve("auto", cuda=False, flags=frozenset({"avx512_bf16"})) == "bf16"
    assert resolve("auto", cuda=True, flags=frozenset()) == "bf16"
    assert resolve("fp16", cuda=False, flags=frozenset()) == "fp16"
    assert resolve("fp32", cuda=True, flags=frozenset({"amx_bf16"})) == "fp32"


def test_length_grouped_batches_are_the_default(train_module, tiny_model_dir, data_files, tmp_path):
    cfg = run_config(train_module, tiny_model_dir, data_files["scenarios"], tmp_path)
    assert train_module.training_arguments(cfg, has_eval=False).train_sampling_strategy == "group_by_length"
    plain = run_config(train_module, tiny_model_dir, data_files["scenarios"], tmp_path, group_by_length=False)
    assert train_module.training_arguments(plain, has_eval=False).train_sampling_strategy == "random"


def test_packed_rows_give_each_slot_its_unpacked_loss(train_module, tiny, data_files, tmp_path):
    """Scenarios packed into rows (positions restart per example, so attention stays inside each one):
    the loss of a packed batch is the mean of the slots' unpacked losses, and no slot is lost."""
    model, tokenizer, chat = tiny
    records = [json.loads(line) for line in data_files["scenarios"].read_text().splitlines()[:7]]
    examples = [train_module.scenario_example(r, tokenizer, chat, "soft_label", "outcome", 4096) for r in records]
    longest = max(len(e["input_ids"]) for e in examples)
    rows = train_module.pack_examples(examples, 3 * longest, seed=0)
    assert 1 < len(rows) < len(examples)
    assert sum(len(r["slots"]) for r in rows) == len(examples)
    assert all(len(r["input_ids"]) <= 3 * longest for r in rows)
    trainer = train_module.ChoiceTrainer.__new__(train_module.ChoiceTrainer)
    collate = train_module.Collator(tokenizer.pad_token_id)
    with torch.no_grad():
        packed = trainer.compute_loss(model, collate(rows)).item()
        unpacked = trainer.compute_loss(model, collate(examples)).item()
        one_row = collate(rows[:1])
        assert "position_ids" in one_row
        crossed = trainer.compute_loss(model, {k: v for k, v in one_row.items() if k != "position_ids"}).item()
        alone = trainer.compute_loss(model, one_row).item()
    assert packed == pytest.approx(unpacked, rel=1e-5)
    assert crossed != pytest.approx(alone, rel=1e-3)  # without the restarting positions examples would mix


def test_pack_length_needs_a_scenario_objective(train_module, tiny_model_dir, data_files, tmp_path):
    with pytest.raises(ConfigError, match="pack_length"):
        run_config(train_module, tiny_model_dir, data_files["bayesian"], tmp_path, objective="sft", pack_length=512)
    cfg = run_config(train_module, tiny_model_dir, data_files["scenarios"], tmp_path / "out", pack_length=400,
                     max_steps=3)
    train_module.main(cfg)
    record = json.loads((tmp_path / "out" / "train_config.json").read_text())
    assert record["n_train"] == 16 and 0 < record["rows_packed"] < 16
