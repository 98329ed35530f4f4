"""Readers and writers of goftar.inference.formats: round trips, real dataset lines, errors.

The dataset samples are copied from /work/shared/datasets (PEYMA dev.txt,
ARMAN test_fold1.txt, ParsTwiNER dev.txt) so the tests run on a clean clone.
"""
from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest

from goftar.inference.document import Document, DocumentError, Entity, Relation, read_jsonl, write_jsonl
from goftar.inference.formats import (
    FLAVOURS,
    ConversionReport,
    FormatError,
    brat_annotation,
    convert,
    detect_format,
    is_demonym,
    iter_bio,
    iter_brat,
    iter_doccano,
    iter_labelstudio,
    labelstudio_config,
    read_bio,
    read_brat,
    read_doccano,
    iter_documents,
    read_documents,
    read_labelstudio,
    write_bio,
    write_brat,
    write_doccano,
    write_documents,
    write_labelstudio,
)
from goftar.inference.schema import Schema
from goftar.inference.validate import validate_document, validate_files
from goftar.cli import main
from tests.helpers import SEED

# A shortened gold article in the style of shared/examples/seed-article.jsonl:
# nested ORG in ROLE, sectors with categories, a quote with said_by/topic, an
# entity glued to punctuation and a line break.
SEED_TEXT = (
    "به گزارش خبرگزاری مهر، ایگور سرگینکو رئیس پارلمان بلاروس عصر امروز (چهارشنبه، ۱۰ مرداد ماه ۱۴۰۳) "
    "با محمدباقر قالیباف دیدار کرد.\n"
    "قالیباف گفت: روابط اقتصادی و تجاری بین ایران و بلاروس را باید توسعه دهیم."
)


def _span(text: str, mention: str, after: int = 0) -> tuple[int, int]:
    s = text.index(mention, after)
    return s, s + len(mention)


def _seed_doc() -> Document:
    t = SEED_TEXT
    ents = []
    for eid, typ, mention, cat in [
        ("T1", "ORG", "خبرگزاری مهر", None),
        ("T2", "PER", "ایگور سرگینکو", None),
        ("T3", "ROLE", "رئیس پارلمان بلاروس", None),
        ("T4", "ORG", "پارلمان بلاروس", None),
        ("T5", "TIME", "عصر امروز", None),
        ("T6", "DATE", "چهارشنبه، ۱۰ مرداد ماه ۱۴۰۳", None),
        ("T7", "PER", "محمدباقر قالیباف", None),
        ("T8", "PER", "قالیباف", None),
        ("T9", "QUOTE", "روابط اقتصادی و تجاری بین ایران و بلاروس را باید توسعه دهیم", None),
        ("T10", "SECTOR", "اقتصادی", "ECONOMY"),
        ("T11", "SECTOR", "تجاری", "TRADE"),
        ("T12", "LOC", "ایران", None),
    ]:
        after = t.index("\n") if eid == "T8" else 0
        s, e = _span(t, mention, after)
        ents.append(Entity(eid, typ, s, e, cat))
    s, e = _span(t, "بلاروس", t.index("\n"))
    ents.append(Entity("T13", "LOC", s, e))
    rels = [
        Relation("role_of", "T3", "T2"),
        Relation("said_by", "T9", "T8"),
        Relation("topic", "T9", "T10"),
        Relation("topic", "T9", "T11"),
    ]
    return Document("mehr-sample-1", t, ents, rels, {"source": "test", "lang": "fa"})


def _seed_docs() -> list[Document]:
    return [_seed_doc(), *read_jsonl(SEED)]  # the shortened sample and the full worked example


def _content(doc: Document) -> tuple:
    return (
        doc.text,
        sorted((e.id, e.type, e.start, e.end, e.category) for e in doc.entities),
        sorted((r.type, r.head, r.tail) for r in doc.relations),
    )


def test_seed_sample_is_valid() -> None:
    assert validate_document(_seed_doc()) == []


# ---------------------------------------------------------------------------
# round trips
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("fmt,name", [("jsonl", "out.jsonl"), ("labelstudio", "out.json"),
                                      ("doccano", "out.jsonl"), ("brat", "brat")])
