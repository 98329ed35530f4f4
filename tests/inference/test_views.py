"""The analysts' views without a browser: quote table, article pages, corpus report."""
from __future__ import annotations

import csv
import json
from html.parser import HTMLParser

import pytest

from goftar.inference.document import Document, DocumentError
from goftar.inference.quotes import quotes_view
from tests.helpers import ZWNJ, corpus_docs, emoji_doc, write_jsonl



class Tree(HTMLParser):
    """Checks that the markup nests and collects, per data-eid, the text inside its fragments."""

    VOID = {"meta", "br", "img", "input", "link", "hr", "path", "stop"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, dict]] = []
        self.text_of: dict[str, str] = {}
        self.in_text = 0
        self.text = ""
        self.labels: dict[str, str] = {}
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for k in ("src", "href"):
            if a.get(k, "").startswith(("http:", "https:", "//")):
                self.external.append(a[k])
        if tag == "link":
            self.external.append(str(a))
        if tag in self.VOID:
            return
        self.stack.append((tag, a))
        if a.get("id") == "doc-text":
            self.in_text = len(self.stack)
        if "data-label" in a:
            self.labels[a["data-eid"]] = a["data-label"]

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs) if tag in self.VOID else None

    def handle_endtag(self, tag):
        if tag in self.VOID:
            return
        open_tag, _ = self.stack.pop()
        assert open_tag == tag, f"</{tag}> closes <{open_tag}>"
        if self.in_text and len(self.stack) < self.in_text:
            self.in_text = 0

    def handle_data(self, data):
        if not self.in_text:
            return
        self.text += data
        for _, a in self.stack:
            if "data-eid" in a:
                self.text_of[a["data-eid"]] = self.text_of.get(a["data-eid"], "") + data


def parse(page: str) -> Tree:
    t = Tree()
    t.feed(page)
    t.close()
    assert not t.stack, f"unclosed: {t.stack[-3:]}"
    return t


# -- quote table -----------------------------------------------------------------
def test_quote_table_csv_rows(seed_path, seed_doc, tmp_path):
    from goftar.inference.views.table import COLUMNS, quotes_table

    n_docs, n_rows = quotes_table([str(seed_path)], str(tmp_path / "q.csv"))
    with open(tmp_path / "q.csv", encoding="utf-8-sig", newline="") as f:
        rows = list(csv.DictReader(f))
    want = quotes_view(seed_doc)
    assert (n_docs, n_rows) == (1, len(want)) and len(rows) == len(want) > 3
    assert list(rows[0]) == COLUMNS
    for r, q in zip(rows, want):
        s, e = int(r["quote_start"]), int(r["quote_end"])
        assert seed_doc.text[s:e] == r["quote_text"] == q["text"]
        assert r["speaker_name"] == (q["speaker_name"] or "") and r["speaker_title"] == (q["speaker_title"] or "")
        if q["speaker"]:
            ms, me = int(r["speaker_mention_start"]), int(r["speaker_mention_end"])
            assert seed_doc.text[ms:me] == r["speaker_mention"] == q["speaker"]["text"]
        sectors = json.loads(r["sectors_json"])
        assert [x["text"] for x in sectors] == [x["text"] for x in q["sectors"]]
        for x in sectors:
            assert seed_doc.text[x["start"]:x["end"]] == x["text"]
        assert r["sector_categories"].split(" | ") == list(dict.fromkeys(x["category"] for x in sectors)) or not sectors
    assert any(r["speaker_name"] == "محمدباقر قالیباف" for r in rows)
    assert rows[0]["source"].startswith("Mehr News Agency")


def test_quote_table_scores_parquet_and_no_overwrite(tmp_path):
    import pyarrow.parquet as pq

    from goftar.inference.views.table import quotes_table

    pred = write_jsonl(tmp_path / "pred.jsonl", [emoji_doc()])
    quotes_table([str(pred)], str(tmp_path / "q.parquet"))
    t = pq.read_table(tmp_path / "q.parquet").to_pylist()
    assert [r["quote_id"] for r in t] == ["T3", "T5"]
    assert t[1]["quote_score"] == pytest.approx(0.91) and t[0]["said_by_score"] == pytest.approx(0.99)
    assert json.loads(t[1]["sectors_json"])[0] == {"id": "T6", "text": "بانک‌ها", "category": "BANKING_FINANCE",
                                                   "start": emoji_doc().text.index("بانک‌ها"), "end": emoji_doc().text.index("بانک‌ها") + 7,
                                                   "score": 0.8, "topic_score": 0.7}
    assert t[0]["speaker_name"] == "محمدباقر قالیباف" and t[0]["speaker_title"] == "رئیس مجلس"
    assert t[0]["date"] == "2024-07-31"
    before = (tmp_path / "q.parquet").read_bytes()
    with pytest.raises(FileExistsError, match="--overwrite"):
        quotes_table([str(pred)], str(tmp_path / "q.parquet"))
    assert (tmp_path / "q.parquet").read_bytes() == before


