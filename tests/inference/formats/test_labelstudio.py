"""The Label Studio loop: pre-annotations out, the labelling config, corrections back in.

Offsets: Label Studio's editor counts Text offsets in code points and counts
\\r\\n as two characters (see goftar.inference.formats.labelstudio); the
frontend of older versions counted UTF-16 units. ``_frontend_offsets`` below
computes both from first principles (not with goftar's code) so the round
trips check goftar against what the editor stores.
"""
from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from goftar.inference.document import Document, Entity, Relation, write_jsonl
from goftar.inference.formats import convert, iter_labelstudio, labelstudio_config, read_labelstudio, task_score
from goftar.inference.formats.labelstudio import ImportNote
from goftar.inference.validate import validate_document
from goftar.cli import main

# emoji (astral: two UTF-16 units), ZWNJ inside words, «» around the quote, CRLF line breaks
TEXT = ("😀 خبرگزاری مهر:\r\nعلی‌اکبر ولایتی مشاور رهبری گفت: «روابط تجاری ایران‌ و 🇮🇷 چین باید توسعه‌ یابد».\r\n"
        "🙂 او افزود: «همکاری‌های بانکی مهم است».")


def _at(mention: str, after: int = 0) -> tuple[int, int]:
    s = TEXT.index(mention, after)
    return s, s + len(mention)


def _predicted_doc() -> Document:
    """A document as `goftar predict` writes it: scores on spans and relations, meta from the input."""
    spans = [
        ("T1", "ORG", "خبرگزاری مهر", None, 0.97),
        ("T2", "PER", "علی‌اکبر ولایتی", None, 0.95),
        ("T3", "ROLE", "مشاور رهبری", None, 0.88),
        ("T4", "QUOTE", "روابط تجاری ایران‌ و 🇮🇷 چین باید توسعه‌ یابد", None, 0.81),
        ("T5", "SECTOR", "تجاری", "TRADE", 0.9),
        ("T6", "LOC", "چین", None, 0.99),
        ("T7", "QUOTE", "همکاری‌های بانکی مهم است", None, 0.62),
        ("T8", "SECTOR", "بانکی", "BANKING_FINANCE", 0.7),
    ]
    ents = [Entity(i, t, *_at(m), c, s) for i, t, m, c, s in spans]
    rels = [Relation("said_by", "T4", "T2", 0.93), Relation("role_of", "T3", "T2", 0.9),
            Relation("topic", "T4", "T5", 0.85), Relation("said_by", "T7", "T2", 0.55),
            Relation("topic", "T7", "T8", 0.8)]
    return Document("mehr-1", TEXT, ents, rels, {"source": "mehr", "model_version": "goftar-fa-small@0.1.0"})


def _frontend_offsets(text: str, start: int, end: int) -> dict[str, tuple[int, int]]:
    """Where the editor puts a region that a person selects over text[start:end]."""
    def utf16(i: int) -> int:
        return len(text[:i].encode("utf-16-le")) // 2
    return {"code points": (start, end), "utf-16": (utf16(start), utf16(end))}


def _content(doc: Document) -> tuple:
    return (doc.text, sorted((e.id, e.type, e.start, e.end, e.category) for e in doc.entities),
            sorted((r.type, r.head, r.tail) for r in doc.relations))


def test_the_sample_text_has_what_the_round_trips_are_about() -> None:
    assert "\r\n" in TEXT and "\u200c" in TEXT and "«" in TEXT and any(ord(c) > 0xFFFF for c in TEXT)
    assert validate_document(_predicted_doc()) == []


# ---------------------------------------------------------------------------
# pre-annotations out
# ---------------------------------------------------------------------------