def test_round_trip_keeps_entities_relations_categories(tmp_path: Path, fmt: str, name: str) -> None:
    docs = _seed_docs()
    out = tmp_path / name
    assert write_documents(docs, out, fmt) == len(docs)
    assert detect_format(out) == fmt
    back = [d for d in iter_documents(out)]
    assert all(isinstance(d, Document) for d in back)
    if fmt == "brat":  # a folder is read in file-name order
        docs, back = sorted(docs, key=lambda d: d.id), sorted(back, key=lambda d: d.id)
    assert [d.id for d in back] == [d.id for d in docs]
    assert [_content(d) for d in back] == [_content(d) for d in docs]
    if fmt != "brat":  # BRAT has no place for document metadata
        assert [d.meta for d in back] == [d.meta for d in docs]


@pytest.mark.parametrize("flavour", ["peyma", "arman", "parstwiner", "conll"])
def test_bio_round_trip_keeps_the_ne_layer(tmp_path: Path, flavour: str) -> None:
    docs = _seed_docs()
    out = tmp_path / f"{flavour}.txt"
    warnings: Counter = Counter()
    assert write_bio(docs, out, flavour, warnings=warnings) == len(docs)
    assert detect_format(out) == flavour
    back = read_bio(out, flavour)
    fl = FLAVOURS[flavour]
    written = set(fl.inverse()) if fl.types else set(Schema.default().layers["ne"])
    for doc, got in zip(docs, back):
        expected = [(e.type, " ".join(doc.span_text(e).split()))
                    for e in sorted(doc.entities, key=lambda e: e.start) if e.type in written]
        assert [(e.type, got.span_text(e)) for e in got.entities] == expected
        assert got.text.split() == got.text.split(" ")  # tokens joined by single spaces
    # the seed sample has TIME and DATE: ARMAN and ParsTwiNER have no such tags
    if flavour in ("arman", "parstwiner"):
        assert warnings[f"{flavour}: no tag for DATE (written as O)"] >= 1


def test_bio_writer_cuts_tokens_at_entity_edges(tmp_path: Path) -> None:
    out = tmp_path / "p.txt"
    write_bio([_seed_doc()], out, "peyma")
    lines = out.read_text(encoding="utf-8").splitlines()
    i = lines.index("(|O")
    assert lines[i + 1:i + 3] == ["چهارشنبه،|B_DAT", "۱۰|I_DAT"]
    assert "۱۴۰۳|I_DAT" in lines and ")|O" in lines


def test_bio_round_trip_of_the_sector_layer_keeps_categories(tmp_path: Path) -> None:
    out = tmp_path / "sector.conll"
    write_bio([_seed_doc()], out, "conll", layer="sector")
    assert "اقتصادی\tB-ECONOMY" in out.read_text(encoding="utf-8")
    (doc,) = read_bio(out, "conll", layer="sector")
    assert [(e.type, e.category, doc.span_text(e)) for e in doc.entities] == [
        ("SECTOR", "ECONOMY", "اقتصادی"), ("SECTOR", "TRADE", "تجاری")]
    assert doc.meta["layers"] == ["sector"] and doc.meta["ne_types"] == []


def test_dataset_flavours_hold_only_the_ne_layer(tmp_path: Path) -> None:
    with pytest.raises(FormatError, match="conll"):
        write_bio([_seed_doc()], tmp_path / "x.txt", "peyma", layer="role")


# ---------------------------------------------------------------------------
# real dataset lines
# ---------------------------------------------------------------------------

# PEYMA dev.txt lines 1985-1996 and 85-95; the third block has PEYMA's quirks:
# a token with an inner space, one with a trailing space and a bare "|" token.
PEYMA_SAMPLE = (
    "201|B_PCT\nدرصد|I_PCT\nافزایش|O\nداشت|O\nو|O\nشانه ای|O\n95000|B_MON\nالی|I_MON\n110000|I_MON\nریال|I_MON\n"
    "فروش|O\nمی رفت|O\n\n"
    "اظهار|O\nداشت|O\n:|O\n80|B_PCT\nدرصد|I_PCT\nجمعیت|O\nاستان|B_LOC\nالبرز|I_LOC\n\n"
    "||O\nپیش از |B_TIM\nظهر|I_TIM\nامروز|I_TIM\nدی ماه|B_DAT\nخبرگزاری|B_ORG\nمهر|I_ORG\nسعید|B_PER\n"
)


