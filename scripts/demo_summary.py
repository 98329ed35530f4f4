#!/usr/bin/env python3
"""Print a readable summary of ``goftar predict`` output, one block per article.

    goftar predict data/examples -o runs/demo.jsonl --no-progress
    python scripts/demo_summary.py runs/demo.jsonl

For each line: the document id, how many entities of each type were found,
and every quote (shortened to about 100 characters) with its speaker's
resolved name and title and its sectors with their categories. The quotes come
from the line's ``quotes`` field; a line without it gets them from
:func:`goftar.inference.quotes.quotes_view`. Lines with an ``error`` and lines
that cannot be read are printed as errors; the others go on. Persian text is
printed as is, in UTF-8.

Exit status: 0, or 1 when the file cannot be opened or holds no article at all.
"""
from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

MAX_QUOTE = 100


def shorten(text: str, limit: int = MAX_QUOTE) -> str:
    """One line of at most about ``limit`` characters, cut at a word, with « …»."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    if cut < limit // 2:
        cut = limit
    return text[:cut].rstrip("،,؛;:.") + " …"


def _type_order() -> list[str]:
    try:
        from goftar.inference.schema import Schema

        return [t for types in Schema.default().layers.values() for t in types]
    except Exception:  # the summary must still print without the schema file
        return ["PER", "ORG", "LOC", "FAC", "PRO", "EVENT", "DATE", "TIME", "MONEY", "PERCENT", "ROLE", "SECTOR", "QUOTE"]


def _quotes(d: dict[str, Any]) -> list[dict[str, Any]]:
    if isinstance(d.get("quotes"), list):
        return d["quotes"]
    from goftar.inference.document import Document
    from goftar.inference.quotes import quotes_view

    return quotes_view(Document.from_dict(d))


def _speaker(q: dict[str, Any]) -> str:
    name, title = q.get("speaker_name"), q.get("speaker_title")
    sp = q.get("speaker") or {}
    if not name:
        return "(no speaker found)"
    if sp.get("type") == "ORG":
        return f"{name} (organisation)"
    if title and title == name:
        return f"{name} (title only, no name in the text)"
    return f"{name} — {title}" if title else name


def format_document(d: dict[str, Any], order: list[str] | None = None) -> str:
    """The summary block of one prediction line (a parsed JSON object)."""
    order = order or _type_order()
    did = d.get("id", "?")
    lines = [f"== {did}"]
    if d.get("error"):
        lines[0] += f"  ERROR: {d['error']}"
        return "\n".join(lines)
    ents = d.get("entities") or []
    counts = Counter(e.get("type") for e in ents)
    types = [t for t in order if counts[t]] + sorted(t for t in counts if t not in order)
    lines.append(f"{len(d.get('text') or '')} characters, {len(ents)} entities: "
                 + (", ".join(f"{t} {counts[t]}" for t in types) or "none"))
    quotes = _quotes(d)
    lines.append(f"quotes: {len(quotes)}")
    for i, q in enumerate(quotes, 1):
        lines.append(f"  {i}. «{shorten(q.get('text') or '')}»")
        lines.append(f"     speaker: {_speaker(q)}")
        sectors = q.get("sectors") or []
        if sectors:
            lines.append("     sectors: " + ", ".join(f"{s.get('text')} ({s.get('category') or '?'})" for s in sectors))
    return "\n".join(lines)


def summarize(path: str | Path, out: TextIO) -> int:
    """Write the summary of the predictions file ``path`` to ``out``; return the exit status."""
    order = _type_order()
    n_docs = n_quotes = n_speakers = n_errors = 0
    try:
        f = open(path, "rb")
    except OSError as exc:
        print(f"demo_summary: {exc}", file=sys.stderr)
        return 1
    with f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            try:
                d = json.loads(raw.decode("utf-8"))
                if not isinstance(d, dict):
                    raise ValueError(f"expected a JSON object, got {type(d).__name__}")
                block = format_document(d, order)
            except (UnicodeDecodeError, ValueError, KeyError, TypeError, AttributeError) as exc:
                n_errors += 1
                print(f"== {path}:{lineno}  ERROR: unreadable line ({exc})\n", file=out)
                continue
            n_docs += 1
            if d.get("error"):
                n_errors += 1
            else:
                qs = _quotes(d)
                n_quotes += len(qs)
                n_speakers += sum(1 for q in qs if q.get("speaker_name"))
            print(block + "\n", file=out)
    print(f"{n_docs} articles, {n_quotes} quotes ({n_speakers} with a speaker), {n_errors} errors", file=out)
    return 0 if n_docs else 1


def main(argv: list[str] | None = None, out: TextIO | None = None) -> int:
    ap = argparse.ArgumentParser(description="Readable summary of goftar predict output.")
    ap.add_argument("predictions", help="JSONL written by goftar predict")
    args = ap.parse_args(argv)
    if out is None:
        out = sys.stdout
        if (getattr(out, "encoding", None) or "").lower().replace("-", "") != "utf8":
            try:
                out.reconfigure(encoding="utf-8")  # Persian as is, whatever the locale
            except (AttributeError, ValueError):
                pass
    return summarize(args.predictions, out)


if __name__ == "__main__":
    sys.exit(main())