def test_convert_as_predictions_writes_model_version_scores_and_relations(tmp_path: Path) -> None:
    pred = tmp_path / "pred.jsonl"
    write_jsonl([_predicted_doc()], pred)
    out = tmp_path / "tasks.json"
    assert main(["convert", str(pred), "--to", "labelstudio", "--as-predictions", "-o", str(out)]) == 0
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    assert "annotations" not in task and task["data"]["text"] == TEXT and task["data"]["doc_id"] == "mehr-1"
    (p,) = task["predictions"]
    assert p["model_version"] == "goftar-fa-small@0.1.0"
    # lowest over the quotes (0.81, 0.62) and the speaker links (0.93, 0.55), not over all spans
    assert p["score"] == 0.55
    regions = {r["id"]: r for r in p["result"] if r["type"] == "labels"}
    assert regions["T7"]["score"] == 0.62 and regions["T5"]["value"]["labels"] == ["SECTOR:TRADE"]
    assert {r["from_name"] for r in regions.values()} == {"ne", "role", "sector", "quote"}
    rels = [r for r in p["result"] if r["type"] == "relation"]
    assert {(r["from_id"], r["to_id"], r["labels"][0], r["direction"]) for r in rels} == {
        ("T4", "T2", "said_by", "right"), ("T3", "T2", "role_of", "right"), ("T4", "T5", "topic", "right"),
        ("T7", "T2", "said_by", "right"), ("T7", "T8", "topic", "right")}


def test_model_version_option_overrides_the_meta(tmp_path: Path) -> None:
    doc = _predicted_doc()
    doc.meta.pop("model_version")
    pred = tmp_path / "pred.jsonl"
    write_jsonl([doc], pred)
    out = tmp_path / "tasks.json"
    convert([pred], out, to_format="labelstudio", as_predictions=True)
    assert json.loads(out.read_text(encoding="utf-8"))[0]["predictions"][0]["model_version"] == "goftar"
    convert([pred], out, to_format="labelstudio", as_predictions=True, model_version="run-7")
    assert json.loads(out.read_text(encoding="utf-8"))[0]["predictions"][0]["model_version"] == "run-7"


def test_task_score_falls_back_to_all_scores_and_is_absent_without_any() -> None:
    doc = Document("d", "a b", [Entity("T1", "PER", 0, 1, score=0.4), Entity("T2", "LOC", 2, 3, score=0.8)])
    assert task_score(doc) == 0.4
    assert task_score(Document("d", "a", [Entity("T1", "PER", 0, 1)])) is None


def test_model_output_written_as_annotations_is_warned(tmp_path: Path) -> None:
    pred = tmp_path / "pred.jsonl"
    write_jsonl([_predicted_doc()], pred)
    report = convert([pred], tmp_path / "tasks.json")
    assert any("--as-predictions" in w for w in report.warnings)


def test_as_predictions_needs_label_studio_output(tmp_path: Path, capsys) -> None:
    pred = tmp_path / "pred.jsonl"
    write_jsonl([_predicted_doc()], pred)
    assert main(["convert", str(pred), "--as-predictions", "-o", str(tmp_path / "x.jsonl")]) == 2
    assert "--as-predictions writes Label Studio tasks" in capsys.readouterr().err


def test_convert_never_writes_over_its_input(tmp_path: Path, capsys) -> None:
    pred = tmp_path / "pred.jsonl"
    write_jsonl([_predicted_doc()], pred)
    before = pred.read_bytes()
    assert main(["convert", str(pred), "-o", str(pred)]) == 2
    assert pred.read_bytes() == before and "is also an input" in capsys.readouterr().err


# ---------------------------------------------------------------------------
# the labelling config
# ---------------------------------------------------------------------------


def test_labelstudio_config_command_prints_a_config_that_the_tasks_fit(tmp_path: Path, capsys) -> None:
    assert main(["labelstudio-config"]) == 0
    cfg = capsys.readouterr().out
    assert cfg == labelstudio_config()
    root = ET.fromstring(cfg)
    (text_tag,) = root.iter("Text")
    groups = {g.get("name"): [lab.get("value") for lab in g.iter("Label")] for g in root.iter("Labels")}
    relations = [r.get("value") for r in root.iter("Relation")]
    assert set(groups) == {"ne", "role", "sector", "quote"} and relations == ["said_by", "role_of", "topic"]
    assert len(groups["sector"]) == 16 and all(v.startswith("SECTOR:") for v in groups["sector"])
    assert all(g.get("toName") == text_tag.get("name") for g in root.iter("Labels"))
    pred = tmp_path / "pred.jsonl"
    write_jsonl([_predicted_doc()], pred)
    out = tmp_path / "tasks.json"
    convert([pred], out, to_format="labelstudio", as_predictions=True)
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    assert text_tag.get("value") == "$" + next(iter(task["data"]))
    for r in task["predictions"][0]["result"]:
        if r["type"] == "labels":
            assert r["to_name"] == text_tag.get("name") and r["value"]["labels"][0] in groups[r["from_name"]]
        else:
            assert r["labels"][0] in relations


