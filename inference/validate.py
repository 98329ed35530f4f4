"""Check documents against every rule of docs/ANNOTATION.md (the annotation guide).

>>> from goftar.inference.document import Document, Entity
>>> doc = Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 8)])
>>> validate_document(doc)
["T1: span ends with white space or punctuation (end=8 ' ')"]

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


def trim_span(text: str, start: int, end: int, chars: frozenset | set = EDGE_CHARS) -> tuple[int, int]:
    """Shrink ``[start, end)`` until it neither starts nor ends with one of ``chars`` (default: the edge characters)."""
    while start < end and text[start] in chars:
        start += 1
    while end > start and text[end - 1] in chars:
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
        if schema.has_categories(e.type):
            if e.category is None:
                problems.append(f"{e.id}: {e.type} without a category")
            elif e.category not in schema.sector_categories:
                problems.append(f"{e.id}: unknown sector category {e.category!r}")
        elif e.category is not None:
            problems.append(f"{e.id}: only {'/'.join(schema.category_types)} entities carry a category "
                            f"({e.type} has {e.category!r})")
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


def _located(path: Path, fmt: str | None, layer: str, accept_predictions: bool, schema: Schema,
             problems: list[str], warnings: list[str] | None):
    """``(where, Document | DocumentError)`` for every record of ``path`` in any format ``convert`` reads."""
    from . import formats
    from .formats.labelstudio import iter_labelstudio_located

    f = formats._resolved_format(path, fmt)
    if f == "jsonl":
        for lineno, doc in iter_jsonl(path):
            yield f"{path}:{lineno}", doc
    elif f == "labelstudio":
        notes: list = []

        def flush() -> None:
            for n in notes:  # what the importer repaired or skipped is a warning; what it had to drop is a problem
                if n.kind == "dropped":
                    problems.append(str(n))
                elif warnings is not None:
                    warnings.append(str(n))
            notes.clear()

        for where, doc in iter_labelstudio_located(path, accept_predictions=accept_predictions, schema=schema,
                                                   notes=notes):
            yield where, doc
            flush()
        flush()
    elif f == "doccano":
        from .document import iter_json_lines

        for lineno, where, obj in iter_json_lines(path):
            if isinstance(obj, DocumentError):
                yield where, obj
                continue
            try:
                yield where, formats._doccano_record(obj, where, f"{path.stem}-{lineno:06d}", None)
            except DocumentError as exc:
                yield where, exc
    elif f in formats.BIO_FORMATS:
        for doc in formats.iter_bio(path, f, layer=layer):
            line = str(doc.meta.get("origin", "")).rpartition(":")[2] if isinstance(doc, Document) else ""
            yield (f"{path}:{line}" if line else str(path)), doc
    else:  # brat
        root = path if path.is_dir() else path.parent
        for doc in formats.iter_brat(path):
            yield (str(root / f"{doc.id}.ann") if isinstance(doc, Document) else str(path)), doc


def validate_files(
    paths: Iterable[str | Path], schema: Schema | None = None, fmt: str | None = None, *, layer: str = "ne",
    accept_predictions: bool = False, warnings: list[str] | None = None,
) -> tuple[int, list[str]]:
    """Validate annotation files in any format ``goftar convert`` reads. Returns (documents checked, problem lines).

    ``fmt`` is the format of every file (detected per file when None). Each
    problem is ``where doc-id: what`` with ``where`` the record's location:
    ``file:line`` (goftar JSONL, doccano, a BIO sentence's first line),
    ``file:task N`` (Label Studio) or the ``.ann`` file (BRAT). A Label
    Studio span or relation the importer would drop is a problem; what it
    would repair, and a task it would skip (no human annotation), goes to
    ``warnings``.
    """
    schema = schema or Schema.default()
    out: list[str] = []
    n = 0
    for raw in paths:
        path = Path(raw)
        if not path.exists():
            out.append(f"{path}: no such file or folder")
            continue
        ids: dict[str, str] = {}
        try:
            for where, doc in _located(path, fmt, layer, accept_predictions, schema, out, warnings):
                n += 1
                if isinstance(doc, DocumentError):
                    out.append(str(doc))
                    continue
                at = f"{where} {doc.id}"
                if doc.id in ids:
                    out.append(f"{at}: document id also used at {ids[doc.id]}")
                ids.setdefault(doc.id, where)
                out.extend(f"{at}: {p}" for p in validate_document(doc, schema))
        except ValueError as exc:  # FormatError: a file whose format cannot be told
            out.append(str(exc))
    return n, out


def _validate_command(args) -> int:
    import sys

    warnings: list[str] = []
    n, problems = validate_files(args.files, fmt=args.from_format, layer=args.layer,
                                 accept_predictions=args.accept_predictions, warnings=warnings)
    for w in warnings:
        print(f"warning: {w}", file=sys.stderr)
    for p in problems:
        print(p)
    print(f"{n} documents checked, {len(problems)} problems, {len(warnings)} warnings", file=sys.stderr)
    return 1 if problems else 0


def register(sub) -> None:
    """Add ``goftar validate FILE... [--from FMT] [--layer L] [--accept-predictions]``."""
    from .formats import FORMATS

    p = sub.add_parser(
        "validate", help="check annotations (any format convert reads) against docs/ANNOTATION.md",
        description="Check annotation files against the guide (docs/ANNOTATION.md): goftar JSONL, Label Studio "
                    "exports, doccano JSONL, BRAT folders, BIO files. Each problem names file:line or file:task. "
                    "The exit status is 1 when there is any problem.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="files, or BRAT folders")
    p.add_argument("--from", dest="from_format", metavar="FMT", help=f"format of every file ({', '.join(FORMATS)}; "
                   "default: detected per file)")
    p.add_argument("--layer", default="ne", help="layer a conll BIO file holds (default: ne)")
    p.add_argument("--accept-predictions", action="store_true",
                   help="Label Studio: check tasks nobody annotated by their prediction (default: skip them with a warning)")
    p.set_defaults(func=_validate_command)
