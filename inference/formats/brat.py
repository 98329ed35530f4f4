"""BRAT standoff: a folder of ``name.txt`` + ``name.ann`` pairs; a sector's category is an attribute line."""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from ..document import Document, DocumentError, Entity, Relation
from ..schema import Schema
from ._common import _count, _schema, _strict


def _brat_document(txt: Path, ann: Path, doc_id: str, warnings: Counter | None) -> Document:
    try:
        # newline="" keeps \r\n as two characters: BRAT counts them both.
        with open(txt, encoding="utf-8", newline="") as f:
            text = f.read()
    except FileNotFoundError:
        raise DocumentError(f"{ann}: no text file {txt.name} beside it") from None
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{txt}: invalid UTF-8 at byte {exc.start}") from None
    entities: dict[str, Entity] = {}
    relations: list[Relation] = []
    categories: list[tuple[str, str, str]] = []
    try:
        with open(ann, encoding="utf-8", newline="") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as exc:
        raise DocumentError(f"{ann}: invalid UTF-8 at byte {exc.start}") from None
    for lineno, line in enumerate(lines, 1):
        where = f"{ann}:{lineno}"
        if not line.strip():
            continue
        kind = line[0]
        fields = line.split("\t")
        if kind == "#":
            continue  # annotator notes: comments, not annotation
        if kind == "T":
            if len(fields) < 2:
                raise DocumentError(f"{where}: an entity line is 'T1<TAB>TYPE start end<TAB>text', got {line!r}")
            typ, _, spans = fields[1].partition(" ")
            try:
                frags = [tuple(int(x) for x in frag.split()) for frag in spans.split(";")]
                if any(len(fr) != 2 for fr in frags):
                    raise ValueError
            except ValueError:
                raise DocumentError(
                    f"{where}: bad offsets {spans!r} (expected 'start end' or 'start end;start end')") from None
            start, end = frags[0][0], frags[-1][1]
            if not 0 <= start < end <= len(text):
                raise DocumentError(f"{where}: offsets {start}-{end} outside {txt.name} (length {len(text)})")
            for (_, e1), (s2, _) in zip(frags, frags[1:]):
                if text[e1:s2].strip():
                    raise DocumentError(f"{where}: discontinuous entity {fields[0]}; goftar spans are contiguous")
            if len(fields) > 2:
                expected = " ".join(text[s:e] for s, e in frags)
                if fields[2] != expected and fields[2] != re.sub(r"[\r\n]", " ", expected):
                    raise DocumentError(
                        f"{where}: {fields[0]} text {fields[2]!r} is not {txt.name}[{start}:{end}] = {expected!r} "
                        "(offsets must count characters of the .txt, not bytes)"
                    )
            if fields[0] in entities:
                raise DocumentError(f"{where}: entity id {fields[0]} used twice")
            entities[fields[0]] = Entity(fields[0], typ, start, end)
        elif kind == "R":
            parts = fields[1].split() if len(fields) > 1 else []
            args = dict(p.split(":", 1) for p in parts[1:] if ":" in p)
            if len(parts) != 3 or len(args) != 2:
                raise DocumentError(f"{where}: a relation line is 'R1<TAB>type Arg1:T1 Arg2:T2', got {line!r}")
            head, tail = args.get("Arg1"), args.get("Arg2")
            if head is None or tail is None:
                head, tail = (p.split(":", 1)[1] for p in parts[1:])
            relations.append(Relation(parts[0], head, tail))
        elif kind in "AM":
            parts = fields[1].split() if len(fields) > 1 else []
            if len(parts) == 3 and parts[0] == "Category":
                categories.append((where, parts[1], parts[2]))
            else:
                name = parts[0] if parts else "?"
                _count(warnings, f"brat: attributes other than 'Category <T> <CATEGORY>' ignored ({name})")
        elif kind == "N":
            _count(warnings, "brat: normalization (N) lines ignored")
        else:
            raise DocumentError(f"{where}: {kind!r} annotations (events, equivalences) are not in the goftar schema")
    for where, eid, cat in categories:
        if eid not in entities:
            raise DocumentError(f"{where}: Category of unknown entity {eid}")
        entities[eid].category = cat
    for rel in relations:
        for eid in (rel.head, rel.tail):
            if eid not in entities:
                raise DocumentError(f"{ann}: relation {rel.type} {rel.head}->{rel.tail} refers to no entity {eid}")
    return Document(doc_id, text, list(entities.values()), relations, {})