def test_read_peyma_lines(tmp_path: Path) -> None:
    path = tmp_path / "dev.txt"
    path.write_text(PEYMA_SAMPLE, encoding="utf-8")
    assert detect_format(path) == "peyma"
    docs = read_bio(path, "peyma")
    assert [d.id for d in docs] == ["peyma-dev-000001", "peyma-dev-000002", "peyma-dev-000003"]
    d1, d2, d3 = docs
    assert d1.text.startswith("201 درصد افزایش داشت و شانه ای 95000")
    assert [(e.type, d1.span_text(e)) for e in d1.entities] == [
        ("PERCENT", "201 درصد"), ("MONEY", "95000 الی 110000 ریال")]
    assert [(e.type, d2.span_text(e)) for e in d2.entities] == [("PERCENT", "80 درصد"), ("LOC", "استان البرز")]
    assert d3.text == "| پیش از ظهر امروز دی ماه خبرگزاری مهر سعید"
    assert [(e.type, d3.span_text(e)) for e in d3.entities] == [
        ("TIME", "پیش از ظهر امروز"), ("DATE", "دی ماه"), ("ORG", "خبرگزاری مهر"), ("PER", "سعید")]
    assert d1.meta == {"source": "peyma", "lang": "fa", "layers": ["ne"],
                       "ne_types": ["PER", "ORG", "LOC", "DATE", "TIME", "MONEY", "PERCENT"],
                       "relations": [], "origin": "dev.txt:1"}
    assert d2.meta["origin"] == "dev.txt:14"
    assert all(validate_document(d) == [] for d in docs)


# ARMAN test_fold1.txt lines 2330-2350 (a demonym tagged org), plus lines with
# every ARMAN type and an Arabic ي/ك that must stay as published.
ARMAN_SAMPLE = (
    "سنتی O\nكه O\nدر O\nطول O\nچندین O\nدهه O\nدر O\nمیان O\nسیاستمداران O\nعالی‌رتبه O\nایرانی B-org\n"
    "نهادینه O\nشده O\n، O\n\n"
    "ایگور B-pers\nسرگینکو I-pers\nدر O\nفرودگاه B-fac\nمهرآباد I-fac\nو O\nخبرگزاری B-org\nفرانسه I-org\n"
    "و O\nسمند B-pro\nو O\nجام B-event\nجهانی I-event\nو O\nتهران B-loc\nو O\nآمریکائیها B-org\nو O\n"
    "یهودیان B-org\nایران I-org\n"
)


def test_read_arman_lines(tmp_path: Path) -> None:
    path = tmp_path / "test_fold1.txt"
    path.write_text(ARMAN_SAMPLE, encoding="utf-8")
    assert detect_format(path) == "arman"
    warnings: Counter = Counter()
    d1, d2 = read_bio(path, "arman", warnings=warnings)
    assert d1.id == "arman-test_fold1-000001"
    assert "سنتی كه در" in d1.text  # Arabic ك kept: normalisation is the model's job
    assert d1.entities == []  # «ایرانی» B-org is a demonym
    assert [(e.type, d2.span_text(e)) for e in d2.entities] == [
        ("PER", "ایگور سرگینکو"), ("FAC", "فرودگاه مهرآباد"), ("ORG", "خبرگزاری فرانسه"), ("PRO", "سمند"),
        ("EVENT", "جام جهانی"), ("LOC", "تهران"), ("ORG", "یهودیان ایران")]
    assert warnings["arman: org spans dropped as demonyms"] == 2
    assert d2.meta["ne_types"] == ["PER", "ORG", "LOC", "FAC", "PRO", "EVENT"]
    assert d2.meta["source"] == "arman" and d2.meta["layers"] == ["ne"] and d2.meta["relations"] == []


# ParsTwiNER dev.txt lines 1060-1075 (an I-ORG right after B-PER), plus NAT and POG.
PARSTWINER_SAMPLE = (
    "سردار\tO\nعلی\tB-PER\n(\tI-ORG\nحمید\tI-ORG\n)\tI-ORG\nخدادی\tI-ORG\nجانباز\tO\nشیمیایی\tO\nدوران\tO\n"
    "دفاع\tB-EVE\nمقدس\tI-EVE\nو\tO\n\n"
    "ایرانیان\tB-NAT\nو\tO\nطالبان\tB-POG\nدر\tO\nکابل\tB-LOC\n"
)


