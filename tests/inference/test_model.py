"""The joint model end to end on a tiny BERT: training, save/load, windows, long documents."""
import json

import numpy as np
import pytest

from goftar.inference.document import read_jsonl
from goftar.inference.extractor import Extractor
from goftar.training.scoring import score
from goftar.training.train import save_checkpoint, selection_score
from tests.helpers import LONG


def _own_data_score(ex, seed_doc):
    pred = ex([{"id": seed_doc.id, "text": seed_doc.text}])
    return selection_score(score([seed_doc], pred))


def test_training_lowers_loss_and_beats_untrained(trained_tiny, untrained, seed_doc):
    history = json.loads((trained_tiny / "_history.json").read_text())
    assert history[0]["epoch"] == 0 and "loss" not in history[0]  # the starting model, scored on dev first
    losses = [h["loss"] for h in history if h.get("loss") is not None]
    assert losses[-1] < 0.7 * losses[0]
    fresh = Extractor.from_model(*untrained(seed=1))
    trained = Extractor.from_pretrained(trained_tiny)
    before, after = _own_data_score(fresh, seed_doc), _own_data_score(trained, seed_doc)
    assert after > before + 0.05, (before, after)
    assert (trained_tiny / "metrics.json").exists() and (trained_tiny / "README.md").exists()


def test_checkpoint_is_self_describing(trained_tiny):
    files = {p.name for p in trained_tiny.iterdir()}
    assert "model.safetensors" in files and "config.json" in files and "tokenizer.json" in files
    assert not any(f.endswith((".bin", ".pt", ".pkl")) for f in files)
    cfg = json.loads((trained_tiny / "config.json").read_text())
    for key in ("layer_labels", "relation_types", "allowed_pairs", "window_length", "window_stride", "normalizer", "goftar_version", "encoder", "schema"):
        assert key in cfg, key
    assert cfg["layer_labels"]["sector"][1] == "B-ECONOMY"


def test_save_load_gives_identical_predictions(trained_tiny, tmp_path, seed_doc):
    from transformers import AutoTokenizer

    from goftar.inference.modeling import GoftarModel

    model = GoftarModel.from_pretrained(trained_tiny).eval()
    tok = AutoTokenizer.from_pretrained(trained_tiny)
    a = Extractor.from_model(model, tok)([seed_doc.text])[0]
    save_checkpoint(model, tok, tmp_path / "copy")
    b = Extractor.from_pretrained(tmp_path / "copy")([seed_doc.text])[0]
    assert a.to_dict() == b.to_dict()


def test_api_one_result_per_input_in_order(trained_tiny, seed_doc):
    ex = Extractor.from_pretrained(trained_tiny)
    texts = [seed_doc.text, "", "   \n ", "Latin only text, no Persian at all.", {"id": "x", "text": "قالیباف گفت: سلام"}, 42]
    docs = ex(texts, batch_size=2)
    assert len(docs) == len(texts)
    assert [d.id for d in docs][4] == "x"
    assert docs[1].entities == [] and docs[1].error is None and docs[2].entities == []
    assert docs[3].error is None
    assert docs[5].error and "expected text as a string" in docs[5].error
    for d, t in zip(docs[:5], texts[:5]):
        text = t["text"] if isinstance(t, dict) else t
        assert d.text == text
        for e in d.entities:
            assert 0 <= e.start < e.end <= len(text)
            assert 0.0 <= e.score <= 1.0
            assert (e.category is not None) == (e.type == "SECTOR")
        ids = {e.id for e in d.entities}
        for r in d.relations:
            assert r.head in ids and r.tail in ids
    out = docs[0].to_dict()
    assert set(out) >= {"id", "text", "entities", "relations", "quotes"}


def test_long_and_huge_texts(trained_tiny):
    text = LONG.read_text(encoding="utf-8")
    assert len(text.split()) >= 3000
    ex = Extractor.from_pretrained(trained_tiny)
    enc = ex.encoder.encode(text)
    assert len(enc.windows) > 10
    huge = ("روابط اقتصادی و تجاری ایران. " * 4000)[:100_000]
    docs = ex([text, huge], batch_size=16)
    for d, t in zip(docs, [text, huge]):
        assert d.error is None and d.text == t
        for e in d.entities:
            assert t[e.start:e.end] == t[e.start:e.end].strip()
            assert e.end <= len(t)


def test_offsets_point_into_original_text_with_arabic_letters(trained_tiny, seed_doc):
    """Arabic ي/ك and harakat in the input: offsets still index the caller's string."""
    ex = Extractor.from_pretrained(trained_tiny)
    arabic = seed_doc.text.replace("ی", "ي").replace("ک", "ك")
    a, b = ex([seed_doc.text, arabic])
    assert [(e.type, e.start, e.end) for e in a.entities] == [(e.type, e.start, e.end) for e in b.entities]


def test_fresh_model_keeps_relation_and_pair_order_after_save(untrained, tmp_path):
    """config.json is written with sorted keys; the stored orders, not a re-derivation, must come back."""
    from goftar.inference.modeling import GoftarModel

    fresh, tok = untrained()
    # fresh models number relations and pairs in name order; a checkpoint made before that (or by hand)
    # may hold any order, and its weights follow it
    fresh.config.relation_types = ["said_by", "role_of", "topic"]
    fresh.config.allowed_pairs = fresh.config.allowed_pairs[::-1]
    save_checkpoint(fresh, tok, tmp_path / "fresh")
    back = GoftarModel.from_pretrained(tmp_path / "fresh")
    assert back.config.relation_types == fresh.config.relation_types
    assert back.config.allowed_pairs == fresh.config.allowed_pairs
    assert back.config.layer_labels == fresh.config.layer_labels  # a dict: heads are looked up by name


def test_label_bias_moves_a_layer_and_only_that_layer(trained_tiny, seed_doc):
    """decode.label_bias: a large O bias empties the role layer; a negative one fills it; other layers stay."""
    base = Extractor.from_pretrained(trained_tiny)([seed_doc.text])[0]
    none = Extractor.from_pretrained(trained_tiny, decode={"label_bias": {"role": {"O": 50.0}}})([seed_doc.text])[0]
    more = Extractor.from_pretrained(trained_tiny, decode={"label_bias": {"role": {"O": -50.0}}})([seed_doc.text])[0]
    roles = lambda d: [(e.start, e.end) for e in d.entities if e.type == "ROLE"]  # noqa: E731
    others = lambda d: [(e.type, e.start, e.end) for e in d.entities if e.type not in ("ROLE", "QUOTE")]  # noqa: E731
    assert roles(base) and roles(none) == []
    assert len(roles(more)) >= 1 and sum(e - s for s, e in roles(more)) > sum(e - s for s, e in roles(base))
    assert others(none) == others(base) == others(more)


@pytest.mark.parametrize("bias, message", [({"roles": {"O": 1.0}}, "names layer 'roles'"),
                                           ({"role": {"I-PER": 1.0}}, r"labels \['I-PER'\]")])
def test_label_bias_naming_what_the_model_lacks_is_refused(trained_tiny, bias, message):
    with pytest.raises(ValueError, match=message):
        Extractor.from_pretrained(trained_tiny, decode={"label_bias": bias})
