"""``goftar render PRED.jsonl -o DIR``: one self-contained HTML page per article.

    goftar render runs/demo.jsonl -o runs/views       # DIR/index.html + one page per article

Each page is right to left (``<html dir="rtl" lang="fa">``), needs no network
(no fonts, scripts or styles from elsewhere: system fonts, one inline style and
one inline script), and shows:

- the text exactly as predicted on (white space kept), with every span as a
  coloured ``<span>`` by layer — names (ne), titles (role), sectors, quotes —
  nested as the offsets nest: a SECTOR inside a QUOTE is an element inside the
  quote's element; spans that cross (possible between layers) are cut into
  fragments that share ``data-eid``. Each span's label stands at its start,
  which in right-to-left text is its right-hand side;
- arcs (SVG) from each QUOTE to its ``said_by`` speaker and from each ROLE to
  its ``role_of`` person, arrow at the speaker/person. The inline script draws
  them from the rendered boxes of the span elements (``getClientRects``), so
  they follow the real right-to-left layout: an arc starts at the right-hand
  (first) edge of the quote and ends on the speaker, wherever the browser put
  them;
- on hover (``title``): type, score, sector category, speaker;
- beside the text, the list of quotes with speaker, title, sectors and scores.

All positions come from Python string indices (code points) cut on this side;
the browser never computes an offset, so an emoji (two UTF-16 units) before a
span cannot shift it.
"""
from __future__ import annotations

import html
import json
import sys
from pathlib import Path
from typing import Any

from ..document import Document, Entity
from ..schema import Schema
from . import iter_predictions, page_names
from .table import meta_value

# Persian names for the labels a reader sees; the code stays in the hover text.
TYPE_FA = {
    "PER": "شخص", "ORG": "سازمان", "LOC": "مکان", "FAC": "تأسیسات", "PRO": "محصول", "EVENT": "رویداد",
    "DATE": "تاریخ", "TIME": "زمان", "MONEY": "پول", "PERCENT": "درصد",
    "ROLE": "عنوان", "SECTOR": "بخش", "QUOTE": "نقل‌قول",
}
CATEGORY_FA = {
    "ECONOMY": "اقتصاد", "TRADE": "تجارت", "BANKING_FINANCE": "بانک و مالی", "ENERGY": "انرژی", "MINING": "معدن",
    "INDUSTRY": "صنعت", "AGRICULTURE_FOOD": "کشاورزی و غذا", "TRANSPORT": "حمل‌ونقل", "TECHNOLOGY": "فناوری",
    "HEALTH": "سلامت", "EDUCATION": "آموزش", "CULTURE_TOURISM": "فرهنگ و گردشگری", "POLITICS": "سیاست",
    "SECURITY_DEFENSE": "امنیت و دفاع", "ENVIRONMENT": "محیط زیست", "SOCIAL_LABOR": "اجتماعی و کار",
}
RELATION_FA = {"said_by": "گوینده", "role_of": "عنوانِ", "topic": "موضوع"}
ARC_RELATIONS = ("said_by", "role_of")
# Outer before inner when two spans cover the same characters.
LAYER_RANK = {"quote": 0, "role": 1, "sector": 2, "ne": 3}
FONT_STACK = "'Vazirmatn', 'Noto Naskh Arabic', 'Noto Sans Arabic', 'Tahoma', 'DejaVu Sans', sans-serif"


def type_label(t: str) -> str:
    return TYPE_FA.get(t, t)


def category_label(c: str | None) -> str:
    return CATEGORY_FA.get(c or "", c or "")


def _fmt(score: float | None) -> str:
    return "" if score is None else f"{float(score):.2f}"


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _span_title(doc: Document, e: Entity, quote_of: dict[str, dict], topics_of: dict[str, list[str]]) -> str:
    parts = [f"{type_label(e.type)} ({e.type}) {e.id}"]
    if e.category:
        parts.append(f"{category_label(e.category)} ({e.category})")
    if e.score is not None:
        parts.append(f"امتیاز {_fmt(e.score)}")
    q = quote_of.get(e.id)
    if q is not None:
        who = q.speaker_name or "گوینده نامعلوم"
        if q.speaker_title:
            who += f"، {q.speaker_title}"
        parts.append(f"گوینده: {who}")
        cats = [category_label(s.category) for s in q.sectors]
        if cats:
            parts.append("بخش‌ها: " + "، ".join(dict.fromkeys(cats)))
    if e.id in topics_of:
        parts.append("موضوعِ نقل‌قول " + "، ".join(topics_of[e.id]))
    return " · ".join(parts)


