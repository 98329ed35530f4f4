"""``goftar quotes PRED.jsonl -o quotes.csv``: one row per quote, the table analysts load.

    goftar quotes runs/demo.jsonl -o quotes.csv        # or quotes.parquet (needs pyarrow)

Columns (:data:`COLUMNS`), one row per QUOTE in document order:

- ``doc_id``, ``quote_id``, ``quote_start``, ``quote_end`` (Python string
  indices into the document's ``text``, end exclusive), ``quote_text``,
  ``quote_score`` (the QUOTE span's score);
- ``speaker_name`` and ``speaker_title``: the person behind the quote
  (:func:`goftar.inference.quotes.resolve_speaker`); ``speaker_mention``,
  ``speaker_mention_id``, ``speaker_type``, ``speaker_mention_start``/``_end``:
  the ``said_by`` mention as written (a name, a title or «وی»'s antecedent);
  ``speaker_mention_score`` and ``said_by_score``;
- ``sectors`` (``text [CATEGORY]`` joined by `` | ``), ``sector_categories``
  (distinct, in order, joined by `` | ``), and ``sectors_json``: a JSON list
  of ``{"id", "text", "category", "start", "end", "score", "topic_score"}``;
- ``source``, ``date``, ``url``: from the document's ``meta`` where present.

Scores are empty for gold files, which have none. The CSV is UTF-8 with a byte
order mark, so spreadsheet programs open Persian text without asking
(``pandas.read_csv`` reads it as is).
"""
from __future__ import annotations

import csv
import json
import sys
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..document import Document
from . import check_output, iter_predictions

COLUMNS = [
    "doc_id", "quote_id", "quote_start", "quote_end", "quote_text", "quote_score",
    "speaker_name", "speaker_title", "speaker_mention", "speaker_mention_id", "speaker_type",
    "speaker_mention_start", "speaker_mention_end", "speaker_mention_score", "said_by_score",
    "sectors", "sector_categories", "sectors_json", "source", "date", "url",
]
META_KEYS = {"source": ("source", "publisher", "agency"), "date": ("date", "published", "published_at"), "url": ("url", "link")}


def meta_value(meta: dict[str, Any], column: str) -> str | None:
    """The first of the usual meta keys for ``source``/``date``/``url`` that the document has."""
    for key in META_KEYS[column]:
        v = meta.get(key)
        if v not in (None, ""):
            return str(v)
    return None


def _rel_score(doc: Document, rtype: str, head: str, tail: str) -> float | None:
    best = None
    for r in doc.relations:
        if r.type == rtype and r.head == head and r.tail == tail and r.score is not None:
            best = r.score if best is None else max(best, r.score)
    return best


def quote_rows(doc: Document) -> Iterator[dict[str, Any]]:
    """The table rows of one document (its ``quotes`` must be filled, as :func:`iter_predictions` does)."""
    ents = doc.by_id()
    meta = {c: meta_value(doc.meta, c) for c in META_KEYS}
    for q in doc.quotes or []:
        sp = q.speaker
        mention = ents.get(sp.mention_id) if sp else None
        sectors = []
        for s in q.sectors:
            e = ents.get(s.id)
            sectors.append({
                "id": s.id, "text": s.text, "category": s.category,
                "start": e.start if e else None, "end": e.end if e else None,
                "score": e.score if e else None, "topic_score": _rel_score(doc, "topic", q.id, s.id),
            })
        cats = list(dict.fromkeys(s["category"] for s in sectors if s["category"]))
        yield {
            "doc_id": doc.id, "quote_id": q.id, "quote_start": q.start, "quote_end": q.end,
            "quote_text": q.text, "quote_score": q.score,
            "speaker_name": q.speaker_name, "speaker_title": q.speaker_title,
            "speaker_mention": sp.mention_text if sp else None, "speaker_mention_id": sp.mention_id if sp else None,
            "speaker_type": sp.mention_type if sp else None,
            "speaker_mention_start": mention.start if mention else None,
            "speaker_mention_end": mention.end if mention else None,
            "speaker_mention_score": mention.score if mention else None,
            "said_by_score": _rel_score(doc, "said_by", q.id, sp.mention_id) if sp else None,
            "sectors": " | ".join(f"{s['text']} [{s['category']}]" if s["category"] else s["text"] for s in sectors),
            "sector_categories": " | ".join(cats),
            "sectors_json": json.dumps(sectors, ensure_ascii=False),
            **meta,
        }


def write_table(rows: Iterable[dict[str, Any]], output: str | Path, fmt: str | None = None) -> int:
    """Write rows as CSV or Parquet (``fmt``, default: by the suffix); returns the number of rows."""
    output = Path(output)
    fmt = fmt or output.suffix.lstrip(".")
    if fmt == "parquet":
        try:
            import pyarrow as pa
            import pyarrow.parquet as pq
        except ImportError:
            raise SystemExit("writing .parquet needs pyarrow: pip install 'goftar[views]' (or write .csv)") from None
        rows = list(rows)
        types = {c: pa.string() for c in COLUMNS}
        for c in ("quote_start", "quote_end", "speaker_mention_start", "speaker_mention_end"):
            types[c] = pa.int64()
        for c in ("quote_score", "speaker_mention_score", "said_by_score"):
            types[c] = pa.float64()
        schema = pa.schema([(c, types[c]) for c in COLUMNS])
        table = pa.Table.from_pylist([{c: r.get(c) for c in COLUMNS} for r in rows], schema=schema)
        pq.write_table(table, output)
        return len(rows)
    if fmt != "csv":
        raise ValueError(f"{output}: the quote table is written as .csv or .parquet")
    n = 0
    with open(output, "w", encoding="utf-8-sig", newline="") as f:
        w = csv.DictWriter(f, fieldnames=COLUMNS)
        w.writeheader()
        for r in rows:
            w.writerow({c: "" if r.get(c) is None else r[c] for c in COLUMNS})
            n += 1
    return n


def quotes_table(inputs: list[str], output: str, overwrite: bool = False) -> tuple[int, int]:
    """``goftar quotes``: returns (documents, rows)."""
    out = Path(output)
    if out.suffix not in (".csv", ".parquet"):
        raise ValueError(f"{out}: the quote table is written as .csv or .parquet")
    check_output(out, overwrite)
    n_docs = 0

    def rows():
        nonlocal n_docs
        for _, doc in iter_predictions(inputs):
            n_docs += 1
            yield from quote_rows(doc)

    tmp = out.with_name(out.name + ".part")
    try:
        n_rows = write_table(rows(), tmp, out.suffix.lstrip("."))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(out)
    return n_docs, n_rows


def register(sub) -> None:
    p = sub.add_parser("quotes", help="one table row per quote (CSV or Parquet) from predictions")
    p.add_argument("inputs", nargs="+", help="prediction JSONL written by `goftar predict` (or its Parquet)")
    p.add_argument("-o", "--output", required=True, help="quotes.csv or quotes.parquet")
    p.add_argument("--overwrite", action="store_true", help="replace an existing output file")
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    try:
        n_docs, n_rows = quotes_table(args.inputs, args.output, args.overwrite)
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{n_docs} documents, {n_rows} quotes → {args.output}", file=sys.stderr)
    return 0
