"""Speech cues: where a Persian news quote can be, and who can have said it.

The lexicon is data (``cues.yaml`` beside this module); this module compiles it
and finds, in a text, every cue with

* its **phrase** (the speech verb and colon, the opener, «به گفته», the
  headline head),
* its **region** — where the quote runs: after a direct cue's colon to the
  closing quotation mark or the end of the paragraph (or the last sentence end
  before the next cue of the paragraph, or before a sentence of narration
  opening with «وی»/«او», or before a paragraph break flattened into spaces);
  after an opener to the comma before the main verb (a speech verb with a
  colon or «که», else the sentence's last comma); after «که» or a bare speech
  verb to the sentence end or the next cue in it; a headline's «|» segments;
  after «به گفته X،» to the sentence end (a decimal point ends no sentence),
* its **subject** zone — where the speaker is named: from the sentence start to
  the verb (the head of a headline, the X of «به گفته X»).

Cues whose subject is a news outlet, and «به گزارش …», are ``source`` cues:
narration, no quote.

>>> t = "وزیر نفت گفت: «تولید افزایش می‌یابد». وی با بیان اینکه صادرات بالاست، افزود: کار داریم."
>>> [(c.kind, t[c.region[0]:c.region[1]]) for c in find_cues(t)]
[('direct', 'تولید افزایش می\u200cیابد'), ('indirect', 'صادرات بالاست'), ('direct', 'کار داریم')]
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import yaml

from .normalize import NEUTRAL, normalize
from .validate import EDGE_CHARS, trim_span

LEXICON = Path(__file__).with_name("cues.yaml")
ZWNJ = "\u200c"
_SEP = "[\\s\u200c\u200b]*"
_SEP1 = "[\\s\u200c\u200b]+"
# a sentence opening with «وی»/«او» is the reporter's, about the speaker («ایشان» is also a speaker's word
# for someone else, so it does not end a quote)
_NARRATION = re.compile(r"(?:و[\s\u200c]*)?(?:وی|او)(?![\w\u200c])")
_FLAT_BREAK = 4  # this many spaces after a sentence end: a paragraph break flattened into a line
# a sentence end, but not the point of a decimal number («۷.۴ میلیون», «2.5 درصد»)
# A sentence ends at «!», «?», «؟» or a full stop that is neither a decimal point («2.5») nor part of an ellipsis
# («مزاحمت و... انجام»: the quotes of the corpus run on through «...», none ends before one).
SENTENCE_END = re.compile(r"[!?؟]|(?<!\.)\.(?!\.)(?!(?<=\d\.)\d)")
OPEN_CLOSE = {"«": "»", '"': '"', "“": "”"}
EDGE = EDGE_CHARS | set("؟!?")

# Token-level cue features the model reads (ids are stored in the checkpoint config as CUE_TAGS).
CUE_TAGS = ["none", "direct_phrase", "indirect_phrase", "other_phrase", "direct_region", "indirect_region",
            "other_region", "source", "subject"]
_TAG_ID = {t: i for i, t in enumerate(CUE_TAGS)}


@dataclass
class Cue:
    """One cue: ``kind`` is direct, indirect, headline, according or source; offsets into the original text."""

    kind: str
    phrase: tuple[int, int]
    region: tuple[int, int]
    subject: tuple[int, int]
    delimited: bool = False  # the region ends at a closing quotation mark or a headline segment end
    pronoun: bool = False  # the subject zone starts with a pronoun («وی», «او») or is empty (dropped subject)


def _w(word: str) -> str:
    """A word whose parts may be joined by a space, a ZWNJ or nothing: «خاطر نشان»."""
    return _SEP.join(re.escape(p) for p in word.split())


def _alt(words: Iterable[str]) -> str:
    return "(?:" + "|".join(sorted(set(words), key=len, reverse=True)) + ")"


def _norm_word(w: str) -> str:
    return normalize(w).replace(ZWNJ, " ")


class Lexicon:
    """The compiled cue lexicon."""

    def __init__(self, data: dict[str, Any]):
        self.data = data
        n = _norm_word
        light, bare, that = [], [], []
        colon_only = {" ".join(n(v).split()) for v in data.get("colon_only", [])}
        colon_or_that = {" ".join(n(v).split()) for v in data.get("colon_or_that", [])}
        for aux, nouns in data["light_verbs"].items():
            for noun in nouns:
                phrase = " ".join(n(noun + " " + aux).split())
                # «کرد», «کردند» (plural), «کرده است/بود/اند»
                pat = _w(n(noun)) + _SEP + f"{aux}(?:ند|ه{_SEP1}(?:است|بود|اند))?"
                light.append(pat)
                if phrase not in colon_only:
                    bare.append(pat)
                elif phrase in colon_or_that:
                    that.append(pat)
        simple = [n(v) for v in data["simple_verbs"]]
        simple_pat = _alt(_w(v) for v in simple) + f"(?:{_SEP1}(?:است|بود))?"
        present_pat = "می" + _SEP + _alt(re.escape(n(v)) for v in data["present_verbs"])
        bare_simple = _alt(_w(v) for v in simple if " ".join(v.split()) not in colon_only)
        verb = "(?:" + "|".join(light + [simple_pat, present_pat]) + ")"
        bare_verb = "(?:" + "|".join(bare + [bare_simple + f"(?:{_SEP1}(?:است|بود))?", present_pat]) + ")"
        that_verb = "(?:" + "|".join(that + [bare_verb]) + ")"
        # a verb starts a word (an «و» may be glued to it) and ends one
        self.direct = re.compile(r"(?<![\w\u200c])(?:و)?(?P<verb>" + verb + r")(?![\w\u200c])[\s\u200c\u200b]*:")
        self.that = re.compile(r"(?<![\w\u200c])(?:و)?(?P<verb>" + that_verb + r")[\s\u200c\u200b]+(?:که|كه)(?![\w\u200c])")
        not_before = data.get("bare_not_before") or []
        not_before_pat = (r"(?![\s\u200c\u200b]+" + _alt(_w(n(w)) for w in not_before) + r"(?![\w\u200c]))") if not_before else ""
        self.bare = re.compile(r"(?<![\w\u200c])(?:و)?(?P<verb>" + bare_verb + r")(?![\w\u200c])" + not_before_pat
                               + r"(?=[\s\u200c\u200b]*،?[\s\u200c\u200b]+[^\s\u200c\u200b.،,:؛!?؟])")  # «اعلام کرد، …» too
        not_cues = data.get("not_cues") or []
        self.not_cues = (re.compile(r"(?<![\w\u200c])" + _alt(_w(n(p)) for p in not_cues) + r"(?![\w\u200c])")
                         if not_cues else None)
        self.openers = re.compile(r"(?<![\w\u200c])" + _alt(_w(n(o)) for o in data["indirect_openers"]) + r"(?![\w\u200c])")
        self.according = re.compile(r"(?<![\w\u200c])" + _alt(_w(n(o)) for o in data["according"]) + r"(?![\w\u200c])")
        self.sources = re.compile(r"(?:و" + _SEP + r")?" + _alt(_w(n(s)) for s in data["sources"]) + r"(?![\w\u200c])")
        self.reported = re.compile(r"(?<![\w\u200c])به" + _SEP1 + r"گزارش(?![\w\u200c])")
        self.labels = re.compile(_alt(_w(n(s)) for s in data["headline_labels"]) + r"(?![\w\u200c])")
        self.verbish = {n(v) for v in data["verbish"]}
        self.pronouns = re.compile(r"(?:و" + _SEP + r")?" + _alt(_w(n(p)) for p in data["pronouns"]) + r"(?![\w\u200c])")
        self.headline_max_words = int(data.get("headline_max_words", 6))
        self.headline_separators = frozenset(data.get("headline_separators") or ["|"])

    @classmethod
    def from_yaml(cls, path: str | Path) -> "Lexicon":
        try:
            data = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise ValueError(f"{path}: not valid YAML: {exc}") from None
        return cls.from_dict(data, str(path))

    @classmethod
    def from_dict(cls, data: Any, where: str) -> "Lexicon":
        """A lexicon from its data (the YAML's mapping); ``where`` names its origin in errors."""
        if not isinstance(data, dict):
            raise ValueError(f"{where}: a cue lexicon is a mapping, not {type(data).__name__}")
        missing = {"simple_verbs", "present_verbs", "light_verbs", "indirect_openers", "according", "sources",
                   "headline_labels", "verbish", "pronouns"} - set(data)
        if missing:
            raise ValueError(f"{where}: cue lexicon lacks {sorted(missing)}")
        return cls(data)


@functools.lru_cache(maxsize=4)
def default_lexicon(path: str | None = None) -> Lexicon:
    return Lexicon.from_yaml(path or LEXICON)


def checkpoint_lexicon(config: Any) -> Lexicon:
    """The lexicon a checkpoint's cue features were computed with: its config's ``cue_lexicon``
    (a dict or a config object), or, for checkpoints older than 0.4 that carry none, the package's."""
    data = config.get("cue_lexicon") if isinstance(config, dict) else getattr(config, "cue_lexicon", None)
    return Lexicon.from_dict(data, "checkpoint config cue_lexicon") if data else default_lexicon()


def _trim(norm: str, s: int, e: int) -> tuple[int, int]:
    """A cue region without edge characters, nor a final «؟»/«!» (guide 1.1: left outside a QUOTE)."""
    return trim_span(norm, s, e, EDGE)


def _sentence_start(norm: str, ls: int, i: int) -> int:
    """Start of the sentence holding position ``i`` (within the line starting at ``ls``)."""
    j = max(norm.rfind(":", ls, i), _last_sentence_end(norm, ls, i))
    return ls if j < 0 else j + 1


def _sentence_end(norm: str, i: int, le: int) -> int:
    m = SENTENCE_END.search(norm, i, le)
    return m.start() if m else le


def _last_sentence_end(norm: str, a: int, b: int) -> int:
    """Position of the last sentence end in ``[a, b)``, or -1."""
    return max((m.start() for m in SENTENCE_END.finditer(norm, a, b)), default=-1)


def _before_and(norm: str, begin: int, stop: int) -> int:
    """Where a region running into the next cue at ``stop`` ends: before the «و» (and spaces) that join them."""
    i = stop
    while i > begin and (norm[i - 1].isspace() or norm[i - 1] in (ZWNJ, "،")):
        i -= 1
    if i > begin and norm[i - 1] == "و" and (i - 1 == begin or not norm[i - 2].isalpha()):
        i -= 1
    return i


def _is_source(lex: Lexicon, norm: str, subj: tuple[int, int]) -> bool:
    s, e = _trim(norm, *subj)
    return bool(lex.sources.match(norm[s:e])) if e > s else False


def _is_pronoun(lex: Lexicon, norm: str, subj: tuple[int, int]) -> bool:
    s, e = _trim(norm, *subj)
    return e <= s or bool(lex.pronouns.match(norm[s:e]))


def find_cues(text: str, lexicon: Lexicon | None = None) -> list[Cue]:
    """Every cue of ``text``, in text order (see the module docstring). Offsets into ``text``."""
    lex = lexicon or default_lexicon()
    norm = normalize(text)  # one to one: offsets are the same
    cues: list[Cue] = []
    pos = 0
    for line in norm.split("\n"):
        ls, le = pos, pos + len(line)
        pos = le + 1
        if not line.strip():
            continue
        cues.extend(_line_cues(lex, norm, ls, le))
    return cues


def _line_cues(lex: Lexicon, norm: str, ls: int, le: int) -> list[Cue]:
    out: list[Cue] = []
    verbs: list[tuple[int, int, str]] = []  # (start, end, kind) of speech verbs in the line
    # «گفت و گو», «گفته می‌شود», «می‌توان گفت»: a verb inside one of them is no cue
    taken = [(m.start(), m.end()) for m in lex.not_cues.finditer(norm, ls, le)] if lex.not_cues else []

    def free(a: int, b: int) -> bool:
        return all(b <= x or y <= a for x, y in taken)

    for m in lex.direct.finditer(norm, ls, le):
        if free(m.start("verb"), m.end("verb")):
            verbs.append((m.start(), m.end(), "direct"))
    according = list(lex.according.finditer(norm, ls, le))
    taken += [(a, b) for a, b, _ in verbs] + [(m.start(), m.end()) for m in according]

    for m in lex.that.finditer(norm, ls, le):
        if free(m.start(), m.end()):
            verbs.append((m.start(), m.end(), "that"))
            taken.append((m.start(), m.end()))
    for m in lex.bare.finditer(norm, ls, le):
        if free(m.start(), m.end()):
            verbs.append((m.start(), m.end(), "bare"))
            taken.append((m.start(), m.end()))
    verbs.sort()
    openers = [(m.start(), m.end()) for m in lex.openers.finditer(norm, ls, le)]
    reports = [(m.start(), m.end()) for m in lex.reported.finditer(norm, ls, le)]
    # where a direct quote without quotation marks must stop: before the next cue of the paragraph
    # (bare speech verbs and openers do not stop it: they occur inside quotes)
    # («به گفته X» does not stop it either: inside a speaker's paragraph it is the speaker citing X)
    later = sorted({v[0] for v in verbs if v[2] == "direct"} | {r[0] for r in reports})

    # subject zones end at the verb; an opener's region inside the zone is cut out of it
    for k, (vs, ve, kind) in enumerate(verbs):
        ss = _sentence_start(norm, ls, vs)
        subj_end = vs
        for os_, oe in openers:
            if ss <= os_ < vs:
                subj_end = min(subj_end, os_)
        rep = lex.reported.match(norm, _trim(norm, ss, subj_end)[0])
        if rep:  # «به گزارش X، NAME گفت:»: the subject starts after the report's comma
            comma = norm.find("،", rep.end(), subj_end)
            ss = comma + 1 if comma != -1 else subj_end
        src = lex.sources.match(norm, _trim(norm, ss, subj_end)[0])
        if src:  # a dateline «خبرگزاری فارس- NAME گفت:»: the subject starts after the dash
            dash = min((k for k in (norm.find(d, src.end(), subj_end) for d in "-—–") if k != -1), default=-1)
            if dash != -1:
                ss = dash + 1
        subject = (ss, subj_end)
        nxt = next((x for x in later if x > ve), None)
        if kind == "direct":
            region, delim = _direct_region(norm, ve, le, nxt)
        else:  # to the sentence end, or to the next cue in it («… عنوان کرد و گفت: …»)
            end = _sentence_end(norm, ve, le)
            if nxt is not None and nxt < end:
                end = _before_and(norm, ve, nxt)
            region, delim = (ve, end), False
        region = _trim(norm, *region)
        if region[1] <= region[0]:
            continue
        if _is_source(lex, norm, subject):
            out.append(Cue("source", (vs, ve), region, subject, delim))
            continue
        out.append(Cue("direct" if kind == "direct" else "indirect", (vs, ve), region, subject, delim,
                       _is_pronoun(lex, norm, subject)))
    for os_, oe in openers:
        # the opener's clause ends at the comma before the main verb: a speech verb with a colon or «که»
        # in the sentence (a bare one is as often inside the quote), else at the sentence's last comma
        send = _sentence_end(norm, oe, le)
        colon = norm.find(":", oe, send)  # an opener's clause holds no colon («… است، معتقد است: …»)
        send = colon if colon != -1 else send
        main = next((v for v in verbs if oe < v[0] < send and v[2] != "bare"), None)
        if main is None:  # no colon or «که» verb: the first bare one is the main verb («… است، گفت …»)
            main = next((v for v in verbs if oe < v[0] < send), None)
        stop = main[0] if main is not None else send
        comma = max(norm.rfind(c, oe, stop) for c in "،؛")
        end = comma if comma != -1 else stop
        region = _trim(norm, oe, end)
        if region[1] <= region[0]:
            continue
        subject = (_sentence_start(norm, ls, os_), os_)
        out.append(Cue("indirect", (os_, oe), region, subject, False, _is_pronoun(lex, norm, subject)))
    for m in according:
        pro = lex.pronouns.match(norm, _trim(norm, m.end(), le)[0])
        if pro:  # «به گفته وی X»: no comma needed after a pronoun
            subj, begin = (pro.start(), pro.end()), pro.end()
        else:
            comma = norm.find("،", m.end(), le)
            if comma == -1:
                continue
            subj, begin = (m.end(), comma), comma + 1
        region = _trim(norm, begin, _sentence_end(norm, begin, le))
        # a speech verb with a colon or «که» in the region makes «به گفته» something else («در پاسخ به گفته
        # خبرنگاری …، بیان کرد: …»): that verb's cue holds the quote
        if any(region[0] <= v[0] < region[1] and v[2] != "bare" for v in verbs):
            continue
        if region[1] > region[0]:
            out.append(Cue("according", (m.start(), m.end()), region, subj, False, bool(pro)))
    if not verbs and not openers:
        out.extend(_headline_cues(lex, norm, ls, le))
    for rs, re_ in reports:  # «به گزارش …، …»: narration to the sentence end, or to the next cue in it
        end = _sentence_end(norm, re_, le)
        end = min([end] + [x for x in later if x > re_])
        comma = norm.find("،", re_, end)
        out.append(Cue("source", (rs, re_), (re_, end), (re_, comma if comma != -1 else end)))
    out.sort(key=lambda c: (c.phrase[0], c.phrase[1]))
    # a quote inside a quote stays inside the outer QUOTE (guide 1.1): drop cues inside a delimited region
    kept: list[Cue] = []
    for c in out:
        if any(k.delimited and k.kind == "direct" and k.region[0] <= c.phrase[0] < k.region[1] for k in kept):
            continue
        kept.append(c)
    return kept


def _direct_region(norm: str, begin: int, le: int, stop: int | None) -> tuple[tuple[int, int], bool]:
    """After a colon at ``begin``: to the closing quotation mark, or the line end (or the last sentence end before ``stop``)."""
    i = begin
    while i < le and (norm[i].isspace() or norm[i] in (ZWNJ, NEUTRAL)):
        i += 1
    if i < le and norm[i] in OPEN_CLOSE:
        close = norm.find(OPEN_CLOSE[norm[i]], i + 1, le)
        if close != -1:  # a speech verb inside the marks is a quote inside the quote
            return (i + 1, close), True
    end = le
    if stop is not None and stop > i:
        cut = _last_sentence_end(norm, i, stop)
        if cut == -1:
            cut = norm.rfind("،", i, stop)
        end = cut if cut > i else stop
    # narration takes over at a sentence about the speaker («… . وی پیشنهاد داد …») or after a paragraph
    # break flattened into a run of spaces
    for m in SENTENCE_END.finditer(norm, i, end):
        j = m.end()
        while j < end and norm[j] in "»\"”)":
            j += 1
        k = j
        while k < end and norm[k].isspace():
            k += 1
        if k - j >= _FLAT_BREAK or _NARRATION.match(norm, k):
            return (i, m.start()), False
    return (i, end), False


def _headline_cues(lex: Lexicon, norm: str, ls: int, le: int) -> list[Cue]:
    """«X: A | B» with X a short speaker (≤ headline_max_words words, no verb, not a label or outlet)."""
    colon = norm.find(":", ls, le)
    if colon == -1:
        return []
    # «A | Speaker: B», «A/ Speaker: B»: the head starts after the last separator
    bar = max(norm.rfind(sep, ls, colon) for sep in lex.headline_separators)
    hs, he = _trim(norm, bar + 1 if bar != -1 else ls, colon)
    head = norm[hs:he]
    words = head.replace(ZWNJ, " ").split()
    if not 1 <= len(words) <= lex.headline_max_words or lex.labels.match(head) or lex.sources.match(head):
        return []
    if any(w in lex.verbish for w in words) or any(w.startswith("می") and len(w) > 3 for w in words) or any(ch.isdigit() for ch in head):
        return []
    out = []
    seg = colon + 1
    for j in range(colon + 1, le + 1):
        if j == le or (norm[j] in lex.headline_separators
                       and not (0 < j < le - 1 and norm[j - 1].isdigit() and norm[j + 1].isdigit())):
            s, e = _trim(norm, seg, j)
            if e > s:
                out.append(Cue("headline", (hs, colon + 1), (s, e), (hs, he), True))
            seg = j + 1
    return out


# -- what the model reads ----------------------------------------------------------------
def char_tags(text: str, cues: list[Cue] | None = None) -> np.ndarray:
    """One cue-tag id per character of ``text`` (:data:`CUE_TAGS`); phrases win over regions over subjects."""
    cues = find_cues(text) if cues is None else cues
    tags = np.zeros(len(text), dtype=np.int64)
    rank = np.zeros(len(text), dtype=np.int64)

    def put(a: int, b: int, tag: str, r: int) -> None:
        sl = slice(a, b)
        better = rank[sl] < r
        tags[sl] = np.where(better, _TAG_ID[tag], tags[sl])
        rank[sl] = np.where(better, r, rank[sl])

    for c in cues:
        if c.kind == "source":
            put(*c.phrase, "source", 3)
            put(*c.region, "source", 2)
            continue
        phrase = {"direct": "direct_phrase", "indirect": "indirect_phrase"}.get(c.kind, "other_phrase")
        region = {"direct": "direct_region", "indirect": "indirect_region"}.get(c.kind, "other_region")
        put(*c.phrase, phrase, 4)
        put(*c.region, region, 2)
        put(*c.subject, "subject", 1)
    return tags


def token_tags(text: str, offsets: np.ndarray, cues: list[Cue] | None = None) -> np.ndarray:
    """One cue-tag id per token: the tag of the token's first character (0 for tokens without characters)."""
    ct = char_tags(text, cues)
    out = np.zeros(len(offsets), dtype=np.int64)
    for t, (a, b) in enumerate(np.asarray(offsets)):
        if b > a:
            out[t] = ct[a]
    return out
