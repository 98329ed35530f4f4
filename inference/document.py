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
from dataclasses import dataclass, field
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


@dataclass
class Document:
    id: str
    text: str
    entities: list[Entity] = field(default_factory=list)
    relations: list[Relation] = field(default_factory=list)
    meta: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    quotes: list[dict[str, Any]] | None = None
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
            meta=dict(d.get("meta") or {}), error=d.get("error"), quotes=d.get("quotes"),
        )

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "id": self.id,
            "text": self.text,
            "entities": [e.to_dict(self.text) for e in self.entities],
            "relations": [r.to_dict() for r in self.relations],
        }
        if self.quotes is not None:
            d["quotes"] = self.quotes
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