def test_read_parstwiner_lines(tmp_path: Path) -> None:
    path = tmp_path / "dev.txt"
    path.write_text(PARSTWINER_SAMPLE, encoding="utf-8")
    assert detect_format(path) == "parstwiner"
    warnings: Counter = Counter()
    d1, d2 = read_bio(path, "parstwiner", warnings=warnings)
    # I-ORG right after B-PER (no B-ORG) starts a new span
    assert [(e.type, d1.span_text(e)) for e in d1.entities] == [
        ("PER", "علی"), ("ORG", "( حمید ) خدادی"), ("EVENT", "دفاع مقدس")]
    assert [(e.type, d2.span_text(e)) for e in d2.entities] == [("ORG", "طالبان"), ("LOC", "کابل")]
    assert warnings["parstwiner: I- tag without B- (started a new span)"] == 1
    assert warnings["parstwiner: NAT spans dropped (no goftar entity)"] == 1
    assert d1.meta["ne_types"] == ["PER", "ORG", "LOC", "EVENT"]
    assert all(validate_document(d) == [] for d in (d1, d2))


def test_type_maps() -> None:
    peyma, arman, tw = FLAVOURS["peyma"], FLAVOURS["arman"], FLAVOURS["parstwiner"]
    assert peyma.types == {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "DAT": "DATE", "TIM": "TIME",
                           "MON": "MONEY", "PCT": "PERCENT"}
    assert arman.types == {"pers": "PER", "org": "ORG", "loc": "LOC", "fac": "FAC", "pro": "PRO", "event": "EVENT"}
    assert tw.types["POG"] == "ORG" and tw.types["EVE"] == "EVENT" and tw.types["NAT"] is None
    # the writers spell each goftar type one way
    assert peyma.inverse()["DATE"] == "DAT" and arman.inverse()["PER"] == "pers"
    assert tw.inverse()["ORG"] == "ORG" and "FAC" not in tw.inverse()


@pytest.mark.parametrize("word", [
    "ایرانی", "ایرانیان", "آمریکائی", "آمریکایی", "آمریکائیها", "آمریکائیهای", "فلسطینی‌ها", "اسرائیلی",
    "فرانسوی", "ایتالیائی", "کره‌ای", "کرمانشاهی", "یهودیان", "روس‌ها", "اندونزیایی", "ايراني",
])
def test_demonyms(word: str) -> None:
    assert is_demonym(word)


@pytest.mark.parametrize("word", [
    # places and names, including ARMAN `org` names that end in ی
    "ایران", "آمریکا", "شوروی", "اندونزی", "دادگستری", "جمهوری", "اسلامی", "ملی", "چلسی", "هخامنشی",
    "آمریکای", "طالبان", "تهران", "صهیونیستی", "بی‌بی‌سی",
])
def test_not_demonyms(word: str) -> None:
    assert not is_demonym(word)


def test_demonym_rule_only_drops_single_token_org_spans(tmp_path: Path) -> None:
    path = tmp_path / "a.txt"
    path.write_text("ایرانی B-pers\nو O\nچینی B-org\nو O\nایرانی B-org\nمقیم I-org\n", encoding="utf-8")
    (doc,) = read_bio(path, "arman")
    assert [(e.type, doc.span_text(e)) for e in doc.entities] == [("PER", "ایرانی"), ("ORG", "ایرانی مقیم")]


# ---------------------------------------------------------------------------
# malformed input
# ---------------------------------------------------------------------------


@pytest.mark.parametrize("flavour,bad,problem", [
    ("peyma", "ایران B_LOC", "no '|' between token and tag"),
    ("peyma", "ایران|B-LOC", "bad tag 'B-LOC'"),
    ("peyma", "ایران|B_FAC", "unknown peyma entity type 'FAC'"),
    ("peyma", " |O", "empty token"),
    ("arman", "ایران\tB-loc", "no space between"),
    ("arman", "ایران B-LOC", "unknown arman entity type 'LOC'"),
    ("parstwiner", "ایران B-LOC", "no tab between"),
    ("parstwiner", "ایران\tX-LOC", "bad tag 'X-LOC'"),
])
def test_malformed_line_is_reported_with_its_line(tmp_path: Path, flavour: str, bad: str, problem: str) -> None:
    fl = FLAVOURS[flavour]
    good = f"تهران{fl.separator}O\n"
    path = tmp_path / "bad.txt"
    path.write_text(good + "\n" + good + bad + "\n" + good + "\n" + good, encoding="utf-8")
    items = list(iter_bio(path, flavour))
    assert [type(i).__name__ for i in items] == ["Document", "DocumentError", "Document"]
    msg = str(items[1])
    assert msg.startswith(f"{path}:4: ") and problem in msg
    assert items[2].id.endswith("-000003")  # numbering counts the broken sentence
    with pytest.raises(DocumentError, match=":4: "):
        read_bio(path, flavour)


