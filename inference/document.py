"""Documents, entities and relations in the goftar JSONL format (docs/ANNOTATION.md).

One JSON object per line::

    {"id": "...", "text": "...", "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 7}],
     "relations": [{"type": "said_by", "head": "T2", "tail": "T1"}], "meta": {}}

Offsets are Python string indices into ``text`` (end exclusive) and always
point into the caller's original string.
"""
from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

from .errors import InputError


class DocumentError(InputError):
    """A document that cannot be read; the message says where (file:line)."""


_SURROGATE = re.compile("[\ud800-\udfff]")


def unicode_problem(value: Any, name: str = "text") -> str | None:
    """Where ``value`` (a string, or JSON data holding strings) has an unpaired surrogate, else None.

    JSON may spell them (``"\\ud800"``) and Python strings may hold them, but
    they are not text: no UTF-8 file can store them and tokenizers reject them.

    >>> unicode_problem("ab" + chr(0xD800) + "c")
    'text: unpaired surrogate U+D800 at offset 2'
    """
    if isinstance(value, str):
        m = _SURROGATE.search(value)
        return f"{name}: unpaired surrogate U+{ord(m.group()):04X} at offset {m.start()}" if m else None
    if isinstance(value, dict):
        for k, v in value.items():
            p = unicode_problem(k, f"{name} key") or unicode_problem(v, f"{name}.{k}" if isinstance(k, str) else name)
            if p:
                return p
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            p = unicode_problem(v, f"{name}[{i}]")
            if p:
                return p
    return None


def _str_or_int(v: Any) -> bool:
    return isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool))


def _int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _num_or_none(v: Any) -> bool:
    return v is None or (isinstance(v, (int, float)) and not isinstance(v, bool))


def record_problem(obj: Any) -> str | None:
    """What is wrong with an input record ``{"id", "text", "meta"}`` (None when nothing is).

    ``text`` a string, ``id`` a string or an integer, ``meta`` an object (or
    absent), no unpaired surrogates; other fields are not read.
    """
    if not isinstance(obj, dict):
        return f"expected an object with a string 'text', got {_json_type(obj)}"
    if not isinstance(obj.get("text"), str):
        return "expected an object with a string 'text'" + (f" (text is {_json_type(obj['text'])})" if "text" in obj else "")
    if "id" in obj and not _str_or_int(obj["id"]):
        return f"id: expected a string or an integer, got {_json_type(obj['id'])}"
    if obj.get("meta") is not None and not isinstance(obj["meta"], dict):
        return f"meta: expected an object, got {_json_type(obj['meta'])}"
    for key in ("id", "text", "meta"):
        p = unicode_problem(obj.get(key), key)
        if p:
            return p
    return None


def _json_type(v: Any) -> str:
    return "null" if v is None else {"bool": "boolean", "int": "number", "float": "number", "str": "string",
                                      "list": "array", "dict": "object"}.get(type(v).__name__, type(v).__name__)


