"""doccano JSONL: ``{"text", "entities": [{"id", "label", "start_offset", "end_offset"}], "relations": [...]}``.

A sector is the label ``SECTOR:<CATEGORY>``, as in Label Studio (:mod:`.labelstudio`).
"""
from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from ..document import Document, DocumentError, Entity, Relation, iter_json_lines
from ..schema import Schema
from ._common import _count, _schema, _strict
from .labelstudio import span_label as _category_label, split_label as _split_label

_DOCCANO_KEYS = {"id", "text", "data", "entities", "relations", "label", "labels", "Comments", "comments",
                 "doc_id", "meta"}


def _doccano_eid(x: Any) -> str:
    return f"T{x}" if isinstance(x, int) or (isinstance(x, str) and x.isdigit()) else str(x)


def _doccano_record(obj: Any, where: str, default_id: str, warnings: Counter | None) -> Document:
    if not isinstance(obj, dict):
        raise DocumentError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    text = obj.get("text", obj.get("data"))
    if not isinstance(text, str):
        raise DocumentError(f"{where}: missing string field 'text'")
    entities: list[Entity] = []
    try:
        for e in obj.get("entities") or []:
            typ, cat = _split_label(str(e["label"]))
            entities.append(Entity(_doccano_eid(e["id"]), typ, int(e["start_offset"]), int(e["end_offset"]), cat))
        spans = obj.get("label") if "label" in obj else obj.get("labels")
        for s in spans or []:  # sequence-labelling export without relations: [start, end, label]
            if isinstance(s, (list, tuple)) and len(s) == 3:
                typ, cat = _split_label(str(s[2]))
                entities.append(Entity(f"T{len(entities) + 1}", typ, int(s[0]), int(s[1]), cat))
            else:
                _count(warnings, "doccano: non-span labels ignored")
        relations = [
            Relation(str(r["type"]), _doccano_eid(r["from_id"]), _doccano_eid(r["to_id"]))
            for r in obj.get("relations") or []
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise DocumentError(f"{where}: malformed entity or relation ({exc!r})") from None
    for e in entities:
        if not 0 <= e.start < e.end <= len(text):
            raise DocumentError(
                f"{where}: entity {e.id} offsets {e.start}-{e.end} outside the text (length {len(text)})")
    ids = {e.id for e in entities}
    for rel in relations:
        for eid in (rel.head, rel.tail):
            if eid not in ids:
                raise DocumentError(f"{where}: relation {rel.type} {rel.head}->{rel.tail} refers to no entity {eid}")
    # doccano returns the fields it imported as meta at the top level; keep them.
    meta = dict(obj["meta"]) if isinstance(obj.get("meta"), dict) else {}
    meta.update({k: v for k, v in obj.items() if k not in _DOCCANO_KEYS})
    doc_id = obj.get("doc_id") or (f"doccano-{obj['id']}" if obj.get("id") is not None else default_id)
    return Document(str(doc_id), text, entities, relations, meta)


def iter_doccano(path: str | Path, *, warnings: Counter | None = None) -> Iterator[Document | DocumentError]:
    """Yield the documents of a doccano JSONL export.

    Reads ``{"text", "entities": [{"id", "label", "start_offset",
    "end_offset"}], "relations": [{"id", "from_id", "to_id", "type"}]}``
    and the older ``{"text", "label": [[start, end, "PER"], …]}``. Entity id
    ``7`` becomes ``T7``; a label ``SECTOR:TRADE`` is a SECTOR with category
    TRADE. A broken line yields ``DocumentError("file:line: …")``.
    """
    path = Path(path)
    for lineno, where, obj in iter_json_lines(path):
        if isinstance(obj, DocumentError):
            yield obj
            continue
        try:
            yield _doccano_record(obj, where, f"{path.stem}-{lineno:06d}", warnings)
        except DocumentError as exc:
            yield exc


def read_doccano(path: str | Path, **kwargs: Any) -> list[Document]:
    """All documents of a doccano JSONL file (see :func:`iter_doccano`); raise on the first broken line."""
    return _strict(iter_doccano(path, **kwargs))


def _numeric_ids(entities: Sequence[Entity]) -> dict[str, int]:
    """goftar ids → integers: ``T12`` → 12, other ids get fresh numbers."""
    out: dict[str, int] = {}
    for e in entities:
        m = re.fullmatch(r"T?(\d+)", e.id)
        if m and int(m.group(1)) not in out.values():
            out[e.id] = int(m.group(1))
    nxt = max(out.values(), default=0)
    for e in entities:
        if e.id not in out:
            nxt += 1
            out[e.id] = nxt
    return out


def doccano_record(doc: Document, schema: Schema | None = None) -> dict[str, Any]:
    """One document as a doccano JSONL record (entity ``T7`` gets id 7).

    >>> from goftar.inference.document import Document, Entity
    >>> doccano_record(Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 7)]))["entities"]
    [{'id': 1, 'label': 'PER', 'start_offset': 0, 'end_offset': 7}]
    """
    num = _numeric_ids(doc.entities)
    sch = _schema(schema)
    rec: dict[str, Any] = {
        "doc_id": doc.id,
        "text": doc.text,
        "entities": [
            {"id": num[e.id], "label": _category_label(e, sch), "start_offset": e.start, "end_offset": e.end}
            for e in doc.entities
        ],
        "relations": [
            {"id": k, "from_id": num.get(r.head, r.head), "to_id": num.get(r.tail, r.tail), "type": r.type}
            for k, r in enumerate(doc.relations, 1)
        ],
    }
    if doc.meta:
        rec["meta"] = doc.meta
    return rec


def write_doccano(docs: Iterable[Document], path: str | Path) -> int:
    """Write documents as doccano JSONL (import with relations enabled). Returns the count."""
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        for doc in docs:
            f.write(json.dumps(doccano_record(doc), ensure_ascii=False) + "\n")
            n += 1
    return n