def test_read_documents_is_strict_and_iter_documents_is_not(tmp_path: Path) -> None:
    path = tmp_path / "train.txt"
    path.write_text("تهران|B_LOC\n\nقم B_LOC\n\nکرج|B_LOC\n", encoding="utf-8")
    assert [type(d).__name__ for d in iter_documents(path, "peyma")] == ["Document", "DocumentError", "Document"]
    with pytest.raises(DocumentError, match=":3: no '|'"):
        read_documents(path, "peyma")


def test_invalid_utf8_line(tmp_path: Path) -> None:
    path = tmp_path / "bad.txt"
    path.write_bytes("تهران|O\n\n".encode() + b"\xff\xfe|O\n")
    items = list(iter_bio(path, "peyma"))
    assert isinstance(items[1], DocumentError) and ":3: invalid UTF-8" in str(items[1])


def test_spans_are_trimmed_of_edge_punctuation(tmp_path: Path) -> None:
    # PEYMA train.txt: «گروه " دیدبان قضایی "» and «تامس ایی.» are tagged with the closing mark
    path = tmp_path / "t.txt"
    path.write_text('گروه|B_ORG\n"|I_ORG\nدیدبان|I_ORG\nقضایی|I_ORG\n"|I_ORG\nو|O\nتامس|B_PER\nایی.|I_PER\n«|B_ORG\n',
                    encoding="utf-8")
    warnings: Counter = Counter()
    (doc,) = read_bio(path, "peyma", warnings=warnings)
    assert [doc.span_text(e) for e in doc.entities] == ['گروه " دیدبان قضایی', "تامس ایی"]
    assert warnings["peyma: spans trimmed of edge punctuation or ZWNJ"] == 2
    assert warnings["peyma: spans of punctuation only dropped"] == 1
    assert validate_document(doc) == []


def test_crlf_bio_file(tmp_path: Path) -> None:
    path = tmp_path / "crlf.txt"
    path.write_bytes("تهران\tB-LOC\r\nو\tO\r\n\r\nقم\tB-LOC\r\n".encode())
    docs = read_bio(path, "parstwiner")
    assert [d.text for d in docs] == ["تهران و", "قم"]


# ---------------------------------------------------------------------------
# Label Studio
# ---------------------------------------------------------------------------


def _ls_task(text: str, result: list, **extra) -> dict:
    return {"id": 7, "data": {"text": text}, "annotations": [{"id": 1, "result": result}], **extra}


def _ls_label(rid: str, start: int, end: int, label: str, text: str | None = None) -> dict:
    v = {"start": start, "end": end, "labels": [label]}
    if text is not None:
        v["text"] = text
    return {"id": rid, "from_name": "label", "to_name": "text", "type": "labels", "value": v}


def test_labelstudio_export_with_sector_relation_and_choices(tmp_path: Path) -> None:
    text = "قالیباف گفت: روابط تجاری و بانکی"
    quote, trade, banking = _span(text, "روابط تجاری و بانکی"), _span(text, "تجاری"), _span(text, "بانکی")
    result = [
        _ls_label("a1", 0, 7, "PER", "قالیباف"),
        _ls_label("a2", *quote, "QUOTE"),
        _ls_label("a3", *trade, "SECTOR:TRADE", "تجاری"),
        _ls_label("a4", *banking, "SECTOR", "بانکی"),
        # the other convention some projects use: a per-region choice holds the category
        {"id": "a4", "from_name": "category", "to_name": "text", "type": "choices",
         "value": {"start": banking[0], "end": banking[1], "choices": ["BANKING_FINANCE"]}},
        {"from_id": "a1", "to_id": "a2", "type": "relation", "direction": "left", "labels": ["said_by"]},
        {"from_id": "a2", "to_id": "a3", "type": "relation", "direction": "right", "labels": ["topic"]},
    ]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([_ls_task(text, result)], ensure_ascii=False), encoding="utf-8")
    (doc,) = read_labelstudio(path)
    assert doc.id == "labelstudio-7"
    assert [(e.id, e.type, e.category, doc.span_text(e)) for e in doc.entities] == [
        ("a1", "PER", None, "قالیباف"), ("a2", "QUOTE", None, "روابط تجاری و بانکی"),
        ("a3", "SECTOR", "TRADE", "تجاری"), ("a4", "SECTOR", "BANKING_FINANCE", "بانکی")]
    assert [(r.type, r.head, r.tail) for r in doc.relations] == [("said_by", "a2", "a1"), ("topic", "a2", "a3")]
    assert validate_document(doc) == []