def spans_html(doc: Document, schema: Schema | None = None, titles: dict[str, str] | None = None) -> str:
    """The text as HTML with one element per span, nested as the offsets nest.

    Between two consecutive span boundaries the covering spans are opened
    outermost first (earlier start, then later end, then layer rank); a span
    that crosses another is closed and reopened, so the markup always nests.
    The first fragment of a span carries ``id`` and ``data-label``; every
    fragment carries ``data-eid``. The text content of the result is exactly
    ``doc.text``.
    """
    schema = schema or Schema.default()
    titles = titles or {}
    text = doc.text
    ents = [e for e in doc.entities if 0 <= e.start < e.end <= len(text)]

    def key(e: Entity):
        return (e.start, -e.end, LAYER_RANK.get(schema.layer_of(e.type) or "ne", 9), e.id)

    ents.sort(key=key)
    bounds = sorted({0, len(text)} | {e.start for e in ents} | {e.end for e in ents})
    starts: dict[int, list[Entity]] = {}
    for e in ents:
        starts.setdefault(e.start, []).append(e)
    out: list[str] = []
    stack: list[Entity] = []
    active: list[Entity] = []
    opened: set[str] = set()
    for a, b in zip(bounds, bounds[1:]):
        active = sorted([e for e in active if e.end > a] + starts.get(a, []), key=key)
        k = 0
        while k < len(stack) and k < len(active) and stack[k] is active[k]:
            k += 1
        for _ in range(len(stack) - k):
            out.append("</span>")
        for e in active[k:]:
            layer = schema.layer_of(e.type) or "ne"
            cls = f"e l-{layer} t-{e.type}"
            attrs = f' data-eid="{_esc(e.id)}" data-type="{_esc(e.type)}"'
            if e.category:
                attrs += f' data-category="{_esc(e.category)}"'
            if e.id in opened:
                cls += " cont"
            else:
                opened.add(e.id)
                label = type_label(e.type)
                if e.type == "SECTOR" and e.category:
                    label = category_label(e.category)
                attrs = f' id="{_esc(e.id)}"' + attrs + f' data-label="{_esc(label)}"'
            out.append(f'<span class="{cls}"{attrs} title="{_esc(titles.get(e.id, e.type))}">')
        out.append(html.escape(text[a:b], quote=False))
        stack = active
    out.extend("</span>" for _ in stack)
    return "".join(out)


def _quote_list(doc: Document) -> str:
    items = []
    for q in doc.quotes or []:
        name = q.speaker_name
        who = f'<b class="who">{_esc(name)}</b>' if name else '<b class="who none">گوینده نامعلوم</b>'
        if q.speaker_title:
            who += f'، <span class="title-of">{_esc(q.speaker_title)}</span>'
        said = q.speaker.mention_text if q.speaker else None
        mention = ""
        if said and said not in (name, q.speaker_title):
            mention = f'<div class="mention">در متن: {_esc(said)}</div>'
        chips = "".join(
            f'<span class="chip" title="{_esc(s.category or "")}">{_esc(category_label(s.category))}'
            f'<small>: {_esc(s.text)}</small></span>'
            for s in q.sectors
        )
        score = f' <small class="score" title="امتیاز نقل‌قول">{_fmt(q.score)}</small>' if q.score is not None else ""
        items.append(
            f'<li data-quote="{_esc(q.id)}"><div>{who}{score}</div>{mention}'
            f'<a class="qtext" href="#{_esc(q.id)}">«{_esc(q.text)}»</a>'
            + (f'<div class="chips">{chips}</div>' if chips else "")
            + "</li>"
        )
    return "\n".join(items)


