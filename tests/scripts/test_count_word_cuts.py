"""scripts/count_word_cuts.py on hand-made predictions: cut words and spans across line breaks are counted."""
from __future__ import annotations

from goftar.inference.document import Document, Entity, write_jsonl

from tests.helpers import load_script

cw = load_script("count_word_cuts")

TEXT = "ملانیا\nدونالد ترامپ گفت: قالیباف آمد"


def doc(*spans):
    return Document("d1", TEXT, [Entity(f"T{i}", t, s, e) for i, (t, s, e) in enumerate(spans, 1)])


def test_whole_words_on_one_line_are_clean():
    d = doc(("PER", 0, 6), ("PER", 7, 19), ("PER", TEXT.index("قالیباف"), TEXT.index("قالیباف") + 7))
    out = cw.count([d])
    assert (out["cut_total"], out["across_lines_total"], out["spans_total"]) == (0, 0, 3)


def test_a_span_inside_a_word_and_one_across_lines():
    q = TEXT.index("قالیباف")
    out = cw.count([doc(("PER", q, q + 5), ("PER", 0, 19))])
    assert out["layers"]["ne"] == {"spans": 2, "cut": 1, "across_lines": 1}
    assert {x["span"] for x in out["examples"]} == {"قالیب", "ملانیا\nدونالد ترامپ"}


def test_exit_status_reports_line_crossing(tmp_path, capsys):
    p = tmp_path / "pred.jsonl"
    write_jsonl([doc(("PER", 0, 19))], p)
    assert cw.main(["--pred", str(p)]) == 1
    write_jsonl([doc(("PER", 0, 6))], p)
    assert cw.main(["--pred", str(p)]) == 0