def test_labelstudio_predictions_and_scores(tmp_path: Path) -> None:
    doc = _seed_doc()
    doc.entities[0].score = 0.91
    path = tmp_path / "pre.json"
    write_labelstudio([doc], path, predictions=True)
    task = json.loads(path.read_text(encoding="utf-8"))[0]
    assert "annotations" not in task and task["predictions"][0]["result"][0]["score"] == 0.91
    assert read_labelstudio(path) == []  # predictions are never gold unless asked for
    (back,) = read_labelstudio(path, accept_predictions=True)
    assert _content(back) == _content(doc) and back.entities[0].score == 0.91
    assert back.meta["labelstudio_origin"] == "prediction"


def test_labelstudio_utf16_offsets_are_recognised(tmp_path: Path) -> None:
    text = "😀 سلام تهران"
    # JavaScript counts the emoji as two units: «تهران» is 8-13 there, 7-12 in Python
    path = tmp_path / "emoji.json"
    path.write_text(json.dumps([_ls_task(text, [_ls_label("x", 8, 13, "LOC", "تهران")])], ensure_ascii=False),
                    encoding="utf-8")
    (doc,) = read_labelstudio(path)
    assert (doc.entities[0].start, doc.entities[0].end) == (7, 12)


def test_labelstudio_broken_task_is_reported_and_the_rest_convert(tmp_path: Path) -> None:
    good = _ls_task("تهران", [_ls_label("x", 0, 5, "LOC", "تهران")])
    wrong_text = _ls_task("تهران", [_ls_label("x", 0, 3, "LOC", "تهران")])
    no_text = {"id": 9, "data": {"body": "x"}}
    path = tmp_path / "export.json"
    path.write_text(json.dumps([good, wrong_text, no_text, good], ensure_ascii=False), encoding="utf-8")
    notes: list = []
    items = list(iter_labelstudio(path, notes=notes))
    # the region whose text disagrees is dropped, its task kept; the task without text is broken
    assert [type(i).__name__ for i in items] == ["Document", "Document", "DocumentError", "Document"]
    assert items[1].entities == []
    assert [str(n) for n in notes] == [
        f"{path}:task 7:region x: value.text 'تهران' is not text[0:3] = 'تهر'; span dropped"]
    assert f"{path}:task 9" in str(items[2]) and "data.text" in str(items[2])


def test_labelstudio_invalid_json_names_the_line(tmp_path: Path) -> None:
    path = tmp_path / "export.json"
    path.write_text('[\n{"data": {"text": "x"}},\n{"data": }\n]', encoding="utf-8")
    (err,) = list(iter_labelstudio(path))
    assert isinstance(err, DocumentError) and f"{path}:3: invalid JSON" in str(err)


def test_labelstudio_config_lists_every_label() -> None:
    cfg = labelstudio_config()
    for label in ("PER", "ROLE", "QUOTE", "SECTOR:TRADE", "SECTOR:SOCIAL_LABOR", "said_by", "role_of", "topic"):
        assert f'value="{label}"' in cfg
    assert 'value="SECTOR"' not in cfg


# ---------------------------------------------------------------------------
# doccano
# ---------------------------------------------------------------------------


