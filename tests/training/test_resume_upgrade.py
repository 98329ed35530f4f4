"""Resumable training, the dev check of the starting model, and upgrading a 0.1 checkpoint."""
import json

import numpy as np
import pytest
import torch

from goftar.inference.extractor import Extractor
from goftar.training.config import TrainConfig


def _cfg(tiny_encoder, seed_path, out, **train):
    return TrainConfig.from_dict({
        "model": {"encoder": str(tiny_encoder), "window_length": 64, "window_stride": 48},
        "data": {"train": [{"path": str(seed_path), "repeat": 3}], "dev": [{"path": str(seed_path)}], "zwnj_augment": 0.5},
        "train": {"output_dir": str(out), "epochs": 2, "batch_windows": 8, "lr": 3e-3, "head_lr": 3e-3,
                  "warmup_ratio": 0.2, "progress": False, "seed": 3, "checkpoint_minutes": 1e-9, **train},
    })


def _weights(folder):
    from safetensors.torch import load_file

    out = {}
    for f in sorted(folder.glob("*.safetensors")):
        out.update(load_file(str(f)))
    return out


def test_resume_after_an_interruption_equals_an_uninterrupted_run(tiny_encoder, seed_path, tmp_path, monkeypatch):
    from goftar.training import train as T

    T.train(_cfg(tiny_encoder, seed_path, tmp_path / "a"), log=lambda s: None)
    calls = {"n": 0}
    real = T._loss

    def interrupted(*a, **k):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*a, **k)

    monkeypatch.setattr(T, "_loss", interrupted)
    with pytest.raises(KeyboardInterrupt):
        T.train(_cfg(tiny_encoder, seed_path, tmp_path / "b"), log=lambda s: None)
    state = json.loads((tmp_path / "b" / "last" / "trainer_state.json").read_text())
    assert state["step"] == 3
    monkeypatch.setattr(T, "_loss", real)
    T.train(_cfg(tiny_encoder, seed_path, tmp_path / "b"), log=lambda s: None, resume_from=tmp_path / "b")
    wa, wb = _weights(tmp_path / "a" / "last"), _weights(tmp_path / "b" / "last")
    assert wa.keys() == wb.keys()
    for k in wa:
        assert torch.allclose(wa[k], wb[k], atol=1e-5), k
    sa = json.loads((tmp_path / "a" / "last" / "trainer_state.json").read_text())
    sb = json.loads((tmp_path / "b" / "last" / "trainer_state.json").read_text())
    assert sa["step"] == sb["step"] and sa["epoch"] == sb["epoch"] == 2


def test_resume_of_a_folder_without_checkpoint_is_a_clear_error(tmp_path):
    from goftar.training.train import resume_dir

    with pytest.raises(FileNotFoundError, match="not a resumable checkpoint"):
        resume_dir(tmp_path)


def test_kept_best_is_never_worse_than_the_start(trained_tiny, seed_path, tmp_path):
    from goftar.training.train import train

    cfg = TrainConfig.from_dict({
        "model": {"init_from": str(trained_tiny)},
        "data": {"train": [{"path": str(seed_path)}], "dev": [{"path": str(seed_path)}], "zwnj_augment": 0.0},
        "train": {"output_dir": str(tmp_path / "r"), "epochs": 1, "lr": 5.0, "head_lr": 5.0, "warmup_ratio": 0.0,
                  "progress": False, "grad_clip": 0.0},
    })
    m = train(cfg, log=lambda s: None)
    start = m["history"][0]
    assert start["epoch"] == 0 and m["best_dev_selection"] >= start["dev_selection"] > 0
    assert m["history"][1]["dev_selection"] < start["dev_selection"]  # the destroyed model was not kept


def test_upgrading_a_legacy_checkpoint_keeps_its_predictions(untrained, seed_doc):
    from goftar.training.upgrade import upgrade

    old, tok = untrained()
    old.eval()
    assert not old.config.cue_features and len(old.config.relation_features) == 7
    with torch.no_grad():  # make the relation head matter
        for p in old.relation_head.parameters():
            p.normal_(0, 0.5)
    new = upgrade(old, True, None, log=lambda s: None).eval()
    assert new.config.cue_features and len(new.config.relation_features) == 10
    a = Extractor.from_model(old, tok)([seed_doc.text])[0]
    b = Extractor.from_model(new, tok)([seed_doc.text])[0]
    assert [(e.start, e.end, e.type) for e in a.entities] == [(e.start, e.end, e.type) for e in b.entities]
    assert [(r.type, r.head, r.tail) for r in a.relations] == [(r.type, r.head, r.tail) for r in b.relations]
    assert np.allclose([r.score for r in a.relations], [r.score for r in b.relations], atol=1e-5)
