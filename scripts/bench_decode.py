#!/usr/bin/env python3
"""What decoding alone is worth: one model's weights under several decode settings, beside the rule baselines.

    python scripts/bench_decode.py --model models/goftar-fa-small --data data/test.jsonl --out runs/bench-decode

Decode variants (same weights, one run):

- ``token-argmax``: per-token argmax with lenient BIO, no word grouping, no cue anchoring (goftar 0.1's decoder);
- ``word-viterbi``: word-level (first-token) BIO-constrained Viterbi, no anchoring, no merge, no honorific rule;
- ``word-viterbi+cues, no merge``: the same plus quotes anchored on their speech cues (no merge, no honorific rule);
- ``word-viterbi+cues``: and touching ROLE/PER/ORG/SECTOR pieces (one category) joined, honorifics out (``decode.merge_touching``);
- ``word-viterbi+cues+label bias``: and the checkpoint's dev-tuned logit biases (``decode.label_bias``,
  scripts/tune_label_bias.py);
- ``word-viterbi+cues+label bias+title rules``: and the span rules for titles and edges (``decode.extend_titles``,
  ``title_heads``, ``institution_heads``, ``edge_stop_words``, ``not_titles``): the checkpoint's own settings, i.e. what
  ``goftar predict`` does;

every variant keeps the checkpoint's relation rules (title propagation with its aliases, pronoun speakers,
nearest holders), so its said_by, role_of and speaker columns are not those of the older decoders alone;

and the baselines of scripts/baselines.py on the same texts: the regex quote finder, and the
nearest-mention rule on this model's entities. Every figure is ``goftar score`` (strict). Writes
``OUT/metrics.json`` and ``OUT/summary.md``; also counts spans that cut a word (scripts/count_word_cuts.py).
"""
from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the span rules of 2026-12-02 that come after merge_touching (decode.extend_titles, split_titles,
# drop_institutions, trim_edge_words, names_not_titles), all off
_NO_TITLE_RULES = {"extend_titles": [], "title_heads": [], "institution_heads": [], "edge_stop_words": [], "not_titles": []}
VARIANTS = {
    "token-argmax": {"aggregation": "token", "constrained": False, "quote_anchor": {"enabled": False}, "merge_touching": [],
                     "honorifics": [], "label_bias": {}, **_NO_TITLE_RULES},
    "word-viterbi": {"aggregation": "first", "constrained": True, "quote_anchor": {"enabled": False}, "merge_touching": [],
                     "honorifics": [], "label_bias": {}, **_NO_TITLE_RULES},
    "word-viterbi+cues, no merge": {"aggregation": "first", "constrained": True, "quote_anchor": {"enabled": True},
                                    "merge_touching": [], "honorifics": [], "label_bias": {}, **_NO_TITLE_RULES},
    "word-viterbi+cues": {"aggregation": "first", "constrained": True, "quote_anchor": {"enabled": True}, "label_bias": {},
                          **_NO_TITLE_RULES},
    "word-viterbi+cues+label bias": {"quote_anchor": {}, **_NO_TITLE_RULES},
    "word-viterbi+cues+label bias+title rules": {"quote_anchor": {}},  # the checkpoint's own settings
}


def headline(m: dict) -> dict:
    e, r = m["entities"], m["relations"]
    out = {layer: round(100 * e[layer]["micro"]["f1"], 1) for layer in ("ne", "role", "sector", "quote") if layer in e}
    q = e.get("quote", {}).get("micro", {})
    out["quote_p"], out["quote_r"] = round(100 * q.get("p", 0), 1), round(100 * q.get("r", 0), 1)
    for k in ("said_by", "role_of", "topic"):
        out[k] = round(100 * r.get(k, {}).get("f1", 0.0), 1)
    out["speaker_acc"] = round(100 * (m.get("speaker_attribution") or {}).get("accuracy", 0.0), 1)
    out["sector_cat_acc"] = round(100 * (m.get("sector_category_accuracy") or {}).get("accuracy", 0.0), 1)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="models/goftar-fa-small")
    ap.add_argument("--data", default="data/test.jsonl")
    ap.add_argument("--out", default="runs/bench-decode")
    ap.add_argument("--variants", nargs="+", default=list(VARIANTS), choices=list(VARIANTS))
    args = ap.parse_args(argv)

    sys.path.insert(0, str(ROOT / "scripts"))
    import baselines as bl
    from count_word_cuts import count

    from goftar.inference.document import Document, Entity, read_jsonl
    from goftar.inference.extractor import Extractor
    from goftar.training.scoring import score

    gold = read_jsonl(args.data)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    ex = Extractor.from_pretrained(args.model)
    base_decode = dict(ex.decode)
    results: dict = {"model": args.model, "data": args.data, "variants": {}, "baselines": {}}
    preds_default = None
    for name in args.variants:
        v = VARIANTS[name]
        ex.decode = {**base_decode, **{k: x for k, x in v.items() if k != "quote_anchor"},
                     "quote_anchor": {**base_decode["quote_anchor"], **v["quote_anchor"]}}
        t = time.time()
        preds = ex([{"id": d.id, "text": d.text} for d in gold], batch_size=8)
        m = score(gold, preds, ex.schema)
        cuts = count(preds)
        results["variants"][name] = {"headline": headline(m), "seconds": round(time.time() - t, 1),
                                     "spans_cutting_a_word": cuts["cut_total"], "spans": cuts["spans_total"],
                                     "quotes_of_two_words_or_fewer": cuts["short_quotes"], "metrics": m}
        preds_default = preds
    # baselines on the same texts
    regex = [Document(d.id, d.text, bl.regex_quote_entities(d.text)) for d in gold]
    results["baselines"]["regex-quotes"] = {"headline": headline(score(gold, regex))}
    if preds_default is not None:
        nm = []
        for p in preds_default:
            ents = [Entity(e.id, e.type, e.start, e.end, e.category, e.score) for e in p.entities]
            nm.append(Document(p.id, p.text, ents, bl.nearest_mention_relations(ents)))
        results["baselines"]["nearest-mention (model entities)"] = {"headline": headline(score(gold, nm))}
    (out / "metrics.json").write_text(json.dumps(results, ensure_ascii=False, indent=1), encoding="utf-8")
    cols = ["quote", "quote_p", "quote_r", "role", "sector", "ne", "said_by", "role_of", "topic", "speaker_acc", "sector_cat_acc"]
    lines = ["| system | " + " | ".join(cols) + " | spans cutting a word | quotes ≤ 2 words |", "|" + "---|" * (len(cols) + 3)]
    for name, r in results["variants"].items():
        h = r["headline"]
        lines.append(f"| {name} | " + " | ".join(str(h.get(c, "")) for c in cols)
                     + f" | {r['spans_cutting_a_word']} / {r['spans']} | {r['quotes_of_two_words_or_fewer']} |")
    for name, r in results["baselines"].items():
        h = r["headline"]
        lines.append(f"| {name} | " + " | ".join(str(h.get(c, "")) if c in h and (h[c] or c.startswith("quote")) else "–" for c in cols) + " | – | – |")
    (out / "summary.md").write_text("\n".join(lines) + "\n", encoding="utf-8")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