def test_bad_records_name_file_and_line(tmp_path):
    from goftar.inference.views import load_predictions

    good = emoji_doc()
    path = tmp_path / "p.jsonl"
    bad = good.to_dict()
    bad["entities"][0]["end"] = 10_000
    path.write_text(good.to_json() + "\n{not json\n" + json.dumps({"id": "x", "text": "", "error": "boom"}) + "\n",
                    encoding="utf-8")
    warnings: list[str] = []
    docs = load_predictions(path, warn=warnings.append)
    assert [d.id for d in docs] == [good.id]
    assert f"{path}:2" in warnings[0] and "boom" in warnings[1] and f"{path}:3" in warnings[1]
    path.write_text(good.to_json() + "\n" + json.dumps(bad, ensure_ascii=False) + "\n", encoding="utf-8")
    with pytest.raises(DocumentError, match=rf"{path}:2: entity T1 has offsets"):
        load_predictions(path)


# -- article pages -------------------------------------------------------------------
def test_spans_nest_and_keep_the_text(seed_doc):
    from goftar.inference.views.render import render_page

    doc = Document.from_dict(seed_doc.to_dict())
    doc.quotes = quotes_view(doc)
    t = parse(render_page(doc))
    assert t.text == doc.text
    for e in doc.entities:
        assert t.text_of[e.id] == doc.span_text(e), e.id
    assert not t.external


def test_emoji_zwnj_and_crossing_spans():
    from goftar.inference.views.render import render_page, spans_html

    doc = emoji_doc()
    page = render_page(doc)
    t = parse(page)
    assert t.text == doc.text and ZWNJ in t.text and "«" in t.text and "🇮🇷" in t.text
    for e in doc.entities:  # code-point offsets: the emoji shift nothing
        assert t.text_of[e.id] == doc.span_text(e), e.id
    body = spans_html(doc)
    # the crossing ORG is cut in two fragments, the second marked as a continuation
    assert body.count('data-eid="T7"') == 2 and 'class="e l-ne t-ORG cont"' in body
    # the sector is inside the quote's element
    q = body.index('id="T3"')
    assert q < body.index('id="T4"') < body.index("</span>", body.index('id="T4"')) < body.index("توسعه")
    assert t.labels["T4"] == "اقتصاد" and t.labels["T3"] == "نقل‌قول"
    assert '<html lang="fa" dir="rtl">' in page
    rels = json.loads(page.split('<script type="application/json" id="goftar-rels">')[1].split("</script>")[0])
    assert {(r["type"], r["head"], r["tail"]) for r in rels} == {("said_by", "T3", "T1"), ("said_by", "T5", "T1"), ("role_of", "T2", "T1")}
    # hover text: category and score
    assert 'title="بخش (SECTOR) T6 · بانک و مالی (BANKING_FINANCE) · امتیاز 0.80' in page


def test_render_files_names_and_no_overwrite(tmp_path, seed_path):
    from goftar.cli import main

    pred = write_jsonl(tmp_path / "pred.jsonl", [emoji_doc()])
    out = tmp_path / "views"
    assert main(["render", str(pred), str(seed_path), "-o", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["emoji_zwnj_doc.html", "index.html", "mehr-belarus-parliament-1403-05-10.html"]
    assert main(["render", str(pred), "-o", str(out)]) == 2
    assert main(["render", str(pred), "-o", str(out), "--overwrite"]) == 0


def test_page_names_do_not_collide():
    from goftar.inference.views import page_names

    names = page_names(["a/b", "a b", "a_b", "قالیباف", "a/b"])
    assert names == {"a/b": "a_b.html", "a b": "a_b-2.html", "a_b": "a_b-3.html", "قالیباف": "قالیباف.html"}


# -- report --------------------------------------------------------------------------


def test_report_counts(seed_doc):
    from goftar.inference.views.report import Corpus, build_report

    docs = corpus_docs(seed_doc)
    c = Corpus(docs)
    top = c.ranking()[0]
    assert c.name[top] in ("محمدباقر قالیباف", "محمد باقر قالیباف")
    seed_q = sum(1 for q in quotes_view(docs[1]) if q["speaker_name"] == "محمدباقر قالیباف")
    assert len(c.by_speaker[top]) == 2 + seed_q + 1  # two here, the seed's, one spelled apart
    assert len({q["doc_id"] for q in c.by_speaker[top]}) == 3
    cats = c.categories()
    row = c.matrix([top], cats)[0]
    assert row[cats.index("BANKING_FINANCE")] >= 2 and row[cats.index("ECONOMY")] >= 1
    assert c.per("date") == {"2024-07-31": 2, "2024-08-01": 1}
    assert c.per("source")["Other"] == 1 and c.per("source")["Test"] == 2
    page = build_report(docs, views="views")
    assert page.count("<svg") >= 4  # bars, heat map, per source, per date
    assert "views/emoji_zwnj_doc.html#T3" in page and "views/third.html#T2" in page
    parse(page)


def test_report_cli_renders_and_links(tmp_path, seed_doc):
    from goftar.cli import main

    pred = write_jsonl(tmp_path / "pred.jsonl", corpus_docs(seed_doc))
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(pred), "-o", str(out), "--render"]) == 0
    page = out.read_text(encoding="utf-8")
    import re

    links = re.findall(r"href='([^'#]+)#(T\d+)'", page)
    assert links
    for href, anchor in links:
        target = out.parent / href
        assert target.exists(), href
        assert f'id="{anchor}"' in target.read_text(encoding="utf-8")
    assert main(["report", str(pred), "-o", str(out)]) == 2  # exists: not replaced without --overwrite
