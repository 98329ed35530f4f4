"""Turn a hand-written annotation (surface strings, no offsets) into goftar JSONL.

Counting character offsets by hand is error-prone; annotators write each
mention as its surface string and which occurrence it is, and this tool finds
the offsets in the raw article text (fetched by id, never retyped).

Input: one JSON object per line::

    {"id": "farsnews-1-012",
     "entities": [
        {"id": "T1", "type": "PER", "text": "قالیباف"},              # 1st occurrence
        {"id": "T2", "type": "PER", "text": "قالیباف", "n": 2},      # 2nd occurrence
        {"id": "T3", "type": "QUOTE", "text": "روابط ...", "after": "گفت: "},  # first occurrence at/after that context
        {"id": "T4", "type": "SECTOR", "text": "تجاری", "category": "TRADE", "after": "قالیباف در این", "n": 1}
     ],
     "relations": [["said_by", "T3", "T2"], ["topic", "T3", "T4"]]}

``after`` narrows the search to the text that follows the first occurrence
of the context string (``n`` then counts from there). The text may also be
given inline with ``"text": ...`` at the top level for articles that are not
in the raw sets (the seed article); for a raw article an inline text must equal
the raw text. A ``"meta"`` object is merged over the raw article's meta (v2
batches record ``pre_annotated``, ``corrected_by`` … there).

    python data/tools/anchor.py IN.jsonl OUT.jsonl      # then: goftar validate OUT.jsonl
    python data/tools/anchor.py --occurrences ID STRING # list where STRING occurs
"""
from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from raw_articles import articles  # noqa: E402


def find(text: str, surface: str, n: int = 1, after: str | None = None) -> int:
    base = 0
    if after:
        base = text.find(after)
        if base < 0:
            raise ValueError(f"context {after!r} not in the text")
    pos = base - 1
    for _ in range(n):
        pos = text.find(surface, pos + 1)
        if pos < 0:
            raise ValueError(f"{surface!r} occurs fewer than {n} times" + (f" after {after!r}" if after else ""))
    return pos


def anchor(spec: dict, arts: dict) -> dict:
    raw = arts.get(spec["id"])
    text = spec.get("text") or raw["text"]
    if raw is not None and spec.get("text") and spec["text"] != raw["text"]:
        raise ValueError(f"{spec['id']}: inline text differs from the raw article (never edit the text)")
    # the raw article's meta (source, link, category), then the spec's own keys (pre_annotated, corrected_by …)
    meta = {**((raw or {}).get("meta") or {}), **(spec.get("meta") or {})}
    ents = []
    for e in spec["entities"]:
        start = find(text, e["text"], int(e.get("n", 1)), e.get("after"))
        out = {"id": e["id"], "type": e["type"], "start": start, "end": start + len(e["text"]), "text": e["text"]}
        if "category" in e:
            out["category"] = e["category"]
        ents.append(out)
    rels = [{"type": r[0], "head": r[1], "tail": r[2]} if isinstance(r, list) else r for r in spec.get("relations", [])]
    return {"id": spec["id"], "text": text, "entities": ents, "relations": rels, "meta": meta}


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    arts = articles()
    if argv and argv[0] == "--occurrences":
        text = arts[argv[1]]["text"]
        s, pos, k = argv[2], -1, 0
        while (pos := text.find(s, pos + 1)) >= 0:
            k += 1
            print(f"n={k} at {pos}: …{text[max(0, pos - 30):pos]}[{s}]{text[pos + len(s):pos + len(s) + 30]}…")
        return 0
    src, dst = argv
    bad = 0
    with open(dst, "w", encoding="utf-8") as out:
        for lineno, line in enumerate(open(src, encoding="utf-8"), 1):
            if not line.strip():
                continue
            try:
                out.write(json.dumps(anchor(json.loads(line), arts), ensure_ascii=False) + "\n")
            except (ValueError, KeyError) as exc:
                bad += 1
                print(f"{src}:{lineno}: {exc}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
