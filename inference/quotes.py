"""Who said it: resolve a QUOTE's speaker to a name and a title.

A QUOTE points with ``said_by`` to the mention that introduces it (docs/ANNOTATION.md):
a name («قالیباف»), a title («رئیس مجلس شورای اسلامی») or an organisation.
Readers want the person behind it, under the fullest name the article gives,
with their title. This module follows the relations of one document:

- a ROLE tail follows ``role_of`` to the PER who holds the title;
- a PER mention stands for every PER mention of the same person (the same
  text once normalised with spaces and ZWNJ removed, or a run of whole words
  at the start or end of the other: «قالیباف» ⊂ «محمدباقر قالیباف»), and the
  speaker's name is the longest of them;
- the title is a ROLE linked by ``role_of`` to one of that person's mentions.

It needs nothing beyond the standard library and goftar.inference, so the
runtime can attach ``quotes`` to every prediction.

>>> from goftar.inference.document import Document, Entity, Relation
>>> text = "محمدباقر قالیباف رئیس مجلس گفت: باید تلاش کنیم. وی افزود: کار داریم"
>>> doc = Document("d", text,
...     [Entity("T1", "PER", 0, 16), Entity("T2", "ROLE", 17, 26),
...      Entity("T3", "QUOTE", 32, 46), Entity("T4", "QUOTE", 58, 67)],
...     [Relation("role_of", "T2", "T1"), Relation("said_by", "T3", "T1"),
...      Relation("said_by", "T4", "T1")])
>>> s = resolve_speaker(doc, "T4")
>>> s.name, s.title
('محمدباقر قالیباف', 'رئیس مجلس')
"""
from __future__ import annotations

from typing import Iterable

from .document import Document, Entity, Quote, QuoteSector, Relation, Speaker
from .normalize import NEUTRAL, normalize

ZWNJ = "\u200c"

__all__ = ["Quote", "QuoteSector", "Speaker", "resolve_speaker", "resolve_speakers", "speaker_key", "quotes_view", "same_person"]


def speaker_key(name: str | None) -> str | None:
    """Canonical comparison key of a speaker name.

    goftar-normalised (Arabic ي/ك, digits, tatweel, harakat), then all white
    space, ZWNJ and neutralised characters dropped, because scraped news
    writes «محمد باقر», «محمدباقر» and «محمد‌باقر» for the same name.

    >>> speaker_key("محمد باقر قاليباف") == speaker_key("محمدباقر\u200cقالیباف")
    True
    >>> speaker_key(None) is None
    True
    """
    if name is None:
        return None
    return "".join(c for c in normalize(name) if not c.isspace() and c not in (ZWNJ, NEUTRAL))


def _name_parts(text: str) -> tuple[str, frozenset[int]]:
    """``(key, word_boundaries)``: the speaker key of ``text`` and the offsets
    inside that key where a word starts or ends (0 and len(key) included)."""
    key_parts: list[str] = []
    bounds = {0}
    pos = 0
    for word in normalize(text).split():
        w = "".join(c for c in word if c not in (ZWNJ, NEUTRAL))
        if not w:
            continue
        key_parts.append(w)
        pos += len(w)
        bounds.add(pos)
    return "".join(key_parts), frozenset(bounds)


def _same_person_parts(a: tuple[str, frozenset[int]], b: tuple[str, frozenset[int]]) -> bool:
    (ka, _), (kb, _) = a, b
    if not ka or not kb:
        return False
    if ka == kb:
        return True
    (short, _), (long_, long_bounds) = (a, b) if len(ka) < len(kb) else (b, a)
    # Whole words only: «باقر» must not match «محمدباقر», nor «علی» «علیرضا».
    if long_.startswith(short) and len(short) in long_bounds:
        return True
    if long_.endswith(short) and len(long_) - len(short) in long_bounds:
        return True
    return False


