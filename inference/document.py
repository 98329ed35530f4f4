"""Documents, entities and relations in the goftar JSONL format (docs/ANNOTATION.md).

One JSON object per line::

    {"id": "...", "text": "...", "entities": [{"id": "T1", "type": "PER", "start": 0, "end": 7}],
     "relations": [{"type": "said_by", "head": "T2", "tail": "T1"}], "meta": {}}

Offsets are Python string indices into ``text`` (end exclusive) and always
point into the caller's original string.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator


class DocumentError(ValueError):
    """A document that cannot be read; the message says where (file:line)."""


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
        prefix = f"{where}: " if where else ""
        if not isinstance(d, dict):
            raise DocumentError(f"{prefix}expected a JSON object, got {type(d).__name__}")
        if "text" not in d or not isinstance(d["text"], str):
            raise DocumentError(f"{prefix}missing string field 'text'")
        try:
            ents = [
                Entity(
                    id=str(e["id"]), type=str(e["type"]), start=int(e["start"]), end=int(e["end"]),
                    category=e.get("category"), score=e.get("score"), text=e.get("text"),
                )
                for e in d.get("entities", []) or []
            ]
            rels = [
                Relation(type=str(r["type"]), head=str(r["head"]), tail=str(r["tail"]), score=r.get("score"))
                for r in d.get("relations", []) or []
            ]
        except (KeyError, TypeError, ValueError) as exc:
            raise DocumentError(f"{prefix}malformed entity or relation ({exc!r})") from None
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


def iter_json_lines(path: str | Path) -> Iterator[tuple[int, str, Any]]:
    """Yield ``(line_number, "file:line", object)`` for each non-blank line of a JSON-lines file.

    A line that is not UTF-8 or not JSON yields a :class:`DocumentError` as
    its object, saying where and what, so callers can report it and go on.
    """
    path = Path(path)
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            if not raw.strip():
                continue
            where = f"{path}:{lineno}"
            try:
                yield lineno, where, json.loads(raw.decode("utf-8"))
            except UnicodeDecodeError as exc:
                yield lineno, where, DocumentError(f"{where}: invalid UTF-8 at byte {exc.start} of the line")
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
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(d.to_json() + "\n")
            n += 1
    return n
