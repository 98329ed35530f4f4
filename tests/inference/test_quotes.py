"""Speaker resolution and the ``quotes`` view (goftar.inference.quotes)."""
from __future__ import annotations

import subprocess
import sys

import pytest

from goftar.inference.document import Document, Relation
from goftar.inference.quotes import Speaker, quotes_view, resolve_speaker, same_person, speaker_key
from tests.helpers import make_doc




# -- the seed article ----------------------------------------------------------
def test_seed_role_tail_resolves_to_fullest_name(seed_doc):
    # T29 said_by the ROLE T27 «رئیس مجلس شورای اسلامی», role_of → T14 «قالیباف»,
    # whose fullest mention is T11 «محمدباقر قالیباف».
    s = resolve_speaker(seed_doc, "T29")
    assert s == Speaker("T27", "رئیس مجلس شورای اسلامی", "ROLE", "محمدباقر قالیباف", "رئیس مجلس شورای اسلامی", "T11")


def test_seed_per_tail(seed_doc):
    s = resolve_speaker(seed_doc, "T55")
    assert (s.mention_id, s.mention_type, s.name, s.person_id) == ("T50", "PER", "ایگور سرگینکو", "T50")
    # Titles linked to any سرگینکو mention: T3, T43, T51, T64; T51 (1224-1243)
    # is 98 characters before T55 (1341), T64 147 after its end.
    assert s.title == "رئیس پارلمان بلاروس"


def test_seed_short_name_and_other_titles(seed_doc):
    # T17 said_by «قالیباف» (T14): fullest name T11, nearest linked title T27.
    s = resolve_speaker(seed_doc, "T17")
    assert (s.mention_text, s.name, s.title) == ("قالیباف", "محمدباقر قالیباف", "رئیس مجلس شورای اسلامی")
    # The title that introduces a quote is the one reported.
    assert resolve_speaker(seed_doc, "T42").title == "رئیس نهاد قانونگذاری کشورمان"
    assert resolve_speaker(seed_doc, "T67").name == "ایگور سرگینکو"


def test_seed_quotes_view(seed_doc):
    view = quotes_view(seed_doc)
    assert [q["id"] for q in view] == ["T17", "T29", "T33", "T42", "T45", "T55", "T58", "T60", "T67"]
    first = view[0]
    assert first["text"] == seed_doc.text[first["start"]:first["end"]]
    assert first["speaker"] == {"id": "T14", "text": "قالیباف", "type": "PER"}
    assert first["speaker_name"] == "محمدباقر قالیباف"
    assert [(s["text"], s["category"]) for s in first["sectors"]] == [
        ("اقتصادی", "ECONOMY"), ("تجاری", "TRADE"), ("سیاسی", "POLITICS"),
        ("فرهنگی", "CULTURE_TOURISM"), ("بانکی", "BANKING_FINANCE"), ("فنی", "TECHNOLOGY"),
    ]
    assert "score" not in first
    headline = view[4]
    assert headline["speaker"]["type"] == "ROLE" and headline["speaker_name"] == "ایگور سرگینکو"
    assert all(q["speaker_name"] for q in view)


# -- hand-made documents ---------------------------------------------------------
CHAIN = (
    "محمدباقر قالیباف در این دیدار گفت: همکاری بانکی مهم است. "
    "قالیباف ضمن تشکر افزود: تجارت باید بیشتر شود. "
    "وی تصریح کرد: موانع را برطرف کنیم. "
    "رئیس مجلس شورای اسلامی گفت: راه باز است."
)


def chain_doc() -> Document:
    return make_doc(
        CHAIN,
        [("P1", "PER", "محمدباقر قالیباف"), ("P2", "PER", "قالیباف", 1),
         ("R1", "ROLE", "رئیس مجلس شورای اسلامی"),
         ("Q1", "QUOTE", "همکاری بانکی مهم است"), ("Q2", "QUOTE", "تجارت باید بیشتر شود"),
         ("Q3", "QUOTE", "موانع را برطرف کنیم"), ("Q4", "QUOTE", "راه باز است"),
         ("S1", "SECTOR", "بانکی", 0, "BANKING_FINANCE"), ("S2", "SECTOR", "تجارت", 0, "TRADE")],
        [("said_by", "Q1", "P1"), ("said_by", "Q2", "P2"),
         ("said_by", "Q3", "P2"),  # «وی»: the nearest earlier PER mention
         ("role_of", "R1", "P2"), ("said_by", "Q4", "R1"),
         ("topic", "Q1", "S1"), ("topic", "Q2", "S2")],
    )


def test_pronoun_chain_resolves_to_fullest_name():
    doc = chain_doc()
    for q in ("Q1", "Q2", "Q3", "Q4"):
        s = resolve_speaker(doc, q)
        assert s.name == "محمدباقر قالیباف" and s.person_id == "P1", q
        # R1 is linked to P2, a mention of the same person: it is their title.
        assert s.title == "رئیس مجلس شورای اسلامی", q
    assert resolve_speaker(doc, "Q3").mention_text == "قالیباف"