def _check_fields(d: dict[str, Any]) -> str | None:
    """The first field of a document object whose JSON type is wrong, said as ``field: expected …, got …``."""
    got = _json_type

    if "id" in d and not _str_or_int(d["id"]):
        return f"id: expected a string or an integer, got {got(d['id'])}"
    for key, want, ok in (("meta", "an object", lambda v: v is None or isinstance(v, dict)),
                          ("entities", "an array", lambda v: v is None or isinstance(v, list)),
                          ("relations", "an array", lambda v: v is None or isinstance(v, list)),
                          ("quotes", "an array", lambda v: v is None or isinstance(v, list)),
                          ("error", "a string", lambda v: v is None or isinstance(v, str))):
        if key in d and not ok(d[key]):
            return f"{key}: expected {want}, got {got(d[key])}"
    for i, e in enumerate(d.get("entities") or []):
        if not isinstance(e, dict):
            return f"entities[{i}]: expected an object, got {got(e)}"
        for k, ok, want in (("id", _str_or_int, "a string"), ("type", lambda v: isinstance(v, str), "a string"),
                            ("start", _int, "an integer"), ("end", _int, "an integer")):
            if k not in e:
                return f"entities[{i}]: missing {k!r}"
            if not ok(e[k]):
                return f"entities[{i}].{k}: expected {want}, got {got(e[k])}"
        for k in ("category", "text"):
            if e.get(k) is not None and not isinstance(e[k], str):
                return f"entities[{i}].{k}: expected a string, got {got(e[k])}"
        if not _num_or_none(e.get("score")):
            return f"entities[{i}].score: expected a number, got {got(e['score'])}"
    for i, r in enumerate(d.get("relations") or []):
        if not isinstance(r, dict):
            return f"relations[{i}]: expected an object, got {got(r)}"
        for k in ("type", "head", "tail"):
            if k not in r:
                return f"relations[{i}]: missing {k!r}"
            if not _str_or_int(r[k]):
                return f"relations[{i}].{k}: expected a string, got {got(r[k])}"
        if not _num_or_none(r.get("score")):
            return f"relations[{i}].score: expected a number, got {got(r['score'])}"
    return None


@dataclass
class Entity:
    id: str
    type: str
    start: int
    end: int
    category: str | None = None
    score: float | None = None
    text: str | None = None

    def to_dict(self, doc_text: str | None = None) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "type": self.type, "start": self.start, "end": self.end}
        if doc_text is not None:
            d["text"] = doc_text[self.start:self.end]
        elif self.text is not None:
            d["text"] = self.text
        if self.category is not None:
            d["category"] = self.category
        if self.score is not None:
            d["score"] = round(float(self.score), 4)
        return d


@dataclass
class Relation:
    type: str
    head: str
    tail: str
    score: float | None = None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"type": self.type, "head": self.head, "tail": self.tail}
        if self.score is not None:
            d["score"] = round(float(self.score), 4)
        return d


@dataclass(frozen=True)
class Speaker:
    """The resolved speaker of one QUOTE (:func:`goftar.inference.quotes.resolve_speaker`).

    mention_id / mention_text / mention_type: the ``said_by`` tail as annotated
    or predicted (PER, ROLE or ORG).
    name: the fullest name of the person (PER), the organisation's text (ORG),
    or, for a ROLE whose holder the document never names, the title itself, so
    two different unnamed speakers never compare equal.
    title: a ROLE held by that person (None when there is none; for an ORG).
    person_id: the PER mention whose text is ``name`` (None for ORG, for an
    unnamed ROLE, and for a speaker read back from a ``quotes`` field).

    >>> Speaker("T2", "وی", "PER", "محمدباقر قالیباف", "رئیس مجلس", "T1").name
    'محمدباقر قالیباف'
    """

    mention_id: str
    mention_text: str
    mention_type: str
    name: str
    title: str | None = None
    person_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class _ReadsLikeItsDict:
    """``x["field"]``, ``x.get("field")`` and ``"field" in x`` read ``x.to_dict()``:
    the interface of goftar 0.1, whose quotes were plain dicts."""

    def to_dict(self) -> dict[str, Any]:
        raise NotImplementedError

    def __getitem__(self, key: str) -> Any:
        d = self.to_dict()
        if key not in d:
            raise KeyError(key)
        return d[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.to_dict()

    def keys(self):
        return self.to_dict().keys()


@dataclass(frozen=True)
class QuoteSector(_ReadsLikeItsDict):
    """A sector a quote is about (``topic``): the SECTOR mention and its category."""

    id: str
    text: str
    category: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "text": self.text, "category": self.category}


