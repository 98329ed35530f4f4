"""scripts/learning_curve.py: nested subsets and the derived configs (the training itself is goftar train's)."""
import pytest

from tests.helpers import load_script

lc = load_script("learning_curve")


def test_subsets_are_nested_sized_and_reproducible():
    lines = [f'{{"id": "a{i}"}}' for i in range(40)]
    s = lc.subsets(lines, [0.25, 0.5, 1.0], seed=13)
    assert [len(s[f]) for f in (0.25, 0.5, 1.0)] == [10, 20, 40]
    assert set(s[0.25]) <= set(s[0.5]) <= set(s[1.0]) and s[1.0] == lines
    assert s[0.5] == sorted(s[0.5], key=lines.index)  # file order kept
    assert lc.subsets(lines, [0.5], seed=13)[0.5] == s[0.5] and lc.subsets(lines, [0.5], seed=14)[0.5] != s[0.5]


def test_derived_config_replaces_only_the_corpus_source(tmp_path):
    cfg = {"model": {"init_from": "models/x"}, "train": {"output_dir": "runs/continue", "epochs": 2},
           "data": {"train": [{"path": "data/train.jsonl", "repeat": 2}, {"path": "/d/peyma/train.txt", "format": "peyma"}]}}
    out = lc.derived_config(cfg, "data/train.jsonl", tmp_path / "p25.jsonl", tmp_path / "p25", "runs/base")
    assert out["data"]["train"] == [{"path": str(tmp_path / "p25.jsonl"), "repeat": 2}, {"path": "/d/peyma/train.txt", "format": "peyma"}]
    assert out["train"] == {"output_dir": str(tmp_path / "p25"), "epochs": 2} and out["model"]["init_from"] == "runs/base"
    assert cfg["data"]["train"][0]["path"] == "data/train.jsonl"  # the config given is not changed
    with pytest.raises(SystemExit, match="no training source"):
        lc.derived_config(cfg, "data/other.jsonl", tmp_path / "x.jsonl", tmp_path / "x", None)
