"""Token/BIO files: one sentence per blank-line-separated block, one ``token<SEP>TAG`` line per token.

Spans go through :mod:`goftar.inference.bio` (the one BIO module). The
datasets' spellings are flavours (:mod:`.peyma`, :mod:`.arman`,
:mod:`.parstwiner`); ``conll`` is goftar's own (tab, the schema's types).
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path
from typing import Any, Iterable, Iterator

from .. import bio
from ..document import Document, DocumentError, Entity
from ..schema import Schema
from ..validate import trim_span  # spans never start or end with white space or punctuation (docs/ANNOTATION.md)
from ._common import FormatError, _count, _schema, _strict
from .arman import ARMAN
from .flavour import BioFlavour
from .parstwiner import PARSTWINER
from .peyma import PEYMA

CONLL = BioFlavour("conll", "\t", "-", None, ())
FLAVOURS: dict[str, BioFlavour] = {"peyma": PEYMA, "arman": ARMAN, "parstwiner": PARSTWINER, "conll": CONLL}
_SEPARATOR_NAMES = {"|": "'|'", " ": "space", "\t": "tab"}
_SEPARATOR_SHOWN = {"|": "|", " ": " ", "\t": "<TAB>"}


def _flavour(flavour: str | BioFlavour) -> BioFlavour:
    if isinstance(flavour, BioFlavour):
        return flavour
    try:
        return FLAVOURS[flavour]
    except KeyError:
        raise FormatError(f"unknown BIO flavour {flavour!r} (known: {', '.join(FLAVOURS)})") from None


def _layer_tag_types(layer: str, schema: Schema) -> dict[str, tuple[str, str | None]]:
    """conll tag type → (goftar type, category). A layer tagged by category (sector) has its categories as tags."""
    if layer not in schema.layers:
        raise FormatError(f"unknown layer {layer!r} (known: {', '.join(schema.layers)})")
    typ = schema.layer_type(layer)
    if typ is not None:
        return {c: (typ, c) for c in schema.tag_names(layer)}
    return {t: (t, None) for t in schema.layers[layer]}


def _parse_bio_line(line: str, fl: BioFlavour, known: Iterable[str]) -> tuple[str, str, str | None]:
    """``(token, prefix, type)`` of one non-blank line; prefix is ``"O"``, ``"B"`` or ``"I"``.

    Raises ValueError with the problem (without the location).
    """
    line = line.rstrip()  # tags never end in white space; trailing blanks are noise
    idx = line.rfind(fl.separator)
    if idx < 0:
        raise ValueError(
            f"no {_SEPARATOR_NAMES[fl.separator]} between token and tag in {line!r} "
            f"(a {fl.name} line is 'token{_SEPARATOR_SHOWN[fl.separator]}TAG')"
        )
    # PEYMA has 25 tokens with a space at an edge (a ZWNJ turned into a space);
    # inner spaces are kept, edge ones would become double spaces in the text.
    token, tag = line[:idx].strip(), line[idx + 1:].strip()
    if not token:
        raise ValueError(f"empty token in {line!r}")
    if tag == "O":
        return token, "O", None
    if len(tag) < 3 or tag[0] not in "BI" or tag[1] != fl.prefix_sep:
        raise ValueError(f"bad tag {tag!r} (a {fl.name} tag is O, B{fl.prefix_sep}TYPE or I{fl.prefix_sep}TYPE)")
    typ = tag[2:]
    if typ not in known:
        raise ValueError(f"unknown {fl.name} entity type {typ!r} in tag {tag!r} (known: {', '.join(known)})")
    return token, tag[0], typ


def iter_bio(
    path: str | Path,
    flavour: str | BioFlavour,
    *,
    layer: str = "ne",
    id_prefix: str | None = None,
    schema: Schema | None = None,
    warnings: Counter | None = None,
) -> Iterator[Document | DocumentError]:
    """Yield one document per sentence of a token/BIO file.

    ``flavour`` is ``"peyma"``, ``"arman"``, ``"parstwiner"`` or ``"conll"``
    (goftar's own tab-separated tags; ``layer`` says which layer its tags
    are). Sentence ``n`` (1-based, broken ones counted too) gets the id
    ``{id_prefix}-{n:06d}``, by default ``{flavour}-{file stem}``, e.g.
    ``peyma-train-000123``. An I- tag that does not continue a span of its
    type starts a new span. A malformed line makes its sentence a
    :class:`DocumentError` ``file:line: problem``; the other sentences still
    come. ``warnings`` (a Counter) collects spans dropped by the type map.

    >>> doc = next(iter_bio("peyma/train.txt", "peyma"))  # doctest: +SKIP
    >>> doc.id, doc.meta["ne_types"][:3]                   # doctest: +SKIP
    ('peyma-train-000001', ['PER', 'ORG', 'LOC'])
    """
    fl = _flavour(flavour)
    path = Path(path)
    tag_types, known, meta = _tag_setup(fl, layer, schema)
    prefix = id_prefix if id_prefix is not None else f"{fl.name}-{path.stem}"
    for n, block in enumerate(_line_blocks(path), 1):
        rows, error = _parse_block(block, path, fl, known)
        if error:
            yield DocumentError(error)
        else:
            doc_meta = {**meta, "layers": list(meta["layers"]), "ne_types": list(meta["ne_types"]), "relations": [],
                        "origin": f"{path.name}:{block[0][0]}"}
            yield _sentence_document(f"{prefix}-{n:06d}", rows, fl, tag_types, doc_meta, warnings)


def _tag_setup(fl: BioFlavour, layer: str, schema: Schema | None) -> tuple[dict, Iterable[str], dict[str, Any]]:
    """``(tag type → (goftar type, category) or None, the tag types a line may use, the documents' meta)``."""
    if fl.types is None:
        tag_types = _layer_tag_types(layer, _schema(schema))
        known: Iterable[str] = tag_types
        layers = [layer]
        ne_types = list(_schema(schema).layers["ne"]) if layer == "ne" else []
    else:
        tag_types = {src: (tgt, None) if tgt else None for src, tgt in fl.types.items()}  # type: ignore[misc]
        known = fl.types
        layers = ["ne"]
        ne_types = list(fl.ne_types)
    return tag_types, known, {"source": fl.name, "lang": "fa", "layers": layers, "ne_types": ne_types}


def _parse_block(block, path: Path, fl: BioFlavour, known: Iterable[str]) -> tuple[list[tuple[str, str, str | None]], str | None]:
    """The ``(token, B|I|O, type)`` rows of one sentence, or the first problem as ``file:line: …``."""
    rows = []
    for lineno, line in block:
        if isinstance(line, UnicodeDecodeError):
            return rows, f"{path}:{lineno}: invalid UTF-8 at byte {line.start} of the line"
        try:
            rows.append(_parse_bio_line(line, fl, known))
        except ValueError as exc:
            return rows, f"{path}:{lineno}: {exc}"  # the sentence's first problem is enough
    return rows, None


def _sentence_document(doc_id: str, rows: list[tuple[str, str, str | None]], fl: BioFlavour, tag_types: dict,
                       meta: dict[str, Any], warnings: Counter | None) -> Document:
    """One sentence as a Document: tokens joined by spaces, BIO spans mapped to goftar types and trimmed."""
    tokens = [r[0] for r in rows]
    starts, pos = [], 0
    for t in tokens:
        starts.append(pos)
        pos += len(t) + 1
    text = " ".join(tokens)
    # spans as (first token, end token, source type), before the type map
    tags = ["O" if p == "O" else f"{p}-{typ}" for _, p, typ in rows]
    for i, (_, p, typ) in enumerate(rows):
        if p == "I" and (i == 0 or tags[i - 1] == "O" or bio.split_label(tags[i - 1])[1] != typ):
            _count(warnings, f"{fl.name}: I- tag without B- (started a new span)")
    entities = []
    for i, j, typ in bio.tags_to_spans(tags):
        mapped = tag_types[typ]
        if mapped is None:
            _count(warnings, f"{fl.name}: {typ} spans dropped (no goftar entity)")
            continue
        if fl.keeps_span is not None and not fl.keeps_span(typ, tokens[i:j]):
            _count(warnings, f"{fl.name}: {typ} spans dropped as demonyms")
            continue
        gtype, category = mapped
        start, end = starts[i], starts[j - 1] + len(tokens[j - 1])
        # The corpora put closing quotes, full stops and stray ZWNJs inside
        # some spans («گروه " دیدبان قضایی "»); the guide keeps them out.
        s, e = trim_span(text, start, end)
        if s == e:
            _count(warnings, f"{fl.name}: spans of punctuation only dropped")
            continue
        if (s, e) != (start, end):
            _count(warnings, f"{fl.name}: spans trimmed of edge punctuation or ZWNJ")
        entities.append(Entity(f"T{len(entities) + 1}", gtype, s, e, category))
    return Document(doc_id, text, entities, [], meta)


def _line_blocks(path: Path) -> Iterator[list[tuple[int, str | UnicodeDecodeError]]]:
    """Blank-line-separated blocks of ``(line number, line)``; a line that is not UTF-8 comes as its error."""
    block: list[tuple[int, str | UnicodeDecodeError]] = []
    with open(path, "rb") as f:
        for lineno, raw in enumerate(f, 1):
            try:
                line: str | UnicodeDecodeError = raw.decode("utf-8").rstrip("\r\n")
            except UnicodeDecodeError as exc:
                line = exc
            if isinstance(line, str) and not line.strip():
                if block:
                    yield block
                block = []
            else:
                block.append((lineno, line))
    if block:
        yield block


def read_bio(path: str | Path, flavour: str | BioFlavour, **kwargs: Any) -> list[Document]:
    """All sentences of a token/BIO file (see :func:`iter_bio`); raise on the first broken one."""
    return _strict(iter_bio(path, flavour, **kwargs))


def _tokens_for(text: str, cuts: Iterable[int]) -> list[tuple[int, int]]:
    """White-space tokens of ``text``, also cut at every offset in ``cuts``.

    The extra cuts keep each entity on whole tokens when the text glues it to
    punctuation («(چهارشنبه،» → «(» + «چهارشنبه،»).
    """
    cut = sorted(set(cuts))
    out = []
    for m in re.finditer(r"\S+", text):
        s = m.start()
        for c in cut:
            if m.start() < c < m.end() and c > s:
                out.append((s, c))
                s = c
        out.append((s, m.end()))
    return out


def write_bio(
    docs: Iterable[Document],
    path: str | Path,
    flavour: str | BioFlavour = "conll",
    *,
    layer: str = "ne",
    schema: Schema | None = None,
    warnings: Counter | None = None,
) -> int:
    """Write one layer of each document as a token/BIO sentence block.

    Tokens are the white-space tokens of the text, also split where an
    entity starts or ends inside one. Tags use the flavour's spelling
    (``B_DAT`` for PEYMA, ``B-pers`` for ARMAN, …); an entity whose type has
    no spelling there (FAC in PEYMA) is written as O and counted in
    ``warnings``. The dataset flavours hold only the ``ne`` layer; any layer
    goes to ``conll``. Returns the number of sentences written.

    >>> write_bio(read_jsonl("gold.jsonl"), "gold.txt", "peyma")  # doctest: +SKIP
    """
    fl = _flavour(flavour)
    sch = _schema(schema)
    if fl.types is None:
        spelled = {(t, c): name for name, (t, c) in _layer_tag_types(layer, sch).items()}
    elif layer != "ne":
        raise FormatError(f"the {fl.name} tag set has only ne types; write layer {layer!r} with flavour 'conll'")
    else:
        spelled = {(t, None): s for t, s in fl.inverse().items()}
    n = 0
    with open(path, "w", encoding="utf-8", newline="\n") as out:
        for doc in docs:
            ents = sorted((e for e in doc.entities if sch.layer_of(e.type) == layer), key=lambda e: (e.start, -e.end))
            kept: list[tuple[Entity, str]] = []
            for e in ents:
                key = (e.type, e.category if sch.by_category(layer) and fl.types is None else None)
                name = spelled.get(key)
                if name is None:
                    label = f"{e.type}:{e.category}" if sch.has_categories(e.type) else e.type
                    _count(warnings, f"{fl.name}: no tag for {label} (written as O)")
                elif kept and e.start < kept[-1][0].end:
                    _count(warnings, f"{fl.name}: overlapping {layer} spans (later one written as O)")
                else:
                    kept.append((e, name))
            tokens = _tokens_for(doc.text, [b for e, _ in kept for b in (e.start, e.end)])
            if not tokens:
                _count(warnings, f"{fl.name}: documents with empty text not written")
                continue
            names = {str(k): name for k, (_, name) in enumerate(kept)}
            tags = bio.char_tags(tokens, [(e.start, e.end, str(k)) for k, (e, _) in enumerate(kept)])
            lines = []
            for (s, t_end), tag in zip(tokens, tags):
                prefix, key = bio.split_label(tag)
                spelled_tag = "O" if prefix == "O" else f"{prefix}{fl.prefix_sep}{names[key]}"
                lines.append(f"{doc.text[s:t_end]}{fl.separator}{spelled_tag}\n")
            out.write("".join(lines) + "\n")
            n += 1
    return n
