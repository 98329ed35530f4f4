"""From network outputs to spans and relations — the decode path every backend shares.

Backends differ only in how they run the network; everything numeric after
that (BIO decoding, relation candidates and their features, relation
decisions) lives here, in numpy.
"""
from __future__ import annotations

import bisect
import functools
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
N_CUE_SUBJECT = 4  # 0 no cue / not a quote head, 1 tail in the cue's subject zone, 2 pronoun or dropped subject, 3 elsewhere
N_ADJACENT = 3  # 0 not adjacent, 1 tail right next to head (apposition), 2 head has another adjacent mention of the tail's type
N_TITLE_CONTEXT = 3  # 0 head not a ROLE, 1 ROLE at a clause start or after a name, 2 ROLE after another word («شهادت رئیس جمهور»)


def feature_spec(n_pair_types: int, names: list[str] | None = None) -> list[list]:
    """``[[name, size], …]`` of the relation head's pair features, in column order; stored in the checkpoint.

    Without ``names``, every feature; a checkpoint without the list (goftar 0.1) used the first seven.
    """
    sizes = {"pair_type": n_pair_types, "direction": N_DIRECTIONS, "distance": N_BUCKETS, "rank": MAX_RANK,
             "head_width": N_BUCKETS, "tail_width": N_BUCKETS, "sentences": MAX_SENTENCES,
             "cue_subject": N_CUE_SUBJECT, "adjacent": N_ADJACENT, "title_context": N_TITLE_CONTEXT}
    names = list(sizes) if names is None else names
    unknown = [n for n in names if n not in sizes]
    if unknown:
        raise ValueError(f"unknown relation features {unknown}; known: {list(sizes)}")
    return [[n, sizes[n]] for n in names]


LEGACY_FEATURES = ["pair_type", "direction", "distance", "rank", "head_width", "tail_width", "sentences"]
ALL_FEATURES = LEGACY_FEATURES + ["cue_subject", "adjacent", "title_context"]
_GAP_CHARS = set(" \t\u200c\u200b\u00a0،,()-–—")
_CLAUSE_START = set(".!?؟:;؛،,«»\"()\n")
# apposition for the title rules: a name may also stand in quotation marks («"گوستاو کوبریرو"، رئیس دانشگاه هاوانا»);
# the model's adjacent feature keeps _GAP_CHARS, as it was trained
_APPOSITION_GAP = _GAP_CHARS | set('"«»\'')


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


