"""Check documents against every rule of ANNOTATION.md.

>>> from goftar.inference.document import Document, Entity
>>> doc = Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 8)])
>>> validate_document(doc)
['T1: span ends with white space or punctuation (end=8 \\' \\')']

Every problem is one line ``file:line doc-id: what is wrong`` so a user can
jump to it.
"""
from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Iterable

from .document import Document, DocumentError, iter_jsonl
from .schema import Schema

# Characters a span may not start or end with (white space, ZWNJ, and
# punctuation that the guide keeps outside mentions: quotation marks, the
# colon after a speech verb, the final full stop, list commas).
EDGE_CHARS = frozenset(" \t\n\r\u200b\u200c\u200d\u200e\u200f\u00a0«»\"“”'.,:;،؛")


def trim_span(text: str, start: int, end: int) -> tuple[int, int]:
    """Shrink ``[start, end)`` until it neither starts nor ends with an edge character."""
    while start < end and text[start] in EDGE_CHARS:
        start += 1
    while end > start and text[end - 1] in EDGE_CHARS:
        end -= 1
    return start, end


def validate_document(doc: Document, schema: Schema | None = None) -> list[str]:
    """Return the problems of one document (empty list when it is clean)."""
    schema = schema or Schema.default()
    problems: list[str] = []
    text = doc.text
    n = len(text)
    if not doc.id:
        problems.append("document has no id")
    seen: Counter[str] = Counter(e.id for e in doc.entities)
    for eid, c in seen.items():
        if c > 1:
            problems.append(f"{eid}: entity id used {c} times")
    by_layer: dict[str, list] = {}
    for e in doc.entities:
        layer = schema.layer_of(e.type)
        if layer is None:
            problems.append(f"{e.id}: unknown entity type {e.type!r} (known: {', '.join(schema.entity_types)})")
            continue
        if not (0 <= e.start < e.end <= n):
            problems.append(f"{e.id}: offsets {e.start}-{e.end} outside the text (length {n}) or empty")
            continue
        span = text[e.start:e.end]
        if e.text is not None and e.text != span:
            problems.append(f"{e.id}: text {e.text!r} does not match text[{e.start}:{e.end}] = {span!r}")
        if span[0] in EDGE_CHARS:
            problems.append(f"{e.id}: span starts with white space or punctuation (start={e.start} {span[0]!r})")
        if span[-1] in EDGE_CHARS:
            problems.append(f"{e.id}: span ends with white space or punctuation (end={e.end} {span[-1]!r})")
        if e.type == "SECTOR":
            if e.category is None:
                problems.append(f"{e.id}: SECTOR without a category")
            elif e.category not in schema.sector_categories:
                problems.append(f"{e.id}: unknown sector category {e.category!r}")
        elif e.category is not None:
            problems.append(f"{e.id}: only SECTOR entities carry a category ({e.type} has {e.category!r})")
        by_layer.setdefault(layer, []).append(e)
    for layer, ents in by_layer.items():
        ents = sorted(ents, key=lambda e: (e.start, e.end))
        for a, b in zip(ents, ents[1:]):
            if b.start < a.end:
                problems.append(f"{b.id}: overlaps {a.id} in layer {layer!r} ({a.start}-{a.end} and {b.start}-{b.end})")
    ents_by_id = {e.id: e for e in doc.entities}
    per_head: Counter[tuple[str, str]] = Counter()
    seen_rel: set[tuple[str, str, str]] = set()
    for r in doc.relations:
        key = (r.type, r.head, r.tail)
        if key in seen_rel:
            problems.append(f"{r.type} {r.head}->{r.tail}: duplicate relation")
        seen_rel.add(key)
        rt = schema.relations.get(r.type)
        if rt is None:
            problems.append(f"{r.type} {r.head}->{r.tail}: unknown relation type (known: {', '.join(schema.relations)})")
            continue
        head, tail = ents_by_id.get(r.head), ents_by_id.get(r.tail)
        if head is None or tail is None:
            missing = r.head if head is None else r.tail
            problems.append(f"{r.type} {r.head}->{r.tail}: no entity with id {missing}")
            continue
        if head.type not in rt.head or tail.type not in rt.tail:
            problems.append(
                f"{r.type} {r.head}->{r.tail}: {head.type}->{tail.type} not allowed "
                f"(head {'/'.join(rt.head)}, tail {'/'.join(rt.tail)})"
            )
        per_head[(r.type, r.head)] += 1
    for (rtype, head), c in per_head.items():
        mx = schema.relations[rtype].max_per_head
        if mx is not None and c > mx:
            problems.append(f"{head}: {c} {rtype} relations (at most {mx})")
    return problems


def validate_files(paths: Iterable[str | Path], schema: Schema | None = None) -> tuple[int, list[str]]:
    """Validate JSONL files. Returns (documents checked, problem lines)."""
    schema = schema or Schema.default()
    out: list[str] = []
    n = 0
    for path in paths:
        ids: dict[str, int] = {}
        if not Path(path).is_file():  # report it and check the other files
            out.append(f"{path}: {'is a folder, not a JSONL file' if Path(path).is_dir() else 'no such file'}")
            continue
        for lineno, doc in iter_jsonl(path):
            n += 1
            if isinstance(doc, DocumentError):
                out.append(str(doc))
                continue
            where = f"{path}:{lineno} {doc.id}"
            if doc.id in ids:
                out.append(f"{where}: document id also used on line {ids[doc.id]}")
            ids.setdefault(doc.id, lineno)
            out.extend(f"{where}: {p}" for p in validate_document(doc, schema))
    return n, out
