"""The rule baselines of scripts/baselines.py on small hand-checked Persian texts."""
from __future__ import annotations

import json

import pytest

from goftar.inference.document import Document, Entity, Relation, write_jsonl

from tests.helpers import load_script

bl = load_script("baselines")


def quotes(text: str) -> list[str]:
    return [text[s:e] for s, e in bl.find_quotes(text)]


def span(text: str, surface: str, nth: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(nth + 1):
        start = text.index(surface, start + 1)
    return start, start + len(surface)


# -- (a) the regex quote finder ------------------------------------------------
def test_speech_verbs_with_colon_and_their_variants():
    text = (
        "وزير نفت خاطر نشان كرد: توليد افزايش مي‌يابد.\n"  # Arabic ي/ك, «خاطر نشان» with a space
        "وی اظهارداشت: «قیمت‌ها ثابت می‌ماند».\n"  # no space in «اظهارداشت», «» dropped
        "وی ادامه داد:\u200c بازار آرام است؟\n"  # ZWNJ after the colon, final «؟» dropped
        "رئیس بانک مرکزی می گوید : نرخ ارز پایین می‌آید\n"  # «می گوید» with a space, space before the colon
        "وی تاكيد كرده است: صادرات مهم است."
    )
    assert quotes(text) == [
        "توليد افزايش مي‌يابد",
        "قیمت‌ها ثابت می‌ماند",
        "بازار آرام است",
        "نرخ ارز پایین می‌آید",
        "صادرات مهم است",
    ]


def test_offsets_point_into_the_raw_text():
    text = "وي گفت: كار داريم."
    (s, e), = bl.find_quotes(text)
    assert (s, e) == (8, 17) and text[s:e] == "كار داريم"


def test_two_speech_verbs_on_one_line_and_nested_speech():
    text = "وزیر گفت: بودجه کافی است. وی افزود: کار داریم.\nنماینده گفت: «رئیس‌جمهور گفت: صبر کنید». سپس رفت."
    assert quotes(text) == ["بودجه کافی است", "کار داریم", "رئیس‌جمهور گفت: صبر کنید"]


def test_headline_quotes_and_non_quotes():
    text = (
        "روحانی: دولت سود وام را پرداخت می‌کند\n"  # short speaker, no verb → quote
        "رئیس پارلمان بلاروس: توسعه روابط | همکاری بانکی\n"  # one quote per «|» segment
        "خبرگزاری فارس: قیمت نفت بالا رفت\n"  # an outlet, not a speaker
        "این روزنامه نوشت: قیمت نفت بالا رفت\n"  # «نوشت» is a verb: not a headline, not a speech verb
        "فهرست نامزدهای انتخابات شورای شهر در استان تهران: سه نفر\n"  # head of 8 words
        "ساعت کاری به این شرح است: هشت تا دو"  # six words, but the head has a verb
    )
    assert quotes(text) == ["دولت سود وام را پرداخت می‌کند", "توسعه روابط", "همکاری بانکی"]


def test_no_colon_no_quote():
    assert quotes("وزیر گفت که بودجه کافی است.\nقالیباف با نماینده دیدار کرد.") == []


# -- (b) the nearest-mention rule -------------------------------------------------
TEXT = (
    "گزارش تصویری: مجلس امروز\n"
    "علی لاریجانی رئیس مجلس گفت: بودجه تصویب شد.\n"
    "وزارت نفت اعلام کرد: تولید افزایش یافت.\n"
    "لاریجانی افزود: کار داریم."
)


def gold_doc() -> Document:
    t = TEXT
    ents = [
        Entity("T1", "PER", *span(t, "علی لاریجانی")),
        Entity("T2", "ROLE", *span(t, "رئیس مجلس")),
        Entity("T3", "ORG", *span(t, "وزارت نفت")),
        Entity("T4", "PER", *span(t, "لاریجانی", 1)),
        Entity("Q1", "QUOTE", *span(t, "بودجه تصویب شد")),
        Entity("Q2", "QUOTE", *span(t, "تولید افزایش یافت")),
        Entity("Q3", "QUOTE", *span(t, "کار داریم")),
    ]
    rels = [
        Relation("role_of", "T2", "T1"),
        Relation("said_by", "Q1", "T1"),
        Relation("said_by", "Q2", "T3"),
        Relation("said_by", "Q3", "T4"),
    ]
    return Document("d1", t, ents, rels)


def rel_set(doc: Document) -> set[tuple[str, str, str]]:
    return {(r.type, r.head, r.tail) for r in doc.relations}


def test_nearest_mention_relations_on_gold_entities():
    pred = bl.baseline_nearest_gold(gold_doc())
    assert {e.type for e in pred.entities} == {"PER", "ROLE", "QUOTE"}  # ORG dropped
    # Q1: the ROLE ends after the name; Q2: the ORG is ignored, so the ROLE again.
    assert rel_set(pred) == {("said_by", "Q1", "T2"), ("said_by", "Q2", "T2"),
                             ("said_by", "Q3", "T4"), ("role_of", "T2", "T1")}


def test_said_by_ignores_org_and_mentions_after_the_quote():
    t = "زنگنه گفت وزارت نفت اعلام کرد: تولید بالا رفت. وزیر نفت"
    ents = [Entity("P", "PER", *span(t, "زنگنه")), Entity("O", "ORG", *span(t, "وزارت نفت")),
            Entity("Q", "QUOTE", *span(t, "تولید بالا رفت")), Entity("R", "ROLE", *span(t, "وزیر نفت"))]
    assert ("said_by", "Q", "P") in {(r.type, r.head, r.tail) for r in bl.nearest_mention_relations(ents)}


def test_role_of_either_direction_and_ties():
    t = "رئیس مجلس قالیباف و وزیر نفت زنگنه"
    ents = [Entity("R1", "ROLE", *span(t, "رئیس مجلس")), Entity("P1", "PER", *span(t, "قالیباف")),
            Entity("R2", "ROLE", *span(t, "وزیر نفت")), Entity("P2", "PER", *span(t, "زنگنه"))]
    assert {(r.head, r.tail) for r in bl.nearest_mention_relations(ents)} == {("R1", "P1"), ("R2", "P2")}
    # Equal distance on both sides: the earlier PER.
    t = "علی رئیس حسن"
    ents = [Entity("P1", "PER", 0, 3), Entity("R", "ROLE", 4, 8), Entity("P2", "PER", 9, 12)]
    assert [(r.head, r.tail) for r in bl.nearest_mention_relations(ents)] == [("R", "P1")]
    # No PER at all, no speaker before the quote: no relation.
    ents = [Entity("Q", "QUOTE", 0, 3), Entity("R", "ROLE", 4, 8)]
    assert bl.nearest_mention_relations(ents) == []


def test_scores_on_the_small_document(tmp_path):
    gold = gold_doc()
    gold_path = tmp_path / "gold.jsonl"
    write_jsonl([gold], gold_path)
    res = bl.run(str(gold_path), None, str(tmp_path / "out"))

    # Regex: the 3 quotes exactly, plus the false headline «گزارش تصویری: …».
    s = res["regex-quotes"]["summary"]
    assert s["quote_exact_f1"] == pytest.approx(2 * 0.75 * 1.0 / 1.75)  # P 3/4, R 3/3
    assert s["quote_overlap_f1"] == pytest.approx(6 / 7)

    # Nearest on gold: said_by 1 of 3 right (Q3); role_of 1/1; the speaker of
    # Q1 still resolves to «علی لاریجانی» through role_of, Q2's does not (ORG).
    s = res["nearest-gold"]["summary"]
    assert s["said_by_f1"] == pytest.approx(1 / 3)
    assert s["said_by_overlap_f1"] == pytest.approx(1 / 3)
    assert s["role_of_f1"] == pytest.approx(1.0)
    assert s["speaker_accuracy"] == pytest.approx(2 / 3)

    # Regex quotes + gold PER/ROLE: the headline quote has no speaker before it,
    # so the same relations as on gold quotes.
    s = res["regex+nearest-gold"]["summary"]
    assert s["said_by_f1"] == pytest.approx(1 / 3)
    assert s["speaker_accuracy"] == pytest.approx(2 / 3)

    written = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert written == ["nearest-gold.jsonl", "regex-nearest-gold.jsonl", "regex-quotes.jsonl"]


def test_cli_with_model_predictions(tmp_path, capsys):
    gold = gold_doc()
    write_jsonl([gold], tmp_path / "gold.jsonl")
    # A "model" that found Q1 and Q3 exactly and Q2 one word short, with a wrong relation.
    model = Document(gold.id, gold.text, [
        Entity("M1", "PER", *span(TEXT, "علی لاریجانی")),
        Entity("M2", "QUOTE", *span(TEXT, "بودجه تصویب شد")),
        Entity("M3", "QUOTE", *span(TEXT, "تولید افزایش")),
        Entity("M4", "QUOTE", *span(TEXT, "کار داریم")),
    ], [Relation("said_by", "M2", "M4")])
    write_jsonl([model], tmp_path / "model.jsonl")
    rc = bl.main(["--gold", str(tmp_path / "gold.jsonl"), "--model-pred", str(tmp_path / "model.jsonl"),
                  "--json", str(tmp_path / "m.json")])
    assert rc == 0
    out = capsys.readouterr().out
    assert "| nearest-model |" in out and "| model |" in out
    res = json.loads((tmp_path / "m.json").read_text(encoding="utf-8"))
    s = res["nearest-model"]["summary"]
    # Quotes: 2 of 3 exact; by overlap 3 of 3 (Jaccard 12/17 ≥ 0.5).
    assert s["quote_exact_f1"] == pytest.approx(2 / 3)
    assert s["quote_overlap_f1"] == pytest.approx(1.0)
    # Every quote said_by M1 (the only PER/ROLE). Gold: Q1→T1 (same span as M1), Q2→ORG, Q3→T4.
    assert s["said_by_f1"] == pytest.approx(1 / 3)  # 1 right of 3 predicted, 3 gold
    assert s["speaker_accuracy"] == pytest.approx(2 / 3)  # Q1 and Q3 resolve to «علی لاریجانی»
    assert res["model"]["summary"]["said_by_f1"] == 0.0
