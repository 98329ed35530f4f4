"""Assemble corpus v1 from the annotators' batches: validate, split by article, count.

    python data/tools/build_corpus.py          # writes data/{train,dev,test}.jsonl and data/counts.json

Splits are by article and deterministic. ``data/splits.json`` pins the split of
every article it names: corpus v1's (as first dealt, so the v1 test articles stay
in test). A v2 article takes the split in its ``meta.split`` (proposed by
data/tools/select_articles.py, carried by the pre-annotation). Any other article is dealt as v1 was: grouped by source (Fars vs.
Hamshahri/Radio Farda) and topic and dealt round-robin. The seed article always
goes to test. Any article whose text is in ../shared/holdout stops the build, and
so does a pre-annotated article (``meta.pre_annotated``) that no annotator has
signed off (``meta.corrected_by``): model output never becomes gold by accident.
"""
from __future__ import annotations

import collections
import hashlib
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from raw_articles import holdout_dir  # noqa: E402

SEED = ROOT / "tests" / "data" / "seed-article.jsonl"
SPLIT_SIZES = {"test": 18, "dev": 16}  # for articles without a pin; the rest is train
SPLITS = ROOT / "data" / "splits.json"


def main() -> int:
    from goftar.inference.validate import validate_document
    from goftar.inference.document import Document

    docs = []
    for path in sorted((ROOT / "data" / "annotations").glob("batch-*.jsonl")):
        if path.name.endswith(".src.jsonl"):
            continue
        for line in path.open(encoding="utf-8"):
            if line.strip():
                d = json.loads(line)
                d.setdefault("meta", {})["batch"] = path.stem
                docs.append(d)
    seed = json.loads(SEED.read_text(encoding="utf-8").splitlines()[0])
    seed.setdefault("meta", {})["batch"] = "seed"
    held = set()
    hp = holdout_dir() / "articles.jsonl"
    if hp.exists():
        held = {hashlib.sha256(json.loads(l)["text"].encode()).hexdigest() for l in hp.open(encoding="utf-8")}
    ids = collections.Counter(d["id"] for d in docs)
    dup = [i for i, c in ids.items() if c > 1]
    if dup:
        print(f"articles annotated twice: {dup}", file=sys.stderr)
        return 1
    bad = 0
    for d in docs:
        m = d.get("meta") or {}
        if m.get("pre_annotated") and not m.get("corrected_by"):
            print(f"{m['batch']} {d['id']}: pre-annotated but not corrected (no meta.corrected_by)", file=sys.stderr)
            bad += 1
    for d in docs + [seed]:
        if hashlib.sha256(d["text"].encode()).hexdigest() in held:
            print(f"{d['id']}: text is a holdout article", file=sys.stderr)
            return 1
        for p in validate_document(Document.from_dict(d)):
            print(f"{d['meta']['batch']} {d['id']}: {p}", file=sys.stderr)
            bad += 1
    if bad:
        return 1

    def group(d):
        src = "fars" if d["id"].startswith("farsnews") else "sci2lab"
        return (src, (d["meta"].get("cat") or "").split(",")[0])

    # Per source, interleave topics, then take evenly spaced articles for test and dev,
    # so every split gets its share of each source and a spread of topics.
    splits = {"train": [], "dev": [], "test": [seed]}
    pins = json.loads(SPLITS.read_text(encoding="utf-8")) if SPLITS.exists() else {}
    for d in sorted(docs, key=lambda d: d["id"]):
        s = pins.get(d["id"]) or d["meta"].get("split")
        if s is not None and s not in splits:
            print(f"{d['meta']['batch']} {d['id']}: unknown split {s!r}", file=sys.stderr)
            return 1
        if s:
            splits[s].append(d)
    docs = [d for d in docs if not (pins.get(d["id"]) or d["meta"].get("split"))]
    by_source = collections.defaultdict(lambda: collections.defaultdict(list))
    for d in sorted(docs, key=lambda d: d["id"]):
        src, topic = group(d)
        by_source[src][topic].append(d)
    for src in sorted(by_source):
        pools = [by_source[src][t] for t in sorted(by_source[src], key=lambda t: (-len(by_source[src][t]), t))]
        order = []
        while any(pools):
            for pool in pools:
                if pool:
                    order.append(pool.pop(0))
        share = len(order) / max(1, len(docs))
        n_test = round((SPLIT_SIZES["test"] - 1) * share)
        n_dev = round(SPLIT_SIZES["dev"] * share)
        step = len(order) / max(n_test + n_dev, 1)
        picked = [int(i * step) for i in range(n_test + n_dev)]
        for j, d in enumerate(order):
            if j in picked:
                splits["test" if picked.index(j) % 2 == 0 and sum(1 for x in picked[:picked.index(j)] if picked.index(x) % 2 == 0) < n_test else "dev"].append(d)
            else:
                splits["train"].append(d)
    counts = {}
    for name, ds in splits.items():
        with open(ROOT / "data" / f"{name}.jsonl", "w", encoding="utf-8") as f:
            for d in ds:
                f.write(json.dumps(d, ensure_ascii=False) + "\n")
        ent = collections.Counter(e["type"] for d in ds for e in d["entities"])
        cat = collections.Counter(e.get("category") for d in ds for e in d["entities"] if e["type"] == "SECTOR")
        rel = collections.Counter(r["type"] for d in ds for r in d["relations"])
        src = collections.Counter(group(d)[0] if d is not seed else "seed (Mehr)" for d in ds)
        counts[name] = {"articles": len(ds), "sources": dict(src), "entities": dict(sorted(ent.items())),
                        "relations": dict(sorted(rel.items())), "sector_categories": dict(sorted(cat.items())),
                        "arabic_yk": sum(("ي" in d["text"] or "ك" in d["text"]) for d in ds),
                        "no_zwnj": sum("\u200c" not in d["text"] for d in ds)}
    (ROOT / "data" / "counts.json").write_text(json.dumps(counts, ensure_ascii=False, indent=1), encoding="utf-8")
    for name, c in counts.items():
        print(name, json.dumps(c, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
