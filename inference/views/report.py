"""``goftar report PRED.jsonl -o report.html``: who is quoted most, on which sectors.

    goftar render runs/demo.jsonl -o runs/views
    goftar report runs/demo.jsonl -o runs/report.html --views runs/views     # or --render to write the views too

One self-contained right-to-left page (``pip install 'goftar[views]'`` for
matplotlib):

- the speakers quoted most (a bar chart and a table: name, title, quotes,
  articles, sector categories);
- a speaker × sector-category heat map (quotes of that speaker linked by
  ``topic`` to a SECTOR of that category; a quote counts once per category);
- quotes per source and per date, where the documents' ``meta`` has them
  (keys as in :data:`goftar.inference.views.table.META_KEYS`);
- each speaker's quotes, each linked to its article view (``goftar render``'s
  page, at the quote: ``VIEWS/<page>#<quote id>``).

Speakers are grouped across articles by :func:`goftar.inference.quotes.speaker_key`
(so «محمد باقر قالیباف» and «محمدباقر قالیباف» are one person) and shown under
their most frequent spelling. Quotes whose speaker is unresolved are counted
under «گوینده نامعلوم». Plots are matplotlib figures written as inline SVG with
their text kept as text (``svg.fonttype: none``), so the browser shapes the
Persian letters.
"""
from __future__ import annotations

import html
import io
import os
import sys
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from ..document import Document
from ..quotes import speaker_key
from . import check_output, iter_predictions, page_names
from .render import CATEGORY_FA, FONT_STACK, category_label, render_files
from .table import meta_value

UNKNOWN = "گوینده نامعلوم"


def _esc(s: Any) -> str:
    return html.escape(str(s), quote=True)


class Corpus:
    """The quote statistics of a set of prediction documents."""

    def __init__(self, docs: list[Document]):
        self.docs = docs
        self.pages = page_names([d.id for d in docs])
        self.quotes: list[dict[str, Any]] = []  # flat, with doc_id / source / date
        spellings: dict[str, Counter] = defaultdict(Counter)
        titles: dict[str, Counter] = defaultdict(Counter)
        for d in docs:
            source, date = meta_value(d.meta, "source"), meta_value(d.meta, "date")
            for q in d.quotes or []:
                name = q.speaker_name
                key = speaker_key(name) if name else None
                key = key or UNKNOWN
                spellings[key][name or UNKNOWN] += 1
                if q.speaker_title:
                    titles[key][q.speaker_title] += 1
                cats = list(dict.fromkeys(s.category for s in q.sectors if s.category))
                self.quotes.append({**q.to_dict(), "doc_id": d.id, "source": source, "date": date, "key": key, "categories": cats})
        self.name = {k: c.most_common(1)[0][0] for k, c in spellings.items()}
        self.title = {k: c.most_common(1)[0][0] for k, c in titles.items()}
        self.by_speaker: dict[str, list[dict]] = defaultdict(list)
        for q in self.quotes:
            self.by_speaker[q["key"]].append(q)

    def ranking(self) -> list[str]:
        """Speaker keys, most quoted first (ties: more articles, then name); unresolved last."""
        keys = [k for k in self.by_speaker if k != UNKNOWN]
        keys.sort(key=lambda k: (-len(self.by_speaker[k]), -len({q["doc_id"] for q in self.by_speaker[k]}), self.name[k]))
        return keys + ([UNKNOWN] if UNKNOWN in self.by_speaker else [])

    def categories(self) -> list[str]:
        seen = Counter(c for q in self.quotes for c in q["categories"])
        order = list(CATEGORY_FA)
        return sorted(seen, key=lambda c: (-seen[c], order.index(c) if c in order else 99, c))

    def matrix(self, keys: list[str], cats: list[str]) -> list[list[int]]:
        return [[sum(1 for q in self.by_speaker[k] if c in q["categories"]) for c in cats] for k in keys]

    def per(self, field: str) -> Counter:
        return Counter(q[field] for q in self.quotes if q[field])