DECODE_DEFAULTS = {"aggregation": "first", "constrained": True, "quote_anchor": dict(ANCHOR_DEFAULTS),
                   # per layer, a number added to a label's logit before decoding ({"role": {"I-ROLE": 0.5}}):
                   # trades a layer's precision for recall, or its span length, without retraining
                   "label_bias": {},
                   "title_propagation": True,
                   # role_of → the nearest mention of the holder; plural titles have no holder (decode.nearest_holders)
                   "nearest_holders": True,
                   "plural_title_heads": ["اعضای", "اعضا", "اعضاء", "نمایندگان", "روسای", "رؤسای", "رئیسان", "وزرای",
                                          "وزیران", "مدیران", "مدیرکلان", "فرماندهان", "ائمه", "رهبران", "سران",
                                          "معاونان", "مشاوران", "دهیاران", "بخشداران", "شهرداران", "استانداران",
                                          "فرمانداران", "رایزنان", "کارشناسان", "مسئولان", "مسئولین", "مسؤولان",
                                          "مسوولان", "مقامات", "سفرا", "سفرای", "سخنگویان", "قضات"],
                   # a quote with a pronoun cue («وی افزود:») the model left unattributed goes to the speaker
                   # of the quote before it (decode.pronoun_speakers)
                   "pronoun_speakers": True,
                   # words Persian news writes for one post (propagate_titles compares titles through them)
                   "title_aliases": [["پارلمان", "مجلس"], ["نهاد قانونگذاری", "مجلس"], ["قوه مقننه", "مجلس"],
                                     ["خانه ملت", "مجلس شورای اسلامی"], ["مجلس کشورمان", "مجلس شورای اسلامی"],
                                     ["مجلس ایران", "مجلس شورای اسلامی"], ["رئیس جمهوری", "رئیس جمهور"],
                                     ["ریاست", "رئیس"], ["وزیر امور خارجه", "وزیر خارجه"]],
                   # a title (ROLE) is a noun phrase: it does not run across these words (1 in 765 gold ROLEs of
                   # corpus v2 train+dev holds «به», none «را» or «که»); the span is cut before the first of them
                   "role_stop_words": ["به", "را", "که"],
                   # types whose spans (of one category) hardly ever touch in the guide's data: with only
                   # spaces/ZWNJ between, 1 in 1,530 ROLEs, 1 in 1,553 PERs, 5 in 2,953 ORGs, 35 in 3,550 SECTORs
                   # of one category (68 more touch with different categories, and stay apart) in corpus v2
                   # train+dev; two such predicted pieces are one span cut in two («رييس» + «سابق شوراي …»,
                   # «صنایع» + «دستی»)
                   "merge_touching": ["ROLE", "PER", "ORG", "SECTOR"],
                   # title head words (first words of 5 or more gold ROLEs in corpus v2 train): a ROLE is cut
                   # before « و » + one of them (decode.split_titles)
                   "title_heads": ["رئیس", "نماینده", "معاون", "امام", "مدیر", "مدیرکل", "وزیر", "عضو", "مقام",
                                   "استاندار", "شهردار", "سخنگوی", "فرمانده", "فرماندار", "دبیر", "سرپرست", "مسئول",
                                   "مسؤول", "استاد", "اعضای", "رهبر", "کارشناس", "مدیرعامل", "رییس", "نمایندگان",
                                   "مشاور", "خطیب", "سفیر", "روسای", "سرمربی", "پژوهشگر", "ریاست", "وزرای", "متخصص",
                                   "نخست", "اساتید"],
                   # institution nouns: no ROLE starts with one (decode.drop_institutions; corpus v2 train: each
                   # starts 5 or more gold ORGs and no gold ROLE)
                   "institution_heads": ["خبرگزاری", "سازمان", "شورای", "مجلس", "وزارت", "کمیسیون", "دانشگاه",
                                         "اداره", "شرکت", "کمیته", "دولت", "ستاد", "شهرداری", "بنیاد", "آژانس", "بانک",
                                         "اتحادیه", "دفتر", "حزب", "هیئت", "هیأت", "هیات", "گروه", "مرکز", "انجمن",
                                         "اتاق", "استانداری", "فدراسیون", "پارلمان", "مجمع", "قوه", "کانون", "باشگاه",
                                         "فراکسیون", "دیوان", "مدرسه", "موسسه", "مؤسسه", "شبکه", "قرارگاه", "صندوق",
                                         "خانه", "کارخانه", "کنگره"],
                   # no entity but a QUOTE begins or ends with these words (decode.trim_edge_words)
                   "edge_stop_words": ["و", "در", "از", "به", "با", "که", "را", "طی", "برای", "تا"],
                   # a title behind one of these words in a speaker's subject zone is not the speaker's
                   # (decode.foreign_titles)
                   "foreign_title_prepositions": ["در", "از", "با", "به", "برای", "ضمن", "درباره", "پیرامون", "علیه"],
                   # words that are a surname, never a title, though they start like one (decode.names_not_titles)
                   "not_titles": ["رئیسی", "رییسی"],
                   # a ROLE right before an entity of these types takes it in (decode.extend_titles)
                   "extend_titles": ["ORG", "LOC", "FAC"],
                   # docs/ANNOTATION.md, "Titles and names": ranks and honorifics stay outside the PER and are
                   # not ROLEs; a PER or ROLE span loses them at its start, a ROLE of nothing else is dropped
                   "honorifics": ["آقای", "آیت‌الله", "حجت‌الاسلام", "حجت‌الاسلام‌والمسلمین", "والمسلمین", "سرلشکر",
                                  "سردار", "دکتر", "مهندس", "امیر", "سپهبد", "ژنرال", "حضرت",
                                  # the other military ranks, «خانم» beside «آقای», the honorific «مدظله»
                                  "سرتیپ", "سرتیپ دوم", "سرهنگ", "سرهنگ دوم", "سرگرد", "سروان", "ستوان", "دریادار", "دریابان", "تیمسار", "ارتشبد", "خانم", "مدظله"]}


def decode_bio(text: str, offsets: np.ndarray, logits: np.ndarray, labels: list[str], layer_type: str | None,
               aggregation: str = "first", constrained: bool = True, word_spans=None, groups=None) -> list[Mention]:
    """Decode one layer's token logits into whole-word spans (:func:`goftar.inference.bio.decode_words`).

    ``labels`` are ``O, B-X, I-X, …``; ``layer_type`` is the entity type for
    category-tagged layers (SECTOR), otherwise the BIO type is the entity type.
    Spans are trimmed of edge punctuation (whole punctuation words only).
    """
    spans: list[Mention] = []
    for d in bio.decode_words(text, offsets, logits, labels, aggregation=aggregation, constrained=constrained,
                              word_spans=word_spans, groups=groups):
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
                    cues: list, word_spans, settings: dict | None, groups=None) -> list[Mention]:
    """The ``quote`` layer's spans tied to their speech cues (:mod:`goftar.inference.anchor`)."""
    cfg = {**ANCHOR_DEFAULTS, **(settings or {})}
    if not cfg.get("enabled", True):
        return quotes
    p_in = word_inside_prob(text, offsets, logits, labels, word_spans, groups)
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
    """Every (head type, tail type) some relation allows, in a fixed order (feature ids): relations by
    name, as a checkpoint's config.json (written with sorted keys) gives them back, so a fresh model and
    its reloaded copy number the pairs alike."""
    out: list[tuple[str, str]] = []
    for _name, r in sorted(schema.relations.items()):
        for h in r.head:
            for t in r.tail:
                if (h, t) not in out:
                    out.append((h, t))
    return out


