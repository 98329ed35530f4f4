"""Score predicted goftar documents against gold ones.

``score(gold_docs, pred_docs)`` returns one nested, JSON-serialisable dict:

- ``entities``: per layer of the schema (ne, role, sector, quote) and per
  type, strict span match computed with seqeval (mode="strict", IOB2), plus
  ``sector_by_category`` where a SECTOR counts only with the right category;
- ``relations``: per relation type, strict (type, both spans, both types);
- ``relations_quote_overlap``: said_by and topic, with the QUOTE argument
  matched by the overlap rule instead of exactly;
- ``quotes``: QUOTE spans exact and by overlap (``OVERLAP_RULE``);
- ``speaker_attribution``: share of gold quotes with a speaker whose
  overlapping predicted quote resolves to the same person
  (:func:`goftar.inference.quotes.resolve_speaker`, :func:`speaker_key`);
- ``sector_category_accuracy``: the category right on exactly found sectors;
- ``documents``: how many were scored, which predictions were missing.

``goftar score --gold G.jsonl --pred P.jsonl [--json OUT]`` prints
:func:`format_report` and optionally writes the dict.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, Iterable

from goftar.inference import bio
from goftar.inference.document import Document, DocumentError, Entity, iter_jsonl
from goftar.inference.quotes import resolve_speakers, speaker_key
from goftar.inference.schema import Schema

OVERLAP_THRESHOLD = 0.5
OVERLAP_RULE = (
    "one-to-one greedy matching of gold and predicted QUOTE spans by decreasing character "
    "Jaccard |A∩B|/|A∪B| over their [start, end) ranges; a pair matches when the Jaccard is "
    f">= {OVERLAP_THRESHOLD}; ties go to the earlier gold, then the earlier predicted span"
)
QUOTE_OVERLAP_RELATIONS = ("said_by", "topic")

__all__ = [
    "score", "format_report", "register", "read_documents", "read_gold", "tokenize", "match_quotes",
    "jaccard", "OVERLAP_RULE", "OVERLAP_THRESHOLD",
]

Span = tuple[int, int, str]  # (start, end, type)


# -- small arithmetic --------------------------------------------------------
def _prf(correct: int, predicted: int, gold: int) -> dict[str, Any]:
    """P/R/F1 from counts. An undefined ratio (nothing predicted, nothing to
    find) is 0.0, as seqeval's zero_division=0; ``support`` says when it is empty."""
    p = correct / predicted if predicted else 0.0
    r = correct / gold if gold else 0.0
    f1 = 2 * p * r / (p + r) if p + r else 0.0
    return {"p": p, "r": r, "f1": f1, "support": gold, "predicted": predicted, "correct": correct}


def _table(counts: dict[str, list[int]]) -> dict[str, Any]:
    """``{type: prf, ..., "micro": prf}`` from ``{type: [correct, predicted, gold]}``."""
    out: dict[str, Any] = {t: _prf(*counts[t]) for t in sorted(counts)}
    out["micro"] = _prf(*(sum(c[i] for c in counts.values()) for i in range(3)))
    return out