# -- plots ---------------------------------------------------------------------
def _plt():
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        raise SystemExit("goftar report draws its plots with matplotlib: pip install 'goftar[views]'") from None
    plt.rcParams.update({"svg.fonttype": "none", "font.size": 10, "svg.hashsalt": "goftar", "font.family": "DejaVu Sans"})
    return plt


def _svg(fig) -> str:
    buf = io.StringIO()
    fig.savefig(buf, format="svg", bbox_inches="tight", metadata={"Date": None})
    import matplotlib.pyplot as plt

    plt.close(fig)
    svg = buf.getvalue()
    return svg[svg.index("<svg"):]


def bar_chart(labels: list[str], values: list[int], xlabel: str, color: str = "#c2410c") -> str:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6.4, 0.34 * len(labels) + 0.9))
    ys = list(range(len(labels)))[::-1]
    ax.barh(ys, values, color=color)
    # Drawn for a right-to-left reader: names on the right, bars growing leftwards.
    ax.invert_xaxis()
    ax.yaxis.tick_right()
    ax.set_yticks(ys, labels)
    ax.set_xlabel(xlabel)
    ax.xaxis.get_major_locator().set_params(integer=True)
    for y, v in zip(ys, values):
        ax.text(v, y, f"{v} ", va="center", ha="right", fontsize=8)
    ax.spines[["top", "left"]].set_visible(False)
    return _svg(fig)


def heat_map(rows: list[str], cols: list[str], values: list[list[int]]) -> str:
    plt = _plt()
    import numpy as np

    m = np.array(values, dtype=float)
    fig, ax = plt.subplots(figsize=(max(4.0, 0.62 * len(cols) + 2.8), 0.38 * len(rows) + 1.6))
    im = ax.imshow(m, cmap="YlOrRd", aspect="auto", vmin=0)
    # Right to left: speakers on the right, the most frequent category first from the right.
    ax.invert_xaxis()
    ax.yaxis.tick_right()
    ax.set_xticks(range(len(cols)), cols, rotation=45, ha="right", rotation_mode="anchor")
    ax.set_yticks(range(len(rows)), rows)
    top = m.max() if m.size else 0
    for i in range(m.shape[0]):
        for j in range(m.shape[1]):
            if m[i, j]:
                ax.text(j, i, str(int(m[i, j])), ha="center", va="center", fontsize=8,
                        color="white" if m[i, j] > top * 0.6 else "black")
    from matplotlib.ticker import MaxNLocator

    cb = fig.colorbar(im, ax=ax, fraction=0.04, pad=0.02, location="left", label="شمار نقل‌قول")
    cb.locator = MaxNLocator(integer=True)
    cb.update_ticks()
    return _svg(fig)


# -- page ----------------------------------------------------------------------
STYLE = f"""
* {{ box-sizing: border-box; }}
body {{ font-family: {FONT_STACK}; margin: 0; background: #fafaf7; color: #1b1b1b; line-height: 1.7; }}
header, section {{ padding: 12px 28px; }}
header {{ background: #fff; border-bottom: 1px solid #ddd; }}
h1 {{ font-size: 1.3rem; margin: 0; }} h2 {{ font-size: 1.1rem; border-bottom: 1px solid #ddd; }}
.figure {{ direction: ltr; overflow-x: auto; max-width: 100%; }}
.figure svg {{ max-width: 100%; height: auto; }}
table {{ border-collapse: collapse; background: #fff; max-width: 100%; }}
td, th {{ border-bottom: 1px solid #e3e3e3; padding: 4px 10px; text-align: start; vertical-align: top; overflow-wrap: anywhere; }}
th {{ background: #f3f3ee; white-space: nowrap; overflow-wrap: normal; }}
table.speakers {{ width: 100%; }}
td .chip {{ display: inline-block; white-space: nowrap; margin-bottom: 2px; }}
.num {{ text-align: end; font-variant-numeric: tabular-nums; }}
.speaker {{ background: #fff; border: 1px solid #e3e3e3; border-radius: 6px; padding: 8px 14px; margin: 10px 0; }}
.speaker h3 {{ margin: 0; font-size: 1rem; color: #c2410c; }} .speaker .title {{ color: #7b3fa0; font-weight: normal; }}
.speaker ol {{ margin: 4px 0; }} .speaker li {{ overflow-wrap: anywhere; }}
.speaker a {{ color: inherit; }} .doc {{ color: #666; font-size: .85rem; }}
.chip {{ background: rgba(46,125,50,.12); border: 1px solid rgba(46,125,50,.4); border-radius: 10px; padding: 0 7px; font-size: .8rem; margin-inline-start: 4px; }}
.note {{ color: #666; }}
"""