def _context_features(text: str, mentions: list[Mention], cues: list | None,
                      gap_chars: set[str] = _GAP_CHARS) -> tuple[dict, dict, list[int]]:
    """Per mention: its tied cue (quotes), its adjacent mentions by type (at most 3 ``gap_chars`` between),
    and its title context (ROLEs)."""
    cue_of: dict[int, object] = {}
    regions = [c for c in cues or () if c.kind != "source"]
    if regions:
        r_start = np.array([c.region[0] for c in regions], dtype=np.int64)
        r_end = np.array([c.region[1] for c in regions], dtype=np.int64)
        for i, m in enumerate(mentions):
            if m.type != "QUOTE":
                continue
            overlap = np.minimum(m.end, r_end) - np.maximum(m.start, r_start)  # one vector per quote: linear
            k = int(np.argmax(overlap))
            if overlap[k] > 0:
                cue_of[i] = regions[k]
    order = sorted(range(len(mentions)), key=lambda i: (mentions[i].start, mentions[i].end))
    adjacent: dict[int, set[int]] = {i: set() for i in range(len(mentions))}
    for k, i in enumerate(order):
        a = mentions[i]
        for j in order[k + 1:]:
            b = mentions[j]
            if b.start < a.end:
                continue
            gap = text[a.end:b.start]
            if len(gap) > 3 or not set(gap) <= gap_chars:
                break
            adjacent[i].add(j)
            adjacent[j].add(i)
    title = [0] * len(mentions)
    for i, m in enumerate(mentions):
        if m.type != "ROLE":
            continue
        k = m.start - 1
        while k >= 0 and text[k] in " \t\u200c\u200b\u00a0":
            k -= 1
        after_name = any(mentions[j].type == "PER" and mentions[j].end <= m.start for j in adjacent[i])
        title[i] = 1 if k < 0 or text[k] in _CLAUSE_START or after_name or text[max(0, k - 1):k + 1].strip() == "و" else 2
    return cue_of, adjacent, title


