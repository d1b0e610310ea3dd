"""End to end through lm-eval with the real embedded model: results, samples, provenance, resume."""

import json

import pytest

from ppt_bench.errors import ConfigError
from ppt_bench.harness.evaluate import EvalConfig, evaluate


def test_smoke_task_with_smollm2_then_resume(tmp_path):
    config = EvalConfig(model="smollm2", tasks=("ppt_smoke",), out_dir=tmp_path / "run", limit=2)
    results = evaluate(config, progress=lambda message: None)
    acc = results["ppt_smoke"]["results"]["ppt_smoke"]["acc,none"]
    assert acc in (0.0, 0.5, 1.0)
    record = results["ppt_smoke"]["ppt_bench"]
    assert record["model"] == "smollm2" and record["model_args"]["gguf_file"].endswith(".gguf")
    assert {"lm_eval", "torch", "transformers"} <= set(record["package_versions"])
    lines = (tmp_path / "run/ppt_smoke/samples.jsonl").read_text().splitlines()
    samples = [json.loads(line) for line in lines]
    assert len(samples) == 2 and all(len(sample["resps"]) == 4 for sample in samples)

    messages = []
    again = evaluate(config, progress=messages.append)  # finished task: no model load, same numbers
    assert messages == [f"ppt_smoke: finished earlier, reusing {tmp_path / 'run/ppt_smoke/results.json'}"]
    assert again["ppt_smoke"]["results"] == results["ppt_smoke"]["results"]


def test_unknown_task_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="unknown task"):
        evaluate(EvalConfig(model="smollm2", tasks=("no_such_task",), out_dir=tmp_path),
                 progress=lambda message: None)