def same_person(a: str, b: str) -> bool:
    """Whether two PER mention texts name the same person by goftar's rule:
    equal once normalised without spaces/ZWNJ, or one is a run of whole words
    at the start or the end of the other.

    >>> same_person("قالیباف", "محمدباقر قالیباف"), same_person("محمدباقر", "محمدباقر قالیباف")
    (True, True)
    >>> same_person("باقر", "محمدباقر قالیباف"), same_person("حسن قشقاوی", "حسن روحانی")
    (False, False)
    """
    return _same_person_parts(_name_parts(a), _name_parts(b))


def span_gap(a, b) -> int:
    """Characters between two spans, anything with ``start``/``end`` (0 when they touch or overlap): the
    guide's "nearest" (docs/ANNOTATION.md, role_of and said_by)."""
    return max(0, a.start - b.end, b.start - a.end)


def _best(rels: list[Relation]) -> Relation:
    # A model may predict several relations for one head although the schema
    # allows one: take the most confident, else the first listed.
    return max(rels, key=lambda r: float("-inf") if r.score is None else float(r.score))


class _Resolver:
    """Relation indexes of one document, built once for all its quotes."""

    def __init__(self, doc: Document):
        self.doc = doc
        self.ents = doc.by_id()
        self.said_by: dict[str, list[Relation]] = {}
        self.role_of: dict[str, list[Relation]] = {}
        self.roles_of_person: dict[str, list[Entity]] = {}
        self.topics: dict[str, list[Entity]] = {}
        for r in doc.relations:
            head, tail = self.ents.get(r.head), self.ents.get(r.tail)
            if head is None or tail is None:
                continue  # dangling ids in a broken prediction: nothing to follow
            if r.type == "said_by":
                self.said_by.setdefault(r.head, []).append(r)
            elif r.type == "role_of" and head.type == "ROLE" and tail.type == "PER":
                self.role_of.setdefault(r.head, []).append(r)
                self.roles_of_person.setdefault(r.tail, []).append(head)
            elif r.type == "topic" and tail.type == "SECTOR":
                self.topics.setdefault(r.head, []).append(tail)
        self.persons = [e for e in doc.entities if e.type == "PER"]
        self._parts = {e.id: _name_parts(doc.span_text(e)) for e in self.persons}
        # Who may name the same person, indexed by key, so a quote's speaker costs
        # O(its candidates), not O(all persons): same key, or one key is a
        # whole-word prefix / suffix of the other (the rule of _same_person_parts).
        self._order = {e.id: i for i, e in enumerate(self.persons)}
        self._by_key: dict[str, list[Entity]] = {}
        self._by_part: dict[str, list[Entity]] = {}  # key of a proper word prefix or suffix → persons having it
        for e in self.persons:
            key, bounds = self._parts[e.id]
            if not key:
                continue
            self._by_key.setdefault(key, []).append(e)
            for part in self._proper_parts(key, bounds):
                self._by_part.setdefault(part, []).append(e)
        self._mentions: dict[str, list[Entity]] = {}

    @staticmethod
    def _proper_parts(key: str, bounds: frozenset[int]) -> set[str]:
        return {p for b in bounds if 0 < b < len(key) for p in (key[:b], key[b:])}

    def mentions_of(self, per: Entity) -> list[Entity]:
        """The PER mentions that name the same person as ``per`` (itself included), in document order."""
        if per.id in self._mentions:
            return self._mentions[per.id]
        key, bounds = self._parts[per.id]
        cands: dict[str, Entity] = {per.id: per}
        if key:
            for p in self._by_key.get(key, []) + self._by_part.get(key, []):
                cands[p.id] = p
            for part in self._proper_parts(key, bounds):
                for p in self._by_key.get(part, []):
                    cands[p.id] = p
        mine = self._parts[per.id]
        out = sorted((p for p in cands.values() if p.id == per.id or _same_person_parts(mine, self._parts[p.id])),
                     key=lambda p: self._order[p.id])
        self._mentions[per.id] = out
        return out

    def fullest(self, per: Entity) -> Entity:
        """The longest mention of the person; ties go to the one nearest ``per``."""
        return min(
            self.mentions_of(per),
            key=lambda p: (-len(self._parts[p.id][0]), -(p.end - p.start), span_gap(p, per), p.start),
        )

    def title_of(self, person: Entity, quote: Entity) -> Entity | None:
        """The ROLE linked by role_of to any mention of ``person``, nearest to the quote."""
        roles = [r for m in self.mentions_of(person) for r in self.roles_of_person.get(m.id, [])]
        if not roles:
            return None
        return min(roles, key=lambda r: (span_gap(r, quote), r.start))

    def resolve(self, quote_id: str) -> Speaker | None:
        quote = self.ents.get(quote_id)
        if quote is None:
            raise KeyError(quote_id)
        rels = self.said_by.get(quote_id)
        if not rels:
            return None  # the text never names the speaker
        tail = self.ents[_best(rels).tail]
        text = self.doc.span_text
        person: Entity | None = None
        title: Entity | None = None
        if tail.type == "PER":
            person = tail
        elif tail.type == "ROLE":
            # The title that introduces the quote is its speaker's title by
            # definition, whatever other titles the person has.
            title = tail
            holders = self.role_of.get(tail.id)
            if holders:
                person = self.ents[_best(holders).tail]
        if person is None:
            # ORG, an unnamed ROLE (or a type the schema does not allow as a
            # speaker, from a broken prediction): the mention is all we know.
            return Speaker(tail.id, text(tail), tail.type, text(tail), text(title) if title else None, None)
        full = self.fullest(person)
        if title is None:
            title = self.title_of(full, quote)
        return Speaker(tail.id, text(tail), tail.type, text(full), text(title) if title else None, full.id)


