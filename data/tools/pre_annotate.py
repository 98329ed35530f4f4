"""Model predictions → the surface-string form annotators correct (anchor.py's input), per batch.

    python data/tools/pre_annotate.py runs/pool.pred.jsonl data/annotations/v2/selection.tsv -o data/annotations/v2
    python data/tools/pre_annotate.py --diff data/annotations/v2/batch-6.model.jsonl data/annotations/batch-6.jsonl

Writes, for every group of the selection TSV (select_articles.py's ``group`` column):

- ``OUT/batch-K.pre.src.jsonl`` (K = 6…10): one line per article in anchor.py's format —
  ``id``, the raw ``text`` inline (anchor.py checks it equals the raw article), ``entities``
  as surface strings with their occurrence number ``n`` (counted from the start of the
  text), ``relations`` as ``[type, head, tail]``, and ``meta``: ``pre_annotated: true``,
  ``model_version`` (model folder and the git commit that last changed it),
  ``guide_version: "1.1"``, the proposed ``split`` and the selection ``reason``.
  This is the file an annotator copies to ``data/annotations/batch-K.src.jsonl`` and corrects.
- ``OUT/batch-K.model.jsonl``: the model's predictions for those articles as they came
  (entities and relations with offsets and scores; the text is in the ``.pre.src.jsonl``),
  kept unchanged to measure what annotators changed (``--diff``).
- ``OUT/agree-A.src.jsonl`` and ``OUT/agree-B.src.jsonl``: the agreement articles with their
  text, no entities and no relations, ``meta.pre_annotated: false`` (annotated twice,
  independently, from scratch).

Existing output files are never overwritten (``--force`` to allow it).

``--diff MODEL.jsonl GOLD.jsonl`` compares a corrected batch with the model's proposal:
per article, spans kept (same type, offsets and category), added and removed, and
relations kept, added and removed (matched by their spans' offsets, not ids), as a TSV
on stdout with a total line.
"""
from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from raw_articles import articles  # noqa: E402


def occurrence(text: str, surface: str, start: int) -> int:
    n, pos = 0, -1
    while True:
        pos = text.find(surface, pos + 1)
        if pos < 0:
            raise ValueError(f"{surface!r} not found at {start}")
        n += 1
        if pos == start:
            return n


def to_src(pred: dict, meta: dict) -> dict:
    t = pred["text"]
    ents = []
    for e in sorted(pred["entities"], key=lambda e: (e["start"], e["end"])):
        surf = t[e["start"]:e["end"]]
        x = {"id": e["id"], "type": e["type"], "text": surf, "n": occurrence(t, surf, e["start"])}
        if e.get("category"):
            x["category"] = e["category"]
        ents.append(x)
    rels = [[r["type"], r["head"], r["tail"]] for r in pred["relations"]]
    return {"id": pred["id"], "text": t, "entities": ents, "relations": rels, "meta": meta}


def model_version(model: Path) -> str:
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "log", "-1", "--format=%h", "--", str(model)],
                             capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = ""
    return f"{model.name}@{rev}" if rev else model.name


def write(path: Path, lines: list[dict], force: bool) -> None:
    if path.exists() and not force:
        raise SystemExit(f"{path} exists; not overwriting it (use --force)")
    path.write_text("".join(json.dumps(x, ensure_ascii=False) + "\n" for x in lines), encoding="utf-8")


def cmd_build(a) -> int:
    preds = {}
    for line in open(a.predictions, encoding="utf-8"):
        if line.strip():
            p = json.loads(line)
            preds[p["id"]] = p
    rows = list(csv.DictReader(open(a.selection, encoding="utf-8"), delimiter="\t"))
    arts = articles()
    mv = model_version(Path(a.model))
    out = Path(a.output)
    out.mkdir(parents=True, exist_ok=True)
    groups: dict[str, list[dict]] = {}
    for r in rows:
        groups.setdefault(r["group"], []).append(r)
    for g, rs in sorted(groups.items()):
        if g == "agree":
            for side in ("A", "B"):
                lines = [{"id": r["id"], "text": arts[r["id"]]["text"], "entities": [], "relations": [],
                          "meta": {"pre_annotated": False, "guide_version": "1.1", "split": r["split"],
                                   "agreement": side, "reason": r["reason"]}} for r in rs]
                write(out / f"agree-{side}.src.jsonl", lines, a.force)
            continue
        src, model = [], []
        for r in rs:
            p = preds[r["id"]]
            if p["text"] != arts[r["id"]]["text"]:
                raise SystemExit(f"{a.predictions}: {r['id']}: text differs from the raw article")
            meta = {"pre_annotated": True, "model_version": mv, "guide_version": "1.1", "split": r["split"],
                    "reason": r["reason"]}
            src.append(to_src(p, meta))
            model.append({"id": p["id"], "entities": p["entities"], "relations": p["relations"]})
        write(out / f"{g}.pre.src.jsonl", src, a.force)
        write(out / f"{g}.model.jsonl", model, a.force)
    print({g: len(rs) for g, rs in sorted(groups.items())}, file=sys.stderr)
    return 0


def _keys(d: dict):
    ents = {e["id"]: e for e in d["entities"]}
    span = {i: (e["type"], e["start"], e["end"], e.get("category")) for i, e in ents.items()}
    loc = {i: (e["start"], e["end"]) for i, e in ents.items()}
    rels = {(r["type"], loc[r["head"]], loc[r["tail"]]) for r in d["relations"]}
    return set(span.values()), rels


def cmd_diff(a) -> int:
    model = {json.loads(l)["id"]: json.loads(l) for l in open(a.diff[0], encoding="utf-8") if l.strip()}
    w = csv.writer(sys.stdout, delimiter="\t", lineterminator="\n")
    w.writerow(["id", "spans_model", "spans_kept", "spans_added", "spans_removed",
                "rels_model", "rels_kept", "rels_added", "rels_removed"])
    tot = [0] * 8
    for line in open(a.diff[1], encoding="utf-8"):
        if not line.strip():
            continue
        g = json.loads(line)
        if g["id"] not in model:
            continue
        ms, mr = _keys(model[g["id"]])
        gs, gr = _keys(g)
        row = [len(ms), len(ms & gs), len(gs - ms), len(ms - gs), len(mr), len(mr & gr), len(gr - mr), len(mr - gr)]
        tot = [x + y for x, y in zip(tot, row)]
        w.writerow([g["id"], *row])
    w.writerow(["TOTAL", *tot])
    return 0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("predictions", nargs="?")
    ap.add_argument("selection", nargs="?")
    ap.add_argument("-o", "--output", default=str(ROOT / "data" / "annotations" / "v2"))
    ap.add_argument("--model", default=str(ROOT / "models" / "goftar-fa-small"))
    ap.add_argument("--force", action="store_true")
    ap.add_argument("--diff", nargs=2, metavar=("MODEL_JSONL", "CORRECTED_JSONL"))
    a = ap.parse_args(argv)
    if a.diff:
        return cmd_diff(a)
    if not (a.predictions and a.selection):
        ap.error("PREDICTIONS and SELECTION are required (or --diff)")
    return cmd_build(a)


if __name__ == "__main__":
    sys.exit(main())
