"""List and print the raw, unlabelled news articles that the corpus is annotated from.

    python data/tools/raw_articles.py list [--source fars|hamshahri|radiofarda] [--min-quotes N]
    python data/tools/raw_articles.py show ID [ID...]
    python data/tools/raw_articles.py jsonl ID [ID...]     # {"id", "text", "meta"} lines

Article ids: ``farsnews-<file>-<index>`` (index into the shared JSON file as it
is now), ``hamshahri-<index>``, ``radiofarda-<index>``. The text of a Fars
article is ``title\\nabstract\\nparagraph\\n…`` exactly as stored (never
normalised); a sci2lab item is ``title\\nsummary``. Articles whose text is in
the holdout (``$GOFTAR_HOLDOUT``, by default ``holdout/`` beside the datasets folder) are never
listed or printed. The datasets folder is ``$GOFTAR_DATASETS`` (``make`` sets it), else the
project's shared folder beside the checkout.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import sys
from pathlib import Path

SHARED = Path(__file__).resolve().parents[3] / "shared"
if not SHARED.exists():  # a clone elsewhere: look beside the checkout's parent
    SHARED = Path(__file__).resolve().parents[2].parent / "shared"


def raw_dir() -> Path:
    """The datasets folder: ``$GOFTAR_DATASETS``, else ``shared/datasets`` beside the checkout."""
    return Path(os.environ.get("GOFTAR_DATASETS") or SHARED / "datasets")


def holdout_dir() -> Path:
    """The reserved articles: ``$GOFTAR_HOLDOUT``, else ``holdout/`` beside the datasets folder."""
    return Path(os.environ.get("GOFTAR_HOLDOUT") or raw_dir().parent / "holdout")
SPEECH = re.compile(r"(گفت|افزود|اظهار داشت|تصریح کرد|تصريح كرد|تصريح کرد|خاطرنشان|با بیان اینکه|با بيان اينكه|با اشاره به اینکه|اعلام کرد|بیان کرد|عنوان کرد)")


def _holdout_hashes() -> set[str]:
    p = holdout_dir() / "articles.jsonl"
    out = set()
    if p.exists():
        for line in p.open(encoding="utf-8"):
            d = json.loads(line)
            out.add(hashlib.sha256(d["text"].encode("utf-8")).hexdigest())
    return out


def articles() -> dict[str, dict]:
    """``{id: {"text", "meta"}}`` of every raw article, the held-out ones left out."""
    raw = raw_dir()
    out: dict[str, dict] = {}
    for f in range(1, 6):
        path = raw / "raw-news-farsnews" / f"fars-news-{f}.json"
        for i, a in enumerate(json.load(open(path, encoding="utf-8"))):
            text = "\n".join([a["title"], a["abstract"], *a["paragraphs"]])
            out[f"farsnews-{f}-{i:03d}"] = {"text": text, "meta": {"source": "Fars News", "link": a.get("link"), "cat": a.get("cat"), "subcat": a.get("subcat")}}
    for name, label in (("hamshahri", "Hamshahri"), ("radiofarda", "Radio Farda")):
        path = raw / "raw-news-sci2lab-farsi-news" / f"{name}.json"
        for i, a in enumerate(json.load(open(path, encoding="utf-8"))):
            text = "\n".join([a["title"], a["summary"]])
            out[f"{name}-{i:04d}"] = {"text": text, "meta": {"source": label, "link": a.get("link"), "cat": ",".join(a.get("tags") or [])}}
    held = _holdout_hashes()
    return {k: v for k, v in out.items() if hashlib.sha256(v["text"].encode("utf-8")).hexdigest() not in held}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    ls = sub.add_parser("list")
    ls.add_argument("--source", choices=["fars", "hamshahri", "radiofarda"])
    ls.add_argument("--min-quotes", type=int, default=0)
    ls.add_argument("--max-chars", type=int, default=10**9)
    for name in ("show", "jsonl"):
        p = sub.add_parser(name)
        p.add_argument("ids", nargs="+")
    args = ap.parse_args(argv)
    arts = articles()
    if args.cmd == "list":
        prefix = {"fars": "farsnews", None: ""}.get(args.source, args.source)
        for k, a in arts.items():
            if not k.startswith(prefix):
                continue
            t = a["text"]
            q = len(SPEECH.findall(t))
            if q < args.min_quotes or len(t) > args.max_chars:
                continue
            arabic = "ي" in t or "ك" in t
            zwnj = "\u200c" in t
            print(f"{k}\tchars={len(t)}\tspeech={q}\tarabic_yk={int(arabic)}\tzwnj={int(zwnj)}\tcat={a['meta'].get('cat')}\t{t.splitlines()[0][:70]}")
    else:
        for k in args.ids:
            if k not in arts:
                print(f"unknown or reserved article id: {k}", file=sys.stderr)
                return 1
            if args.cmd == "show":
                print(f"=== {k} ({len(arts[k]['text'])} chars)\n{arts[k]['text']}\n")
            else:
                print(json.dumps({"id": k, **arts[k]}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