def candidate_pairs(text: str, mentions: list[Mention], schema: Schema, per_side: int = MAX_RANK,
                    pairs: list | None = None, cues: list | None = None,
                    features: list[str] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Candidate (head, tail) mention pairs the schema allows, with their features.

    For each head and tail type, the candidates are every tail inside the head
    (sectors inside a quote) and the ``per_side`` nearest tails before and after
    it, so the number of pairs grows linearly with the document, not
    quadratically.

    Returns ``heads`` [P, 2] and ``tails`` [P, 2] token ranges, ``feats`` [P, F]
    integer features named by ``features`` (default :data:`LEGACY_FEATURES`;
    see :func:`feature_spec`): pair type, direction, distance bucket, rank among
    the same-type candidates on that side, head width, tail width, sentence
    boundaries between, and with ``cues`` (:func:`goftar.inference.cues.find_cues`)
    whether the tail is in the subject zone of the quote's speech cue, whether
    head and tail stand side by side (apposition) and whether a title follows a
    clause start or another word; and the (head index, tail index) of each pair.

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

    names = LEGACY_FEATURES if features is None else list(features)
    cols = [ALL_FEATURES.index(n) for n in names]
    cue_of, adjacent, title = _context_features(text, mentions, cues) if any(c >= 7 for c in cols) else ({}, {}, [])
    rows: list[list[int]] = []
    index: list[tuple[int, int]] = []
    for hi, h in enumerate(mentions):
        for ttype, idx in by_type.items():
            if (h.type, ttype) not in ptypes:
                continue
            for direction, cands in _tails_around(hi, mentions, idx, starts[ttype], per_side).items():
                for rank, (ti, gap) in enumerate(cands):
                    t = mentions[ti]
                    if direction == 0:
                        sb = sentences_between(t.end, h.start)
                    elif direction == 2:
                        sb = sentences_between(h.end, t.start)
                    else:
                        sb = 0
                    row = [
                        ptypes[(h.type, ttype)], direction, max(gap, 0), min(rank, MAX_RANK - 1),
                        h.tok_end - h.tok_start, t.tok_end - t.tok_start, min(sb, MAX_SENTENCES - 1),
                    ]
                    if title:
                        row += _cue_row(hi, ti, mentions, cue_of, adjacent, title)
                    rows.append(row)
                    index.append((hi, ti))
    if not rows:
        z = np.zeros((0, 2), dtype=np.int64)
        return z, z.copy(), np.zeros((0, len(cols)), dtype=np.int64), []
    f = np.array(rows, dtype=np.int64)
    f[:, 2] = _bucket(f[:, 2])
    f[:, 4] = _bucket(f[:, 4])
    f[:, 5] = _bucket(f[:, 5])
    f = f[:, cols]
    heads = np.array([[mentions[h].tok_start, mentions[h].tok_end] for h, _ in index], dtype=np.int64)
    tails = np.array([[mentions[t].tok_start, mentions[t].tok_end] for _, t in index], dtype=np.int64)
    return heads, tails, f, index


def _tails_around(hi: int, mentions: list[Mention], idx: list[int], st: list[int],
                  per_side: int) -> dict[int, list[tuple[int, int]]]:
    """The candidate tails of one type for head ``hi``, by direction, each ``(tail index, token gap)``, nearest first.

    Directions: 0 before the head (the ``per_side`` nearest), 1 inside it, 2 after it (the ``per_side``
    nearest), 3 overlapping it. ``idx`` are that type's mentions in text order and ``st`` their starts.
    """
    h = mentions[hi]
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
    for cands in sides.values():
        cands.sort(key=lambda c: c[1])
    return sides


def _in_subject_zone(cue, m: Mention) -> bool:
    """Whether mention ``m`` lies in the subject zone of ``cue`` (the words before its speech verb)."""
    return cue.subject[0] <= m.start and m.end <= cue.subject[1] + 1


def _cue_row(hi: int, ti: int, mentions: list[Mention], cue_of: dict, adjacent: dict, title: list[int]) -> list[int]:
    """The cue features of pair (hi, ti): cue_subject (0 no cue, 1 tail in the cue's subject zone, 2 outside it
    with a pronoun subject, 3 outside it), adjacent (1 side by side, 2 another of the tail's type is, 0 none)
    and the head's title context."""
    cue = cue_of.get(hi)
    t = mentions[ti]
    if cue is None:
        subj = 0
    elif _in_subject_zone(cue, t):
        subj = 1
    else:
        subj = 2 if cue.pronoun else 3
    adj = 1 if ti in adjacent[hi] else (2 if any(mentions[j].type == t.type for j in adjacent[hi]) else 0)
    return [subj, adj, title[hi]]


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


def _title_key(text: str, aliases: list | tuple = ()) -> str:
    """The comparison key of a title: normalised words, ``aliases`` (pairs of word sequences, variant →
    canonical, longest first) rewritten, then joined without spaces.

    >>> _title_key("رییس پارلمان بلاروس", [["پارلمان", "مجلس"]]) == _title_key("رئیس مجلس بلاروس")
    True
    """
    from .quotes import speaker_key

    words = [w for w in (speaker_key(w) or "" for w in text.replace("\u200c", " ").split()) if w]
    words = [w.replace("ئ", "ی").replace("ؤ", "و").replace("أ", "ا") for w in words]
    if aliases:
        joined = " " + " ".join(words) + " "
        pairs = _alias_pairs(tuple(map(tuple, aliases)))
        for _ in range(3):  # «پارلمان ایران» → «مجلس ایران» → «مجلس شورای اسلامی»
            before = joined
            for variant, canonical in pairs:
                joined = joined.replace(variant, canonical)
            if joined == before:
                break
        words = joined.split()
    return "".join(words)


@functools.lru_cache(maxsize=8)
def _alias_pairs(aliases: tuple) -> list[tuple[str, str]]:
    """``aliases`` as ``(" variant words ", " canonical words ")``, normalised like :func:`_title_key`, longest first."""
    out = []
    for variant, canonical in aliases:
        out.append((" " + " ".join(_title_key(w) for w in variant.split()) + " ",
                    " " + " ".join(_title_key(w) for w in canonical.split()) + " "))
    return sorted(out, key=lambda p: -len(p[0]))


def _mentions_of(text: str, mentions: list[Mention], name: str) -> list[int]:
    """Indices of the PER mentions that name the same person as ``name`` (:func:`goftar.inference.quotes.same_person`)."""
    from .quotes import same_person

    return [j for j, p in enumerate(mentions) if p.type == "PER" and same_person(text[p.start:p.end], name)]


def _nearest(mentions: list[Mention], candidates: list[int], m: Mention) -> int:
    """The candidate mention nearest ``m`` in characters (:func:`goftar.inference.quotes.span_gap`); ties go to the earlier."""
    from .quotes import span_gap

    return min(candidates, key=lambda j: (span_gap(mentions[j], m), mentions[j].start))


def apposition(text: str, mentions: list[Mention]) -> dict[int, set[int]]:
    """Per mention, the mentions written right beside it (at most 3 spaces, ZWNJs, commas, brackets, dashes or
    quotation marks between: «محمدباقر قالیباف رئیس مجلس»), as the title rules read apposition."""
    return _context_features(text, mentions, None, _APPOSITION_GAP)[1]


def propagate_titles(text: str, mentions: list[Mention], decided: list[tuple[str, int, int, float]],
                     aliases: list | tuple = (), adjacent: dict[int, set[int]] | None = None) -> list[tuple[str, int, int, float]]:
    """One title, one holder within an article: a ROLE written again («رئیس مجلس شورای اسلامی» in a later
    paragraph, or with one of its ``aliases``: «رئیس پارلمان بلاروس» / «رئیس مجلس بلاروس») is ``role_of``
    the PER it stood beside (apposition, «محمدباقر قالیباف رئیس مجلس شورای اسلامی») where the article first
    gave it one, whatever the pair scores said. A ROLE that has its own PER beside it keeps the model's
    decision. ``adjacent``: :func:`apposition` of these mentions, if the caller has it already."""
    if adjacent is None:
        adjacent = apposition(text, mentions)
    anchor: dict[str, int] = {}
    own: set[int] = set()
    for i in sorted(range(len(mentions)), key=lambda i: mentions[i].start):
        m = mentions[i]
        if m.type != "ROLE":
            continue
        pers = [j for j in adjacent[i] if mentions[j].type == "PER"]
        if pers:
            own.add(i)
            anchor.setdefault(_title_key(text[m.start:m.end], aliases), min(pers, key=lambda j: abs(mentions[j].start - m.start)))

    holders: dict[str, list[int]] = {}  # title key → every PER mention of its anchored holder, computed once per key

    def holder(i: int) -> int | None:
        """The nearest mention (guide: role_of → the nearest PER of that person) of the anchored holder."""
        k = _title_key(text[mentions[i].start:mentions[i].end], aliases)
        if k not in anchor:
            return None
        if k not in holders:
            name = text[mentions[anchor[k]].start:mentions[anchor[k]].end]
            holders[k] = _mentions_of(text, mentions, name)
        return _nearest(mentions, holders[k], mentions[i])

    out = []
    linked = set()  # ROLEs with a role_of after the model's decisions and the moves
    for name, hi, ti, score in decided:
        if name == "role_of" and hi not in own and mentions[hi].type == "ROLE":
            h = holder(hi)
            if h is not None:
                ti = h
        if name == "role_of":
            linked.add(hi)
        out.append((name, hi, ti, score))
    for i, m in enumerate(mentions):  # a repeated title the model left unlinked
        if m.type == "ROLE" and i not in own and i not in linked:
            h = holder(i)
            if h is not None:
                out.append(("role_of", i, h, 1.0))
    return out


def nearest_holders(text: str, mentions: list[Mention], decided: list[tuple[str, int, int, float]],
                    plural_heads=()) -> list[tuple[str, int, int, float]]:
    """The guide's ``role_of`` conventions (docs/ANNOTATION.md): a title links to the **nearest** PER mention
    of its holder, by characters between the spans (the model may pick a farther mention of the same person);
    and a plural title («اعضای شورای شهر», «نمایندگان مجلس»: its first word in ``plural_heads``) has no
    ``role_of`` at all."""
    plural = _normalised(plural_heads)
    span = lambda i: text[mentions[i].start:mentions[i].end]  # noqa: E731
    out = []
    for name, hi, ti, score in decided:
        if name == "role_of":
            h = mentions[hi]
            if _head_word(span(hi)) in plural:
                continue
            ti = _nearest(mentions, _mentions_of(text, mentions, span(ti)) or [ti], h)
        out.append((name, hi, ti, score))
    return out


def pronoun_speakers(text: str, mentions: list[Mention], decided: list[tuple[str, int, int, float]],
                     cues: list | None) -> list[tuple[str, int, int, float]]:
    """A quote whose cue has a pronoun or dropped subject («وی افزود:», «او گفت») and which the model left
    without ``said_by`` is said by the speaker of the quote before it (docs/ANNOTATION.md: "said_by → the
    nearest earlier PER of that speaker"): the tail is that person's nearest PER mention before the quote, or,
    for an unnamed ROLE or an ORG speaker, that mention itself. Added with score 0.5.

    So is a quote whose cue subject is a pronoun and whose ``said_by`` the model gave to a mention inside that
    subject zone («وی با اشاره به اظهارات محمدرضا پورابراهیمی … اظهار داشت:» is not said by «پورابراهیمی»): in
    corpus v2 train+dev no gold speaker of the 937 such quotes lies there."""
    cue_of = _context_features(text, mentions, cues)[0]

    def in_pronoun_zone(q: int, t: int) -> bool:
        cue = cue_of.get(q)
        if cue is None or not cue.pronoun or not text[cue.subject[0]:cue.subject[1]].strip():
            return False
        return _in_subject_zone(cue, mentions[t])

    decided = [d for d in decided if not (d[0] == "said_by" and in_pronoun_zone(d[1], d[2]))]
    said = {hi: ti for name, hi, ti, _ in decided if name == "said_by"}
    holder = {hi: ti for name, hi, ti, _ in decided if name == "role_of"}
    quotes = sorted((i for i, m in enumerate(mentions) if m.type == "QUOTE"), key=lambda i: mentions[i].start)
    span = lambda i: text[mentions[i].start:mentions[i].end]  # noqa: E731
    out = list(decided)
    prev: int | None = None  # the said_by tail of the last quote that has one
    for q in quotes:
        if q in said:
            prev = said[q]
            continue
        cue = cue_of.get(q)
        if cue is None or not cue.pronoun or prev is None:
            continue
        person = prev if mentions[prev].type == "PER" else holder.get(prev)
        tail = prev
        if person is not None:
            before = [j for j in _mentions_of(text, mentions, span(person)) if mentions[j].end <= mentions[q].start]
            if before:
                tail = max(before, key=lambda j: mentions[j].end)
        out.append(("said_by", q, tail, 0.5))
        said[q] = tail
        prev = tail
    return out


def foreign_titles(text: str, mentions: list[Mention], decided: list[tuple[str, int, int, float]],
                   cues: list | None, prepositions=(), adjacent: dict[int, set[int]] | None = None
                   ) -> list[tuple[str, int, int, float]]:
    """A title inside a speaker's own subject zone, behind a preposition, is someone else's: «قالیباف در این
    دیدار، ضمن تشکر از همدردی کشور بلاروس در حادثه شهادت رئیس جمهور، گفت:» — «رئیس جمهور» is not
    Ghalibaf's title (docs/ANNOTATION.md, role_of; issue 9's seed article). A ``role_of`` from a ROLE to the
    PER that opens the cue's subject zone (after at most two words: honorifics) is dropped when the ROLE lies
    later in that zone, no PER stands beside it, and the words between them, other mentions left out, hold one
    of ``prepositions`` («در», «از», …; not «به عنوان», which introduces the speaker's own post, nor the
    partitive «یکی از» / «از» right before the title: «یکی از رهبران …»). In corpus v2 train+dev gold, 17
    role_of links run from a later title of the subject zone to its opening PER; none has such a preposition
    between (they are apposition chains: «عیسی محمدی جانباز … و عضو شورای …»). ``adjacent``: :func:`apposition`
    of these mentions, if the caller has it already."""
    if not prepositions or not cues:
        return decided
    from .normalize import normalize
    from .quotes import speaker_key

    preps = _normalised(prepositions)
    if adjacent is None:
        adjacent = apposition(text, mentions)
    zones = sorted(c.subject for c in cues if c.kind != "source" and c.subject and c.subject[1] > c.subject[0])
    zone_starts = [z[0] for z in zones]
    by_start = sorted(range(len(mentions)), key=lambda i: mentions[i].start)  # bisect instead of scans: long texts
    starts = [mentions[i].start for i in by_start]
    span = lambda i: text[mentions[i].start:mentions[i].end]  # noqa: E731

    def foreign(hi: int, ti: int) -> bool:
        r = mentions[hi]
        if r.type != "ROLE" or any(mentions[j].type == "PER" for j in adjacent[hi]):
            return False
        z = bisect.bisect_right(zone_starts, r.start) - 1
        if z < 0 or r.end > zones[z][1] + 1:
            return False
        s = zones[z][0]
        inside = by_start[bisect.bisect_left(starts, s):bisect.bisect_left(starts, r.start)]  # mentions before r in the zone
        opener = next((j for j in inside if mentions[j].type == "PER" and mentions[j].end <= r.start), None)
        # the holder is the opener itself or written the same: the president «خاتمي» is not his brother «محمد رضا خاتمي»
        if opener is None or len(text[s:mentions[opener].start].split()) > 2 or (
                ti != opener and speaker_key(span(ti)) != speaker_key(span(opener))):
            return False
        lo = mentions[opener].end
        between = list(text[lo:r.start])
        for j in inside:  # other mentions (titles, places …) do not count
            for k in range(max(mentions[j].start, lo), min(mentions[j].end, r.start)):
                between[k - lo] = " "
        words = normalize("".join(between)).replace("\u200c", " ").replace("،", " ").split()
        # «به عنوان» introduces a post, «یکی از» / a last «از» a group the speaker belongs to («یکی از رهبران»)
        keep = [w for k, w in enumerate(words)
                if not (w == "به" and k + 1 < len(words) and words[k + 1] == "عنوان")
                and not (w == "از" and (k + 1 == len(words) or (k > 0 and words[k - 1] == "یکی")))]
        return any(w in preps for w in keep)

    return [d for d in decided if not (d[0] == "role_of" and foreign(d[1], d[2]))]


def merge_touching(text: str, mentions: list[Mention], types) -> list[Mention]:
    """Join consecutive spans of one type in ``types`` that only spaces or ZWNJs separate; the score is the mean.

    >>> t = "رییس سابق شورا"
    >>> [(m.start, m.end) for m in merge_touching(t, [Mention("ROLE", 0, 1, 0, 4), Mention("ROLE", 1, 3, 5, 14)], ["ROLE"])]
    [(0, 14)]
    """
    if not types:
        return mentions
    out: list[Mention] = []
    for m in sorted(mentions, key=lambda m: (m.start, m.end)):
        prev = out[-1] if out else None
        if (prev is not None and m.type in types and prev.type == m.type and prev.category == m.category
                and prev.end <= m.start and not text[prev.end:m.start].strip(" \u200c\u00a0")):
            out[-1] = Mention(m.type, prev.tok_start, m.tok_end, prev.start, m.end, m.category, (prev.score + m.score) / 2)
        else:
            out.append(m)
    return out


def _head_word(text: str) -> str:
    """The first word of a title, normalised, up to a ZWNJ («خانه‌های بهداشت» → «خانه»): what the title-head
    lists (``title_heads``, ``institution_heads``, ``plural_title_heads``) are compared with."""
    from .normalize import normalize

    words = normalize(text).replace("\u200c", " ").split()
    return words[0] if words else ""


def _normalised(words) -> set[str]:
    from .normalize import normalize

    return {normalize(w) for w in words}


def split_titles(text: str, mentions: list[Mention], offsets: np.ndarray, heads) -> list[Mention]:
    """Two titles joined by «و» are two ROLEs: a ROLE is cut at « و » when the next word starts a title
    (``heads``) and at least two words come before it («معاون استاندار تهران و فرماندار ویژه شهرستان ری»). In corpus
    v2 train, 28 gold ROLEs are followed by « و » and a title head outside them; 3 hold one, each after a single
    word («سفیر و معاون نمایندگی …»), which the two-word condition keeps whole."""
    if not heads:
        return mentions

    head_set = _normalised(heads)
    out: list[Mention] = []
    for m in mentions:
        if m.type != "ROLE":
            out.append(m)
            continue
        pieces, start = [], m.start
        ws = bio.words(text[m.start:m.end])
        for k in range(2, len(ws) - 1):
            a, b = ws[k]
            nxt = text[m.start + ws[k + 1][0]:m.start + ws[k + 1][1]]
            if text[m.start + a:m.start + b] == "و" and _head_word(nxt) in head_set \
                    and len([w for w in ws if start <= m.start + w[0] < m.start + a]) >= 2:
                pieces.append((start, m.start + a))
                start = m.start + ws[k + 1][0]
        pieces.append((start, m.end))
        for s_, e_ in pieces:
            r = _respan(text, offsets, m, s_, e_) if len(pieces) > 1 else m
            if r is not None:
                out.append(r)
    return out


def drop_institutions(text: str, mentions: list[Mention], heads) -> list[Mention]:
    """A ROLE is a person's title, never an institution: a predicted ROLE whose first word (its part before a
    ZWNJ) is an institution noun in ``heads`` («ستاد برگزاري نماز جمعه قم», «اداره منابع طبیعی …») is dropped.
    In corpus v2 train no gold ROLE starts with one of them; each starts 5 or more gold ORGs."""
    if not heads:
        return mentions

    head_set = _normalised(heads)
    return [m for m in mentions if m.type != "ROLE" or _head_word(text[m.start:m.end]) not in head_set]


def extend_titles(text: str, mentions: list[Mention], types) -> list[Mention]:
    """A ROLE directly followed (one space or ZWNJ) by an entity of ``types`` takes it in: a title names its
    office with the organisation or place («فرماندار» + «قاین» → «فرماندار قاین»). In corpus v2 train, 978 gold
    ROLEs end with an ORG or LOC inside them, and 1 stands right before one outside it (FAC: 5 and 0). A chain of such entities
    («وزیر» + «نیرو» + «ایران») is taken in whole.

    >>> t = "فرماندار قاین گفت"
    >>> [(m.type, m.start, m.end) for m in extend_titles(t, [Mention("ROLE", 0, 1, 0, 8), Mention("LOC", 1, 2, 9, 13)], ["LOC"])]
    [('ROLE', 0, 13), ('LOC', 9, 13)]
    """
    if not types:
        return mentions
    by_start: dict[int, Mention] = {}
    for m in mentions:
        if m.type in types and (m.start not in by_start or m.end > by_start[m.start].end):
            by_start[m.start] = m
    out = []
    for m in mentions:
        if m.type == "ROLE":
            end, tok_end = m.end, m.tok_end
            while text[end:end + 1] in (" ", "\u200c") and end + 1 in by_start:
                nxt = by_start[end + 1]
                end, tok_end = nxt.end, nxt.tok_end
            if end != m.end:
                m = Mention(m.type, m.tok_start, tok_end, m.start, end, m.category, m.score)
        out.append(m)
    return out


def names_not_titles(text: str, mentions: list[Mention], names) -> list[Mention]:
    """A ROLE that is only one of ``names`` (the surname «رئیسی», which the tagger reads as «رئیس» + «ی») is
    part of a name: it joins a PER that ends right before it (one space or ZWNJ: «بیوک» + «رئیسی» → «بیوک
    رئیسی»), is dropped where a PER already covers it, and becomes a PER of its own otherwise. In corpus v2
    train+dev, «رئیسی» is inside 7 gold PERs and no gold ROLE.

    >>> t = "بیوک رئیسی گفت"
    >>> [(m.type, t[m.start:m.end]) for m in names_not_titles(t, [Mention("PER", 0, 1, 0, 4), Mention("ROLE", 1, 2, 5, 10)], ["رئیسی"])]
    [('PER', 'بیوک رئیسی')]
    """
    if not names:
        return mentions
    from .normalize import normalize

    keys = {normalize(w).replace("\u200c", "") for w in names}
    names_at, out = [], []
    for m in mentions:
        is_name = m.type == "ROLE" and normalize(text[m.start:m.end]).replace("\u200c", "").strip() in keys
        (names_at if is_name else out).append(m)
    if not names_at:
        return mentions
    for r in names_at:
        pers = [i for i, m in enumerate(out) if m.type == "PER"]
        if any(out[i].start <= r.start and out[i].end >= r.end for i in pers):
            continue
        before = next((i for i in pers if out[i].end < r.start and text[out[i].end:r.start] in (" ", "\u200c")), None)
        if before is not None:
            p = out[before]
            out[before] = Mention("PER", p.tok_start, r.tok_end, p.start, r.end, p.category, p.score)
        else:
            out.append(Mention("PER", r.tok_start, r.tok_end, r.start, r.end, None, r.score))
    return out


def _respan(text: str, offsets: np.ndarray, m: Mention, start: int, end: int) -> Mention | None:
    """``m`` narrowed to ``[start, end)`` with edge punctuation trimmed and its token range recomputed;
    None when nothing (or no token) is left."""
    s, e = trim_span(text, start, end)
    tr = token_span(offsets, s, e) if e > s else None
    if tr is None:
        return None
    return Mention(m.type, tr[0], tr[1], s, e, m.category, m.score)


def strip_honorifics(text: str, mentions: list[Mention], offsets: np.ndarray, honorifics, types=("PER", "ROLE")) -> list[Mention]:
    """Drop leading honorific words («آقای», «آیت‌الله», «سردار» …) from spans of ``types``, compared as speaker
    keys (normalised, spaces and ZWNJ ignored); a span left with nothing is dropped."""
    if not honorifics:
        return mentions
    from .quotes import speaker_key

    keys = {speaker_key(h) for h in honorifics}
    out = []
    for m in mentions:
        if m.type in types:
            ws = bio.words(text[m.start:m.end])
            k = 0
            while k < len(ws):  # «حجت الاسلام» written in two words is the same honorific
                n = next((n for n in (3, 2, 1) if k + n <= len(ws)
                          and speaker_key(text[m.start + ws[k][0]:m.start + ws[k + n - 1][1]]) in keys), 0)
                if not n:
                    break
                k += n
            if k == len(ws):
                continue
            if k:
                m = _respan(text, offsets, m, m.start + ws[k][0], m.end)
                if m is None:
                    continue
        out.append(m)
    return out


def trim_edge_words(text: str, mentions: list[Mention], offsets: np.ndarray, words, keep=("QUOTE",)) -> list[Mention]:
    """Function words never begin or end a name, title, date or sector: each span (types outside ``keep``) loses
    leading and trailing words in ``words`` («شرکت آب و» → «شرکت آب»); a span of nothing else («طی», «در») is
    dropped. In corpus v2 train+dev no gold entity (QUOTE aside) begins or ends with «و», «در», «از», «به», «با»,
    «که», «را», «طی», «برای» or «تا»."""
    if not words:
        return mentions
    from .normalize import normalize

    stop = _normalised(words)
    out = []
    for m in mentions:
        if m.type not in keep:
            ws = [(a, b) for a, b in bio.words(text[m.start:m.end]) if text[m.start + a:m.start + b].strip()]
            i, j = 0, len(ws)
            while i < j and normalize(text[m.start + ws[i][0]:m.start + ws[i][1]]) in stop:
                i += 1
            while j > i and normalize(text[m.start + ws[j - 1][0]:m.start + ws[j - 1][1]]) in stop:
                j -= 1
            if i == j:
                continue
            if (i, j) != (0, len(ws)):
                m = _respan(text, offsets, m, m.start + ws[i][0], m.start + ws[j - 1][1])
                if m is None:
                    continue
        out.append(m)
    return out


def cut_at_words(text: str, mentions: list[Mention], offsets: np.ndarray, words: list[str], types=("ROLE",)) -> list[Mention]:
    """Cut each span of ``types`` before its first whole word in ``words`` (a word after the span's first one)."""
    if not words:
        return mentions
    stop = set(words)
    out = []
    for m in mentions:
        if m.type in types:
            ws = bio.words(text[m.start:m.end])
            cut = next((m.start + a for k, (a, b) in enumerate(ws) if k > 0 and text[m.start + a:m.start + b] in stop), None)
            if cut is not None:
                m = _respan(text, offsets, m, m.start, cut)
                if m is None:
                    continue
        out.append(m)
    return out
