"""Merge two annotations of the same articles by a decision per disagreement, into anchor.py's input form.

    python data/tools/adjudicate.py A.jsonl B.jsonl DECISIONS.tsv B.src.jsonl OUT.src.jsonl [--corrected-by NAME]

The disagreement groups are those of ``agreement.py --list A B`` (same numbering).
DECISIONS.tsv has the columns ``article, group, decision, reason`` (``#`` lines are
comments); a decision is ``A`` (keep A's spans of the group), ``B`` (keep B's) or
``TYPE[/CATEGORY]:START-END[;…]`` (drop both sides' spans of the group, use these).
Every group of every common article must be decided, and every decision must name
a group that exists, so a changed annotation can never be merged by stale decisions.

Spans both sides agree on are kept with B's ids; spans taken from A or written in a
decision get new ids after B's highest. ``said_by`` and ``role_of`` are B's where
both their spans survive (the tool refuses to drop a span that still carries one);
``topic`` is rebuilt as "every QUOTE → every SECTOR inside it", the rule both sides
followed. Each article's ``meta`` is B's src meta with ``corrected_by`` set and
``double_annotated: true``. OUT is never overwritten.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agreement import disagreements  # noqa: E402
from pre_annotate import to_src  # noqa: E402


def read_decisions(path: str) -> dict[tuple[str, str], str]:
    rows = [l for l in open(path, encoding="utf-8") if l.strip() and not l.startswith("#")]
    out = {}
    for lineno, row in enumerate(csv.DictReader(rows, delimiter="\t"), 2):
        key = (row["article"], row["group"])
        if key in out:
            raise SystemExit(f"{path}: {key} decided twice")
        out[key] = row["decision"].strip()
    return out


def merge(a: dict, b: dict, decided: dict[str, str]) -> dict:
    """One article: B's annotation with every disagreement group replaced by its decision."""
    d = disagreements(a, b)
    groups = {f"s{n}": g for n, g in enumerate(d["spans"], 1)}
    if set(groups) != set(decided):
        raise SystemExit(f"{a['id']}: groups {sorted(set(groups) ^ set(decided))} are listed on one side only "
                         "(decisions out of date?)")
    drop: set[str] = set()
    add: list[dict] = []
    for g, (ga, gb) in groups.items():
        dec = decided[g]
        if dec == "A":
            drop |= {e["id"] for e in gb}
            add += [dict(e) for e in ga]
        elif dec == "B":
            pass
        else:
            drop |= {e["id"] for e in gb}
            for part in dec.split(";"):
                m = re.fullmatch(r"([A-Z_]+)(?:/([A-Z_]+))?:(\d+)-(\d+)", part.strip())
                if not m:
                    raise SystemExit(f"{a['id']} {g}: bad decision {dec!r}")
                e = {"type": m[1], "start": int(m[3]), "end": int(m[4])}
                if m[2]:
                    e["category"] = m[2]
                add.append(e)
    ents = [dict(e) for e in b["entities"] if e["id"] not in drop]
    have = {(e["start"], e["end"], e["type"]) for e in ents}
    top = max(int(e["id"][1:]) for e in b["entities"])
    for e in sorted(add, key=lambda e: (e["start"], e["end"])):
        if (e["start"], e["end"], e["type"]) in have:
            continue  # the same span written in two groups' decisions
        top += 1
        e = {**e, "id": f"T{top}", "text": a["text"][e["start"]:e["end"]]}
        ents.append(e)
        have.add((e["start"], e["end"], e["type"]))
    ids = {e["id"] for e in ents}
    rels = []
    for r in b["relations"]:
        if r["type"] == "topic":
            continue
        if r["head"] not in ids or r["tail"] not in ids:
            raise SystemExit(f"{a['id']}: a decision drops {r['head'] if r['head'] not in ids else r['tail']}, "
                             f"which carries {r['type']} {r['head']} → {r['tail']}")
        rels.append(r)
    quotes = [e for e in ents if e["type"] == "QUOTE"]
    for q in sorted(quotes, key=lambda e: e["start"]):
        for s in sorted(ents, key=lambda e: e["start"]):
            if s["type"] == "SECTOR" and q["start"] <= s["start"] and s["end"] <= q["end"]:
                rels.append({"type": "topic", "head": q["id"], "tail": s["id"]})
    return {"id": b["id"], "text": b["text"], "entities": ents, "relations": rels}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("decisions")
    ap.add_argument("b_src", help="B's .src.jsonl (for each article's meta)")
    ap.add_argument("out")
    ap.add_argument("--corrected-by", default="adjudicated-A-B")
    args = ap.parse_args(argv)
    if Path(args.out).exists():
        raise SystemExit(f"{args.out} exists; not overwriting it")
    load = lambda p: {d["id"]: d for d in map(json.loads, filter(str.strip, open(p, encoding="utf-8")))}  # noqa: E731
    a, b, bsrc = load(args.a), load(args.b), load(args.b_src)
    dec = read_decisions(args.decisions)
    common = [i for i in a if i in b]
    stray = {k for k in dec if k[0] not in common}
    if stray:
        raise SystemExit(f"decisions for articles not in both files: {sorted(stray)}")
    lines = []
    for i in common:
        doc = merge(a[i], b[i], {g: v for (art, g), v in dec.items() if art == i})
        meta = {**bsrc[i].get("meta", {}), "pre_annotated": False, "corrected_by": args.corrected_by,
                "double_annotated": True}
        meta.pop("agreement", None)
        lines.append(to_src(doc, meta))
    Path(args.out).write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")
    print(f"{args.out}: {len(lines)} articles", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