# ---------------------------------------------------------------------------
# offsets: emoji, ZWNJ, «», CRLF
# ---------------------------------------------------------------------------


def test_written_offsets_are_where_the_editor_counts_them(tmp_path: Path) -> None:
    doc = _predicted_doc()
    out = tmp_path / "tasks.json"
    convert([_write(tmp_path, doc)], out, to_format="labelstudio", as_predictions=True)
    (task,) = json.loads(out.read_text(encoding="utf-8"))
    text = task["data"]["text"]
    assert text == TEXT  # \r\n kept: the editor counts it as two characters
    for r in task["predictions"][0]["result"]:
        if r["type"] == "labels":
            e = doc.entity(r["id"])
            v = r["value"]
            assert (v["start"], v["end"]) == _frontend_offsets(TEXT, e.start, e.end)["code points"]
            assert text[v["start"]:v["end"]] == v["text"] == TEXT[e.start:e.end]


@pytest.mark.parametrize("counting", ["code points", "utf-16"])
def test_an_export_reads_back_unchanged_however_the_editor_counted(tmp_path: Path, counting: str) -> None:
    doc = _predicted_doc()
    result = []
    for e in doc.entities:
        s, t = _frontend_offsets(TEXT, e.start, e.end)[counting]
        result.append({"id": e.id, "from_name": "x", "to_name": "text", "type": "labels",
                       "value": {"start": s, "end": t, "text": TEXT[e.start:e.end],
                                 "labels": ["SECTOR:" + e.category if e.category else e.type]}})
    result += [{"from_id": r.head, "to_id": r.tail, "type": "relation", "direction": "right", "labels": [r.type]}
               for r in doc.relations]
    path = tmp_path / "export.json"
    path.write_text(json.dumps([{"id": 3, "data": {"text": TEXT, "doc_id": "mehr-1"},
                                 "annotations": [{"id": 1, "result": result}]}], ensure_ascii=False), encoding="utf-8")
    (back,) = read_labelstudio(path)
    assert _content(back) == _content(doc)
    if counting == "utf-16":  # the emoji before every span shift them all
        assert all(_frontend_offsets(TEXT, e.start, e.end)["utf-16"][0] != e.start for e in doc.entities)


def test_annotations_round_trip_through_the_file(tmp_path: Path) -> None:
    doc = _predicted_doc()
    out = tmp_path / "gold.json"
    convert([_write(tmp_path, doc)], out, to_format="labelstudio")
    (back,) = read_labelstudio(out)
    assert _content(back) == _content(doc) and back.meta == doc.meta


def _write(tmp_path: Path, doc: Document) -> Path:
    p = tmp_path / "in.jsonl"
    write_jsonl([doc], p)
    return p


# ---------------------------------------------------------------------------
# corrections in
# ---------------------------------------------------------------------------


def _region(rid: str, mention: str, label: str, *, after: int = 0, extend: str = "") -> dict:
    s, e = _at(mention, after)
    e += len(extend)
    assert TEXT[s:e] == mention + extend
    return {"id": rid, "from_name": "ne", "to_name": "text", "type": "labels",
            "value": {"start": s, "end": e, "text": TEXT[s:e], "labels": [label]}}


def _arrow(a: str, b: str, label: str | None, direction: str = "right") -> dict:
    r = {"from_id": a, "to_id": b, "type": "relation", "direction": direction}
    if label is not None:
        r["labels"] = [label]
    return r


