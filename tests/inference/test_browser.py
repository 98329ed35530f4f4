"""The article view and the report in a real browser: headless Chromium (Debian's ``chromium``).

``make test`` installs it (Makefile target ``chromium``). A missing browser fails these tests with
the way to install one; ``GOFTAR_NO_BROWSER=1`` skips them on purpose. Screenshots for docs/:
scripts/view_screenshots.py.
"""
from __future__ import annotations

import json
import os

import pytest

from tests.chromium import Browser, find_chromium
from tests.helpers import corpus_docs, emoji_doc, write_jsonl

pytestmark = pytest.mark.skipif(os.environ.get("GOFTAR_NO_BROWSER") == "1",
                                reason="GOFTAR_NO_BROWSER=1: the browser tests are switched off")

# Everything the page checks read, in one evaluation.
PROBE = r"""
(() => {
  const text = document.getElementById('doc-text');
  const art = document.querySelector('article.doc');
  const root = document.documentElement;
  const arcs = Array.from(document.querySelectorAll('svg.arcs path[data-type]')).map(p => ({
    type: p.dataset.type, head: p.dataset.head, tail: p.dataset.tail,
    x1: +p.dataset.x1, y1: +p.dataset.y1, x2: +p.dataset.x2, y2: +p.dataset.y2}));
  const box = art.getBoundingClientRect();
  const first = {};
  document.querySelectorAll('#doc-text [id]').forEach(el => {
    const r = el.getClientRects()[0];
    if (!r) return;
    const t = el.firstChild && el.firstChild.nodeType === 3 ? el.firstChild : null;
    let tr = null;
    if (t) { const rg = document.createRange(); rg.selectNodeContents(t); const rr = rg.getClientRects()[0]; if (rr) tr = [rr.left - box.left, rr.right - box.left]; }
    first[el.id] = {left: r.left - box.left, right: r.right - box.left, top: r.top - box.top, bottom: r.bottom - box.top,
                    label: getComputedStyle(el, '::before').content, text: tr};
  });
  const wide = Array.from(document.querySelectorAll('body *')).filter(el => el.scrollWidth > el.clientWidth + 1 &&
      getComputedStyle(el).overflowX === 'visible' && el.clientWidth > 0 && !el.closest('svg')).map(el => el.tagName + '.' + el.className);
  return {dir: getComputedStyle(text).direction, htmlDir: root.dir, textContent: text.textContent,
          scrollWidth: root.scrollWidth, clientWidth: root.clientWidth, arcs, first, wide,
          frags: Object.fromEntries(Array.from(new Set(Array.from(document.querySelectorAll('[data-eid]')).map(e => e.dataset.eid)))
                   .map(id => [id, Array.from(document.querySelectorAll('#doc-text [data-eid="' + id + '"]'))
                     .map(e => Array.from(e.childNodes).filter(n => n.nodeType === 3).map(n => n.data).join('')).join('')]))};
})()
"""


@pytest.fixture(scope="module")
def browser():
    if find_chromium() is None:
        pytest.fail("no chromium binary: run `make chromium` (apt-get install chromium fonts-noto-core), "
                    "set GOFTAR_CHROMIUM to a browser, or set GOFTAR_NO_BROWSER=1 to skip the browser tests", pytrace=False)
    with Browser() as b:
        yield b


@pytest.fixture(scope="module")
def pages(tmp_path_factory, seed_path, seed_doc):
    from goftar.inference.views.render import render_files
    from goftar.inference.views.report import report_files

    out = tmp_path_factory.mktemp("browser")
    pred = write_jsonl(out / "pred.jsonl", corpus_docs(seed_doc))
    render_files([str(pred)], str(out / "views"))
    report_files([str(pred)], str(out / "report.html"), views=str(out / "views"))
    return out


