"""What analysts look at, made from ``goftar predict`` output.

- :mod:`.table`: ``goftar quotes PRED.jsonl -o quotes.csv`` — one row per quote;
- :mod:`.render`: ``goftar render PRED.jsonl -o DIR`` — one self-contained HTML page per article;
- :mod:`.report`: ``goftar report PRED.jsonl -o report.html`` — who is quoted most, on which sectors.

All three read prediction records (the lines ``goftar predict`` writes, or a
Parquet file ``goftar predict --engine ray`` wrote) and gold files in the same
format (their ``quotes`` are then resolved here with the same rule as predict's,
:func:`goftar.inference.quotes.quotes_view`). Nothing here needs torch.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Iterator

from ..document import Document, DocumentError, iter_json_lines
from ..quotes import quotes_view

__all__ = ["iter_predictions", "load_predictions", "check_output", "page_name", "page_names"]


def _check_spans(doc: Document, where: str) -> None:
    """Offsets every view relies on: inside the text, and relations between known ids."""
    n = len(doc.text)
    ids = set()
    for e in doc.entities:
        if not (0 <= e.start < e.end <= n):
            raise DocumentError(f"{where}: entity {e.id} has offsets {e.start}-{e.end} outside the text (length {n})")
        ids.add(e.id)
    for r in doc.relations:
        for eid in (r.head, r.tail):
            if eid not in ids:
                raise DocumentError(f"{where}: {r.type} {r.head}->{r.tail} names no entity {eid}")


def _records(path: Path) -> Iterator[tuple[str, object]]:
    """``(where, dict | DocumentError)`` for each record of a JSONL or Parquet prediction file."""
    if path.suffix == ".parquet":
        try:
            import pyarrow.parquet as pq
        except ImportError:
            raise SystemExit(f"{path}: reading Parquet needs pyarrow: pip install 'goftar[views]'") from None
        pf = pq.ParquetFile(path)
        if "record" not in pf.schema_arrow.names:
            raise DocumentError(f"{path}: no 'record' column; expected the Parquet that `goftar predict --engine ray` writes")
        row = 0
        for batch in pf.iter_batches(columns=["record"]):
            for rec in batch.column(0).to_pylist():
                row += 1
                where = f"{path}:row {row}"
                try:
                    yield where, json.loads(rec)
                except (TypeError, json.JSONDecodeError) as exc:
                    yield where, DocumentError(f"{where}: invalid JSON record ({exc})")
        return
    for _, where, obj in iter_json_lines(path):
        yield where, obj


def iter_predictions(paths: str | Path | list, warn=None) -> Iterator[tuple[str, Document]]:
    """Yield ``(where, Document)`` with ``quotes`` filled for each readable record.

    A broken line, or a record whose prediction failed (``error``), is
    reported through ``warn`` (default: stderr) with its file and line, and
    skipped; offsets outside the text raise :class:`DocumentError`, since no
    view could show them truthfully.
    """
    warn = warn or (lambda msg: print(msg, file=sys.stderr))
    for raw in [paths] if isinstance(paths, (str, Path)) else paths:
        path = Path(raw)
        if not path.is_file():
            raise FileNotFoundError(f"{path}: no such prediction file")
        for where, obj in _records(path):
            if isinstance(obj, DocumentError):
                warn(f"skipped: {obj}")
                continue
            try:
                doc = Document.from_dict(obj, where)
            except DocumentError as exc:
                warn(f"skipped: {exc}")
                continue
            if doc.error:
                warn(f"skipped: {where}: document {doc.id!r} has no prediction ({doc.error})")
                continue
            _check_spans(doc, where)
            if doc.quotes is None:
                doc.quotes = quotes_view(doc)
            yield where, doc


def load_predictions(paths, warn=None) -> list[Document]:
    return [d for _, d in iter_predictions(paths, warn)]


def check_output(path: str | Path, overwrite: bool) -> Path:
    """Refuse to replace an existing file unless asked: no user file is overwritten by accident."""
    path = Path(path)
    if path.exists() and not overwrite:
        raise FileExistsError(f"{path} exists; pass --overwrite to replace it")
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


_UNSAFE = re.compile(r"[^\w\-.]+", re.UNICODE)


def page_name(doc_id: str) -> str:
    """The file name of a document's article view (``goftar render``); the report links to it.

    Word characters (Persian letters included), ``-`` and ``.`` are kept;
    anything else, path separators first, becomes ``_``.

    >>> page_name("mehr/1403 05")
    'mehr_1403_05.html'
    """
    stem = _UNSAFE.sub("_", doc_id).strip("._") or "document"
    return stem[:150] + ".html"


def page_names(doc_ids: list[str]) -> dict[str, str]:
    """``{doc_id: file name}`` for the documents of one prediction file, in order;
    names that would collide get ``-2``, ``-3``, … (ids that repeat keep their first page)."""
    out: dict[str, str] = {}
    used: set[str] = set()
    for doc_id in doc_ids:
        if doc_id in out:
            continue
        name = page_name(doc_id)
        k = 2
        while name.lower() in used:
            name = f"{page_name(doc_id)[:-5]}-{k}.html"
            k += 1
        used.add(name.lower())
        out[doc_id] = name
    return out