@dataclass
class Quote(_ReadsLikeItsDict):
    """One quote of a document with its resolved speaker and its sectors: an item of ``Document.quotes``.

    ``to_dict()`` is the item of the ``quotes`` field of goftar's JSONL (docs/ANNOTATION.md)::

        {"id", "text", "start", "end", ["score",] "speaker": {"id", "text", "type"} | None,
         "speaker_name", "speaker_title", "sectors": [{"id", "text", "category"}]}

    For code written against the dicts of goftar 0.1, ``quote["speaker_name"]`` and
    ``quote.get("score")`` still read those fields.

    >>> q = Quote("T3", "باید تلاش کنیم", 32, 46, Speaker("T1", "قالیباف", "PER", "محمدباقر قالیباف", "رئیس مجلس"))
    >>> q.speaker_name, q["speaker_title"], q.to_dict()["speaker"]
    ('محمدباقر قالیباف', 'رئیس مجلس', {'id': 'T1', 'text': 'قالیباف', 'type': 'PER'})
    """

    id: str
    text: str
    start: int
    end: int
    speaker: Speaker | None = None
    sectors: list[QuoteSector] = field(default_factory=list)
    score: float | None = None

    @property
    def speaker_name(self) -> str | None:
        return self.speaker.name if self.speaker else None

    @property
    def speaker_title(self) -> str | None:
        return self.speaker.title if self.speaker else None

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {"id": self.id, "text": self.text, "start": self.start, "end": self.end}
        if self.score is not None:
            d["score"] = round(float(self.score), 4)
        sp = self.speaker
        d["speaker"] = {"id": sp.mention_id, "text": sp.mention_text, "type": sp.mention_type} if sp else None
        d["speaker_name"] = self.speaker_name
        d["speaker_title"] = self.speaker_title
        d["sectors"] = [s.to_dict() for s in self.sectors]
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "quotes") -> "Quote":
        """A Quote from its JSON object (a ``quotes`` item); a wrong field is a :class:`DocumentError` naming it."""
        if not isinstance(d, dict):
            raise DocumentError(f"{where}: expected an object, got {_json_type(d)}")
        for k, ok, want in (("id", _str_or_int, "a string"), ("start", _int, "an integer"), ("end", _int, "an integer")):
            if k not in d:
                raise DocumentError(f"{where}: missing {k!r}")
            if not ok(d[k]):
                raise DocumentError(f"{where}.{k}: expected {want}, got {_json_type(d[k])}")
        if not _num_or_none(d.get("score")):
            raise DocumentError(f"{where}.score: expected a number, got {_json_type(d['score'])}")
        sp = d.get("speaker")
        speaker = None
        if sp is not None or d.get("speaker_name") is not None:
            if sp is not None and not isinstance(sp, dict):
                raise DocumentError(f"{where}.speaker: expected an object or null, got {_json_type(sp)}")
            sp = sp or {}
            speaker = Speaker(str(sp.get("id", "")), sp.get("text") or "", sp.get("type") or "",
                              d.get("speaker_name") or sp.get("text") or "", d.get("speaker_title"))
        sectors = d.get("sectors") or []
        if not isinstance(sectors, list) or not all(isinstance(s, dict) and "id" in s for s in sectors):
            raise DocumentError(f"{where}.sectors: expected an array of objects with an 'id'")
        return cls(str(d["id"]), d.get("text") or "", d["start"], d["end"], speaker,
                   [QuoteSector(str(s["id"]), s.get("text") or "", s.get("category")) for s in sectors], d.get("score"))