def build_report(docs: list[Document], views: str | None = "views", top: int = 15, title: str = "گزارش نقل‌قول‌ها") -> str:
    """The report page. ``views``: the folder of ``goftar render``'s pages as the
    report's links should name it (relative to the report's folder), or None for no links."""
    c = Corpus(docs)
    ranked = c.ranking()
    named = [k for k in ranked if k != UNKNOWN]
    resolved = sum(len(c.by_speaker[k]) for k in named)
    parts = [f"<header><h1>{_esc(title)}</h1><p class='note'>{len(docs)} مقاله، {len(c.quotes)} نقل‌قول، "
             f"{len(named)} گوینده؛ گویندهٔ {resolved} نقل‌قول شناخته شده است.</p></header>"]

    # who is quoted most
    sec = ["<section id='top'><h2>بیشترین نقل‌قول</h2>"]
    head = named[:top]
    if head:
        sec.append("<div class='figure'>" + bar_chart([c.name[k] for k in head], [len(c.by_speaker[k]) for k in head], "شمار نقل‌قول") + "</div>")
        rows = []
        for k in ranked:
            qs = c.by_speaker[k]
            cats = Counter(cat for q in qs for cat in q["categories"])
            chips = "".join(f"<span class='chip' title='{_esc(cat)}'>{_esc(category_label(cat))} {n}</span>" for cat, n in cats.most_common())
            anchor = f"s{ranked.index(k)}"
            rows.append(f"<tr><td><a href='#{anchor}'>{_esc(c.name[k])}</a></td><td>{_esc(c.title.get(k, ''))}</td>"
                        f"<td class='num'>{len(qs)}</td><td class='num'>{len({q['doc_id'] for q in qs})}</td><td>{chips}</td></tr>")
        sec.append("<table class='speakers'><thead><tr><th>گوینده</th><th>عنوان</th><th>نقل‌قول</th><th>مقاله</th><th>بخش‌ها</th></tr></thead>"
                   "<tbody>" + "".join(rows) + "</tbody></table>")
    else:
        sec.append("<p class='note'>هیچ نقل‌قولی با گویندهٔ شناخته‌شده نیست.</p>")
    parts.append("".join(sec) + "</section>")

    # speaker x sector category
    cats = c.categories()
    sec = ["<section id='sectors'><h2>گوینده × بخش</h2>"]
    if head and cats:
        sec.append("<p class='note'>شمار نقل‌قول‌های هر گوینده که به بخشی از آن دسته پیوند دارند (topic).</p>")
        sec.append("<div class='figure'>" + heat_map([c.name[k] for k in head], [category_label(x) for x in cats],
                                                       c.matrix(head, cats)) + "</div>")
    else:
        sec.append("<p class='note'>هیچ نقل‌قولی به بخشی پیوند ندارد.</p>")
    parts.append("".join(sec) + "</section>")

    # per source and date
    sec = ["<section id='sources'><h2>نقل‌قول‌ها بر پایهٔ منبع و تاریخ</h2>"]
    for field, label in (("source", "منبع"), ("date", "تاریخ")):
        counts = c.per(field)
        if not counts:
            sec.append(f"<p class='note'>{label}: در فرادادهٔ مقاله‌ها نیامده است (meta.{field}).</p>")
            continue
        items = sorted(counts.items()) if field == "date" else counts.most_common()
        sec.append(f"<h3>{label}</h3><div class='figure'>" + bar_chart([k for k, _ in items], [v for _, v in items], "شمار نقل‌قول",
                                                                       color="#1f6fb2") + "</div>")
    parts.append("".join(sec) + "</section>")

    # each speaker's quotes
    sec = ["<section id='quotes'><h2>نقل‌قول‌های هر گوینده</h2>"]
    if views is None:
        sec.append("<p class='note'>بدون پیوند به صفحهٔ مقاله‌ها (goftar render).</p>")
    for i, k in enumerate(ranked):
        t = c.title.get(k)
        items = []
        for q in c.by_speaker[k]:
            text = _esc(q["text"] if len(q["text"]) <= 300 else q["text"][:300] + "…")
            if views is not None:
                href = f"{views.rstrip('/')}/{c.pages[q['doc_id']]}#{q['id']}"
                text = f"<a href='{_esc(href)}'>«{text}»</a>"
            else:
                text = f"«{text}»"
            chips = "".join(f"<span class='chip' title='{_esc(x)}'>{_esc(category_label(x))}</span>" for x in q["categories"])
            items.append(f"<li>{text} <span class='doc'>({_esc(q['doc_id'])})</span>{chips}</li>")
        sec.append(f"<div class='speaker' id='s{i}'><h3>{_esc(c.name[k])}"
                   + (f" <span class='title'>، {_esc(t)}</span>" if t else "")
                   + f" — {len(items)}</h3><ol>{''.join(items)}</ol></div>")
    parts.append("".join(sec) + "</section>")
    return (f"<!doctype html>\n<html lang='fa' dir='rtl'>\n<head><meta charset='utf-8'>"
            f"<meta name='viewport' content='width=device-width, initial-scale=1'><title>{_esc(title)} — goftar</title>"
            f"<style>{STYLE}</style></head>\n<body>\n" + "\n".join(parts) + "\n</body>\n</html>\n")


