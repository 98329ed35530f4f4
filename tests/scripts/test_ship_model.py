"""scripts/ship_model.py (the last step of `make model`) on the tiny trained model."""
from __future__ import annotations

import json

import numpy as np

from tests.helpers import lexicon_without, load_script

ship = load_script("ship_model")


def _weights(folder):
    from safetensors.numpy import load_file

    out = {}
    for f in sorted(folder.glob("model*.safetensors")):
        out.update(load_file(str(f)))
    return out


def test_ships_fp16_weights_with_tokenizer_config_and_card(trained_tiny, tmp_path, capsys):
    dst = tmp_path / "models" / "tiny"
    assert ship.main([str(trained_tiny), str(dst)]) == 0
    files = {p.name for p in dst.iterdir()}
    assert {"config.json", "tokenizer.json", "tokenizer_config.json", "README.md"} <= files
    assert not any(n.endswith((".bin", ".pt", ".pkl")) for n in files)
    src_w, dst_w = _weights(trained_tiny), _weights(dst)
    assert src_w.keys() == dst_w.keys()
    for k, v in dst_w.items():
        assert v.dtype == np.float16, k
        np.testing.assert_allclose(v.astype(np.float32), src_w[k].astype(np.float32), rtol=2e-3, atol=1e-4, err_msg=k)
    src_cfg, dst_cfg = (json.loads((d / "config.json").read_text()) for d in (trained_tiny, dst))
    assert {"layer_labels", "relation_types", "allowed_pairs", "relation_features", "schema"} <= set(src_cfg)
    changed = {k for k in src_cfg.keys() | dst_cfg.keys() if src_cfg.get(k) != dst_cfg.get(k)}
    assert changed <= {"torch_dtype", "dtype", "transformers_version"}, changed  # every setting comes along
    assert (dst / "tokenizer.json").read_bytes() == (trained_tiny / "tokenizer.json").read_bytes()
    size = sum(p.stat().st_size for p in dst.iterdir() if p.is_file())
    assert f"{dst}: {size / 1e6:.1f} MB" in capsys.readouterr().out


def test_shipped_model_loads_and_predicts(trained_tiny, tmp_path, seed_doc):
    from goftar.inference.extractor import Extractor

    dst = tmp_path / "tiny"
    ship.main([str(trained_tiny), str(dst)])
    doc = Extractor.from_pretrained(dst)([seed_doc.text])[0]
    for e in doc.entities:
        assert doc.text[e.start:e.end] == e.text


def test_reshipping_replaces_old_shards_but_keeps_the_targets_card_and_metrics(trained_tiny, tmp_path):
    dst = tmp_path / "tiny"
    dst.mkdir()
    (dst / "model-00001-of-00009.safetensors").write_bytes(b"stale")
    (dst / "README.md").write_text("the shipped card", encoding="utf-8")
    (dst / "metrics.json").write_text('{"f1": 0.5}', encoding="utf-8")
    ship.main([str(trained_tiny), str(dst)])
    assert not (dst / "model-00001-of-00009.safetensors").exists()
    assert (dst / "README.md").read_text(encoding="utf-8") == "the shipped card"
    assert (dst / "metrics.json").read_text(encoding="utf-8") == '{"f1": 0.5}'
    assert _weights(dst)  # the new weights are there


def test_the_checkpoints_cue_lexicon_comes_along_or_is_replaced_on_request(trained_tiny, tmp_path):
    import yaml

    from goftar.inference.cues import default_lexicon

    assert json.loads((trained_tiny / "config.json").read_text())["cue_lexicon"] == default_lexicon().data
    data = lexicon_without("گفت")
    mine = tmp_path / "mine.yaml"
    mine.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    dst = tmp_path / "tiny"
    assert ship.main([str(trained_tiny), str(dst), "--cue-lexicon", str(mine)]) == 0
    assert json.loads((dst / "config.json").read_text())["cue_lexicon"] == data


def test_a_folder_without_config_is_refused(tmp_path, capsys):
    import pytest

    with pytest.raises(SystemExit):
        ship.main([str(tmp_path), str(tmp_path / "out")])
    assert "not a goftar checkpoint" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