@dataclass
class Document:
    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    quotes: list[Quote] | None = None  # speakers resolved (goftar.inference.quotes.quotes_view); None when not computed
    where: str | None = field(default=None, repr=False, compare=False)  # "file:line" it was read from; not written

    # -- lookup -------------------------------------------------------
    def entity(self, eid: str) -> Entity:
        for e in self.entities:
            if e.id == eid:
                return e
        raise KeyError(eid)

    def by_id(self) -> dict[str, Entity]:
        return {e.id: e for e in self.entities}

    def span_text(self, e: Entity) -> str:
        return self.text[e.start:e.end]

    # -- (de)serialisation --------------------------------------------
    @classmethod
    def from_dict(cls, d: dict[str, Any], where: str = "") -> "Document":
        """A Document from its JSON object; any field of the wrong type is a :class:`DocumentError` naming it."""
        prefix = f"{where}: " if where else ""
        if not isinstance(d, dict):
            raise DocumentError(f"{prefix}expected a JSON object, got {type(d).__name__}")
        if "text" not in d or not isinstance(d["text"], str):
            raise DocumentError(f"{prefix}missing string field 'text'")
        problem = _check_fields(d) or unicode_problem(d, "record")
        if problem:
            raise DocumentError(f"{prefix}{problem}")
        ents = [
            Entity(id=str(e["id"]), type=e["type"], start=e["start"], end=e["end"],
                   category=e.get("category"), score=e.get("score"), text=e.get("text"))
            for e in d.get("entities") or []
        ]
        rels = [
            Relation(type=str(r["type"]), head=str(r["head"]), tail=str(r["tail"]), score=r.get("score"))
            for r in d.get("relations") or []
        ]
        return cls(
            id=str(d.get("id", "")), text=d["text"], entities=ents, relations=rels,
            meta=dict(d.get("meta") or {}), error=d.get("error"),
            quotes=None if d.get("quotes") is None else [
                Quote.from_dict(q, f"{prefix}quotes[{i}]") for i, q in enumerate(d["quotes"])],
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict(self.text) for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
        }
        if self.quotes is not None:
            d["quotes"] = [q.to_dict() if isinstance(q, Quote) else q for q in self.quotes]
        if self.meta:
            d["meta"] = self.meta
        if self.error is not None:
            d["error"] = self.error
        return d

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False)


def iter_json_lines(path: str | Path, encoding: str = "utf-8", check_unicode: bool = True) -> Iterator[tuple[int, str, Any]]:
    """Yield ``(line_number, "file:line", object)`` for each non-blank line of a JSON-lines file.

    A line that is not valid text in ``encoding``, not JSON, or that spells
    an unpaired surrogate (``"\\ud800"``) yields a :class:`DocumentError` as its
    object, saying where and what, so callers can report it and go on.
    ``check_unicode=False`` leaves surrogates to the caller's own record check.
    """
    path = Path(path)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                obj = json.loads(raw.decode(encoding))
                problem = unicode_problem(obj, "line") if check_unicode and b"\\u" in raw.lower() else None
                yield lineno, where, DocumentError(f"{where}: {problem}") if problem else obj
            except UnicodeDecodeError as exc:
                yield lineno, where, DocumentError(f"{where}: invalid {encoding} at byte {exc.start} of the line")
            except json.JSONDecodeError as exc:
                yield lineno, where, DocumentError(f"{where}: invalid JSON at column {exc.colno}: {exc.msg}")


def iter_jsonl(path: str | Path, strict: bool = False) -> Iterator[tuple[int, Document | DocumentError]]:
    """Yield ``(line_number, Document)`` for each line of a goftar JSONL file.

    A broken line yields ``(line_number, DocumentError)`` instead of stopping
    the file (``strict=True`` raises it), so one bad document never loses the
    rest of a batch.
    """
    for lineno, where, obj in iter_json_lines(path):
        if not isinstance(obj, DocumentError):
            try:
                yield lineno, Document.from_dict(obj, where)
                continue
            except DocumentError as exc:
                obj = exc
        if strict:
            raise obj
        yield lineno, obj


def read_jsonl(path: str | Path) -> list[Document]:
    """Read every document of a goftar JSONL file; raise on the first broken line."""
    return [d for _, d in iter_jsonl(path, strict=True)]  # type: ignore[misc]


def write_jsonl(docs: Iterable[Document], path: str | Path) -> int:
    """Write ``docs`` as JSON lines; into a temporary file moved into place at the end, so a failure
    (or ``path`` being one of the inputs still read) never truncates an existing file."""
    from .io import atomic_write

    n = 0
    with atomic_write(path) as f:
        for d in docs:
            f.write(d.to_json() + "\n")
            n += 1
    return n