STYLE = """
:root { --ne:#1f6fb2; --role:#7b3fa0; --sector:#2e7d32; --quote:#b26a00; --said_by:#c2410c; --role_of:#7b3fa0; }
* { box-sizing: border-box; }
html, body { margin: 0; }
body { font-family: FONTS; color: #1b1b1b; background: #fafaf7; line-height: 1.6; }
header { padding: 12px 24px; border-bottom: 1px solid #ddd; background: #fff; }
header h1 { font-size: 1.15rem; margin: 0 0 4px; overflow-wrap: anywhere; }
header .meta { color: #555; font-size: .9rem; margin: 0; overflow-wrap: anywhere; }
.legend { margin-top: 6px; font-size: .85rem; display: flex; flex-wrap: wrap; gap: 6px 14px; }
.legend .e::before { display: none; }
.layout { display: grid; grid-template-columns: minmax(0, 1fr) minmax(240px, 30%); gap: 20px; padding: 16px 24px; }
@media (max-width: 800px) { .layout { grid-template-columns: minmax(0, 1fr); } }
article.doc { position: relative; background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 28px 22px 18px; min-width: 0; }
.text { white-space: pre-wrap; overflow-wrap: anywhere; font-size: 1.08rem; line-height: 3.1; position: relative; z-index: 1; }
svg.arcs { position: absolute; top: 0; right: 0; left: 0; width: 100%; height: 100%; pointer-events: none; z-index: 2; overflow: visible; }
svg.arcs path { fill: none; stroke-width: 1.6; opacity: .8; }
svg.arcs path.said_by { stroke: var(--said_by); }
svg.arcs path.role_of { stroke: var(--role_of); stroke-dasharray: 4 3; }
.e { border-radius: 4px; padding: 1px 0; -webkit-box-decoration-break: clone; box-decoration-break: clone; }
.e[data-label]::before { content: attr(data-label); unicode-bidi: isolate; font-size: .62rem; line-height: 1; padding: 1px 3px;
  margin-inline-end: 2px; border-radius: 3px; color: #fff; vertical-align: .45em; white-space: nowrap; }
.l-ne { background: rgba(31,111,178,.13); }
.l-ne[data-label]::before { background: var(--ne); }
.t-PER { background: rgba(31,111,178,.22); }
.t-ORG { background: rgba(0,131,143,.16); } .t-ORG[data-label]::before { background: #00838f; }
.t-LOC, .t-FAC { background: rgba(121,85,72,.16); } .t-LOC[data-label]::before, .t-FAC[data-label]::before { background: #795548; }
.t-DATE, .t-TIME, .t-MONEY, .t-PERCENT { background: rgba(96,125,139,.16); }
.t-DATE[data-label]::before, .t-TIME[data-label]::before, .t-MONEY[data-label]::before, .t-PERCENT[data-label]::before { background: #607d8b; }
.l-role { background: rgba(123,63,160,.14); border-bottom: 2px solid var(--role); }
.l-role[data-label]::before { background: var(--role); }
.l-sector { background: rgba(46,125,50,.10); border-bottom: 3px solid var(--sector); }
.l-sector[data-label]::before { background: var(--sector); }
.l-quote { background: rgba(255,183,77,.20); }
.l-quote[data-label]::before { background: var(--quote); }
.e:target, .e.hl { outline: 2px solid #e65100; }
aside.quotes { min-width: 0; }
aside.quotes h2 { font-size: 1rem; margin: 0 0 8px; }
aside.quotes ol { margin: 0; padding-inline-start: 22px; }
aside.quotes li { background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 10px; margin-bottom: 8px; overflow-wrap: anywhere; }
aside.quotes .who { color: var(--said_by); } aside.quotes .who.none { color: #888; }
aside.quotes .title-of { color: var(--role); }
aside.quotes .mention { color: #666; font-size: .85rem; }
aside.quotes a.qtext { display: block; color: inherit; text-decoration: none; margin: 4px 0; }
aside.quotes a.qtext:hover { background: rgba(255,183,77,.25); }
.chips { display: flex; flex-wrap: wrap; gap: 4px; }
.chip { background: rgba(46,125,50,.12); border: 1px solid rgba(46,125,50,.4); border-radius: 10px; padding: 0 8px; font-size: .82rem; }
.score { color: #777; direction: ltr; unicode-bidi: isolate; }
""".replace("FONTS", FONT_STACK)

