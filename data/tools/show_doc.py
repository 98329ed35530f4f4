"""Print an anchored article's annotation for reading: every span with its context, then every relation.

    python data/tools/show_doc.py data/annotations/batch-6.jsonl farsnews-1-037   # one article
    python data/tools/show_doc.py data/annotations/batch-6.jsonl                  # every article

Spans are listed in text order as ``id TYPE[/CATEGORY] start-end …left[mention]right…``
(newlines shown as ⏎); relations as ``type head «…» → tail «…»``.
"""
from __future__ import annotations

import json
import sys


def show(d: dict, width: int = 25) -> str:
    t = d["text"]
    out = [f"=== {d['id']} ({len(t)} chars) meta={json.dumps(d.get('meta', {}), ensure_ascii=False)}"]
    ents = {e["id"]: e for e in d["entities"]}
    for e in sorted(d["entities"], key=lambda e: (e["start"], e["end"])):
        s, en = e["start"], e["end"]
        lab = e["type"] + (f"/{e['category']}" if e.get("category") else "")
        c = (t[max(0, s - width):s] + "[" + t[s:en] + "]" + t[en:en + width]).replace("\n", "⏎")
        out.append(f"{e['id']:>5} {lab:<22} {s}-{en} …{c}…")
    for r in d["relations"]:
        h, tl = ents[r["head"]], ents[r["tail"]]
        out.append(f"  {r['type']:<8} {r['head']} «{h['text'][:40]}» → {r['tail']} «{tl['text'][:40]}»")
    return "\n".join(out)


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        print(__doc__, file=sys.stderr)
        return 2
    want = set(argv[1:])
    found = False
    for line in open(argv[0], encoding="utf-8"):
        if line.strip():
            d = json.loads(line)
            if not want or d["id"] in want:
                found = True
                print(show(d) + "\n")
    if want and not found:
        print(f"{argv[0]}: none of {sorted(want)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
