#!/usr/bin/env python3
"""Count predicted spans that start or end inside a word or run across a line break, and very short quotes.

    python scripts/count_word_cuts.py --model models/goftar-fa-small --data data/test.jsonl
    python scripts/count_word_cuts.py --model models/goftar-fa-small --raw-fars 200
    python scripts/count_word_cuts.py --pred runs/pred.jsonl            # predictions already made

A word is :func:`goftar.inference.bio.words`' unit (letters, marks and digits,
ZWNJ inside); a span edge strictly inside a word cuts it («قالیب» from
«قالیباف»); a span holding a line break runs across lines («ملانیا⏎دونالد ترامپ»), which no
annotated span does. ``--raw-fars N`` takes the first N raw Fars News articles of the
shared datasets (file order) that are in neither the corpus nor the holdout.
Prints a JSON summary (per layer: spans, cut spans, spans across lines, examples) and exits 1 when
any span cuts a word or runs across a line break.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

from goftar.inference import bio
from goftar.inference.document import Document, read_jsonl

ROOT = Path(__file__).resolve().parents[1]


def cut_edges(text: str, start: int, end: int, starts: np.ndarray, ends: np.ndarray) -> bool:
    """Whether ``start`` or ``end`` falls strictly inside one of the words."""
    for b in (start, end):
        k = int(np.searchsorted(starts, b, side="right")) - 1
        if k >= 0 and starts[k] < b < ends[k]:
            return True
    return False


def count(docs: list[Document], schema=None) -> dict:
    from goftar.inference.schema import Schema

    schema = schema or Schema.default()
    out: dict = {"documents": len(docs), "layers": {}, "short_quotes": 0, "quotes": 0, "examples": []}
    for d in docs:
        ws = bio.words(d.text)
        starts = np.array([s for s, _ in ws], dtype=np.int64)
        ends = np.array([e for _, e in ws], dtype=np.int64)
        for e in d.entities:
            layer = schema.layer_of(e.type) or e.type
            row = out["layers"].setdefault(layer, {"spans": 0, "cut": 0, "across_lines": 0})
            row["spans"] += 1
            if any(c in bio.LINE_BREAKS for c in d.text[e.start:e.end]):
                row["across_lines"] += 1
                if len(out["examples"]) < 20:
                    out["examples"].append({"doc": d.id, "type": e.type, "span": d.text[e.start:e.end], "across_lines": True})
            if cut_edges(d.text, e.start, e.end, starts, ends):
                row["cut"] += 1
                if len(out["examples"]) < 20:
                    out["examples"].append({"doc": d.id, "type": e.type, "span": d.text[e.start:e.end],
                                            "context": d.text[max(0, e.start - 10):e.end + 10]})
            if e.type == "QUOTE":
                out["quotes"] += 1
                if len(bio.words(d.text[e.start:e.end])) <= 2:
                    out["short_quotes"] += 1
    out["cut_total"] = sum(r["cut"] for r in out["layers"].values())
    out["spans_total"] = sum(r["spans"] for r in out["layers"].values())
    out["across_lines_total"] = sum(r["across_lines"] for r in out["layers"].values())
    return out


def raw_fars(n: int) -> list[dict]:
    """The first ``n`` raw Fars articles (file order) outside the corpus and the holdout."""
    sys.path.insert(0, str(ROOT / "data" / "tools"))
    import raw_articles  # noqa: E402  (the corpus tool that knows ids and the holdout)

    used = set()
    for f in (ROOT / "data").glob("*.jsonl"):
        used |= {d.id for d in read_jsonl(f)}
    out = []
    for aid, art in raw_articles.articles().items():
        if aid.startswith("farsnews-") and aid not in used:
            out.append({"id": aid, "text": art["text"]})
            if len(out) >= n:
                break
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=None, help="goftar checkpoint (default: the shipped model)")
    src = ap.add_mutually_exclusive_group(required=True)
    src.add_argument("--data", help="documents to predict on (goftar JSONL; their annotations are ignored)")
    src.add_argument("--raw-fars", type=int, metavar="N", help="the first N raw Fars News articles")
    src.add_argument("--pred", help="predictions already made (goftar JSONL)")
    ap.add_argument("--decode", default=None, help='decode settings as JSON, e.g. \'{"aggregation": "token", "constrained": false}\'')
    ap.add_argument("--json", help="write the summary here too")
    args = ap.parse_args(argv)
    if args.pred:
        docs = read_jsonl(args.pred)
    else:
        from goftar.inference.extractor import Extractor

        inputs = ([{"id": d.id, "text": d.text} for d in read_jsonl(args.data)] if args.data else raw_fars(args.raw_fars))
        ex = Extractor.from_pretrained(args.model, decode=json.loads(args.decode) if args.decode else None)
        docs = [d for d in ex(inputs, batch_size=8, progress=True) if not d.error]
    summary = count(docs)
    text = json.dumps(summary, ensure_ascii=False, indent=1)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return 1 if summary["cut_total"] or summary["across_lines_total"] else 0


if __name__ == "__main__":
    sys.exit(main())