# Draws the arcs from the rendered boxes; never reads or computes a text offset.
SCRIPT = r"""
(function () {
  var rels = JSON.parse(document.getElementById('goftar-rels').textContent);
  var art = document.querySelector('article.doc');
  var svg = document.querySelector('svg.arcs');
  var NS = 'http://www.w3.org/2000/svg';
  function frags(id) { return Array.prototype.slice.call(art.querySelectorAll('[data-eid="' + id + '"]')); }
  function firstRect(id) {
    var els = frags(id);
    for (var i = 0; i < els.length; i++) { var rs = els[i].getClientRects(); if (rs.length) return rs[0]; }
    return null;
  }
  function draw() {
    var box = art.getBoundingClientRect();
    while (svg.lastChild && svg.lastChild.nodeName !== 'defs') svg.removeChild(svg.lastChild);
    svg.setAttribute('viewBox', '0 0 ' + box.width + ' ' + box.height);
    rels.forEach(function (r) {
      var h = firstRect(r.head), t = firstRect(r.tail);
      if (!h || !t) return;
      var rtl = getComputedStyle(art).direction === 'rtl';
      // The head's start edge: its right-hand side in right-to-left text.
      var x1 = (rtl ? h.right - 3 : h.left + 3) - box.left, y1 = h.top - box.top + 2;
      var x2 = (t.left + t.right) / 2 - box.left, y2 = t.top - box.top + 2;
      var dx = Math.abs(x2 - x1), lift = Math.min(34, 12 + dx / 8 + Math.abs(y2 - y1) / 10);
      var top = Math.min(y1, y2) - lift;
      var d = 'M' + x1.toFixed(1) + ' ' + y1.toFixed(1) + ' C' + x1.toFixed(1) + ' ' + top.toFixed(1) + ' ' +
              x2.toFixed(1) + ' ' + top.toFixed(1) + ' ' + x2.toFixed(1) + ' ' + y2.toFixed(1);
      var p = document.createElementNS(NS, 'path');
      p.setAttribute('d', d);
      p.setAttribute('class', r.type);
      p.setAttribute('marker-end', 'url(#arrow-' + r.type + ')');
      p.setAttribute('data-type', r.type); p.setAttribute('data-head', r.head); p.setAttribute('data-tail', r.tail);
      p.setAttribute('data-x1', x1.toFixed(1)); p.setAttribute('data-y1', y1.toFixed(1));
      p.setAttribute('data-x2', x2.toFixed(1)); p.setAttribute('data-y2', y2.toFixed(1));
      var tt = document.createElementNS(NS, 'title'); tt.textContent = r.title; p.appendChild(tt);
      svg.appendChild(p);
    });
    svg.setAttribute('data-drawn', String(rels.length));
  }
  function hl(id, on) { frags(id).forEach(function (el) { el.classList.toggle('hl', on); }); }
  Array.prototype.forEach.call(document.querySelectorAll('aside.quotes li[data-quote]'), function (li) {
    li.addEventListener('mouseenter', function () { hl(li.getAttribute('data-quote'), true); });
    li.addEventListener('mouseleave', function () { hl(li.getAttribute('data-quote'), false); });
  });
  draw();
  window.addEventListener('resize', draw);
  if (document.fonts && document.fonts.ready) document.fonts.ready.then(draw);
})();
"""

MARKERS = "".join(
    f'<marker id="arrow-{t}" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">'
    f'<path d="M0 0 L10 5 L0 10 z" fill="var(--{t})"/></marker>'
    for t in ARC_RELATIONS
)


def _legend(schema: Schema) -> str:
    items = []
    for layer in ("ne", "role", "sector", "quote"):
        t = schema.layers[layer][0] if layer != "ne" else "PER"
        items.append(f'<span class="e l-{layer} t-{t}">{_esc(type_label(t) if layer != "ne" else "نام‌ها")}</span>')
    items.append('<span><svg width="28" height="10"><path d="M2 8 C2 0 26 0 26 8" stroke="var(--said_by)" fill="none" stroke-width="1.6"/></svg> نقل‌قول ← گوینده</span>')
    items.append('<span><svg width="28" height="10"><path d="M2 8 C2 0 26 0 26 8" stroke="var(--role_of)" fill="none" stroke-width="1.6" stroke-dasharray="4 3"/></svg> عنوان ← شخص</span>')
    return '<div class="legend">' + "".join(items) + "</div>"