# -- tokens and BIO ----------------------------------------------------------
def tokenize(text: str, cuts: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Character spans of the scorer's tokens: the words of :func:`goftar.inference.bio.words`.

    A ZWNJ-joined word like «همکاری‌ها» stays one token; punctuation is a
    token of its own. Tokens are also cut at every offset in ``cuts``: the
    scorer passes every gold and predicted span boundary, so a span that is off
    by one character inside a word is a different token sequence and strict
    BIO scoring equals exact span matching.
    """
    return bio.words(text, cuts)


def _bio(tokens: list[tuple[int, int]], spans: Iterable[Span]) -> list[str]:
    """IOB2 tags of ``spans`` over ``tokens`` (tokens already cut at span edges)."""
    return bio.char_tags(tokens, spans)


def _tracks(gold: set[Span], pred: set[Span]) -> list[tuple[list[Span], list[Span]]]:
    """Split the spans of one layer into non-overlapping tracks, each later
    written as its own BIO sequence pair.

    Valid documents never overlap inside a layer and everything lands in track
    0. A prediction may overlap itself (or a gold span of another type); BIO
    cannot hold that, so the extra span goes to another track where it still
    counts as a false positive, instead of being silently dropped. An identical
    span in gold and prediction is one key, hence in the same track.
    """
    tracks: list[list[Span]] = []
    keys = sorted(gold, key=lambda k: (k[0], -k[1], k[2])) + sorted(pred - gold, key=lambda k: (k[0], -k[1], k[2]))
    for key in keys:
        for track in tracks:
            if all(key[1] <= o[0] or o[1] <= key[0] for o in track):
                track.append(key)
                break
        else:
            tracks.append([key])
    return [([k for k in tr if k in gold], [k for k in tr if k in pred]) for tr in tracks]


def _seqeval_counts(y_true: list[list[str]], y_pred: list[list[str]]) -> dict[str, list[int]]:
    """``{type: [correct, predicted, gold]}`` exactly as seqeval's strict mode
    (IOB2) counts them: an entity is correct only with its full extent and type."""
    from seqeval.scheme import IOB2, Entities

    true, pred = Entities(y_true, IOB2), Entities(y_pred, IOB2)
    counts: dict[str, list[int]] = {}
    for t in sorted(true.unique_tags | pred.unique_tags):
        ts, ps = true.filter(t), pred.filter(t)
        counts[t] = [len(ts & ps), len(ps), len(ts)]
    return counts


# -- quotes ------------------------------------------------------------------
def jaccard(a: tuple[int, int], b: tuple[int, int]) -> float:
    """Character Jaccard of two [start, end) ranges."""
    inter = max(0, min(a[1], b[1]) - max(a[0], b[0]))
    union = (a[1] - a[0]) + (b[1] - b[0]) - inter
    return inter / union if union > 0 else 0.0


def match_quotes(gold: list[Entity], pred: list[Entity], threshold: float = OVERLAP_THRESHOLD) -> dict[str, str]:
    """One-to-one greedy matching by decreasing Jaccard (:data:`OVERLAP_RULE`).

    Returns ``{gold_id: pred_id}``. Greedy on the best pair first, because a
    long predicted quote spanning two gold quotes can reach 0.5 with both and
    must not be counted twice.
    """
    pairs = []
    for gi, g in enumerate(gold):
        for pi, p in enumerate(pred):
            j = jaccard((g.start, g.end), (p.start, p.end))
            if j >= threshold:
                pairs.append((-j, g.start, p.start, gi, pi))
    pairs.sort()
    used_g: set[int] = set()
    used_p: set[int] = set()
    out: dict[str, str] = {}
    for _, _, _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out[gold[gi].id] = pred[pi].id
    return out


# -- scoring -----------------------------------------------------------------
def _valid(e: Entity, n: int) -> bool:
    return 0 <= e.start < e.end <= n


def score(gold_docs: Iterable[Document], pred_docs: Iterable[Document], schema: Schema | None = None) -> dict[str, Any]:
    """Score predictions against gold documents (see the module docstring for
    the output). Documents are matched by ``id``; a gold document without a
    prediction is scored as an empty prediction and listed under
    ``documents.missing_ids``; predictions without gold are ignored and listed
    under ``documents.extra_ids``.
    """
    tally = _Tally(schema or Schema.default())
    preds, pred_count = tally.index_predictions(pred_docs)
    gold_list = list(gold_docs)
    seen_gold: set[str] = set()
    for gdoc in gold_list:
        if gdoc.id in seen_gold:
            tally.warnings.append(f"gold document {gdoc.id!r} appears twice; both are scored")
        seen_gold.add(gdoc.id)
        pdoc = preds.get(gdoc.id)
        if pdoc is None:
            tally.missing.append(gdoc.id)
            pdoc = Document(gdoc.id, gdoc.text)
        elif pdoc.text != gdoc.text:
            # Offsets are only comparable on the same text; score anyway, but say so.
            tally.text_mismatch.append(gdoc.id)
        tally.add_document(gdoc, pdoc)
    return tally.result(gold_list, preds, pred_count)


class _Tally:
    """The counts behind :func:`score`, one step per measure, summed over documents."""

    def __init__(self, schema: Schema):
        self.schema = schema
        self.layers = list(schema.layers) + ["sector_by_category"]
        self.y_true: dict[str, list[list[str]]] = {layer: [] for layer in self.layers}
        self.y_pred: dict[str, list[list[str]]] = {layer: [] for layer in self.layers}
        self.rel_counts: dict[str, list[int]] = {}
        self.rel_ov_counts: dict[str, list[int]] = {t: [0, 0, 0] for t in QUOTE_OVERLAP_RELATIONS}
        self.q_exact = [0, 0, 0]
        self.q_overlap = [0, 0, 0]
        self.spk = {"correct": 0, "total": 0, "unmatched_quote": 0, "no_speaker": 0, "wrong_speaker": 0}
        self.cat = {"correct": 0, "total": 0}
        self.missing: list[str] = []
        self.text_mismatch: list[str] = []
        self.unknown_types: set[str] = set()
        self.warnings: list[str] = []

    def index_predictions(self, pred_docs: Iterable[Document]) -> tuple[dict[str, Document], int]:
        preds: dict[str, Document] = {}
        count = 0
        for d in pred_docs:
            count += 1
            if d.id in preds:
                self.warnings.append(f"prediction {d.id!r} appears twice; the first one is scored")
                continue
            preds[d.id] = d
        return preds, count

    def add_document(self, gdoc: Document, pdoc: Document) -> None:
        gents, pents = self._usable(gdoc, "gold", len(gdoc.text)), self._usable(pdoc, "predicted", len(gdoc.text))
        self._add_spans(gdoc.text, gents, pents)
        self._add_categories(gents, pents)
        gq = sorted((e for e in gents if e.type == "QUOTE"), key=lambda e: (e.start, e.end))
        pq = sorted((e for e in pents if e.type == "QUOTE"), key=lambda e: (e.start, e.end))
        matched = self._add_quotes(gq, pq)
        self._add_relations(gdoc, pdoc, gents, pents, matched)
        self._add_speakers(gdoc, pdoc, gq, matched)

    def _usable(self, doc: Document, side: str, n: int) -> list[Entity]:
        out = []
        for e in doc.entities:
            if self.schema.layer_of(e.type) is None:
                self.unknown_types.add(e.type)
            elif not _valid(e, n):
                self.warnings.append(f"{doc.id}: {side} entity {e.id} has offsets {e.start}-{e.end} outside the text; ignored")
            else:
                out.append(e)
        return out

    def _add_spans(self, text: str, gents: list[Entity], pents: list[Entity]) -> None:
        """Entities per layer: one tokenisation per document, cut at every span boundary."""
        schema = self.schema
        tokens = tokenize(text, {b for e in gents + pents for b in (e.start, e.end)})
        for layer in self.layers:
            if layer == "sector_by_category":
                g = {(e.start, e.end, e.category or "NONE") for e in gents if schema.has_categories(e.type)}
                p = {(e.start, e.end, e.category or "NONE") for e in pents if schema.has_categories(e.type)}
            else:
                g = {(e.start, e.end, e.type) for e in gents if schema.layer_of(e.type) == layer}
                p = {(e.start, e.end, e.type) for e in pents if schema.layer_of(e.type) == layer}
            for gs, ps in _tracks(g, p) or [([], [])]:
                self.y_true[layer].append(_bio(tokens, gs))
                self.y_pred[layer].append(_bio(tokens, ps))

    def _add_categories(self, gents: list[Entity], pents: list[Entity]) -> None:
        """Sector category on exactly found sectors."""
        pcat: dict[tuple[int, int], str | None] = {}
        for e in pents:
            if self.schema.has_categories(e.type):
                pcat.setdefault((e.start, e.end), e.category)
        for e in gents:
            if self.schema.has_categories(e.type) and (e.start, e.end) in pcat:
                self.cat["total"] += 1
                self.cat["correct"] += int(pcat[(e.start, e.end)] == e.category)

    def _add_quotes(self, gq: list[Entity], pq: list[Entity]) -> dict[str, str]:
        """Quotes exact and by overlap; returns the overlap matching gold id → predicted id."""
        gq_spans = {(e.start, e.end) for e in gq}
        pq_spans = {(e.start, e.end) for e in pq}
        self.q_exact[0] += len(gq_spans & pq_spans)
        self.q_exact[1] += len(pq_spans)
        self.q_exact[2] += len(gq_spans)
        matched = match_quotes(gq, pq)
        self.q_overlap[0] += len(matched)
        self.q_overlap[1] += len(pq)
        self.q_overlap[2] += len(gq)
        return matched

    def _add_relations(self, gdoc: Document, pdoc: Document, gents: list[Entity], pents: list[Entity],
                       matched: dict[str, str]) -> None:
        """Relations: strict, and with the QUOTE argument matched by overlap."""
        gmap = {e.id: e for e in gents}
        pmap = {e.id: e for e in pents}
        pred_to_gold_quote = {p: g for g, p in matched.items()}

        def rel_keys(doc: Document, ents: dict[str, Entity], quote_to: dict[str, str] | None) -> set:
            keys = set()
            for r in doc.relations:
                h, t = ents.get(r.head), ents.get(r.tail)
                if h is None or t is None:
                    # A dangling argument can never match, but a predicted one is
                    # still a prediction (false positive): give it a unique key.
                    keys.add((r.type, object(), object()))
                    continue
                hk: Any = (h.start, h.end, h.type)
                if quote_to is not None and h.type == "QUOTE":
                    g = quote_to.get(h.id)
                    hk = (gmap[g].start, gmap[g].end, "QUOTE") if g else object()
                keys.add((r.type, hk, (t.start, t.end, t.type)))
            return keys

        gk, pk = rel_keys(gdoc, gmap, None), rel_keys(pdoc, pmap, None)
        for rt in {k[0] for k in gk | pk}:
            c = self.rel_counts.setdefault(rt, [0, 0, 0])
            c[0] += len({k for k in gk & pk if k[0] == rt})
            c[1] += sum(1 for k in pk if k[0] == rt)
            c[2] += sum(1 for k in gk if k[0] == rt)
        pko = rel_keys(pdoc, pmap, pred_to_gold_quote)
        for rt in QUOTE_OVERLAP_RELATIONS:
            g_rt = {k for k in gk if k[0] == rt}
            p_rt = {k for k in pko if k[0] == rt}
            c = self.rel_ov_counts[rt]
            c[0] += len(g_rt & p_rt)
            c[1] += len(p_rt)
            c[2] += len(g_rt)

    def _add_speakers(self, gdoc: Document, pdoc: Document, gq: list[Entity], matched: dict[str, str]) -> None:
        """Speaker attribution: same resolved person behind overlapping quotes."""
        spk = self.spk
        gold_speakers, pred_speakers = resolve_speakers(gdoc), resolve_speakers(pdoc)
        for q in gq:
            gold_speaker = gold_speakers.get(q.id)
            if gold_speaker is None:
                continue
            spk["total"] += 1
            pid = matched.get(q.id)
            if pid is None:
                spk["unmatched_quote"] += 1
                continue
            pred_speaker = pred_speakers.get(pid)
            if pred_speaker is None:
                spk["no_speaker"] += 1
            elif speaker_key(pred_speaker.name) == speaker_key(gold_speaker.name):
                spk["correct"] += 1
            else:
                spk["wrong_speaker"] += 1

    def result(self, gold_list: list[Document], preds: dict[str, Document], pred_count: int) -> dict[str, Any]:
        entities = {layer: _table(_seqeval_counts(self.y_true[layer], self.y_pred[layer])) for layer in self.layers}
        gold_ids = {d.id for d in gold_list}
        extra = sorted(i for i in preds if i not in gold_ids)
        if self.unknown_types:
            self.warnings.append(f"entity types outside the schema were ignored: {', '.join(sorted(self.unknown_types))}")
        spk, cat = self.spk, self.cat
        return {
            "entities": entities,
            "relations": _table(self.rel_counts),
            "relations_quote_overlap": _table(self.rel_ov_counts),
            "quotes": {"exact": _prf(*self.q_exact), "overlap": _prf(*self.q_overlap), "overlap_rule": OVERLAP_RULE},
            "speaker_attribution": {"accuracy": spk["correct"] / spk["total"] if spk["total"] else 0.0, **spk},
            "sector_category_accuracy": {
                "accuracy": cat["correct"] / cat["total"] if cat["total"] else 0.0, **cat,
            },
            "documents": {
                "gold": len(gold_list), "predicted": pred_count, "missing": len(self.missing), "missing_ids": self.missing,
                "extra": len(extra), "extra_ids": extra, "text_mismatch_ids": self.text_mismatch,
            },
            "warnings": self.warnings,
        }


# -- report ------------------------------------------------------------------
def _rows(title: str, first: str, table: dict[str, Any]) -> list[str]:
    lines = [title, f"  {first:<22} {'P':>6} {'R':>6} {'F1':>6} {'gold':>6} {'pred':>6} {'ok':>6}"]
    for name, m in table.items():
        if name == "micro":
            continue
        lines.append(f"  {name:<22} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f} {m['support']:6d} {m['predicted']:6d} {m['correct']:6d}")
    m = table["micro"]
    lines.append(f"  {'micro':<22} {m['p']:6.3f} {m['r']:6.3f} {m['f1']:6.3f} {m['support']:6d} {m['predicted']:6d} {m['correct']:6d}")
    return lines


def format_report(metrics: dict[str, Any]) -> str:
    """Readable tables of a :func:`score` result."""
    d = metrics["documents"]
    out = [f"documents: {d['gold']} gold, {d['predicted']} predicted, {d['missing']} missing"]
    if d["missing_ids"]:
        shown = ", ".join(d["missing_ids"][:10]) + (" …" if len(d["missing_ids"]) > 10 else "")
        out.append(f"  missing predictions (scored as empty): {shown}")
    if d.get("extra"):
        out.append(f"  {d['extra']} predictions without gold were ignored")
    if d.get("text_mismatch_ids"):
        out.append(f"  text differs from gold in: {', '.join(d['text_mismatch_ids'][:10])}")
    out.append("")
    for layer, table in metrics["entities"].items():
        label = "sector (span + category)" if layer == "sector_by_category" else layer
        out += _rows(f"entities, layer {label} (strict)", "type", table) + [""]
    out += _rows("relations (strict: type, both spans and types)", "relation", metrics["relations"]) + [""]
    out += _rows("relations with the QUOTE matched by overlap", "relation", metrics["relations_quote_overlap"]) + [""]
    q = metrics["quotes"]
    out += _rows("QUOTE spans", "match", {"exact": q["exact"], "overlap": q["overlap"], "micro": q["overlap"]})[:-1]
    out.append(f"  overlap rule: {q['overlap_rule']}")
    out.append("")
    s = metrics["speaker_attribution"]
    out.append(
        f"speaker attribution: {s['accuracy']:.3f} ({s['correct']}/{s['total']} gold quotes with a speaker; "
        f"{s['unmatched_quote']} quote not found, {s['no_speaker']} no speaker, {s['wrong_speaker']} wrong speaker)"
    )
    c = metrics["sector_category_accuracy"]
    out.append(f"sector category accuracy: {c['accuracy']:.3f} ({c['correct']}/{c['total']} exactly found sectors)")
    for w in metrics.get("warnings", []):
        out.append(f"warning: {w}")
    return "\n".join(out)


# -- command line ------------------------------------------------------------
def read_documents(path: str | Path, problems: list[str] | None = None) -> list[Document]:
    """Read a goftar JSONL file, skipping broken lines.

    Each broken line is appended to ``problems`` as ``file:line: what``
    (printed to stderr when ``problems`` is None) so one bad line never stops
    an evaluation. Raises OSError when the file cannot be opened.
    """
    docs: list[Document] = []
    for _, item in iter_jsonl(path):
        if isinstance(item, DocumentError):
            if problems is None:
                print(f"skipped: {item}", file=sys.stderr)
            else:
                problems.append(str(item))
        else:
            docs.append(item)
    return docs


def read_gold(path: str | Path, problems: list[str] | None = None) -> list[Document]:
    """Gold documents for ``goftar evaluate`` and ``goftar score`` alike, so both score one file the same way.

    Any format ``goftar convert`` reads; a broken record, or a document that
    breaks the guide (offsets off its text, a relation to no entity), is left
    out and appended to ``problems`` as ``where id: what`` (printed to stderr
    when ``problems`` is None). Raises OSError when the file cannot be read,
    ValueError (a ``FormatError``) when its format cannot be told.
    """
    from .config import SourceConfig
    from .data import read_source

    docs, found = read_source(SourceConfig(path=str(path)))
    if problems is None:
        for p in found:
            print(f"skipped: {p}", file=sys.stderr)
    else:
        problems.extend(found)
    return docs


def _score_command(args) -> int:
    problems: list[str] = []
    try:
        gold = read_gold(args.gold, problems)
        pred = read_documents(args.pred, problems)
    except (OSError, ValueError) as exc:
        print(f"goftar score: {exc}", file=sys.stderr)
        return 2
    for p in problems:
        print(f"skipped: {p}", file=sys.stderr)
    metrics = score(gold, pred)
    metrics["documents"]["skipped_lines"] = problems
    print(format_report(metrics))
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(metrics, f, ensure_ascii=False, indent=2)
    return 0


def register(subparsers) -> None:
    """Add ``goftar score`` to the goftar command line."""
    p = subparsers.add_parser("score", help="score predicted JSONL against gold JSONL (entities, relations, quotes, speakers)")
    p.add_argument("--gold", required=True, help="gold documents (goftar JSONL or any format goftar convert reads)")
    p.add_argument("--pred", required=True, help="predicted goftar JSONL (documents matched by id)")
    p.add_argument("--json", metavar="OUT", help="also write the metrics as JSON to OUT")
    p.set_defaults(func=_score_command)