def iter_brat(path: str | Path, *, warnings: Counter | None = None) -> Iterator[Document | DocumentError]:
    """Yield the documents of a BRAT collection: a folder of ``name.txt`` + ``name.ann`` pairs.

    ``path`` is the folder (searched recursively, in name order) or one
    ``.ann``/``.txt`` file of a pair. The document id is the pair's path in
    the folder without the extension. Understood lines: ``T`` entities
    (fragments separated only by white space are merged), ``R`` relations
    (``Arg1`` is the head), ``A``/``M`` ``Category <T> <CATEGORY>``
    attributes; ``#`` notes are skipped; events and equivalences are an error.
    Offsets count characters of the ``.txt`` read as UTF-8 with its line
    endings untouched.
    """
    path = Path(path)
    if path.is_dir():
        root, anns = path, sorted(path.rglob("*.ann"))
        if not anns:
            yield DocumentError(f"{path}: no .ann files in this folder")
    else:
        root, anns = path.parent, [path.with_suffix(".ann")]
    for ann in anns:
        doc_id = ann.relative_to(root).with_suffix("").as_posix()
        try:
            if not ann.exists():
                raise DocumentError(f"{ann}: no such annotation file")
            yield _brat_document(ann.with_suffix(".txt"), ann, doc_id, warnings)
        except DocumentError as exc:
            yield exc


def read_brat(path: str | Path, **kwargs: Any) -> list[Document]:
    """All documents of a BRAT folder (see :func:`iter_brat`); raise on the first broken pair."""
    return _strict(iter_brat(path, **kwargs))


def brat_annotation(doc: Document) -> str:
    """The ``.ann`` text of one document.

    An entity that spans a line break is written as fragments around it, as
    BRAT's editor does; entity ids that are not ``T<number>`` are renumbered.

    >>> from goftar.inference.document import Document, Entity
    >>> brat_annotation(Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 7)])).split()
    ['T1', 'PER', '0', '7', 'قالیباف']
    """
    ids: dict[str, str] = {}
    used = {e.id for e in doc.entities if re.fullmatch(r"T\d+", e.id)}
    nxt = max((int(i[1:]) for i in used), default=0)
    for e in doc.entities:
        if e.id in used and e.id not in ids:
            ids[e.id] = e.id
        else:
            nxt += 1
            ids[e.id] = f"T{nxt}"
    lines, attrs = [], []
    for e in doc.entities:
        frags, s = [], e.start
        for m in re.finditer(r"[\r\n]+", doc.text[e.start:e.end]):
            frags.append((s, e.start + m.start()))
            s = e.start + m.end()
        frags.append((s, e.end))
        frags = [(a, b) for a, b in frags if b > a]
        offsets = ";".join(f"{a} {b}" for a, b in frags)
        lines.append(f"{ids[e.id]}\t{e.type} {offsets}\t{' '.join(doc.text[a:b] for a, b in frags)}")
        if e.category is not None:
            attrs.append(f"A{len(attrs) + 1}\tCategory {ids[e.id]} {e.category}")
    for k, r in enumerate(doc.relations, 1):
        lines.append(f"R{k}\t{r.type} Arg1:{ids.get(r.head, r.head)} Arg2:{ids.get(r.tail, r.tail)}")
    return "".join(line + "\n" for line in lines + attrs)


def brat_annotation_conf(schema: Schema | None = None) -> str:
    """An ``annotation.conf`` that lets BRAT's editor open what :func:`write_brat` writes."""
    sch = _schema(schema)
    out = ["[entities]", *sch.entity_types, "", "[relations]"]
    for r in sch.relations.values():
        out.append(f"{r.name}\tArg1:{'|'.join(r.head)}, Arg2:{'|'.join(r.tail)}")
    out.append("<OVERLAP>\tArg1:<ENTITY>, Arg2:<ENTITY>, <OVL-TYPE>:<ANY>")  # layers nest
    out += ["", "[events]", "", "[attributes]", f"Category\tArg:SECTOR, Value:{'|'.join(sch.sector_categories)}", ""]
    return "\n".join(out)


def write_brat(docs: Iterable[Document], folder: str | Path, *, schema: Schema | None = None, conf: bool = True) -> int:
    """Write each document as ``<id>.txt`` + ``<id>.ann`` in ``folder`` (created if missing).

    Characters of an id that cannot be in a file name become ``_``; a
    repeated id gets ``-2``, ``-3`` … rather than overwriting. ``conf=True``
    also writes ``annotation.conf``. Returns the number of documents.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    if conf:
        (folder / "annotation.conf").write_text(brat_annotation_conf(schema), encoding="utf-8")
    taken: set[str] = set()
    n = 0
    for doc in docs:
        base = re.sub(r"[^\w.\-]+", "_", doc.id).strip("._") or f"doc-{n + 1:06d}"
        name, k = base, 1
        while name in taken:
            k += 1
            name = f"{base}-{k}"
        taken.add(name)
        with open(folder / f"{name}.txt", "w", encoding="utf-8", newline="") as f:
            f.write(doc.text)
        with open(folder / f"{name}.ann", "w", encoding="utf-8", newline="") as f:
            f.write(brat_annotation(doc))
        n += 1
    return n
