"""scripts/demo_summary.py on a small hand-made predictions file, in process."""
from __future__ import annotations

import io
import json
from pathlib import Path

from goftar.inference.document import Document, Entity, Relation
from goftar.inference.quotes import quotes_view

from tests.helpers import load_script

ds = load_script("demo_summary")

TEXT = ("محمدباقر قالیباف رئیس مجلس گفت: روابط اقتصادی و تجاری را باید توسعه دهیم.\n"
        "وی افزود: " + "همکاری بانکی مهم است و " * 8 + "پایان.")


def _doc() -> Document:
    t = TEXT
    def sp(s, nth=0):
        i = -1
        for _ in range(nth + 1):
            i = t.index(s, i + 1)
        return i, i + len(s)
    q2_start = t.index("وی افزود: ") + len("وی افزود: ")
    ents = [
        Entity("T1", "PER", *sp("محمدباقر قالیباف")),
        Entity("T2", "ROLE", *sp("رئیس مجلس")),
        Entity("T3", "QUOTE", *sp("روابط اقتصادی و تجاری را باید توسعه دهیم")),
        Entity("T4", "SECTOR", *sp("اقتصادی"), category="ECONOMY"),
        Entity("T5", "SECTOR", *sp("تجاری"), category="TRADE"),
        Entity("T6", "QUOTE", q2_start, len(t) - 1),
        Entity("T7", "SECTOR", *sp("بانکی"), category="BANKING_FINANCE"),
    ]
    rels = [Relation("role_of", "T2", "T1"), Relation("said_by", "T3", "T1"), Relation("said_by", "T6", "T1"),
            Relation("topic", "T3", "T4"), Relation("topic", "T3", "T5"), Relation("topic", "T6", "T7")]
    return Document("art-1", t, ents, rels)


def _write(tmp_path: Path) -> Path:
    doc = _doc()
    with_quotes = doc.to_dict()
    with_quotes["quotes"] = [q.to_dict() for q in quotes_view(doc)]
    without = doc.to_dict()  # no "quotes": the script computes them
    without["id"] = "art-2"
    unnamed = Document("art-3", "یک مقام آگاه گفت: خبری نیست", [Entity("Q", "QUOTE", 18, 27)]).to_dict()
    lines = [
        json.dumps(with_quotes, ensure_ascii=False),
        json.dumps(without, ensure_ascii=False),
        json.dumps({"id": "bad", "text": "", "entities": [], "relations": [], "error": "bad.txt: invalid UTF-8 at byte offset 3"}),
        "{not json",
        json.dumps(unnamed, ensure_ascii=False),
    ]
    p = tmp_path / "pred.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def test_summary_of_a_small_predictions_file(tmp_path):
    out = io.StringIO()
    rc = ds.main([str(_write(tmp_path))], out=out)
    text = out.getvalue()
    assert rc == 0
    blocks = text.split("== ")
    art1 = next(b for b in blocks if b.startswith("art-1"))
    art2 = next(b for b in blocks if b.startswith("art-2"))
    # Counts per type, in the schema's order.
    assert "7 entities: PER 1, ROLE 1, SECTOR 3, QUOTE 2" in art1
    assert "quotes: 2" in art1
    assert "1. «روابط اقتصادی و تجاری را باید توسعه دهیم»" in art1
    assert "speaker: محمدباقر قالیباف — رئیس مجلس" in art1
    assert "sectors: اقتصادی (ECONOMY), تجاری (TRADE)" in art1
    assert "sectors: بانکی (BANKING_FINANCE)" in art1
    # The long quote is cut at a word, near 100 characters, with « …».
    long_line = next(line for line in art1.splitlines() if line.startswith("  2. «"))
    quote = long_line[len("  2. «"):-1]
    assert quote.endswith(" …") and 80 <= len(quote) <= 102
    # The line without "quotes" gets the same summary from quotes_view.
    assert art2.split("\n", 1)[1] == art1.split("\n", 1)[1]
    # An unnamed speaker, an error line and an unreadable line.
    art3 = next(b for b in blocks if b.startswith("art-3"))
    assert "«خبری نیست»" in art3 and "speaker: (no speaker found)" in art3
    assert "bad  ERROR: bad.txt: invalid UTF-8 at byte offset 3" in text
    assert "pred.jsonl:4  ERROR: unreadable line" in text
    assert text.rstrip().endswith("4 articles, 5 quotes (4 with a speaker), 2 errors")


def test_speaker_labels():
    assert ds._speaker({"speaker": {"type": "ORG"}, "speaker_name": "وزارت نفت", "speaker_title": None}) \
        == "وزارت نفت (organisation)"
    assert ds._speaker({"speaker": {"type": "ROLE"}, "speaker_name": "سخنگوی دولت", "speaker_title": "سخنگوی دولت"}) \
        == "سخنگوی دولت (title only, no name in the text)"
    assert ds._speaker({"speaker": {"type": "PER"}, "speaker_name": "زنگنه", "speaker_title": None}) == "زنگنه"


def test_shorten():
    assert ds.shorten("کوتاه  و\nساده") == "کوتاه و ساده"
    s = ds.shorten("کلمه " * 40)
    assert s.endswith(" …") and len(s) <= 102 and "  " not in s


def test_empty_or_missing_file(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("", encoding="utf-8")
    out = io.StringIO()
    assert ds.main([str(empty)], out=out) == 1
    assert "0 articles" in out.getvalue()
    assert ds.main([str(tmp_path / "missing.jsonl")], out=io.StringIO()) == 1
