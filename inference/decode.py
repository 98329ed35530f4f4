"""From network outputs to spans and relations — the decode path every backend shares.

Backends differ only in how they run the network; everything numeric after
that (BIO decoding, relation candidates and their features, relation
decisions) lives here, in numpy.
"""
from __future__ import annotations

import bisect
from dataclasses import dataclass

import numpy as np

from . import bio
from .anchor import ANCHOR_DEFAULTS, anchor_quotes, word_inside_prob
from .schema import Schema
from .validate import trim_span

SENTENCE_END = set(".!?؟\n")
N_DIRECTIONS = 4  # tail before head, tail inside head, tail after head, other overlap
N_BUCKETS = 16
MAX_RANK = 8
MAX_SENTENCES = 8


@dataclass
class Mention:
    """A span with its token range (end exclusive) and character offsets."""

    type: str
    tok_start: int
    tok_end: int
    start: int
    end: int
    category: str | None = None
    score: float = 1.0
    id: str | None = None


def softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = x - x.max(axis=axis, keepdims=True)
    e = np.exp(x)
    return e / e.sum(axis=axis, keepdims=True)


DECODE_DEFAULTS = {"aggregation": "first", "constrained": True, "quote_anchor": dict(ANCHOR_DEFAULTS)}


def decode_bio(text: str, offsets: np.ndarray, logits: np.ndarray, labels: list[str], layer_type: str | None,
               aggregation: str = "first", constrained: bool = True, word_spans=None) -> list[Mention]:
    """Decode one layer's token logits into whole-word spans (:func:`goftar.inference.bio.decode_words`).

    ``labels`` are ``O, B-X, I-X, …``; ``layer_type`` is the entity type for
    category-tagged layers (SECTOR), otherwise the BIO type is the entity type.
    Spans are trimmed of edge punctuation (whole punctuation words only).
    """
    spans: list[Mention] = []
    for d in bio.decode_words(text, offsets, logits, labels, aggregation=aggregation, constrained=constrained,
                              word_spans=word_spans):
        s, e = trim_span(text, d.start, d.end)
        if e <= s:
            continue
        tr = token_span(offsets, s, e)
        if tr is None:
            continue
        etype, cat = (layer_type, d.type) if layer_type else (d.type, None)
        spans.append(Mention(etype, tr[0], tr[1], s, e, cat, d.score))
    return spans


def anchored_quotes(text: str, offsets: np.ndarray, logits: np.ndarray, labels: list[str], quotes: list[Mention],
                    cues: list, word_spans, settings: dict | None) -> list[Mention]:
    """The ``quote`` layer's spans tied to their speech cues (:mod:`goftar.inference.anchor`)."""
    cfg = {**ANCHOR_DEFAULTS, **(settings or {})}
    if not cfg.get("enabled", True):
        return quotes
    p_in = word_inside_prob(text, offsets, logits, labels, word_spans)
    out = []
    for q in anchor_quotes(text, [(m.start, m.end, m.score) for m in quotes], cues, word_spans, p_in, cfg):
        s, e = trim_span(text, q.start, q.end)
        tr = token_span(offsets, s, e) if e > s else None
        if tr is not None:
            out.append(Mention("QUOTE", tr[0], tr[1], s, e, None, q.score))
    return out


def token_span(offsets: np.ndarray, start: int, end: int) -> tuple[int, int] | None:
    """Token range [a, b) covering characters [start, end), or None if no token overlaps."""
    if len(offsets) == 0:
        return None
    hit = np.nonzero((offsets[:, 0] < end) & (offsets[:, 1] > start))[0]
    if len(hit) == 0:
        return None
    return int(hit[0]), int(hit[-1]) + 1


def _bucket(x: np.ndarray) -> np.ndarray:
    """0, 1, 2-3, 4-7, … as 0, 1, 2, 3, … (log2 buckets), capped."""
    return np.minimum(np.floor(np.log2(np.maximum(x, 0) + 1)).astype(np.int64), N_BUCKETS - 1)


def pair_types(schema: Schema) -> list[tuple[str, str]]:
    """Every (head type, tail type) some relation allows, in a fixed order (feature ids)."""
    out: list[tuple[str, str]] = []
    for r in schema.relations.values():
        for h in r.head:
            for t in r.tail:
                if (h, t) not in out:
                    out.append((h, t))
    return out


