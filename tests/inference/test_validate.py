import json

import pytest

from goftar.inference.validate import validate_files
from goftar.cli import main

TEXT = "قالیباف رئیس مجلس گفت: روابط تجاری مهم است."
# offsets: قالیباف 0-7, رئیس مجلس 8-17, مجلس 13-17, quote 23-42, تجاری 29-34
GOOD = {
    "id": "d1", "text": TEXT,
    "entities": [
        {"id": "T1", "type": "PER", "start": 0, "end": 7},
        {"id": "T2", "type": "ROLE", "start": 8, "end": 17},
        {"id": "T3", "type": "ORG", "start": 13, "end": 17},
        {"id": "T4", "type": "QUOTE", "start": 23, "end": 42},
        {"id": "T5", "type": "SECTOR", "start": 29, "end": 34, "category": "TRADE"},
    ],
    "relations": [
        {"type": "said_by", "head": "T4", "tail": "T1"},
        {"type": "role_of", "head": "T2", "tail": "T1"},
        {"type": "topic", "head": "T4", "tail": "T5"},
    ],
}


def write(tmp_path, doc, name="x.jsonl"):
    p = tmp_path / name
    p.write_text(json.dumps(doc, ensure_ascii=False) + "\n", encoding="utf-8")
    return p


def mutate(fn):
    d = json.loads(json.dumps(GOOD))
    fn(d)
    return d


def test_seed_article_and_good_doc_pass(seed_path, tmp_path):
    assert TEXT[23:42] == "روابط تجاری مهم است"
    n, problems = validate_files([seed_path, write(tmp_path, GOOD)])
    assert n == 2 and problems == []


CASES = [
    ("offsets", lambda d: d["entities"][0].update(end=999), "outside the text"),
    ("text mismatch", lambda d: d["entities"][0].update(text="وی"), "does not match"),
    ("span edge", lambda d: d["entities"][0].update(end=8), "ends with white space"),
    ("span start", lambda d: d["entities"][3].update(start=22), "starts with white space"),
    ("overlap", lambda d: d["entities"].append({"id": "T6", "type": "LOC", "start": 5, "end": 11}), "overlaps T1"),
    ("relation types", lambda d: d["relations"].append({"type": "role_of", "head": "T4", "tail": "T1"}), "QUOTE->PER not allowed"),
    ("two said_by", lambda d: d["relations"].append({"type": "said_by", "head": "T4", "tail": "T2"}), "2 said_by relations"),
    ("category", lambda d: d["entities"][4].update(category="FINANCE"), "unknown sector category"),
    ("no category", lambda d: d["entities"][4].pop("category"), "SECTOR without a category"),
    ("unknown type", lambda d: d["entities"][0].update(type="PERSON"), "unknown entity type"),
    ("dangling id", lambda d: d["relations"].append({"type": "topic", "head": "T4", "tail": "T9"}), "no entity with id T9"),
    ("duplicate id", lambda d: d["entities"].append({"id": "T1", "type": "LOC", "start": 36, "end": 39}), "entity id used 2 times"),
]


@pytest.mark.parametrize("name,fn,message", CASES, ids=[c[0] for c in CASES])
def test_each_rule_fails_with_its_message(tmp_path, name, fn, message):
    p = write(tmp_path, mutate(fn))
    _, problems = validate_files([p])
    assert problems, name
    assert any(message in x for x in problems), problems
    assert all(x.startswith(f"{p}:1 d1: ") for x in problems)


def test_broken_line_reported_with_line_number(tmp_path, capsys):
    p = tmp_path / "b.jsonl"
    p.write_text(json.dumps(GOOD, ensure_ascii=False) + "\n{not json\n", encoding="utf-8")
    assert main(["validate", str(p)]) == 1
    out = capsys.readouterr().out
    assert f"{p}:2: invalid JSON" in out
