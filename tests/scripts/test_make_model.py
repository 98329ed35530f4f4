"""`make model` rebuilds the shipped model's settings: every config field that shapes the weights or the
decisions comes out of the Makefile's train commands and their configs exactly as models/goftar-fa-small has it.

The weights are not retrained here (that takes a GPU hour and a CPU hour); the chain of checkpoints is
built with the real loading code (training.train.load_model, which upgrades and applies the configs) on a
tiny encoder, and its config.json is compared with the shipped one."""
import json
import re
import shlex
from pathlib import Path

import pytest

from goftar.training.config import load_config
from goftar.training.train import load_model, portable_path, save_checkpoint

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = ROOT / "models" / "goftar-fa-small" / "config.json"

# fields of config.json that decide the architecture, the labels or a decision; encoder-specific
# fields (the encoder's own config, vocabulary) differ by construction on the tiny encoder
DECIDING = ("allowed_pairs", "classifier_dropout", "cue_features", "cue_tags", "decode", "feature_dim",
            "layer_labels", "normalizer", "relation_features", "relation_hidden", "relation_threshold",
            "relation_types", "schema", "single_relation_threshold", "window_length", "window_stride")


def make_model_train_commands() -> list[list[str]]:
    text = (ROOT / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^model:[^\n]*\n((?:\t[^\n]*\n)+)", text, re.M)
    assert recipe, "Makefile has no `model` target"
    cmds = [shlex.split(line.strip()) for line in recipe.group(1).splitlines()]
    return [c[c.index("train") + 1:] for c in cmds if "train" in c and c[0].endswith("goftar")]


def test_make_model_rebuilds_the_shipped_settings(tiny_encoder, tmp_path, monkeypatch):
    monkeypatch.setenv("GOFTAR_DATASETS", str(tmp_path / "datasets"))  # the configs name it; nothing is read
    monkeypatch.chdir(ROOT)
    stages = make_model_train_commands()
    assert len(stages) == 2, stages
    previous = None
    for i, args in enumerate(stages):
        cfg = load_config(args[args.index("--config") + 1])
        if "--init-from" in args:
            assert previous is not None, "a stage continues from a checkpoint no earlier stage wrote"
            cfg.model.init_from = str(previous)
        else:
            assert not cfg.model.init_from or i > 0
            cfg.model.init_from = None
            cfg.model.encoder = str(tiny_encoder)
        model, tok = load_model(cfg)
        previous = tmp_path / f"stage{i + 1}"
        save_checkpoint(model, tok, previous, cfg)
    built = json.loads((previous / "config.json").read_text(encoding="utf-8"))
    shipped = json.loads(SHIPPED.read_text(encoding="utf-8"))
    differ = {k: (built.get(k), shipped.get(k)) for k in DECIDING if built.get(k) != shipped.get(k)}
    assert not differ, differ
    assert built["training"]["train_sources"] == shipped["training"]["train_sources"]


def test_checkpoints_record_portable_source_paths(tmp_path, monkeypatch):
    data = tmp_path / "datasets"
    monkeypatch.setenv("GOFTAR_DATASETS", str(data))
    monkeypatch.chdir(tmp_path)
    assert portable_path(data / "peyma" / "train.txt") == "${GOFTAR_DATASETS}/peyma/train.txt"
    assert portable_path(tmp_path / "mine" / "a.jsonl") == "mine/a.jsonl"
    assert portable_path("data/train.jsonl") == "data/train.jsonl"
    elsewhere = Path("/opt/corpora/x.jsonl")
    assert portable_path(elsewhere) == str(elsewhere)


@pytest.mark.parametrize("path", [SHIPPED, ROOT / "models" / "goftar-fa-small" / "README.md"])
def test_the_shipped_model_names_no_machine_path(path):
    text = path.read_text(encoding="utf-8")
    assert "/work/" not in text and "../shared" not in text
