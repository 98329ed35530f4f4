"""The corpus tools in data/tools: pre-annotation → anchored round trip, the change diff,
the build's refusal of uncorrected pre-annotations and its pinned splits, guide-1.1 checks."""
from __future__ import annotations

import importlib
import json
import shutil
import sys

import pytest

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "data" / "tools"))
anchor = importlib.import_module("anchor")
pre = importlib.import_module("pre_annotate")
guide11 = importlib.import_module("guide11")

TEXT = "وزیر نفت گفت: صادرات نفت 😀 افزایش یافت.\r\nوی افزود: «نفت» و گاز\u200cهای ایران مهم است"


def _pred():
    t = TEXT
    def span(i, typ, surf, n=1, **kw):
        s = -1
        for _ in range(n):
            s = t.find(surf, s + 1)
        return {"id": i, "type": typ, "start": s, "end": s + len(surf), "text": surf, "score": 0.9, **kw}
    ents = [span("T1", "ROLE", "وزیر نفت"), span("T2", "QUOTE", "صادرات نفت 😀 افزایش یافت"),
            span("T3", "SECTOR", "نفت", 2, category="ENERGY"), span("T4", "SECTOR", "نفت", 3, category="ENERGY"),
            span("T5", "LOC", "ایران")]
    rels = [{"type": "said_by", "head": "T2", "tail": "T1", "score": 0.8},
            {"type": "topic", "head": "T2", "tail": "T3", "score": 0.7}]
    return {"id": "x-1", "text": t, "entities": ents, "relations": rels}


def test_pre_annotation_anchors_back_to_the_model_offsets():
    p = _pred()
    src = pre.to_src(p, {"pre_annotated": True})
    assert [e["n"] for e in src["entities"] if e["type"] == "SECTOR"] == [2, 3]
    doc = anchor.anchor(json.loads(json.dumps(src)), {})
    got = {(e["id"], e["start"], e["end"], e.get("category")) for e in doc["entities"]}
    assert got == {(e["id"], e["start"], e["end"], e.get("category")) for e in p["entities"]}
    assert doc["meta"]["pre_annotated"] is True
    assert {(r["type"], r["head"], r["tail"]) for r in doc["relations"]} == {("said_by", "T2", "T1"), ("topic", "T2", "T3")}


def test_inline_text_must_equal_the_raw_article():
    src = pre.to_src(_pred(), {})
    raw = {"x-1": {"text": TEXT.replace("\r\n", "\n"), "meta": {"source": "s"}}}
    with pytest.raises(ValueError, match="inline text differs"):
        anchor.anchor(src, raw)


def test_diff_counts_kept_added_removed(tmp_path, capsys):
    p = _pred()
    g = json.loads(json.dumps(p))
    g["entities"] = [e for e in g["entities"] if e["id"] != "T5"]  # removed
    g["entities"].append({"id": "T9", "type": "SECTOR", "start": TEXT.find("گاز"), "end": TEXT.find("گاز") + 3,
                          "category": "ENERGY"})  # added
    g["entities"][2]["category"] = "TRADE"  # changed = one removed + one added
    (tmp_path / "m.jsonl").write_text(json.dumps(p, ensure_ascii=False) + "\n", encoding="utf-8")
    (tmp_path / "g.jsonl").write_text(json.dumps(g, ensure_ascii=False) + "\n", encoding="utf-8")
    assert pre.main(["--diff", str(tmp_path / "m.jsonl"), str(tmp_path / "g.jsonl")]) == 0
    row = capsys.readouterr().out.splitlines()[1].split("\t")
    assert row[:5] == ["x-1", "5", "3", "2", "2"]
    # relations are matched by their spans' offsets: the re-labelled T3 keeps its offsets, so both relations stay
    assert row[5:] == ["2", "2", "0", "0"]
    assert capsys.readouterr().out == ""


def _mini_repo(tmp_path, monkeypatch, meta):
    bc = importlib.import_module("build_corpus")
    (tmp_path / "data" / "annotations").mkdir(parents=True)
    (tmp_path / "tests" / "data").mkdir(parents=True)
    shutil.copy(ROOT / "tests" / "data" / "seed-article.jsonl", tmp_path / "tests" / "data")
    docs = []
    for i in range(4):
        t = f"متن شماره {i} درباره نفت"
        docs.append({"id": f"farsnews-9-{i:03d}", "text": t, "relations": [], "meta": {"cat": "economy", **meta(i)},
                     "entities": [{"id": "T1", "type": "SECTOR", "start": t.find("نفت"), "end": t.find("نفت") + 3,
                                   "category": "ENERGY"}]})
    (tmp_path / "data" / "annotations" / "batch-9.jsonl").write_text(
        "".join(json.dumps(d, ensure_ascii=False) + "\n" for d in docs), encoding="utf-8")
    monkeypatch.setattr(bc, "ROOT", tmp_path)
    monkeypatch.setattr(bc, "SEED", tmp_path / "tests" / "data" / "seed-article.jsonl")
    monkeypatch.setattr(bc, "SPLITS", tmp_path / "data" / "splits.json")
    monkeypatch.setenv("GOFTAR_HOLDOUT", str(tmp_path / "no-holdout"))
    return bc