def candidate_pairs(text: str, mentions: list[Mention], schema: Schema, per_side: int = MAX_RANK,
                    pairs: list | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Candidate (head, tail) mention pairs the schema allows, with their features.

    For each head and tail type, the candidates are every tail inside the head
    (sectors inside a quote) and the ``per_side`` nearest tails before and after
    it, so the number of pairs grows linearly with the document, not
    quadratically.

    Returns ``heads`` [P, 2] and ``tails`` [P, 2] token ranges, ``feats`` [P, 7]
    integer features (pair type, direction, distance bucket, rank among the
    same-type candidates on that side, head width, tail width, sentence
    boundaries between) and the (head index, tail index) of each pair.

    The rank feature carries the guide's "nearest earlier PER" rule: it says
    how many other candidates of the same type lie closer to the head.
    """
    # pair-type ids must be the ones the model was trained with: pass the checkpoint's allowed_pairs
    ptypes = {tuple(p): i for i, p in enumerate(pairs if pairs is not None else pair_types(schema))}
    ends = np.cumsum([c in SENTENCE_END for c in text]) if text else np.zeros(0, dtype=np.int64)

    def sentences_between(a: int, b: int) -> int:
        if b <= a or len(ends) == 0:
            return 0
        return int(ends[b - 1] - (ends[a - 1] if a > 0 else 0))

    by_type: dict[str, list[int]] = {}
    for i in sorted(range(len(mentions)), key=lambda i: (mentions[i].start, mentions[i].end)):
        by_type.setdefault(mentions[i].type, []).append(i)
    starts = {t: [mentions[i].start for i in idx] for t, idx in by_type.items()}

    rows: list[list[int]] = []
    index: list[tuple[int, int]] = []
    for hi, h in enumerate(mentions):
        for ttype, idx in by_type.items():
            if (h.type, ttype) not in ptypes:
                continue
            st = starts[ttype]
            sides: dict[int, list[tuple[int, int]]] = {0: [], 1: [], 2: [], 3: []}
            # tails starting inside the head: inside (1) or overlapping past its end (3)
            k = bisect.bisect_left(st, h.start)
            j = k
            while j < len(idx) and st[j] < h.end:
                ti = idx[j]
                if ti != hi:
                    t = mentions[ti]
                    sides[1 if t.end <= h.end else 3].append((ti, 0))
                j += 1
            # after the head: the nearest ones
            while j < len(idx) and len(sides[2]) < per_side:
                ti = idx[j]
                if ti != hi:
                    sides[2].append((ti, mentions[ti].tok_start - h.tok_end))
                j += 1
            # before the head, walking back from the head's start
            j = k - 1
            while j >= 0 and len(sides[0]) < per_side:
                ti = idx[j]
                t = mentions[ti]
                if ti != hi:
                    if t.end <= h.start:
                        sides[0].append((ti, h.tok_start - t.tok_end))
                    else:
                        sides[3].append((ti, 0))
                j -= 1
            for direction, cands in sides.items():
                cands.sort(key=lambda c: c[1])
                for rank, (ti, gap) in enumerate(cands):
                    t = mentions[ti]
                    if direction == 0:
                        sb = sentences_between(t.end, h.start)
                    elif direction == 2:
                        sb = sentences_between(h.end, t.start)
                    else:
                        sb = 0
                    rows.append([
                        ptypes[(h.type, ttype)], direction, max(gap, 0), min(rank, MAX_RANK - 1),
                        h.tok_end - h.tok_start, t.tok_end - t.tok_start, min(sb, MAX_SENTENCES - 1),
                    ])
                    index.append((hi, ti))
    if not rows:
        z = np.zeros((0, 2), dtype=np.int64)
        return z, z.copy(), np.zeros((0, 7), dtype=np.int64), []
    f = np.array(rows, dtype=np.int64)
    f[:, 2] = _bucket(f[:, 2])
    f[:, 4] = _bucket(f[:, 4])
    f[:, 5] = _bucket(f[:, 5])
    heads = np.array([[mentions[h].tok_start, mentions[h].tok_end] for h, _ in index], dtype=np.int64)
    tails = np.array([[mentions[t].tok_start, mentions[t].tok_end] for _, t in index], dtype=np.int64)
    return heads, tails, f, index


def decide_relations(
    logits: np.ndarray, index: list[tuple[int, int]], mentions: list[Mention], schema: Schema,
    relation_names: list[str], threshold: float = 0.5, single_threshold: float = 0.5,
) -> list[tuple[str, int, int, float]]:
    """Pick relations from pair logits ``[P, 1 + R]`` (column 0 = no relation).

    A relation limited to one per head (said_by, role_of) is decided per head,
    as it is trained: the head's candidate tails compete in one softmax with a
    "nobody" option (score 0; a tail scores its relation logit minus its
    no-relation logit). The winner is kept when its share passes
    ``single_threshold`` of the winner-vs-nobody pair, i.e. when it beats
    "nobody". Other relations keep every pair whose pairwise probability passes
    ``threshold``.
    """
    probs = softmax(logits)
    groups: dict[tuple[str, int], list[tuple[int, float]]] = {}
    out: list[tuple[str, int, int, float]] = []
    for p, (hi, ti) in enumerate(index):
        h, t = mentions[hi], mentions[ti]
        for name in schema.relations_for(h.type, t.type):
            r = 1 + relation_names.index(name)
            if schema.relations[name].max_per_head == 1:
                groups.setdefault((name, hi), []).append((ti, float(logits[p, r] - logits[p, 0])))
            elif probs[p, r] >= threshold:
                out.append((name, hi, ti, float(probs[p, r])))
    for (name, hi), cands in groups.items():
        scores = np.array([0.0] + [c[1] for c in cands])
        share = softmax(scores)
        k = int(np.argmax(scores[1:])) + 1
        if share[k] / (share[k] + share[0]) >= single_threshold:
            out.append((name, hi, cands[k - 1][0], float(share[k])))
    return out
