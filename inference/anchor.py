"""Quotes anchored on their speech cues: the decoder's last word on the ``quote`` layer.

Every quote of the guide has a cue (:mod:`goftar.inference.cues`). After the
tagger's quote spans are decoded (whole words, :mod:`goftar.inference.bio`),
each is tied to the cue region it overlaps:

* a quote inside a cue region starts where the region starts and runs to its
  natural end (the closing quotation mark, the paragraph end, the comma before
  the main verb), **unless the model decides otherwise**: it ends the quote at
  a sentence end and the words it would leave out have a mean no-quote
  probability of at least ``cut``;
* a cue region the tagger left empty becomes a quote when the tagger's mean
  in-quote probability over it reaches ``add`` (a number, or one per cue kind);
* a predicted quote that touches no cue region is kept only when ``free`` is
  set and its own score reaches it (by default never: every quote has a cue);
  one that lies in a
  source region («به گزارش …», an outlet's «نوشت:») is dropped;
* a quote of at most ``min_words`` words that does not fill its cue region
  is dropped («از», «می», «را»).

The settings live in the checkpoint's ``decode`` config (``quote_anchor``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from . import bio
from .cues import SENTENCE_END, Cue

ANCHOR_DEFAULTS = {"enabled": True, "cut": 0.9, "add": {"direct": 0.3, "indirect": 0.3, "according": 0.3, "headline": 0.05},
                   "free": None, "min_words": 2}


@dataclass
class Quote:
    start: int
    end: int
    score: float
    cue: int | None  # index of the cue it is tied to


def _words_in(starts: np.ndarray, ends: np.ndarray, a: int, b: int) -> range:
    """Indices of the words (by their ``starts``/``ends`` arrays) that overlap ``[a, b)``."""
    lo = int(np.searchsorted(ends, a, side="right"))
    hi = int(np.searchsorted(starts, b, side="left"))
    return range(lo, max(lo, hi))


def word_inside_prob(text: str, offsets: np.ndarray, logits: np.ndarray, labels: Sequence[str],
                     word_spans: Sequence[tuple[int, int]], groups: Sequence[Sequence[int]] | None = None) -> np.ndarray:
    """P(inside a quote) per word (first-token reading; words without tokens get 0)."""
    if groups is None:
        groups = bio.token_words(word_spans, offsets)
    p = np.exp(bio.log_softmax(logits)) if len(logits) else np.zeros((0, len(labels)))
    o = labels.index("O")
    out = np.zeros(len(word_spans))
    for w, g in enumerate(groups):
        if g:
            out[w] = 1.0 - p[g[0], o]
    return out


def _ends_sentence(text: str, i: int) -> bool:
    """Whether a sentence end («.», «؟», «!») follows position ``i`` (after white space and closing marks)."""
    while i < len(text) and (text[i].isspace() or text[i] in "»\"”)\u200c"):
        i += 1
    return i >= len(text) or SENTENCE_END.match(text, i) is not None


def anchor_quotes(text: str, spans: list[tuple[int, int, float]], cues: list[Cue], word_spans: Sequence[tuple[int, int]],
                  p_in: np.ndarray, settings: dict | None = None) -> list[Quote]:
    """Tie predicted quote spans ``(start, end, score)`` to cue regions (see the module docstring)."""
    cfg = {**ANCHOR_DEFAULTS, **(settings or {})}
    w_starts = np.array([a for a, _ in word_spans], dtype=np.int64)
    w_ends = np.array([b for _, b in word_spans], dtype=np.int64)
    sources = [c for c in cues if c.kind == "source"]
    regions = [(k, c) for k, c in enumerate(cues) if c.kind != "source"]
    # region and source bounds as arrays: each span finds its regions in one vectorised test (linear in the text)
    r_start = np.array([c.region[0] for _, c in regions], dtype=np.int64)
    r_end = np.array([c.region[1] for _, c in regions], dtype=np.int64)
    src_bounds = np.array([[*c.region, *c.phrase] for c in sources], dtype=np.int64).reshape(-1, 4)
    out: list[Quote] = []

    def mean_in(a: int, b: int) -> float:
        r = _words_in(w_starts, w_ends, a, b)
        return float(p_in[r.start:r.stop].mean()) if len(r) else 0.0

    def n_words(a: int, b: int) -> int:
        return len(_words_in(w_starts, w_ends, a, b))

    by_region: dict[int, list[tuple[int, int, float]]] = {}
    free: list[tuple[int, int, float]] = []
    for s, e, sc in spans:
        hit = np.nonzero((s < r_end) & (r_start < e))[0]
        if len(hit):
            # the region holding most of the quote
            j = int(hit[np.argmax(np.minimum(e, r_end[hit]) - np.maximum(s, r_start[hit]))])
            by_region.setdefault(regions[j][0], []).append((s, e, sc))
        elif (((src_bounds[:, 0] <= s) & (s < src_bounds[:, 1])) | ((src_bounds[:, 2] <= s) & (s < src_bounds[:, 3]))).any():
            continue
        else:
            free.append((s, e, sc))
    for k, c in regions:
        rs, re_ = c.region
        preds = by_region.get(k, [])
        if preds:
            # start: always the region's start, right after the cue (so are 2,665 of the 2,667 train quotes
            # that overlap a region); a later start the tagger proposes only ever dropped a first word
            s = rs
            e = max(p[1] for p in preds)
            # end: the region's natural end, unless the model ends the quote at a sentence end
            if e > re_ or not _ends_sentence(text, e) or 1.0 - mean_in(e, re_) < cfg["cut"]:
                e = re_
            score = float(np.mean([p[2] for p in preds]))
        elif mean_in(rs, re_) >= (cfg["add"].get(c.kind, 0.3) if isinstance(cfg["add"], dict) else cfg["add"]):
            s, e, score = rs, re_, mean_in(rs, re_)
        else:
            continue
        if n_words(s, e) <= cfg["min_words"] and (s, e) != (rs, re_):
            continue
        out.append(Quote(s, e, score, k))
    for s, e, sc in free:
        if cfg["free"] is not None and sc >= cfg["free"] and n_words(s, e) > cfg["min_words"]:
            out.append(Quote(s, e, sc, None))
    out.sort(key=lambda q: (q.start, q.end))
    # overlapping results (two regions merged by one long prediction): keep the earlier, longer one
    kept: list[Quote] = []
    for q in out:
        if kept and q.start < kept[-1].end:
            if q.end > kept[-1].end and q.cue is None:
                continue
            if (q.end - q.start) > (kept[-1].end - kept[-1].start):
                kept[-1] = q
            continue
        kept.append(q)
    return kept
