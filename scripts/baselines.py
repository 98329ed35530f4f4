#!/usr/bin/env python3
"""Rule baselines for quotes and who said them, scored like the model.

    python scripts/baselines.py --gold data/test.jsonl [--model-pred runs/pred-test.jsonl] \\
        --out runs/baselines/ --json runs/baselines/metrics.json

Two rules, each written as goftar JSONL predictions for the texts of the gold
file and scored with :func:`goftar.training.scoring.score` against it:

(a) **regex quotes** (:func:`find_quotes`): a speech verb followed by a colon
    («گفت:», «افزود:», «تصریح کرد:», «اظهار داشت:», «خاطرنشان کرد:», «ادامه
    داد:», «خبر داد:», «اعلام کرد:», …, with Arabic ي/ك, ZWNJ and space
    variants, found on the offset-keeping normalised text) → QUOTE = the text
    after the colon to the end of the line (or to the closing quotation mark
    when the quote opens with one, or to the last sentence end before the next
    speech verb of the same line), without «» "" and the final full stop;
    plus a line of the form «X: …» with X short (≤ 6 words, no verb, not a
    news outlet) → QUOTE after the colon, one per «|» segment.
(b) **nearest mention** (:func:`nearest_mention_relations`): every QUOTE is
    ``said_by`` the nearest PER or ROLE mention that ends at or before its
    start (ORG mentions are ignored); every ROLE is ``role_of`` the nearest PER
    by character distance, either direction (the guide's role_of rule; ties go
    to the earlier PER).

Baselines reported:

- ``regex-quotes``: (a) alone, no relations (quote spans only);
- ``nearest-gold``: (b) on the gold QUOTE/PER/ROLE spans;
- ``regex+nearest-gold``: (a)'s quotes, gold PER/ROLE, relations by (b);
- ``nearest-model`` (with ``--model-pred``): the model's entities, its
  relations dropped, relations by (b);
- ``model`` (with ``--model-pred``): the model's predictions as they are, for
  reference.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from goftar.inference.document import Document, Entity, Relation, read_jsonl, write_jsonl
from goftar.inference.cues import find_cues
from goftar.inference.quotes import span_gap

def find_quotes(text: str) -> list[tuple[int, int]]:
    """QUOTE spans ``[(start, end)]`` of the regex baseline, offsets into ``text``: the regions of the
    colon cues and headline cues of the cue lexicon (:mod:`goftar.inference.cues`), nothing learned.

    >>> t = "وزير نفت گفت: «توليد افزايش مي‌يابد». وی افزود: كار داريم."
    >>> [t[s:e] for s, e in find_quotes(t)]
    ['توليد افزايش مي\u200cيابد', 'كار داريم']
    """
    return [c.region for c in find_cues(text) if c.kind in ("direct", "headline")]


# -- (b) nearest mention -----------------------------------------------------
def nearest_speaker(quote: Entity, mentions: list[Entity]) -> Entity | None:
    """The PER or ROLE mention ending nearest before the quote starts (None when there is none)."""
    before = [m for m in mentions if m.type in ("PER", "ROLE") and m.end <= quote.start]
    if not before:
        return None
    # Latest end; for mentions ending together, the inner (later-starting) one, a PER before a ROLE.
    return max(before, key=lambda m: (m.end, m.start, m.type == "PER"))


def nearest_person(role: Entity, mentions: list[Entity]) -> Entity | None:
    """The PER nearest to ``role`` in characters, either direction (ties: the earlier PER)."""
    pers = [m for m in mentions if m.type == "PER"]
    if not pers:
        return None
    return min(pers, key=lambda p: (span_gap(p, role), p.start))


def nearest_mention_relations(entities: list[Entity]) -> list[Relation]:
    """said_by and role_of relations of rule (b) over ``entities`` (ORG ignored)."""
    rels: list[Relation] = []
    for e in sorted(entities, key=lambda e: (e.start, e.end)):
        if e.type == "QUOTE":
            sp = nearest_speaker(e, entities)
            if sp is not None:
                rels.append(Relation("said_by", e.id, sp.id))
        elif e.type == "ROLE":
            per = nearest_person(e, entities)
            if per is not None:
                rels.append(Relation("role_of", e.id, per.id))
    return rels


# -- baselines ---------------------------------------------------------------
def _copy(e: Entity, eid: str | None = None) -> Entity:
    return Entity(eid or e.id, e.type, e.start, e.end, e.category, e.score)


def regex_quote_entities(text: str, prefix: str = "RQ") -> list[Entity]:
    return [Entity(f"{prefix}{i}", "QUOTE", s, e) for i, (s, e) in enumerate(find_quotes(text), 1)]


def baseline_regex_quotes(gold: Document) -> Document:
    return Document(gold.id, gold.text, regex_quote_entities(gold.text))


def baseline_nearest_gold(gold: Document) -> Document:
    ents = [_copy(e) for e in gold.entities if e.type in ("QUOTE", "PER", "ROLE")]
    return Document(gold.id, gold.text, ents, nearest_mention_relations(ents))


def baseline_regex_nearest_gold(gold: Document) -> Document:
    ents = [_copy(e) for e in gold.entities if e.type in ("PER", "ROLE")] + regex_quote_entities(gold.text)
    return Document(gold.id, gold.text, ents, nearest_mention_relations(ents))


def baseline_nearest_model(pred: Document) -> Document:
    ents = [_copy(e) for e in pred.entities]
    return Document(pred.id, pred.text, ents, nearest_mention_relations(ents))


def summary(metrics: dict[str, Any]) -> dict[str, float]:
    rel = metrics["relations"]
    ov = metrics["relations_quote_overlap"]
    f1 = lambda t, k: t[k]["f1"] if k in t else 0.0  # noqa: E731
    return {
        "quote_exact_f1": metrics["quotes"]["exact"]["f1"],
        "quote_overlap_f1": metrics["quotes"]["overlap"]["f1"],
        "said_by_f1": f1(rel, "said_by"),
        "said_by_overlap_f1": f1(ov, "said_by"),
        "role_of_f1": f1(rel, "role_of"),
        "speaker_accuracy": metrics["speaker_attribution"]["accuracy"],
    }


COLUMNS = [
    ("quote_exact_f1", "quote exact F1"),
    ("quote_overlap_f1", "quote overlap F1"),
    ("said_by_f1", "said_by F1"),
    ("said_by_overlap_f1", "said_by F1 (q-overlap)"),
    ("role_of_f1", "role_of F1"),
    ("speaker_accuracy", "speaker acc."),
]


def format_table(results: dict[str, dict[str, Any]]) -> str:
    """A markdown table, one row per baseline."""
    head = "| baseline | " + " | ".join(c for _, c in COLUMNS) + " |"
    lines = [head, "|---|" + "---:|" * len(COLUMNS)]
    for name, r in results.items():
        s = r["summary"]
        cells = []
        for key, _ in COLUMNS:
            cells.append("–" if key in r.get("not_applicable", ()) else f"{s[key]:.3f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def run(gold_path: str, model_pred: str | None, out_dir: str | None) -> dict[str, dict[str, Any]]:
    from goftar.training.scoring import read_documents, score

    gold = read_jsonl(gold_path)
    plans: list[tuple[str, list[Document], tuple[str, ...], str]] = [
        ("regex-quotes", [baseline_regex_quotes(g) for g in gold],
         ("said_by_f1", "said_by_overlap_f1", "role_of_f1", "speaker_accuracy"),
         "regex quote finder alone, no relations"),
        ("nearest-gold", [baseline_nearest_gold(g) for g in gold], ("quote_exact_f1", "quote_overlap_f1"),
         "gold QUOTE/PER/ROLE spans, said_by/role_of by the nearest-mention rule"),
        ("regex+nearest-gold", [baseline_regex_nearest_gold(g) for g in gold], (),
         "regex QUOTEs, gold PER/ROLE, said_by/role_of by the nearest-mention rule"),
    ]
    if model_pred:
        problems: list[str] = []
        preds = read_documents(model_pred, problems)
        for p in problems:
            print(f"skipped: {p}", file=sys.stderr)
        plans.append(("nearest-model", [baseline_nearest_model(p) for p in preds], (),
                      f"entities of {model_pred}, its relations dropped, said_by/role_of by the nearest-mention rule"))
        plans.append(("model", preds, (), f"{model_pred} as predicted (reference)"))
    results: dict[str, dict[str, Any]] = {}
    if out_dir:
        Path(out_dir).mkdir(parents=True, exist_ok=True)
    for name, docs, na, what in plans:
        metrics = score(gold, docs)
        results[name] = {"what": what, "summary": summary(metrics), "not_applicable": list(na), "metrics": metrics}
        if out_dir and name != "model":
            write_jsonl(docs, Path(out_dir) / f"{name.replace('+', '-')}.jsonl")
    return results


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--gold", required=True, help="gold goftar JSONL (e.g. data/test.jsonl)")
    ap.add_argument("--model-pred", help="model predictions JSONL for the same texts (goftar evaluate --pred-out)")
    ap.add_argument("--out", help="folder for the baselines' prediction JSONL files")
    ap.add_argument("--json", help="write the summaries and full metrics as JSON here")
    args = ap.parse_args(argv)
    results = run(args.gold, args.model_pred, args.out)
    print(f"gold: {args.gold}" + (f"; model predictions: {args.model_pred}" if args.model_pred else ""))
    print(format_table(results))
    for name, r in results.items():
        print(f"  {name}: {r['what']}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, ensure_ascii=False, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