def test_build_refuses_uncorrected_pre_annotation(tmp_path, monkeypatch, capsys):
    bc = _mini_repo(tmp_path, monkeypatch, lambda i: {"pre_annotated": True, **({"corrected_by": "b"} if i else {})})
    assert bc.main() == 1
    assert "farsnews-9-000: pre-annotated but not corrected" in capsys.readouterr().err
    assert not (tmp_path / "data" / "train.jsonl").exists()


def test_build_keeps_pinned_and_meta_splits(tmp_path, monkeypatch):
    bc = _mini_repo(tmp_path, monkeypatch, lambda i: {"split": "test"} if i == 1 else {})
    (tmp_path / "data" / "splits.json").write_text(json.dumps({"farsnews-9-000": "dev", "farsnews-9-002": "train",
                                                               "farsnews-9-003": "test"}), encoding="utf-8")
    assert bc.main() == 0
    ids = {s: [json.loads(l)["id"] for l in (tmp_path / "data" / f"{s}.jsonl").open(encoding="utf-8")]
           for s in ("train", "dev", "test")}
    assert ids["dev"] == ["farsnews-9-000"] and ids["train"] == ["farsnews-9-002"]
    assert set(ids["test"]) == {"mehr-belarus-parliament-1403-05-10", "farsnews-9-001", "farsnews-9-003"}


def test_guide11_flags_slogan_outlet_and_date_pieces():
    t = "به گزارش فارس، رویترز نوشت: اقتصاد مقاومتی مهم است.\nامروز یکشنبه تورم بالا رفت"
    def sp(i, typ, surf, **kw):
        s = t.find(surf)
        return {"id": i, "type": typ, "start": s, "end": s + len(surf), "text": surf, **kw}
    doc = {"id": "d", "text": t, "entities": [
        sp("T1", "ORG", "رویترز"), sp("T2", "QUOTE", "اقتصاد مقاومتی مهم است"),
        sp("T3", "SECTOR", "اقتصاد مقاومتی", category="ECONOMY"), sp("T4", "DATE", "امروز"),
        sp("T5", "DATE", "یکشنبه"), sp("T6", "SECTOR", "تورم", category="ECONOMY")],
        "relations": [{"type": "said_by", "head": "T2", "tail": "T1"}]}
    from collections import defaultdict
    E, report, counts = guide11.Edits(), defaultdict(list), defaultdict(int)
    guide11.per_rules(doc, E, report, counts)
    assert counts["R3"] == 1 and E.span["T3"] == (t.find("اقتصاد"), t.find("اقتصاد") + len("اقتصاد"))
    assert counts["R6"] == 1 and counts["R5"] == 1 and "T6" in E.delete
    assert counts["R10"] == 1 and E.span["T4"] == (t.find("امروز"), t.find("یکشنبه") + len("یکشنبه")) and "T5" in E.delete


def test_guide11_skips_and_names_a_batch_whose_files_disagree(tmp_path, capsys):
    def rows(path, ids):
        path.write_text("".join(json.dumps({"id": i, "text": "متن", "entities": []}) + "\n" for i in ids), encoding="utf-8")

    rows(tmp_path / "batch-1.jsonl", ["a", "b"])
    rows(tmp_path / "batch-1.src.jsonl", ["a", "b"])
    rows(tmp_path / "batch-2.jsonl", ["c", "d"])
    rows(tmp_path / "batch-2.src.jsonl", ["c", "e"])  # mid-edit: the src moved on
    rows(tmp_path / "batch-3.jsonl", ["f"])  # no src file
    (tmp_path / "batch-4.jsonl").write_text('{"id": "g"}\n{"id": \n', encoding="utf-8")
    rows(tmp_path / "batch-4.src.jsonl", ["g"])
    skipped = []
    batches = guide11.load(tmp_path, skipped)
    assert list(batches) == ["batch-1"]
    assert [d["id"] for d in batches["batch-1"][0]] == ["a", "b"]
    err = capsys.readouterr().err
    assert "batch-2.jsonl: skipped: its documents differ from batch-2.src.jsonl from document 2 on" in err
    assert "batch-3.jsonl: skipped: batch-3.src.jsonl is missing" in err
    assert "batch-4.jsonl:2: invalid JSON" in err
    assert len(skipped) == 3