def test_doccano_lines(tmp_path: Path) -> None:
    text = "قالیباف گفت: روابط تجاری"
    lines = [
        {"id": 3, "text": text, "Comments": [], "source": "fars",
         "entities": [{"id": 11, "label": "PER", "start_offset": 0, "end_offset": 7},
                      {"id": 12, "label": "QUOTE", "start_offset": 13, "end_offset": 24},
                      {"id": 13, "label": "SECTOR:TRADE", "start_offset": 19, "end_offset": 24}],
         "relations": [{"id": 1, "from_id": 12, "to_id": 11, "type": "said_by"}]},
        {"id": 4, "text": "تهران", "label": [[0, 5, "LOC"]]},
    ]
    path = tmp_path / "doccano.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines) + "\n{broken\n", encoding="utf-8")
    assert detect_format(path) == "doccano"
    items = list(iter_doccano(path))
    d1, d2, err = items
    assert d1.id == "doccano-3" and d1.meta == {"source": "fars"}
    assert [(e.id, e.type, e.category) for e in d1.entities] == [("T11", "PER", None), ("T12", "QUOTE", None),
                                                                  ("T13", "SECTOR", "TRADE")]
    assert [(r.type, r.head, r.tail) for r in d1.relations] == [("said_by", "T12", "T11")]
    assert [(e.type, d2.span_text(e)) for e in d2.entities] == [("LOC", "تهران")]
    assert isinstance(err, DocumentError) and f"{path}:3: invalid JSON" in str(err)


def test_doccano_ids_that_are_not_numbers(tmp_path: Path) -> None:
    doc = Document("d", "قالیباف گفت", [Entity("E-a", "PER", 0, 7), Entity("T4", "PER", 8, 11)])
    path = tmp_path / "d.jsonl"
    write_doccano([doc], path)
    (back,) = read_doccano(path)
    assert [(e.id, e.start) for e in back.entities] == [("T5", 0), ("T4", 8)]


# ---------------------------------------------------------------------------
# BRAT
# ---------------------------------------------------------------------------


def test_brat_pair_with_crlf_and_category(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_bytes("به گزارش مهر\r\nقالیباف گفت: تجاری".encode())
    (tmp_path / "a.ann").write_text(
        "T1\tORG 9 12\tمهر\nT2\tPER 14 21\tقالیباف\nT3\tQUOTE 27 32\tتجاری\nT4\tSECTOR 27 32\tتجاری\n"
        "R1\tsaid_by Arg1:T3 Arg2:T2\nA1\tCategory T4 TRADE\n#1\tAnnotatorNotes T1\tcheck\n",
        encoding="utf-8")
    (doc,) = read_brat(tmp_path)
    assert doc.id == "a" and doc.text.count("\r\n") == 1
    assert [(e.type, e.category, doc.span_text(e)) for e in doc.entities] == [
        ("ORG", None, "مهر"), ("PER", None, "قالیباف"), ("QUOTE", None, "تجاری"), ("SECTOR", "TRADE", "تجاری")]
    assert [(r.type, r.head, r.tail) for r in doc.relations] == [("said_by", "T3", "T2")]


def test_brat_entity_across_a_line_break_round_trips(tmp_path: Path) -> None:
    doc = Document("q/1", "او گفت: سطر اول\nسطر دوم", [Entity("T1", "QUOTE", 8, 23)])
    assert "T1\tQUOTE 8 15;16 23\tسطر اول سطر دوم" in brat_annotation(doc)
    write_brat([doc, doc], tmp_path / "out")
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "annotation.conf", "q_1-2.ann", "q_1-2.txt", "q_1.ann", "q_1.txt"]
    back = read_brat(tmp_path / "out")
    assert [_content(d) for d in back] == [_content(doc)] * 2


def test_brat_errors_name_the_ann_line(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("قالیباف گفت", encoding="utf-8")
    # byte offsets instead of character offsets: «قالیباف» is 14 bytes
    (tmp_path / "a.ann").write_text("T1\tPER 0 7\tقالیباف\nT2\tPER 0 14\tقالیباف\n", encoding="utf-8")
    (tmp_path / "b.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.ann").write_text("T1\tPER 0 1\tx\nE1\tEvent:T1\n", encoding="utf-8")
    (tmp_path / "c.txt").write_text("تهران", encoding="utf-8")
    (tmp_path / "c.ann").write_text("T1\tLOC 0 5\tتهران\n", encoding="utf-8")
    a, b, c = iter_brat(tmp_path)
    assert isinstance(a, DocumentError) and str(a).startswith(f"{tmp_path / 'a.ann'}:2: ")
    assert isinstance(b, DocumentError) and f"{tmp_path / 'b.ann'}:2: 'E'" in str(b)
    assert isinstance(c, Document) and c.id == "c"


# ---------------------------------------------------------------------------
# convert and the command line
# ---------------------------------------------------------------------------


def test_convert_reports_broken_records_and_keeps_the_rest(tmp_path: Path) -> None:
    src = tmp_path / "train.txt"
    src.write_text(PEYMA_SAMPLE.replace("مهر|I_ORG", "مهر I_ORG"), encoding="utf-8")
    out = tmp_path / "train.jsonl"
    report = convert([src], out)
    assert isinstance(report, ConversionReport)
    assert report.documents == 2 and len(report.problems) == 1
    assert report.problems[0].startswith(f"{src}:29: no '|'")
    assert [d.id for d in read_jsonl(out)] == ["peyma-train-000001", "peyma-train-000002"]


def test_cli_convert_then_validate(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    for name, sample in [("peyma.txt", PEYMA_SAMPLE), ("arman.txt", ARMAN_SAMPLE), ("tw.txt", PARSTWINER_SAMPLE)]:
        (tmp_path / name).write_text(sample, encoding="utf-8")
    gold = tmp_path / "gold.jsonl"
    write_jsonl([_seed_doc()], gold)
    ls = tmp_path / "ls.json"
    assert main(["convert", str(gold), "-o", str(ls)]) == 0
    out = tmp_path / "all.jsonl"
    args = ["convert", str(tmp_path / "peyma.txt"), str(tmp_path / "arman.txt"), str(tmp_path / "tw.txt"), str(ls),
            "-o", str(out)]
    assert main(args) == 0
    assert "8 documents written" in capsys.readouterr().err
    n, problems = validate_files([out])
    assert n == 8 and problems == []
    assert main(["validate", str(out)]) == 0


def test_cli_convert_to_a_chosen_format_and_layer(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    write_jsonl([_seed_doc()], gold)
    out = tmp_path / "roles.txt"
    assert main(["convert", str(gold), "-o", str(out), "--to", "conll", "--layer", "role"]) == 0
    assert "رئیس\tB-ROLE" in out.read_text(encoding="utf-8")
    out2 = tmp_path / "gold.peyma"
    assert main(["convert", str(gold), "-o", str(out2), "--to", "peyma"]) == 0
    assert "مهر|I_ORG" in out2.read_text(encoding="utf-8")


def test_cli_errors(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert main(["convert", str(tmp_path / "missing.txt"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    (tmp_path / "prose.txt").write_text("just some prose\n", encoding="utf-8")
    assert main(["convert", str(tmp_path / "prose.txt"), "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "cannot tell the format" in capsys.readouterr().err
    with pytest.raises(FormatError, match="unknown format"):
        convert([tmp_path / "prose.txt"], tmp_path / "x.jsonl", from_format="xml")


def test_imports_without_torch_or_datasets() -> None:
    code = (
        "import sys\n"
        "for m in ('torch', 'datasets', 'transformers', 'seqeval', 'accelerate'): sys.modules[m] = None\n"
        "import goftar.inference.formats as f\n"
        "assert f.is_demonym('ایرانی')\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_one_module_per_tool_and_the_old_paths_still_import() -> None:
    import goftar.inference.formats as f
    from goftar.inference import formats_labelstudio
    from goftar.inference.formats import arman, brat, doccano, labelstudio, peyma, tokens

    assert formats_labelstudio.iter_labelstudio is labelstudio.iter_labelstudio is f.iter_labelstudio
    assert f.iter_bio is tokens.iter_bio and f.iter_brat is brat.iter_brat and f.iter_doccano is doccano.iter_doccano
    assert f.FLAVOURS["peyma"] is peyma.PEYMA and f.FLAVOURS["arman"] is arman.ARMAN
    assert f.is_demonym is arman.is_demonym


def test_training_reads_auto_sources_through_the_one_detector(tmp_path, monkeypatch) -> None:
    """training/data.py tells formats by formats.detect_format, as convert and validate do."""
    from goftar.inference import formats
    from goftar.training.config import SourceConfig
    from goftar.training.data import read_source

    path = tmp_path / "export.jsonl"
    path.write_text(json.dumps({"id": 3, "text": "قالیباف گفت", "entities": [
        {"id": 1, "label": "PER", "start_offset": 0, "end_offset": 7}], "relations": []}, ensure_ascii=False) + "\n",
        encoding="utf-8")
    docs, problems = read_source(SourceConfig(path=str(path)))
    assert problems == [] and [(d.id, [(e.type, e.start, e.end) for e in d.entities]) for d in docs] == [
        ("doccano-3", [("PER", 0, 7)])]
    seen = []
    real = formats.detect_format
    monkeypatch.setattr(formats, "detect_format", lambda p: seen.append(Path(p)) or real(p))
    read_source(SourceConfig(path=str(path)))
    assert seen == [path]
