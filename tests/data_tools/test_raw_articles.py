"""data/tools/raw_articles.py and show_doc.py on a raw-news folder made here: ids, texts, and the holdout kept out."""
from __future__ import annotations

import importlib
import json
import sys

from tests.helpers import ROOT

sys.path.insert(0, str(ROOT / "data" / "tools"))
raw_articles = importlib.import_module("raw_articles")
show_doc = importlib.import_module("show_doc")


def _datasets(tmp_path):
    data = tmp_path / "datasets"
    fars = data / "raw-news-farsnews"
    fars.mkdir(parents=True)
    for f in range(1, 6):
        items = [{"title": f"تیتر {f}-{i}", "abstract": "خلاصه", "paragraphs": [f"قالیباف گفت: متن {f}-{i}."], "cat": "اقتصادی"}
                 for i in range(2)]
        (fars / f"fars-news-{f}.json").write_text(json.dumps(items, ensure_ascii=False), encoding="utf-8")
    sci = data / "raw-news-sci2lab-farsi-news"
    sci.mkdir()
    for name in ("hamshahri", "radiofarda"):
        (sci / f"{name}.json").write_text(json.dumps([{"title": f"{name} تیتر", "summary": "وزیر افزود: خبر", "tags": ["a", "b"]}],
                                                     ensure_ascii=False), encoding="utf-8")
    held = tmp_path / "holdout"
    held.mkdir()
    reserved = "\n".join(["تیتر 2-1", "خلاصه", "قالیباف گفت: متن 2-1."])
    (held / "articles.jsonl").write_text(json.dumps({"id": "h1", "text": reserved}, ensure_ascii=False) + "\n", encoding="utf-8")
    return data, reserved


def test_articles_have_stable_ids_exact_text_and_never_the_holdout(tmp_path, monkeypatch):
    data, reserved = _datasets(tmp_path)
    monkeypatch.setenv("GOFTAR_DATASETS", str(data))
    monkeypatch.delenv("GOFTAR_HOLDOUT", raising=False)
    arts = raw_articles.articles()
    assert len(arts) == 5 * 2 + 2 - 1
    assert "farsnews-2-001" not in arts  # its text is in the holdout beside the datasets folder
    assert all(a["text"] != reserved for a in arts.values())
    assert arts["farsnews-1-000"]["text"] == "تیتر 1-0\nخلاصه\nقالیباف گفت: متن 1-0."
    assert arts["hamshahri-0000"]["meta"] == {"source": "Hamshahri", "link": None, "cat": "a,b"}


def test_cli_lists_and_prints_but_refuses_a_reserved_id(tmp_path, monkeypatch, capsys):
    data, _ = _datasets(tmp_path)
    monkeypatch.setenv("GOFTAR_DATASETS", str(data))
    assert raw_articles.main(["list", "--source", "radiofarda"]) == 0
    rows = capsys.readouterr().out.splitlines()
    assert len(rows) == 1 and rows[0].startswith("radiofarda-0000\t") and "speech=1" in rows[0]
    assert raw_articles.main(["jsonl", "farsnews-3-000"]) == 0
    rec = json.loads(capsys.readouterr().out)
    assert rec["id"] == "farsnews-3-000" and rec["text"].endswith("متن 3-0.")
    assert raw_articles.main(["show", "farsnews-2-001"]) == 1
    assert "reserved" in capsys.readouterr().err


def test_show_doc_lists_spans_in_text_order_with_context_and_relations():
    text = "قالیباف گفت: کار داریم"
    d = {"id": "x", "text": text, "meta": {}, "entities": [
        {"id": "T2", "type": "QUOTE", "start": 13, "end": 22, "text": "کار داریم"},
        {"id": "T1", "type": "PER", "start": 0, "end": 7, "text": "قالیباف"}],
        "relations": [{"type": "said_by", "head": "T2", "tail": "T1"}]}
    lines = show_doc.show(d, width=5).splitlines()
    assert lines[0].startswith("=== x (22 chars)")
    assert "T1 PER" in lines[1] and "…[قالیباف] گفت:…" in lines[1]
    assert "T2 QUOTE" in lines[2] and "13-22" in lines[2]
    assert lines[3].split() == ["said_by", "T2", "«کار", "داریم»", "→", "T1", "«قالیباف»"]