def _check_article(page, doc):
    got = page.eval(PROBE)
    assert got["dir"] == "rtl" and got["htmlDir"] == "rtl"
    assert got["textContent"] == doc.text  # labels are CSS, not text; nothing dropped or reordered
    assert got["scrollWidth"] <= got["clientWidth"], "the page overflows horizontally"
    assert not got["wide"], f"elements overflowing: {got['wide'][:5]}"
    ents = doc.by_id()
    # the text inside each span's fragments is the span (child text nodes only: nested spans hold the rest)
    want_rel = {(r.type, r.head, r.tail) for r in doc.relations if r.type in ("said_by", "role_of")}
    arcs = {(a["type"], a["head"], a["tail"]): a for a in got["arcs"]}
    assert set(arcs) == want_rel
    quotes = [e.id for e in doc.entities if e.type == "QUOTE"]
    spoken = {r.head for r in doc.relations if r.type == "said_by"}
    assert spoken == set(quotes) or spoken <= set(quotes)
    for q in spoken:  # every QUOTE with a speaker has its arc
        assert any(a["type"] == "said_by" and a["head"] == q for a in got["arcs"]), q
    for a in got["arcs"]:
        h, t = got["first"][a["head"]], got["first"][a["tail"]]
        # starts at the head's right-hand (first, in RTL) edge, ends on the tail: not reversed
        assert h["right"] - 6 <= a["x1"] <= h["right"] and h["top"] - 1 <= a["y1"] <= h["bottom"], a
        assert t["left"] <= a["x2"] <= t["right"] and t["top"] - 1 <= a["y2"] <= t["bottom"], a
    for eid, f in got["first"].items():
        assert f["label"] not in ("none", "normal", ""), eid
        if f["text"] is not None and ents[eid].type in ("PER", "ORG", "LOC", "ROLE"):
            # the label stands at the span's right: its text starts left of the span's right edge
            assert f["text"][1] < f["right"] - 8 and f["text"][0] >= f["left"] - 1, (eid, f)
    return got


def test_seed_article_in_chromium(browser, pages, seed_doc):
    from goftar.inference.views import page_name

    for width in (1280, 700):
        page = browser.open((pages / "views" / page_name(seed_doc.id)).as_uri(), width=width, height=900)
        got = _check_article(page, seed_doc)
        assert len([a for a in got["arcs"] if a["type"] == "said_by"]) >= 5


def test_emoji_zwnj_page_in_chromium(browser, pages):
    from goftar.inference.views import page_name

    doc = emoji_doc()
    page = browser.open((pages / "views" / page_name(doc.id)).as_uri(), width=1000, height=700)
    _check_article(page, doc)
    # offsets are code points: after two emoji (four UTF-16 units) each span still holds exactly its text
    spans = page.eval("Object.fromEntries(Array.from(document.querySelectorAll('#doc-text [id]')).map(e => [e.id, e.textContent]))")
    for e in doc.entities:
        if e.id != "T7":  # the crossing ORG's first fragment holds only its first part
            assert spans[e.id] == doc.span_text(e), e.id
    frags = page.eval("Array.from(document.querySelectorAll('[data-eid=\"T7\"]')).map(e => e.textContent).join('')")
    assert frags == doc.span_text(doc.entity("T7"))


def test_report_in_chromium(browser, pages):
    for width in (1280, 700):
        page = browser.open((pages / "report.html").as_uri(), width=width, height=900)
        got = page.eval("""(() => ({dir: getComputedStyle(document.body).direction,
            scrollWidth: document.documentElement.scrollWidth, clientWidth: document.documentElement.clientWidth,
            svgs: document.querySelectorAll('.figure svg').length,
            svgWidths: Array.from(document.querySelectorAll('.figure svg')).map(s => [s.getBoundingClientRect().right, document.documentElement.clientWidth]),
            links: Array.from(document.querySelectorAll('#quotes a')).map(a => a.getAttribute('href'))}))()""")
        assert got["dir"] == "rtl"
        assert got["scrollWidth"] <= got["clientWidth"], "the report overflows horizontally"
        assert got["svgs"] >= 4 and all(r <= w + 1 for r, w in got["svgWidths"])
        assert got["links"] and all(".html#T" in h for h in got["links"])
    # a link from the report lands on the quote in the article view
    href = got["links"][0]
    page = browser.open((pages / href.split("#")[0]).as_uri() + "#" + href.split("#")[1], width=1000, height=700)
    assert page.eval(f"document.getElementById({json.dumps(href.split('#')[1])}).matches(':target')")
