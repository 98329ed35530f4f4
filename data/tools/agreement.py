"""Inter-annotator agreement between two anchored goftar JSONL files, and the list of their disagreements.

    python data/tools/agreement.py A.jsonl B.jsonl [--json OUT.json] [--md OUT.md]
    python data/tools/agreement.py --list A.jsonl B.jsonl [ARTICLE_ID ...]   # every disagreement, with context

Only the articles both files contain are compared (the others are named on stderr
and in the JSON). Agreement is the F1 of one side against the other, computed by
goftar's own scorer (``goftar.training.scoring.score``) with A as "gold" and B as
"prediction"; F1 is symmetric, so swapping the sides swaps P and R only. Reported:

- span F1 per layer (ne, role, sector, quote), strict (same offsets and type), and
  per ne type;
- SECTOR with its category (``sector_by_category``) and the category agreement on
  sectors both sides marked with the same offsets (``sector_category_accuracy``);
- relation F1 per type (said_by, role_of, topic), strict: type and both spans;
- QUOTE overlap F1 and said_by/topic with the QUOTE matched by overlap, by the
  scorer's ``OVERLAP_RULE``.

``--list`` prints, per article, every span one side has and the other lacks (a span
is its offsets, type and SECTOR category). Each A-only span forms a group with the
B-only spans of its layer that overlap it and that no earlier A span took; B-only spans
left over form groups of their own. Groups are numbered s1, s2 … in text order per
article (adjudicate.py's decisions refer to these numbers). Then it prints every relation one side has and the other lacks
(relations are compared by their spans' offsets, not by ids).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

LAYERS = ("ne", "role", "sector", "quote")
RELATIONS = ("said_by", "role_of", "topic")


def _read(path: str):
    from goftar.training.scoring import read_documents

    problems: list[str] = []
    docs = read_documents(path, problems)
    if problems:
        raise SystemExit(f"{path}: unreadable lines:\n  " + "\n  ".join(problems))
    return docs


def common(a_docs, b_docs):
    """The documents of A and B with an id in both, in A's order, and the ids only one side has."""
    b_ids = {d.id for d in b_docs}
    a_ids = {d.id for d in a_docs}
    ids = [d.id for d in a_docs if d.id in b_ids]
    keep = set(ids)
    return ([d for d in a_docs if d.id in keep], [d for d in b_docs if d.id in keep],
            sorted(a_ids - b_ids), sorted(b_ids - a_ids))


def _cell(m: dict) -> dict:
    return {"a": m["support"], "b": m["predicted"], "both": m["correct"], "f1": round(m["f1"], 4)}


def agreement(a_docs, b_docs) -> dict:
    """Agreement figures of the common articles of ``a_docs`` and ``b_docs`` (lists of Document)."""
    from goftar.training.scoring import OVERLAP_RULE, score

    a, b, only_a, only_b = common(a_docs, b_docs)
    bmap = {d.id: d for d in b}
    texts = [d.id for d in a if d.text != bmap[d.id].text]
    if texts:
        raise SystemExit(f"the two sides' texts differ in {', '.join(texts)}; offsets cannot be compared")
    m = score(a, b)
    ent = m["entities"]
    rows: dict[str, dict] = {}
    for layer in LAYERS:
        rows[f"span {layer}"] = _cell(ent[layer]["micro"])
    for t, cell in ent["ne"].items():
        if t != "micro":
            rows[f"span ne {t}"] = _cell(cell)
    rows["span sector + category"] = _cell(ent["sector_by_category"]["micro"])
    c = m["sector_category_accuracy"]
    rows["sector category on same-offset spans"] = {"a": c["total"], "b": c["total"], "both": c["correct"],
                                                    "f1": round(c["accuracy"], 4), "accuracy": True}
    for rt in RELATIONS:
        cell = m["relations"].get(rt, {"support": 0, "predicted": 0, "correct": 0, "f1": 0.0})
        rows[f"relation {rt}"] = _cell(cell)
    rows["relation all"] = _cell(m["relations"]["micro"])
    rows["quote overlap"] = _cell(m["quotes"]["overlap"])
    for rt in ("said_by", "topic"):
        rows[f"relation {rt}, quote by overlap"] = _cell(m["relations_quote_overlap"][rt])
    return {"articles": [d.id for d in a], "only_in_a": only_a, "only_in_b": only_b, "rows": rows,
            "overlap_rule": OVERLAP_RULE, "score": m}


def markdown(res: dict, name_a: str = "A", name_b: str = "B") -> str:
    lines = [f"| | {name_a} | {name_b} | both | F1 |", "|---|---:|---:|---:|---:|"]
    for k, r in res["rows"].items():
        if r.get("accuracy"):
            lines.append(f"| {k} (accuracy) | {r['a']} | {r['b']} | {r['both']} | {r['f1']:.3f} |")
        else:
            lines.append(f"| {k} | {r['a']} | {r['b']} | {r['both']} | {r['f1']:.3f} |")
    return "\n".join(lines)


# -- the list of disagreements ------------------------------------------------
def _key(e: dict) -> tuple:
    return (e["start"], e["end"], e["type"], e.get("category"))


