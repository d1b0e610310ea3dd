"""`--backend`: which lm-eval model scores a language model, and what it is given."""

from __future__ import annotations

import pytest

from ppt_bench.errors import ConfigError
from ppt_bench.harness.evaluate import EvalConfig, _lm_eval_model


def _config(model, backend, tmp_path, **kwargs):
    return EvalConfig(model=model, tasks=("ppt_smoke",), out_dir=tmp_path, backend=backend, dtype="float32",
                      **kwargs)


def test_each_backend_gets_the_folder_dtype_and_chat_template(tiny_model_dir, tmp_path):
    expected = {"pretrained": str(tiny_model_dir), "dtype": "float32"}
    for backend in ("ppt-hf", "hf", "vllm"):
        name, args, chat = _lm_eval_model(_config(str(tiny_model_dir), backend, tmp_path))
        assert (name, args, chat) == (backend, expected, True)
    name, args, chat = _lm_eval_model(_config(str(tiny_model_dir), "vllm", tmp_path, apply_chat_template=False))
    assert (name, chat) == ("vllm", False)


def test_vllm_refuses_a_gguf_model_and_names_the_export_command(tmp_path):
    with pytest.raises(ConfigError, match="ppt-bench models export smollm2 --out DIR"):
        _lm_eval_model(_config("smollm2", "vllm", tmp_path))
    name, args, _ = _lm_eval_model(_config("smollm2", "ppt-hf", tmp_path))
    assert name == "ppt-hf" and args["gguf_file"].endswith(".gguf")


def test_an_unknown_backend_is_refused(tmp_path):
    with pytest.raises(ConfigError, match="--backend must be one of ppt-hf, hf, vllm"):
        _config("smollm2", "sglang", tmp_path)


def test_the_cli_passes_the_backend_on(tmp_path):
    from ppt_bench.cli import build_parser
    from ppt_bench.commands.eval import model_options

    args = build_parser().parse_args(["eval", "--tasks", "ppt_smoke", "--backend", "vllm"])
    assert model_options(args)["backend"] == "vllm"
    assert model_options(build_parser().parse_args(["eval", "--tasks", "ppt_smoke"]))["backend"] == "ppt-hf"


def test_model_args_are_parsed_like_lm_eval_and_reach_the_backend(tiny_model_dir, tmp_path):
    import argparse

    from ppt_bench.cli import build_parser
    from ppt_bench.commands.eval import model_options, parse_model_args

    assert parse_model_args("tensor_parallel_size=4,enforce_eager=True,gpu_memory_utilization=0.9,x=a") == {
        "tensor_parallel_size": 4, "enforce_eager": True, "gpu_memory_utilization": 0.9, "x": "a"}
    with pytest.raises(argparse.ArgumentTypeError, match="KEY=VALUE"):
        parse_model_args("max_model_len")
    args = build_parser().parse_args(["eval", "--tasks", "ppt_smoke", "--model", str(tiny_model_dir),
                                      "--backend", "vllm", "--model-args", "max_model_len=4096"])
    options = {**model_options(args), "dtype": "float32"}
    config = EvalConfig(model=args.model, tasks=("ppt_smoke",), out_dir=tmp_path, **options)
    assert _lm_eval_model(config)[1]["max_model_len"] == 4096
