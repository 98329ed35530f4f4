"""data/tools/consistency.py on a three-article corpus made here: every kind of item found, named, counted."""
from __future__ import annotations

import importlib
import json
import sys

from tests.helpers import ROOT, make_doc

sys.path.insert(0, str(ROOT / "data" / "tools"))
consistency = importlib.import_module("consistency")


def _corpus(tmp_path):
    a = make_doc("قالیباف گفت: کار داریم. بانک‌ها فعال‌اند.",
                 [("T1", "PER", "قالیباف"), ("T2", "QUOTE", "کار داریم"), ("T3", "SECTOR", "بانک‌ها", 0, "BANKING_FINANCE")],
                 doc_id="a")  # c: the QUOTE has no said_by
    b = make_doc("قالیباف آمد. ظریف گفت: بانک‌ها مهم‌اند.",
                 [("T1", "ORG", "قالیباف")], doc_id="b")  # a1: قالیباف is PER in a; b1: «گفت:» and no QUOTE; a2: بانک‌ها
    c = make_doc("وزیر نفت زنگنه امروز آمد و بانک‌ها را دید.", [("T1", "ROLE", "وزیر نفت"), ("T2", "PER", "زنگنه")], doc_id="c")  # d; a2: a second unannotated بانک‌ها
    path = tmp_path / "batch-01.jsonl"
    path.write_text("".join(json.dumps(d.to_dict(), ensure_ascii=False) + "\n" for d in (a, b, c)), encoding="utf-8")
    return path


def test_summary_counts_each_kind(tmp_path, capsys):
    path = _corpus(tmp_path)
    assert consistency.main([str(path), "--summary"]) == 0
    out = capsys.readouterr().out
    assert "3 articles (batch-01: 3)" in out
    counts = {row.split("|")[1].strip(): int(row.split("|")[3]) for row in out.splitlines() if row.startswith("| ") and "kind" not in row}
    assert counts == {"a1": 1, "a2": 1, "b1": 1, "b2": 0, "c": 1, "d": 1}


def test_items_name_the_article_and_offset(tmp_path, capsys):
    path = _corpus(tmp_path)
    assert consistency.main([str(path), "--kinds", "c", "d"]) == 0
    out = capsys.readouterr().out
    assert "## c. QUOTEs without said_by (1)" in out and "## d. ROLEs without role_of in an article with a PER (1)" in out
    c_items = out.split("## c.")[1].split("## d.")[0]
    assert "a" in c_items and "[کار داریم]" in c_items and "@13" in c_items  # the QUOTE starts at character 13
    assert "[وزیر نفت]" in out.split("## d.")[1]
    assert "## a1." not in out  # only the kinds asked for