def render_page(doc: Document, schema: Schema | None = None, back: str | None = "index.html") -> str:
    """One article as a self-contained HTML page (``doc.quotes`` must be filled)."""
    schema = schema or Schema.default()
    ents = doc.by_id()
    quote_of = {q.id: q for q in doc.quotes or []}
    topics_of: dict[str, list[str]] = {}
    for r in doc.relations:
        if r.type == "topic":
            topics_of.setdefault(r.tail, []).append(r.head)
    titles = {e.id: _span_title(doc, e, quote_of, topics_of) for e in doc.entities}
    rels = []
    for r in doc.relations:
        if r.type in ARC_RELATIONS and r.head in ents and r.tail in ents:
            h, t = ents[r.head], ents[r.tail]
            title = f"{RELATION_FA[r.type]} ({r.type}): {doc.span_text(h)[:40]} ← {doc.span_text(t)}"
            if r.score is not None:
                title += f" · امتیاز {_fmt(r.score)}"
            rels.append({"type": r.type, "head": r.head, "tail": r.tail, "title": title})
    rels_json = json.dumps(rels, ensure_ascii=True).replace("</", "<\\/")
    meta_bits = [m for m in (meta_value(doc.meta, "source"), meta_value(doc.meta, "date")) if m]
    url = meta_value(doc.meta, "url")
    meta_html = " · ".join(_esc(m) for m in meta_bits)
    if url:
        meta_html += (" · " if meta_html else "") + f'<a href="{_esc(url)}" dir="ltr">{_esc(url)}</a>'
    nav = f'<a href="{_esc(back)}">فهرست مقاله‌ها</a> · ' if back else ""
    n_q = len(doc.quotes or [])
    return f"""<!doctype html>
<html lang="fa" dir="rtl">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{_esc(doc.id)} — goftar</title>
<style>{STYLE}</style>
</head>
<body>
<header>
<h1>{_esc(doc.id)}</h1>
<p class="meta">{nav}{meta_html}{" · " if meta_html else ""}{len(doc.entities)} نشانه، {n_q} نقل‌قول</p>
{_legend(schema)}
</header>
<main class="layout">
<article class="doc" dir="rtl">
<svg class="arcs" xmlns="http://www.w3.org/2000/svg" aria-hidden="true"><defs>{MARKERS}</defs></svg>
<div class="text" id="doc-text">{spans_html(doc, schema, titles)}</div>
</article>
<aside class="quotes">
<h2>نقل‌قول‌ها ({n_q})</h2>
<ol>
{_quote_list(doc)}
</ol>
</aside>
</main>
<script type="application/json" id="goftar-rels">{rels_json}</script>
<script>{SCRIPT}</script>
</body>
</html>
"""


def _index_page(rows: list[tuple[str, str, int, int]]) -> str:
    body = "\n".join(
        f'<tr><td><a href="{_esc(name)}">{_esc(doc_id)}</a></td><td>{n_e}</td><td>{n_q}</td></tr>'
        for doc_id, name, n_e, n_q in rows
    )
    return f"""<!doctype html>
<html lang="fa" dir="rtl"><head><meta charset="utf-8"><title>goftar — مقاله‌ها</title>
<style>body {{ font-family: {FONT_STACK}; margin: 24px; }} table {{ border-collapse: collapse; }}
td, th {{ border-bottom: 1px solid #ddd; padding: 4px 12px; text-align: start; }}</style></head>
<body><h1>مقاله‌ها ({len(rows)})</h1>
<table><thead><tr><th>شناسه</th><th>نشانه‌ها</th><th>نقل‌قول‌ها</th></tr></thead><tbody>
{body}
</tbody></table></body></html>
"""


def render_files(inputs: list[str], out_dir: str, overwrite: bool = False) -> int:
    """``goftar render``: write one page per document and ``index.html``; returns the number of pages."""
    docs = [d for _, d in iter_predictions(inputs)]
    names = page_names([d.id for d in docs])
    out = Path(out_dir)
    targets = [out / n for n in set(names.values())] + [out / "index.html"]
    if not overwrite:
        existing = [str(p) for p in targets if p.exists()]
        if existing:
            raise FileExistsError(
                f"{len(existing)} page(s) already in {out} (e.g. {existing[0]}); pass --overwrite to replace them")
    out.mkdir(parents=True, exist_ok=True)
    schema = Schema.default()
    rows, done = [], set()
    for d in docs:
        if d.id in done:
            print(f"warning: document id {d.id!r} appears more than once; its first record is rendered", file=sys.stderr)
            continue
        done.add(d.id)
        (out / names[d.id]).write_text(render_page(d, schema), encoding="utf-8")
        rows.append((d.id, names[d.id], len(d.entities), len(d.quotes or [])))
    (out / "index.html").write_text(_index_page(rows), encoding="utf-8")
    return len(rows)


def register(sub) -> None:
    p = sub.add_parser("render", help="one self-contained right-to-left HTML view per article")
    p.add_argument("inputs", nargs="+", help="prediction JSONL written by `goftar predict` (or its Parquet; gold files work too)")
    p.add_argument("-o", "--output", required=True, help="folder for the pages (index.html + one file per document)")
    p.add_argument("--overwrite", action="store_true", help="replace pages already in the folder")
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    try:
        n = render_files(args.inputs, args.output, args.overwrite)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{n} pages → {args.output}/index.html", file=sys.stderr)
    return 0