def report_files(inputs: list[str], output: str, views: str | None = None, render: bool = False,
                 overwrite: bool = False, top: int = 15) -> tuple[int, int]:
    """``goftar report``; returns (documents, quotes). ``views``: the render folder (a path);
    the page links to it relative to the report. ``render`` writes those pages too."""
    out = check_output(output, overwrite)
    docs = [d for _, d in iter_predictions(inputs)]
    link = None
    if views is not None or render:
        views_dir = Path(views) if views is not None else out.parent / (out.stem + "-views")
        if render:
            render_files(inputs, str(views_dir), overwrite=overwrite)
        elif not (views_dir / "index.html").exists():
            print(f"note: {views_dir} has no pages yet; write them with `goftar render {' '.join(inputs)} -o {views_dir}`",
                  file=sys.stderr)
        link = Path(os.path.relpath(views_dir.resolve(), out.parent.resolve())).as_posix()
    page = build_report(docs, views=link, top=top)
    tmp = out.with_name(out.name + ".part")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(out)
    return len(docs), sum(len(d.quotes or []) for d in docs)


def register(sub) -> None:
    p = sub.add_parser("report", help="a corpus report: who is quoted most, on which sectors, by source and date")
    p.add_argument("inputs", nargs="+", help="prediction JSONL written by `goftar predict` (or its Parquet)")
    p.add_argument("-o", "--output", required=True, help="the report's HTML file")
    p.add_argument("--views", default=None, help="folder of `goftar render` pages to link each quote to (default with --render: REPORT-views)")
    p.add_argument("--render", action="store_true", help="also write the article pages (into --views)")
    p.add_argument("--top", type=int, default=15, help="speakers in the charts (the tables list all)")
    p.add_argument("--overwrite", action="store_true", help="replace an existing report (and pages, with --render)")
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    try:
        n, q = report_files(args.inputs, args.output, args.views, args.render, args.overwrite, args.top)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{n} documents, {q} quotes → {args.output}", file=sys.stderr)
    return 0