def resolve_speaker(doc: Document, quote_entity_id: str) -> Speaker | None:
    """Resolve the speaker of one QUOTE of ``doc``.

    Returns None when the quote has no ``said_by`` (the text never names the
    speaker). Raises KeyError when ``quote_entity_id`` is not an entity of
    ``doc``. See :class:`Speaker` for what each field holds.
    """
    return _Resolver(doc).resolve(quote_entity_id)


def resolve_speakers(doc: Document) -> dict[str, Speaker | None]:
    """``{quote_id: Speaker | None}`` for every QUOTE of ``doc``; builds the
    relation indexes once, for scoring or exporting whole corpora."""
    res = _Resolver(doc)
    return {e.id: res.resolve(e.id) for e in doc.entities if e.type == "QUOTE"}


def _in_order(ents: Iterable[Entity]) -> list[Entity]:
    return sorted(ents, key=lambda e: (e.start, e.end))


def quotes_view(doc: Document) -> list[Quote]:
    """The ``quotes`` field of goftar's predict output: one :class:`Quote` per QUOTE
    in document order, with its speaker resolved (:func:`resolve_speaker`) and its
    sectors (``topic``, each SECTOR once, in document order).

    >>> from goftar.inference.document import Document, Entity, Relation
    >>> doc = Document("d", "قالیباف گفت: بانک‌ها باید کمک کنند",
    ...     [Entity("T1", "PER", 0, 7), Entity("T2", "QUOTE", 13, 34), Entity("T3", "SECTOR", 13, 20, category="BANKING_FINANCE")],
    ...     [Relation("said_by", "T2", "T1"), Relation("topic", "T2", "T3")])
    >>> [(q.text, q.speaker_name, [s.category for s in q.sectors]) for q in quotes_view(doc)]
    [('بانک‌ها باید کمک کنند', 'قالیباف', ['BANKING_FINANCE'])]
    """
    res = _Resolver(doc)
    out: list[Quote] = []
    for q in _in_order(e for e in doc.entities if e.type == "QUOTE"):
        seen: set[str] = set()
        sectors = []
        for s in _in_order(res.topics.get(q.id, [])):
            if s.id not in seen:
                seen.add(s.id)
                sectors.append(QuoteSector(s.id, doc.span_text(s), s.category))
        score = None if q.score is None else round(float(q.score), 4)
        out.append(Quote(q.id, doc.span_text(q), q.start, q.end, res.resolve(q.id), sectors, score))
    return out
