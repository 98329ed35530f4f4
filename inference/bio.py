"""BIO, in one place: words, spans ↔ tags, constrained Viterbi, word-level decoding.

Every conversion between BIO tags and spans in goftar goes through this
module — the decoder, the training targets, the BIO importers and exporters,
the scorer and the scripts — so the rules below hold everywhere:

* A **word** is a maximal run of letters, marks and digits, with ZWNJ (and
  ZWJ, soft hyphen) allowed *inside* it: «بانک‌ها» is one word. Every other
  non-space character (punctuation, symbols) is a word of its own:
  «فارس-» is «فارس» + «-», «(یکشنبه)» is «(» + «یکشنبه» + «)».
* Tags are IOB2: ``O``, ``B-X``, ``I-X``. A valid sequence never has ``O →
  I-X`` nor ``B-X/I-X → I-Y`` with Y ≠ X, and never starts with ``I-X``.
* Decoded spans are unions of whole words: a predicted span never starts or
  ends inside a word, and never runs across a line break (no annotated span
  of the corpus does; «ملانیا⏎دونالد ترامپ» is two names, not one).

>>> words("بانک‌ها (یکشنبه) فارس-")
[(0, 7), (8, 9), (9, 15), (15, 16), (17, 21), (21, 22)]
>>> tags_to_spans(["B-PER", "I-PER", "O", "I-LOC"])
[(0, 2, 'PER'), (3, 4, 'LOC')]
>>> spans_to_tags(4, [(1, 3, "ORG")])
['O', 'B-ORG', 'I-ORG', 'O']
"""
from __future__ import annotations

import unicodedata
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

# Characters that join the letters around them into one word (never a word on their own).
JOINERS = frozenset("\u200c\u200d\u00ad")
AGGREGATIONS = ("first", "mean", "token")  # "token": no word grouping (spans may cut words; for comparison only)
# Characters that end a line: no decoded span runs across one.
LINE_BREAKS = "\n\r\u2028\u2029"


# -- words -------------------------------------------------------------------
def _is_word_char(c: str) -> bool:
    return unicodedata.category(c)[0] in "LMN"


def words(text: str, cuts: Iterable[int] = ()) -> list[tuple[int, int]]:
    """Character spans ``[start, end)`` of the words of ``text`` (see the module docstring).

    A joiner is inside a word only between two word characters; at a word's
    edge it is left out. ``cuts`` are extra boundaries (the scorer passes span
    edges so that a span off by a character is a different word sequence).
    """
    cut = set(cuts)
    out: list[tuple[int, int]] = []
    start = None
    n = len(text)
    for i, c in enumerate(text):
        if start is not None and i in cut:
            out.append((start, i))
            start = None
        if _is_word_char(c):
            if start is None:
                start = i
            continue
        if c in JOINERS and start is not None and i + 1 < n and _is_word_char(text[i + 1]) and (i + 1) not in cut:
            continue
        if start is not None:
            out.append((start, i))
            start = None
        if not (c.isspace() or c in JOINERS or unicodedata.category(c) in ("Cf", "Cc", "Zs", "Zl", "Zp")):
            out.append((i, i + 1))
    if start is not None:
        out.append((start, n))
    return out


def line_starts(text: str, word_spans: Sequence[tuple[int, int]]) -> list[int]:
    """Indices of the words of ``word_spans`` that follow a line break (``\\n``, ``\\r``, U+2028/2029) in ``text``.

    >>> line_starts("رئیس مجلس\\nقالیباف گفت", words("رئیس مجلس\\nقالیباف گفت"))
    [2]
    """
    out = []
    for i in range(1, len(word_spans)):
        gap = text[word_spans[i - 1][1]:word_spans[i][0]]
        if any(c in LINE_BREAKS for c in gap):
            out.append(i)
    return out


def token_words(word_spans: Sequence[tuple[int, int]], offsets: np.ndarray) -> list[list[int]]:
    """For each word, the indices of the tokens whose characters overlap it (possibly none)."""
    out: list[list[int]] = [[] for _ in word_spans]
    if len(word_spans) == 0 or len(offsets) == 0:
        return out
    starts = np.array([s for s, _ in word_spans])
    ends = np.array([e for _, e in word_spans])
    for t, (a, b) in enumerate(np.asarray(offsets)):
        if b <= a:
            continue
        lo = int(np.searchsorted(ends, a, side="right"))
        hi = int(np.searchsorted(starts, b, side="left"))
        for w in range(lo, hi):
            out[w].append(t)
    return out


# -- labels ------------------------------------------------------------------
def split_label(label: str) -> tuple[str, str | None]:
    """``"B-PER"`` → ``("B", "PER")``; ``"O"`` → ``("O", None)``."""
    if label == "O":
        return "O", None
    prefix, _, typ = label.partition("-")
    if prefix not in ("B", "I") or not typ:
        raise ValueError(f"not an IOB2 label: {label!r} (expected O, B-TYPE or I-TYPE)")
    return prefix, typ