def _export(tmp_path: Path, tasks: list[dict]) -> Path:
    path = tmp_path / "export.json"
    path.write_text(json.dumps(tasks, ensure_ascii=False, indent=1), encoding="utf-8")
    return path


def _task(tid: int, result: list, *, predictions: list | None = None, cancelled: bool = False) -> dict:
    t: dict = {"id": tid, "data": {"text": TEXT}, "annotations": [{"id": tid, "result": result,
                                                                   "was_cancelled": cancelled}]}
    if predictions is not None:
        t["predictions"] = predictions
    return t


def test_a_task_nobody_annotated_is_skipped_unless_predictions_are_accepted(tmp_path: Path, capsys) -> None:
    pred = [{"model_version": "m", "score": 0.5, "result": [_region("p1", "چین", "LOC")]}]
    tasks = [
        {"id": 1, "data": {"text": TEXT}, "annotations": [], "predictions": pred},
        _task(2, [_region("a1", "چین", "LOC")], predictions=pred, cancelled=True),  # skipped in the editor
        _task(3, [_region("a1", "ایران", "LOC")], predictions=pred),
    ]
    path = _export(tmp_path, tasks)
    notes: list[ImportNote] = []
    docs = list(iter_labelstudio(path, notes=notes))
    assert [d.id for d in docs] == ["labelstudio-3"] and docs[0].meta == {}
    assert [(n.where, n.kind) for n in notes] == [(f"{path}:task 1", "skipped"), (f"{path}:task 2", "skipped")]
    assert "--accept-predictions" in notes[0].what
    docs = list(iter_labelstudio(path, accept_predictions=True))
    assert [d.id for d in docs] == ["labelstudio-1", "labelstudio-2", "labelstudio-3"]
    assert [d.meta.get("labelstudio_origin") for d in docs] == ["prediction", "prediction", None]
    # the command line says so, and only the annotated task reaches the output
    out = tmp_path / "gold.jsonl"
    assert main(["convert", str(path), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {path}:task 1: no human annotation" in err and "2 × labelstudio: tasks without" in err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 1
    assert main(["convert", str(path), "--accept-predictions", "-o", str(out)]) == 0
    assert len(out.read_text(encoding="utf-8").splitlines()) == 3


def test_repairable_flaws_are_repaired_and_reported(tmp_path: Path) -> None:
    quote = "روابط تجاری ایران‌ و 🇮🇷 چین باید توسعه‌ یابد"
    result = [
        _region("q", quote, "QUOTE", extend="»."),               # the closing » and the final «.» inside the span
        _region("p", "علی‌اکبر ولایتی", "PER"),
        _region("r", "مشاور رهبری", "ROLE", extend=" "),          # a trailing space
        _region("s", "تجاری", "SECTOR:TRADE"),
        _arrow("p", "q", "said_by", "left"),                      # drawn from the speaker, arrow head at the quote
        _arrow("p", "r", "role_of", "bi"),                        # no direction: head/tail types tell it
        _arrow("s", "q", "topic", "right"),                       # drawn backwards
    ]
    path = _export(tmp_path, [_task(5, result)])
    notes: list[ImportNote] = []
    (doc,) = read_labelstudio(path, notes=notes)
    spans = {e.id: doc.span_text(e) for e in doc.entities}
    assert spans == {"q": quote, "p": "علی‌اکبر ولایتی", "r": "مشاور رهبری", "s": "تجاری"}
    assert sorted((r.type, r.head, r.tail) for r in doc.relations) == [
        ("role_of", "r", "p"), ("said_by", "q", "p"), ("topic", "q", "s")]
    assert validate_document(doc) == []
    assert {n.kind for n in notes} == {"repaired"}
    assert {n.where for n in notes} == {f"{path}:task 5:region q", f"{path}:task 5:region r",
                                        f"{path}:task 5:relation p->q", f"{path}:task 5:relation p->r",
                                        f"{path}:task 5:relation s->q"}
    assert any("trimmed to" in n.what and "»." in n.what for n in notes)


def test_unrepairable_flaws_drop_only_that_span_or_relation(tmp_path: Path, capsys) -> None:
    result = [
        _region("p", "علی‌اکبر ولایتی", "PER"),
        _region("q", "همکاری‌های بانکی مهم است", "QUOTE"),
        _region("x", "ایران", "PERSON"),                          # not a goftar type
        _region("f", "بانکی", "SECTOR:FINANCE"),                  # not a category
        _region("t", "تجاری", "SECTOR:TRADE"),
        _region("d", "مهر", "ORG"),
        _region("o", "خبرگزاری مهر", "ORG"),
        _arrow("q", "p", None),                                   # an arrow nobody labelled
        _arrow("q", "f", "topic"),                                # to a dropped span
        _arrow("q", "o", "topic"),                                # topic to an ORG: neither direction fits
        _arrow("q", "p", "said_by"),
    ]
    result[5]["value"]["text"] = "مهرر"                           # text disagrees with its offsets
    good = _task(2, [_region("a", "چین", "LOC")])
    path = _export(tmp_path, [_task(1, result), {"id": 9, "data": {}}, good])
    notes: list[ImportNote] = []
    items = list(iter_labelstudio(path, notes=notes))
    assert [type(i).__name__ for i in items] == ["Document", "DocumentError", "Document"]
    doc = items[0]
    assert sorted(e.id for e in doc.entities) == ["o", "p", "q", "t"]
    assert [(r.type, r.head, r.tail) for r in doc.relations] == [("said_by", "q", "p")]
    dropped = {n.where: n.what for n in notes if n.kind == "dropped"}
    assert set(dropped) == {f"{path}:task 1:region x", f"{path}:task 1:region f", f"{path}:task 1:region d",
                            f"{path}:task 1:relation q->p", f"{path}:task 1:relation q->f",
                            f"{path}:task 1:relation q->o"}
    assert "'PERSON' is not in the schema" in dropped[f"{path}:task 1:region x"]
    assert "'SECTOR:FINANCE' is not in the schema" in dropped[f"{path}:task 1:region f"]
    assert "no label" in dropped[f"{path}:task 1:relation q->p"]
    assert "value.text 'مهرر' is not text" in dropped[f"{path}:task 1:region d"]
    assert "refers to no kept region f" in dropped[f"{path}:task 1:relation q->f"]
    assert "between QUOTE and ORG" in dropped[f"{path}:task 1:relation q->o"]
    # one bad task never drops the file: convert writes both documents and names the broken task
    out = tmp_path / "gold.jsonl"
    assert main(["convert", str(path), "-o", str(out)]) == 1
    err = capsys.readouterr().err
    assert f"{path}:task 9: task has no string data.text" in err
    assert f"warning: {path}:task 1:region x: label 'PERSON'" in err
    assert len(out.read_text(encoding="utf-8").splitlines()) == 2


def test_a_bi_arrow_between_spans_no_relation_fits_is_dropped(tmp_path: Path) -> None:
    result = [_region("a", "ایران", "LOC"), _region("b", "چین", "LOC"), _arrow("a", "b", "role_of", "bi")]
    notes: list[ImportNote] = []
    (doc,) = read_labelstudio(_export(tmp_path, [_task(1, result)]), notes=notes)
    assert doc.relations == [] and [n.kind for n in notes] == ["dropped"]


def test_a_sector_without_category_and_per_region_category_choices(tmp_path: Path) -> None:
    plain = _region("s1", "تجاری", "SECTOR")
    chosen = _region("s2", "بانکی", "SECTOR")
    choice = {"id": "s2", "from_name": "category", "to_name": "text", "type": "choices",
              "value": {"start": chosen["value"]["start"], "end": chosen["value"]["end"], "choices": ["BANKING_FINANCE"]}}
    notes: list[ImportNote] = []
    (doc,) = read_labelstudio(_export(tmp_path, [_task(1, [plain, chosen, choice])]), notes=notes)
    assert [(e.id, e.category) for e in doc.entities] == [("s2", "BANKING_FINANCE")]
    assert [n.where for n in notes] == [f"{tmp_path / 'export.json'}:task 1:region s1"]
