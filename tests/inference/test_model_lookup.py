"""Where the default model is found: a path, then GOFTAR_MODEL, then the user cache, then the checkout's models/."""
import pytest

from goftar.inference import extractor as X
from goftar.inference.errors import ModelError


def _fake(folder):
    folder.mkdir(parents=True)
    (folder / "config.json").write_text("{}", encoding="utf-8")
    return folder


def test_lookup_order(tmp_path, monkeypatch):
    monkeypatch.delenv("GOFTAR_MODEL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(X, "DEFAULT_MODEL", _fake(tmp_path / "checkout" / "models" / "goftar-fa-small"))
    assert X.find_model() == X.DEFAULT_MODEL
    cached = _fake(tmp_path / "cache" / "goftar" / "models" / "goftar-fa-small")
    assert X.find_model() == cached
    env = _fake(tmp_path / "env-model")
    monkeypatch.setenv("GOFTAR_MODEL", str(env))
    assert X.find_model() == env
    assert X.find_model(tmp_path / "given") == tmp_path / "given"


def test_no_model_anywhere_names_every_place(tmp_path, monkeypatch):
    monkeypatch.delenv("GOFTAR_MODEL", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(X, "DEFAULT_MODEL", tmp_path / "nowhere")
    with pytest.raises(ModelError, match="no default model found") as e:
        X.find_model()
    assert str(tmp_path / "cache") in str(e.value) and "GOFTAR_MODEL" in str(e.value)


def test_returned_entities_carry_their_text(trained_tiny, seed_doc):
    from goftar.inference.extractor import Extractor

    doc = Extractor.from_pretrained(trained_tiny)([seed_doc.text])[0]
    assert doc.entities
    assert all(e.text == doc.text[e.start:e.end] for e in doc.entities)


def test_package_declares_types():
    from pathlib import Path

    import goftar.inference

    assert (Path(goftar.inference.__file__).parent / "py.typed").exists()