def layer_labels(types: Iterable[str]) -> list[str]:
    """The label list of a layer: ``O`` then ``B-X, I-X`` for each type, in order."""
    out = ["O"]
    for t in types:
        out += [f"B-{t}", f"I-{t}"]
    return out


def transitions(labels: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """``(start_ok [K], trans_ok [K, K])``: which labels may start a sequence and follow each other."""
    parts = [split_label(l) for l in labels]
    start_ok = np.array([p != "I" for p, _ in parts])
    trans_ok = np.ones((len(labels), len(labels)), dtype=bool)
    for j, (pj, tj) in enumerate(parts):
        if pj != "I":
            continue
        for i, (pi, ti) in enumerate(parts):
            trans_ok[i, j] = pi != "O" and ti == tj
    return start_ok, trans_ok


# -- spans <-> tags ------------------------------------------------------------
def tags_to_spans(tags: Sequence[str]) -> list[tuple[int, int, str]]:
    """Spans ``(start, end, type)`` over unit indices (end exclusive).

    Lenient reading, as conlleval and seqeval's default: an ``I-X`` that does
    not continue an ``X`` span starts one. Use :func:`viterbi` to get valid
    sequences in the first place.
    """
    spans: list[tuple[int, int, str]] = []
    cur: list | None = None
    for i, lab in enumerate(tags):
        prefix, typ = split_label(lab)
        if prefix == "I" and cur is not None and cur[2] == typ:
            cur[1] = i + 1
            continue
        if cur is not None:
            spans.append(tuple(cur))
            cur = None
        if prefix != "O":
            cur = [i, i + 1, typ]
    if cur is not None:
        spans.append(tuple(cur))
    return spans


def spans_to_tags(n: int, spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags of ``n`` units for spans over unit indices. Overlapping spans are an error."""
    tags = ["O"] * n
    for s, e, t in sorted(spans):
        if not 0 <= s < e <= n:
            raise ValueError(f"span {s}-{e} outside 0-{n} or empty")
        if any(x != "O" for x in tags[s:e]):
            raise ValueError(f"span {s}-{e} {t} overlaps another span; BIO cannot hold both")
        tags[s] = f"B-{t}"
        for i in range(s + 1, e):
            tags[i] = f"I-{t}"
    return tags


def char_spans_to_units(units: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int, str]]) -> tuple[list[tuple[int, int, str]], list[tuple[int, int, str]]]:
    """Character spans → unit-index spans (units overlapping the span); returns ``(mapped, lost)``.

    A span no unit overlaps, or one that would overlap an earlier mapped span, is lost.
    """
    starts = np.array([s for s, _ in units], dtype=np.int64)
    ends = np.array([e for _, e in units], dtype=np.int64)
    taken = np.zeros(len(units), dtype=bool)
    mapped, lost = [], []
    for s, e, t in sorted(spans, key=lambda x: (x[0], -x[1])):
        lo = int(np.searchsorted(ends, s, side="right"))
        hi = int(np.searchsorted(starts, e, side="left"))
        if hi <= lo or taken[lo:hi].any():
            lost.append((s, e, t))
            continue
        taken[lo:hi] = True
        mapped.append((lo, hi, t))
    return mapped, lost


def char_tags(units: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int, str]]) -> list[str]:
    """IOB2 tags of ``units`` (character ranges) for character spans."""
    mapped, _ = char_spans_to_units(units, spans)
    return spans_to_tags(len(units), mapped)


def unit_spans_to_chars(units: Sequence[tuple[int, int]], spans: Iterable[tuple[int, int, str]]) -> list[tuple[int, int, str]]:
    """Unit-index spans → character spans (first unit's start to last unit's end)."""
    return [(units[s][0], units[e - 1][1], t) for s, e, t in spans]


# -- Viterbi -------------------------------------------------------------------
def viterbi(logp: np.ndarray, labels: Sequence[str], breaks: Iterable[int] = ()) -> np.ndarray:
    """Best IOB2-valid label sequence for ``logp`` [N, K] (log-probabilities) → label ids [N].

    Invalid steps (``O → I-X``, ``B-X/I-X → I-Y``, starting with ``I-X``)
    are forbidden; everything else is scored by the emissions alone, so on a
    valid argmax sequence this returns the argmax. At the positions in
    ``breaks`` (the first word of a line) no span continues: ``I-X`` is
    forbidden there as at the start.
    """
    logp = np.asarray(logp, dtype=np.float64)
    n = len(logp)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    breaks = [i for i in breaks if 0 < i < n]
    if breaks:
        inside = np.array([split_label(lab)[0] == "I" for lab in labels])
        logp = logp.copy()
        logp[np.ix_(breaks, np.nonzero(inside)[0])] = -np.inf
    start_ok, trans_ok = transitions(labels)
    trans = np.where(trans_ok, 0.0, -np.inf)
    score = np.where(start_ok, logp[0], -np.inf)
    back = np.zeros((n, len(labels)), dtype=np.int64)
    for i in range(1, n):
        cand = score[:, None] + trans  # [from, to]
        back[i] = cand.argmax(0)
        score = cand.max(0) + logp[i]
    path = np.zeros(n, dtype=np.int64)
    path[-1] = int(score.argmax())
    for i in range(n - 1, 0, -1):
        path[i - 1] = back[i, path[i]]
    return path


def log_softmax(x: np.ndarray, axis: int = -1) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    m = x.max(axis=axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis=axis, keepdims=True))


# -- word-level decoding -------------------------------------------------------------
def aggregate(logp: np.ndarray, groups: Sequence[Sequence[int]], labels: Sequence[str], how: str = "first") -> np.ndarray:
    """Token log-probabilities [T, K] → word log-probabilities [W, K] (``groups[w]`` = the word's tokens).

    ``first``: the word reads its first token, as the tagger is trained (B on
    a span's first token). ``mean``: the type evidence (O vs. inside X) is the
    mean probability over the word's tokens, split between B-X and I-X as the
    first token splits it. A word with no token gets a certain ``O``.
    """
    if how not in ("first", "mean"):
        raise ValueError(f"aggregation must be one of {AGGREGATIONS}, not {how!r}")
    K = len(labels)
    out = np.full((len(groups), K), -np.inf)
    o = labels.index("O")
    pairs = [(labels.index(f"B-{t}"), labels.index(f"I-{t}")) for p, t in map(split_label, labels) if p == "B"]
    for w, toks in enumerate(groups):
        if not toks:
            out[w, o] = 0.0
            continue
        first = logp[toks[0]]
        if how == "first" or len(toks) == 1:
            out[w] = first
            continue
        p = np.exp(logp[toks])  # [n, K]
        row = np.zeros(K)
        row[o] = p[:, o].mean()
        pf = np.exp(first)
        for b, i in pairs:
            inside = (p[:, b] + p[:, i]).mean()
            share = pf[b] / max(pf[b] + pf[i], 1e-12)
            row[b], row[i] = inside * share, inside * (1.0 - share)
        out[w] = np.log(np.maximum(row / row.sum(), 1e-12))
    return out


@dataclass
class Decoded:
    """One decoded span: its type, word range [w0, w1), character range and mean label probability."""

    type: str
    word_start: int
    word_end: int
    start: int
    end: int
    score: float


def decode_words(text: str, offsets: np.ndarray, logits: np.ndarray, labels: Sequence[str], *,
                 aggregation: str = "first", constrained: bool = True,
                 word_spans: Sequence[tuple[int, int]] | None = None,
                 groups: Sequence[Sequence[int]] | None = None) -> list[Decoded]:
    """Decode one layer's token logits [T, K] into whole-word spans of ``text``.

    Tokens are grouped into words (:func:`words`), their log-probabilities
    aggregated per word, and the word sequence decoded with :func:`viterbi`
    (``constrained``) or a lenient argmax. Spans are unions of whole words.
    ``word_spans``/``groups`` (:func:`words`, :func:`token_words`) may be given
    when several layers of one text are decoded.
    """
    if aggregation == "token":
        ws = [(int(a), int(b)) for a, b in np.asarray(offsets)]
        groups = [[t] if b > a else [] for t, (a, b) in enumerate(ws)]
        aggregation = "first"
    else:
        ws = list(word_spans) if word_spans is not None else words(text)
        if groups is None:  # a caller decoding several layers of one text passes them, computed once
            groups = token_words(ws, offsets) if len(offsets) else []
    if not ws or len(offsets) == 0:
        return []
    keep = [w for w, g in enumerate(groups) if g]  # words the tokenizer saw (not dropped marks)
    if not keep:
        return []
    lp = aggregate(log_softmax(logits), [groups[w] for w in keep], labels, aggregation)
    breaks = line_starts(text, [ws[w] for w in keep])
    if constrained:
        path = viterbi(lp, labels, breaks)
    else:  # lenient argmax: a span still ends at a line break
        path = lp.argmax(-1)
        for i in breaks:
            lab, typ = split_label(labels[path[i]])
            if lab == "I":
                path[i] = labels.index(f"B-{typ}")
    tags = [labels[k] for k in path]
    prob = np.exp(lp[np.arange(len(path)), path])
    out = []
    for s, e, t in tags_to_spans(tags):
        w0, w1 = keep[s], keep[e - 1] + 1
        out.append(Decoded(t, w0, w1, ws[w0][0], ws[w1 - 1][1], float(prob[s:e].mean())))
    return out
