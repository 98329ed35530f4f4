"""Every figure of the default model's card, in one run.

    python scripts/evaluate_default.py --model models/goftar-fa-small --out runs/eval

- corpus test split (data/test.jsonl): every layer, relation, quote matching, speaker attribution;
- PEYMA test and ARMAN fold-1 test (held out of training): entity F1 of the ``ne`` layer, with the
  model's predictions restricted to the types each dataset annotates (PEYMA has no FAC/PRO/EVENT,
  ARMAN no DATE/TIME/MONEY/PERCENT), as the partial-label training treats them.

Writes ``OUT/metrics.json`` and ``OUT/summary.md``.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path


def restrict(docs, types):
    for d in docs:
        keep = [e for e in d.entities if e.type in types]
        ids = {e.id for e in keep}
        d.entities = keep
        d.relations = [r for r in d.relations if r.head in ids and r.tail in ids]
    return docs


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/goftar-fa-small")
    ap.add_argument("--out", default="runs/eval")
    ap.add_argument("--datasets", default=os.environ.get("GOFTAR_DATASETS"),
                    help="the folder holding peyma/ and arman/ (default: $GOFTAR_DATASETS; `make` sets it)")
    ap.add_argument("--batch-size", type=int, default=32)
    args = ap.parse_args(argv)

    from goftar.inference.document import read_jsonl, write_jsonl
    from goftar.inference.extractor import Extractor
    from goftar.inference import formats
    from goftar.training.scoring import score

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ex = Extractor.from_pretrained(args.model)
    metrics, rows = {}, []

    t = time.time()
    gold = read_jsonl("data/test.jsonl")
    pred = ex([{"id": d.id, "text": d.text} for d in gold], batch_size=args.batch_size)
    write_jsonl(pred, out / "pred-test.jsonl")
    m = score(gold, pred)
    metrics["corpus_test"] = m
    metrics["corpus_test"]["seconds"] = round(time.time() - t, 1)
    metrics["corpus_test"]["n_documents"] = len(gold)

    for name, path, fmt in (("peyma_test", "peyma/test.txt", "peyma"), ("arman_fold1_test", "arman/test_fold1.txt", "arman")):
        if not args.datasets:
            print(f"skipping {name}: set GOFTAR_DATASETS (or --datasets) to the folder holding peyma/ and arman/",
                  file=sys.stderr)
            continue
        p = Path(args.datasets) / path
        if not p.exists():
            print(f"skipping {name}: {p} not found", file=sys.stderr)
            continue
        gold = formats.read_documents(p, fmt)
        types = set(gold[0].meta.get("ne_types") or [])
        t = time.time()
        pred = ex([{"id": d.id, "text": d.text} for d in gold], batch_size=args.batch_size)
        pred = restrict(pred, types)
        metrics[name] = {"ne": score(gold, pred)["entities"]["ne"], "documents": len(gold),
                         "types": sorted(types), "seconds": round(time.time() - t, 1)}

    (out / "metrics.json").write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    print(summary(metrics))
    (out / "summary.md").write_text(summary(metrics), encoding="utf-8")
    return 0


def f(x):
    return f"{100 * x:.1f}"


def summary(m) -> str:
    lines = []
    for name in ("peyma_test", "arman_fold1_test"):
        if name in m:
            ne = m[name]["ne"]
            per = ", ".join(f"{t} {f(v['f1'])}" for t, v in ne.items() if t != "micro" and v.get("support"))
            lines.append(f"| {name} | ne micro F1 **{f(ne['micro']['f1'])}** (P {f(ne['micro']['p'])}, R {f(ne['micro']['r'])}) | {per} |")
    c = m["corpus_test"]
    ent = c["entities"]
    rel, relo = c["relations"], c.get("relations_quote_overlap", {})
    q = c["quotes"]
    lines += [
        "",
        f"| corpus test ({c.get('n_documents', '?')} articles) | F1 |",
        "|---|---|",
        *[f"| entities `{layer}` (micro, strict) | {f(v['micro']['f1'])} |" for layer, v in ent.items() if "micro" in v and layer != "micro"],
        *[f"| relation `{r}` (strict) | {f(v['f1'])} |" for r, v in rel.items() if isinstance(v, dict) and "f1" in v],
        *[f"| relation `{r}` (QUOTE by overlap) | {f(v['f1'])} |" for r, v in relo.items() if isinstance(v, dict) and "f1" in v],
        f"| QUOTE spans exact | {f(q['exact']['f1'])} |",
        f"| QUOTE spans overlap | {f(q['overlap']['f1'])} |",
        f"| speaker attribution accuracy | {f(c['speaker_attribution']['accuracy'])} ({c['speaker_attribution']['correct']}/{c['speaker_attribution']['total']}) |",
        f"| sector category accuracy | {f(c['sector_category_accuracy']['accuracy'])} |",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
