"""Quotes anchored on their speech cues: the decoder's last word on the ``quote`` layer.

Every quote of the guide has a cue (:mod:`goftar.inference.cues`). After the
tagger's quote spans are decoded (whole words, :mod:`goftar.inference.bio`),
each is tied to the cue region it overlaps:

* a quote inside a cue region starts where the region starts and runs to its
  natural end (the closing quotation mark, the paragraph end, the comma before
  the main verb), **unless the model decides otherwise**: it ends the quote at
  a sentence end and the words it would leave out have a mean no-quote
  probability of at least ``cut`` (likewise for a later start);
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
from .cues import Cue

ANCHOR_DEFAULTS = {"enabled": True, "cut": 0.9, "add": {"direct": 0.3, "indirect": 0.3, "according": 0.3, "headline": 0.05},
                   "free": None, "min_words": 2}


@dataclass
class Quote:
    start: int
    end: int
    score: float
    cue: int | None  # index of the cue it is tied to


def _words_in(ws: Sequence[tuple[int, int]], a: int, b: int) -> range:
    starts = np.array([s for s, _ in ws], dtype=np.int64)
    ends = np.array([e for _, e in ws], dtype=np.int64)
    lo = int(np.searchsorted(ends, a, side="right"))
    hi = int(np.searchsorted(starts, b, side="left"))
    return range(lo, max(lo, hi))


def word_inside_prob(text: str, offsets: np.ndarray, logits: np.ndarray, labels: Sequence[str],
                     word_spans: Sequence[tuple[int, int]]) -> np.ndarray:
    """P(inside a quote) per word (first-token reading; words without tokens get 0)."""
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
    return i >= len(text) or text[i] in ".؟!?"


def anchor_quotes(text: str, spans: list[tuple[int, int, float]], cues: list[Cue], word_spans: Sequence[tuple[int, int]],
                  p_in: np.ndarray, settings: dict | None = None) -> list[Quote]:
    """Tie predicted quote spans ``(start, end, score)`` to cue regions (see the module docstring)."""
    cfg = {**ANCHOR_DEFAULTS, **(settings or {})}
    ws = list(word_spans)
    sources = [c for c in cues if c.kind == "source"]
    regions = [(k, c) for k, c in enumerate(cues) if c.kind != "source"]
    out: list[Quote] = []
    used: set[int] = set()

    def mean_in(a: int, b: int) -> float:
        r = _words_in(ws, a, b)
        return float(p_in[r.start:r.stop].mean()) if len(r) else 0.0

    def n_words(a: int, b: int) -> int:
        return len(_words_in(ws, a, b))

    by_region: dict[int, list[tuple[int, int, float]]] = {}
    free: list[tuple[int, int, float]] = []
    for s, e, sc in spans:
        hit = [k for k, c in regions if s < c.region[1] and c.region[0] < e]
        if hit:
            # the region holding most of the quote
            k = max(hit, key=lambda k: min(e, cues[k].region[1]) - max(s, cues[k].region[0]))
            by_region.setdefault(k, []).append((s, e, sc))
        elif any(c.region[0] <= s < c.region[1] or c.phrase[0] <= s < c.phrase[1] for c in sources):
            continue
        else:
            free.append((s, e, sc))
    for k, c in regions:
        rs, re_ = c.region
        preds = by_region.get(k, [])
        if preds:
            s = min(p[0] for p in preds)
            e = max(p[1] for p in preds)
            # start: the region's start unless the skipped words are decidedly outside
            if s < rs or 1.0 - mean_in(rs, s) < cfg["cut"]:
                s = rs
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
        used.add(k)
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