def _ctx(t: str, s: int, e: int, width: int = 30) -> str:
    return (t[max(0, s - width):s] + "[" + t[s:e] + "]" + t[e:e + width]).replace("\n", "⏎")


def _lab(e: dict) -> str:
    return e["type"] + (f"/{e['category']}" if e.get("category") else "")


def _rel_keys(d: dict) -> dict:
    ents = {e["id"]: e for e in d["entities"]}
    out = {}
    for r in d["relations"]:
        h, t = ents.get(r["head"]), ents.get(r["tail"])
        if h and t:
            out[(r["type"], _key(h)[:3], _key(t)[:3])] = (r, h, t)
    return out


def disagreements(a: dict, b: dict) -> dict:
    """Spans and relations of one side the other lacks, for one article (dicts as in the JSONL).

    Returns ``{"spans": [(a_spans, b_spans), ...], "relations": [(side, type, head, tail), ...]}``:
    each span group holds the A-only and B-only spans that overlap each other (either list may
    be empty); relations are ``(side, type, head entity, tail entity)`` of the side that has it.
    """
    ka = {_key(e): e for e in a["entities"]}
    kb = {_key(e): e for e in b["entities"]}
    oa = [ka[k] for k in sorted(set(ka) - set(kb))]
    ob = [kb[k] for k in sorted(set(kb) - set(ka))]
    groups: list[tuple[list, list]] = []
    used_b: set[int] = set()
    for e in oa:
        partners = [i for i, f in enumerate(ob) if i not in used_b and f["start"] < e["end"] and e["start"] < f["end"]
                    and (f["type"] == e["type"] or {f["type"], e["type"]} <= {"PER", "ORG", "LOC", "FAC", "PRO", "EVENT", "DATE", "TIME", "MONEY", "PERCENT"})]
        used_b.update(partners)
        groups.append(([e], [ob[i] for i in partners]))
    groups += [([], [f]) for i, f in enumerate(ob) if i not in used_b]
    groups.sort(key=lambda g: min(x["start"] for x in g[0] + g[1]))
    ra, rb = _rel_keys(a), _rel_keys(b)
    rels = [("A", *ra[k]) for k in sorted(set(ra) - set(rb), key=str)] + [("B", *rb[k]) for k in sorted(set(rb) - set(ra), key=str)]
    return {"spans": groups, "relations": rels}


def list_disagreements(a_path: str, b_path: str, ids: list[str] | None = None, out=sys.stdout) -> int:
    a = {d["id"]: d for d in map(json.loads, filter(str.strip, open(a_path, encoding="utf-8")))}
    b = {d["id"]: d for d in map(json.loads, filter(str.strip, open(b_path, encoding="utf-8")))}
    total = {"spans": 0, "relations": 0}
    for i in (ids or [k for k in a if k in b]):
        if i not in a or i not in b:
            print(f"{i}: not in both files", file=sys.stderr)
            return 1
        t = a[i]["text"]
        d = disagreements(a[i], b[i])
        print(f"=== {i}: {len(d['spans'])} span groups, {len(d['relations'])} relations", file=out)
        for n, (ga, gb) in enumerate(d["spans"], 1):
            total["spans"] += 1
            for side, es in (("A", ga), ("B", gb)):
                for e in es:
                    print(f"  s{n:<3} {side} {e['id']:>4} {_lab(e):<22} {e['start']}-{e['end']} …{_ctx(t, e['start'], e['end'])}…", file=out)
                if not es:
                    print(f"  s{n:<3} {side}  --", file=out)
        for n, (side, r, h, tl) in enumerate(d["relations"], 1):
            total["relations"] += 1
            print(f"  r{n:<3} {side} {r['type']:<8} {h['id']} {_lab(h)} «{t[h['start']:h['end']][:35]}» {h['start']} → "
                  f"{tl['id']} {_lab(tl)} «{t[tl['start']:tl['end']][:35]}» {tl['start']}", file=out)
    print(f"TOTAL span groups {total['spans']}, relations {total['relations']}", file=out)
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("a")
    ap.add_argument("b")
    ap.add_argument("ids", nargs="*", help="with --list: only these articles")
    ap.add_argument("--list", action="store_true", help="list every disagreement instead of the figures")
    ap.add_argument("--json", help="write the figures (and the scorer's full result) as JSON here")
    ap.add_argument("--md", help="write the markdown table here")
    args = ap.parse_args(argv)
    if args.list:
        return list_disagreements(args.a, args.b, args.ids)
    res = agreement(_read(args.a), _read(args.b))
    for side, ids in (("A", res["only_in_a"]), ("B", res["only_in_b"])):
        if ids:
            print(f"only in {side} (not compared): {', '.join(ids)}", file=sys.stderr)
    if not res["articles"]:
        print("no article is in both files", file=sys.stderr)
        return 1
    res = {"a": args.a, "b": args.b, **res}
    table = markdown(res)
    print(f"{len(res['articles'])} articles in both files\n\n{table}")
    for path, body in ((args.json, json.dumps(res, ensure_ascii=False, indent=1)), (args.md, table + "\n")):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(body, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
