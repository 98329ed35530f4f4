"""Public result types: Quote / QuoteSector / Speaker, and their JSON (docs/ANNOTATION.md)."""
import json

import pytest

from goftar.inference.document import Document, DocumentError, Entity, Quote, QuoteSector, Relation, Speaker
from goftar.inference.quotes import quotes_view

TEXT = "محمدباقر قالیباف رئیس مجلس گفت: بانک‌ها باید کمک کنند. وی افزود: کار داریم"


def _doc() -> Document:
    t = TEXT
    q1, q2 = t.index("بانک‌ها"), t.index("کار داریم")
    return Document("d1", t, [
        Entity("T1", "PER", 0, 16), Entity("T2", "ROLE", 17, 26),
        Entity("T3", "QUOTE", q1, t.index(". وی"), score=0.91234), Entity("T4", "SECTOR", q1, q1 + 7, category="BANKING_FINANCE"),
        Entity("T5", "PER", t.index("وی"), t.index("وی") + 2), Entity("T6", "QUOTE", q2, len(t)),
    ], [Relation("role_of", "T2", "T1"), Relation("said_by", "T3", "T1"), Relation("said_by", "T6", "T1"),
        Relation("topic", "T3", "T4")])


def test_quotes_are_typed_with_resolved_speakers():
    view = quotes_view(_doc())
    assert all(isinstance(q, Quote) for q in view)
    first, second = view
    assert isinstance(first.speaker, Speaker) and first.speaker.person_id == "T1"
    assert (first.speaker_name, first.speaker_title) == ("محمدباقر قالیباف", "رئیس مجلس")
    assert first.sectors == [QuoteSector("T4", "بانک‌ها", "BANKING_FINANCE")]
    assert first.score == pytest.approx(0.9123) and second.score is None
    assert first.text == TEXT[first.start:first.end]


def test_quote_json_is_the_documented_dict_and_round_trips():
    doc = _doc()
    doc.quotes = quotes_view(doc)
    d = json.loads(doc.to_json())
    first = d["quotes"][0]
    assert list(first) == ["id", "text", "start", "end", "score", "speaker", "speaker_name", "speaker_title", "sectors"]
    assert first["speaker"] == {"id": "T1", "text": "محمدباقر قالیباف", "type": "PER"}
    assert first["sectors"] == [{"id": "T4", "text": "بانک‌ها", "category": "BANKING_FINANCE"}]
    assert "score" not in d["quotes"][1]
    back = Document.from_dict(d)
    assert all(isinstance(q, Quote) for q in back.quotes)
    assert json.loads(back.to_json()) == d  # reading and writing again changes nothing


def test_quotes_still_read_like_the_dicts_of_0_1():
    q = quotes_view(_doc())[0]
    assert q["speaker_name"] == q.speaker_name and q.get("score") == q.score
    assert q["sectors"][0]["category"] == "BANKING_FINANCE" and q.sectors[0]["text"] == "بانک‌ها"
    assert "score" in q and "nothing" not in q and q.get("nothing", 7) == 7
    with pytest.raises(KeyError):
        q["nothing"]


@pytest.mark.parametrize("bad, where", [
    ({"id": "T1", "start": "0", "end": 3}, "quotes[0].start"),
    ({"id": "T1", "end": 3}, "quotes[0]: missing 'start'"),
    ({"id": "T1", "start": 0, "end": 3, "speaker": "X"}, "quotes[0].speaker"),
    ({"id": "T1", "start": 0, "end": 3, "sectors": [3]}, "quotes[0].sectors"),
])
def test_a_broken_quote_field_names_where(bad, where):
    with pytest.raises(DocumentError, match=where.replace("[", r"\[").replace("]", r"\]")):
        Document.from_dict({"id": "d", "text": "abc", "quotes": [bad]}, where="f.jsonl:4")
    with pytest.raises(DocumentError, match="f.jsonl:4"):
        Document.from_dict({"id": "d", "text": "abc", "quotes": [bad]}, where="f.jsonl:4")