def test_unnamed_role_speaker():
    text = "سخنگوی دولت گفت: خبر تازه‌ای نیست."
    doc = make_doc(text, [("R1", "ROLE", "سخنگوی دولت"), ("Q1", "QUOTE", "خبر تازه‌ای نیست")],
                   [("said_by", "Q1", "R1")])
    s = resolve_speaker(doc, "Q1")
    # Never named: the title stands in for the name so two different unnamed
    # speakers never compare equal.
    assert s == Speaker("R1", "سخنگوی دولت", "ROLE", "سخنگوی دولت", "سخنگوی دولت", None)


def test_org_speaker():
    text = "وزارت امور خارجه اعلام کرد: سفارت باز است."
    doc = make_doc(text, [("O1", "ORG", "وزارت امور خارجه"), ("Q1", "QUOTE", "سفارت باز است")],
                   [("said_by", "Q1", "O1")])
    s = resolve_speaker(doc, "Q1")
    assert (s.mention_type, s.name, s.title, s.person_id) == ("ORG", "وزارت امور خارجه", None, None)
    assert quotes_view(doc)[0]["speaker"] == {"id": "O1", "text": "وزارت امور خارجه", "type": "ORG"}


def test_no_said_by_and_unknown_id():
    text = "یک مقام آگاه گفت: مذاکرات ادامه دارد."
    doc = make_doc(text, [("Q1", "QUOTE", "مذاکرات ادامه دارد")])
    assert resolve_speaker(doc, "Q1") is None
    (view,) = quotes_view(doc)
    assert view["speaker"] is None and view["speaker_name"] is None and view["speaker_title"] is None
    assert view["sectors"] == []
    with pytest.raises(KeyError):
        resolve_speaker(doc, "T99")


def test_two_people_sharing_a_first_name_stay_apart():
    text = "حسن روحانی رئیس جمهور و حسن قشقاوی نماینده مجلس دیدار کردند. روحانی گفت: کار ادامه دارد."
    doc = make_doc(
        text,
        [("P1", "PER", "حسن روحانی"), ("R1", "ROLE", "رئیس جمهور"), ("P2", "PER", "حسن قشقاوی"),
         ("R2", "ROLE", "نماینده مجلس"), ("P3", "PER", "روحانی", 1), ("Q1", "QUOTE", "کار ادامه دارد")],
        [("role_of", "R1", "P1"), ("role_of", "R2", "P2"), ("said_by", "Q1", "P3")],
    )
    s = resolve_speaker(doc, "Q1")
    # R2 is nearer to the quote but belongs to قشقاوی.
    assert (s.name, s.title, s.person_id) == ("حسن روحانی", "رئیس جمهور", "P1")


def test_same_person_rule():
    assert same_person("قالیباف", "محمدباقر قالیباف")
    assert same_person("محمدباقر", "محمدباقر قالیباف")
    assert same_person("محمد باقر قاليباف", "محمدباقر\u200cقالیباف")  # spacing, ZWNJ, Arabic ي
    assert not same_person("باقر", "محمدباقر قالیباف")  # not a whole word
    assert not same_person("علی", "علیرضا زاکانی")
    assert not same_person("حسن روحانی", "حسن قشقاوی")
    assert speaker_key("محمد باقر قاليباف") == speaker_key("محمدباقر\u200cقالیباف") == "محمدباقرقالیباف"
    assert speaker_key(None) is None


def test_most_confident_said_by_wins_and_view_order():
    text = "علی لاریجانی و حسن روحانی دیدار کردند. لاریجانی گفت: همکاری ادامه دارد."
    doc = make_doc(
        text,
        [("Q1", "QUOTE", "همکاری ادامه دارد"), ("P1", "PER", "علی لاریجانی"), ("P2", "PER", "حسن روحانی"),
         ("P3", "PER", "لاریجانی", 1)],
        [("said_by", "Q1", "P2", 0.3), ("said_by", "Q1", "P3", 0.9)],
    )
    doc.entities[0].score = 0.87654
    s = resolve_speaker(doc, "Q1")
    assert (s.mention_id, s.name) == ("P3", "علی لاریجانی")
    (view,) = quotes_view(doc)
    assert view["score"] == 0.8765


def test_dangling_and_invalid_relations_are_ignored():
    text = "سخنگوی دولت گفت: خبر تازه‌ای نیست."
    doc = make_doc(text, [("R1", "ROLE", "سخنگوی دولت"), ("Q1", "QUOTE", "خبر تازه‌ای نیست")],
                   [("said_by", "Q1", "T404"), ("role_of", "R1", "Q1")])
    assert resolve_speaker(doc, "Q1") is None
    doc.relations.append(Relation("said_by", "Q1", "R1"))
    assert resolve_speaker(doc, "Q1").name == "سخنگوی دولت"  # role_of to a QUOTE is no holder


def test_quotes_module_needs_no_torch():
    code = "import sys, goftar.inference.quotes; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
