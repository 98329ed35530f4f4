"""Readers and writers between goftar documents and other annotation formats.

* ``jsonl``: goftar JSONL (ANNOTATION.md; :mod:`goftar.inference.document`), ``.jsonl``
* ``peyma``: PEYMA token/BIO lines ``token|B_DAT``
* ``arman``: ARMAN (ArmanPersoNERCorpus) token/BIO lines ``token B-pers``
* ``parstwiner``: ParsTwiNER token/BIO lines ``token<TAB>B-EVE``
* ``conll``: goftar's own token/BIO lines ``token<TAB>B-DATE`` with the schema's types, ``.conll``
* ``labelstudio``: Label Studio JSON export or import file (annotations or predictions), ``.json``
* ``doccano``: doccano JSONL with entities and relations, ``.jsonl``
* ``brat``: BRAT standoff, a folder of ``name.txt`` + ``name.ann`` pairs

Every reader is an ``iter_*`` generator that yields one :class:`Document` per
record, or a :class:`DocumentError` whose message starts with
``file:line:`` (or names the task / file that is broken) for a record that
cannot be read, so one broken record never loses the rest of a file; the
``read_*`` twins return a list and raise on the first broken record.
:func:`iter_documents` / :func:`read_documents` read any format. Writers return the
number of documents written. :func:`convert` ties them together and backs
``goftar convert``.

Conventions (the same in every format, so data round-trips):

* **SECTOR categories.** Label Studio and doccano have one label string per
  span, so a sector is the label ``SECTOR:<CATEGORY>`` (``SECTOR:TRADE``);
  :func:`labelstudio_config` writes a labelling config with one such label
  per category. BRAT keeps the type ``SECTOR`` and an attribute line
  ``A1<TAB>Category T5 TRADE``. In ``conll`` files the ``sector`` layer is
  tagged by category (``B-TRADE``), as the model's tagger is
  (:meth:`Schema.layer_labels`).
* **Offsets** are Python string indices (code points) everywhere we write.
  Label Studio's editor counts the same way (code points, ``\\r\\n`` as two);
  its spans that carry their ``text`` are checked against it, and UTF-16
  offsets (what Label Studio versions before its code-point fix stored when
  the text holds emoji) are recognised and converted
  (:mod:`goftar.inference.formats.labelstudio`).
* **Label Studio exports** give gold only from human annotations: a task
  without one is skipped (``accept_predictions=True`` takes its prediction);
  repairable flaws are repaired, others drop one span or relation, each
  reported as ``file:task N:region R: what`` (:class:`ImportNote`).
* **Token/BIO files** hold one sentence per blank-line-separated block; each
  sentence becomes a document whose text is its tokens joined by single
  spaces, so entity offsets cover whole tokens (less any edge punctuation
  or ZWNJ the guide keeps out of mentions). The readers declare what the
  source annotates (the partial-label declaration the trainer reads)::

      meta = {"source": "peyma", "lang": "fa", "layers": ["ne"],
              "ne_types": ["PER", "ORG", "LOC", "DATE", "TIME", "MONEY", "PERCENT"],
              "relations": [], "origin": "train.txt:13"}

>>> report = convert(["peyma/train.txt"], "peyma-train.jsonl")  # doctest: +SKIP
>>> print(report.summary())                                       # doctest: +SKIP
8028 documents written, 0 broken records skipped
  57 × peyma: spans trimmed of edge punctuation or ZWNJ
"""
from __future__ import annotations

import json
import os
import re
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Sequence

from .. import bio
from ..document import Document, DocumentError, Entity, Relation, iter_json_lines, iter_jsonl, write_jsonl
from ..schema import Schema
from ..validate import trim_span  # spans never start or end with white space or punctuation (docs/ANNOTATION.md)
from .labelstudio import (  # noqa: F401  (re-exported: formats is the one place to import readers from)
    ImportNote,
    iter_labelstudio,
    iter_labelstudio_located,
    labelstudio_config,
    labelstudio_task,
    read_labelstudio,
    split_label as _split_label,
    span_label as _category_label,
    task_score,
    write_labelstudio,
)

FORMATS = ("jsonl", "peyma", "arman", "parstwiner", "conll", "labelstudio", "doccano", "brat")
BIO_FORMATS = ("peyma", "arman", "parstwiner", "conll")
# Other spellings people type for the same formats.
_ALIASES = {"goftar": "jsonl", "label-studio": "labelstudio", "label_studio": "labelstudio", "ls": "labelstudio",
            "standoff": "brat", "bio": "bio"}


class FormatError(ValueError):
    """A file whose format cannot be told, or a conversion that cannot be done."""


def _schema(schema: Schema | None) -> Schema:
    return schema if schema is not None else Schema.default()


def _strict(items: Iterable[Document | DocumentError]) -> list[Document]:
    out = []
    for item in items:
        if isinstance(item, DocumentError):
            raise item
        out.append(item)
    return out


def _count(warnings: Counter | None, what: str, n: int = 1) -> None:
    if warnings is not None and n:
        warnings[what] += n


# ---------------------------------------------------------------------------
# Demonyms (ARMAN tags many nationality adjectives as `org`)
# ---------------------------------------------------------------------------

# Places whose adjective (place + ی) is a nationality or demonym. Written with
# Persian ی/ک and no ZWNJ, the spelling is_demonym compares in. The list holds
# the countries, regions and Iranian cities/provinces whose demonyms ARMAN
# tags `org` (all test folds checked), plus their neighbours; names ending in
# ی (شوروی, اندونزی) are here so that their -ایی adjectives are found, while
# the name itself is never taken for a demonym (the rule needs a suffix).
_DEMONYM_PLACES = frozenset("""
ایران آمریکا امریکا روسیه شوروی چین ژاپن کره هند پاکستان افغانستان عراق سوریه لبنان اردن
مصر لیبی لیبیا تونس الجزایر مغرب مراکش سودان سومالی سومالیا یمن عمان عربستان سعود کویت قطر
بحرین امارات ترکیه ترکمنستان ازبکستان تاجیکستان قزاقستان قرقیزستان آذربایجان ارمنستان گرجستان
اسرائیل اسراییل فلسطین قبرس یونان ایتالیا اسپانیا پرتغال فرانسه آلمان انگلیس انگلستان بریتانیا ایرلند
اسکاتلند هلند بلژیک سوئیس اتریش سوئد نروژ دانمارک فنلاند لهستان مجارستان رومانی بلغارستان
یوگسلاوی صربستان کرواسی بوسنی آلبانی اوکراین اکراین بلاروس لیتوانی لتونی استونی کانادا مکزیک
کوبا برزیل آرژانتین شیلی کلمبیا ونزوئلا پرو کاستاریکا استرالیا اندونزی مالزی تایلند ویتنام
فیلیپین میانمار سریلانکا بنگلادش نپال تایوان سنگاپور کامبوج نیجریه اتیوپی کنیا آفریقا اروپا
آسیا کشمیر چچن کردستان بلوچستان تگزاس کالیفرنیا تهران اصفهان شیراز تبریز مشهد کرمان کرمانشاه
همدان یزد اهواز آمل گیلان مازندران خوزستان لرستان خراسان قزوین قم کاشان رشت زنجان اراک اردبیل
بوشهر
""".split())
# Peoples named without a place: ethnic and religious groups (their plurals
# and -ی adjectives follow: روس‌ها, روسی).
_DEMONYM_GROUPS = frozenset(
    "یهودی کلیمی عرب اعراب کرد کورد ترک تورک روس افغان ارمنی بلوچ ترکمن پشتون تاجیک ازبک صرب کروات".split()
)


def _demonym_key(word: str) -> str:
    w = word.replace("\u064a", "\u06cc").replace("\u0643", "\u06a9").replace("\u0649", "\u06cc")
    w = w.replace("\u200c", "").replace("\u0640", "")
    # آمریکائی and آمریکایی are one word; only the suffix is respelled («اسرائیل» keeps its ئ)
    return re.sub("ائی(?=(ان|ها|های)?$)", "ایی", w)


def _adjective_stems(word: str) -> list[str]:
    """Places ``word`` can be the -ی adjective of (``ایرانی`` → ``ایران``)."""
    stems = []
    if word.endswith("ایی"):              # آمریکایی → آمریکا, اندونزیایی → اندونزی
        stems += [word[:-2], word[:-3]]
    elif word.endswith("وی"):             # فرانسوی → فرانسه
        stems.append(word[:-2] + "ه")
    elif word.endswith("های"):            # کره‌ای (ZWNJ dropped) → کره
        stems.append(word[:-2])
    if word.endswith("ی") and not word[:-1].endswith(("ا", "و")):
        # after ا/و a final ی is the ezafe glide («آمریکای لاتین»), not the adjective suffix
        stems.append(word[:-1])
    return stems


def is_demonym(word: str) -> bool:
    """True when ``word`` is a nationality adjective or demonym, singular or plural.

    The rule: after unifying ي/ك, dropping ZWNJ and tatweel and one plural
    suffix (ان, ها, های), the word is a group name (``یهودی``, ``عرب``, ``کرد`` …)
    or the -ی adjective of a known place (``ایرانی`` = ``ایران`` + ی;
    ``آمریکایی`` = ``آمریکا`` + یی; ``فرانسوی`` from ``فرانسه``; ``کره‌ای``).
    A place name itself is never a demonym, nor is a word whose stem is not a
    known place, so ARMAN's real `org` names ending in ی (``دادگستری``,
    ``شوروی``, ``چلسی``, ``جمهوری``) stay entities.

    >>> [is_demonym(w) for w in ["ایرانی", "ایرانیان", "آمریکائیها", "فلسطینی‌ها", "کره‌ای"]]
    [True, True, True, True, True]
    >>> [is_demonym(w) for w in ["ایران", "شوروی", "دادگستری", "آمریکای", "طالبان"]]
    [False, False, False, False, False]
    """
    w = _demonym_key(word)
    candidates = [w]
    for plural in ("های", "ها", "ان"):
        if w.endswith(plural) and len(w) > len(plural) + 1:
            candidates.append(w[: -len(plural)])
    for c in candidates:
        if c in _DEMONYM_GROUPS:
            return True
        if any(s in _DEMONYM_PLACES or s in _DEMONYM_GROUPS for s in _adjective_stems(c)):
            return True
    return False


def _arman_keeps(source_type: str, tokens: Sequence[str]) -> bool:
    # ARMAN's guideline tags nationalities `org` («ایرانی» B-org 46× vs O 45×);
    # ANNOTATION.md says demonyms are not entities, so a one-token `org` span
    # that is a demonym becomes O. Longer spans («یهودیان ایران») are names.
    return not (source_type == "org" and len(tokens) == 1 and is_demonym(tokens[0]))


# ---------------------------------------------------------------------------
# Token/BIO files
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class BioFlavour:
    """How one token/BIO dataset spells its lines and tags.

    ``separator`` splits token from tag at its LAST occurrence (PEYMA tokens
    may hold ``|``, ARMAN's never hold spaces); ``prefix_sep`` joins B/I and
    the type (``B_DAT`` vs ``B-pers``). ``types`` maps the source's types to
    goftar ``ne`` types, ``None`` meaning "tagged there, not an entity here".
    ``ne_types`` is what the source annotates at all (the partial-label
    declaration). ``keeps_span(type, tokens)`` may veto a span (ARMAN's
    demonyms). A flavour with ``types=None`` (``conll``) uses the schema's
    types of the chosen layer as they are.
    """

    name: str
    separator: str
    prefix_sep: str
    types: dict[str, str | None] | None
    ne_types: tuple[str, ...]
    keeps_span: Callable[[str, Sequence[str]], bool] | None = None

    def inverse(self) -> dict[str, str]:
        """goftar type → the source's spelling (the first source type that maps to it)."""
        inv: dict[str, str] = {}
        for src, tgt in (self.types or {}).items():
            if tgt is not None:
                inv.setdefault(tgt, src)
        return inv


FLAVOURS: dict[str, BioFlavour] = {
    "peyma": BioFlavour(
        "peyma", "|", "_",
        {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "DAT": "DATE", "TIM": "TIME", "MON": "MONEY", "PCT": "PERCENT"},
        ("PER", "ORG", "LOC", "DATE", "TIME", "MONEY", "PERCENT"),
    ),
    "arman": BioFlavour(
        "arman", " ", "-",
        {"pers": "PER", "org": "ORG", "loc": "LOC", "fac": "FAC", "pro": "PRO", "event": "EVENT"},
        ("PER", "ORG", "LOC", "FAC", "PRO", "EVENT"),
        _arman_keeps,
    ),
    "parstwiner": BioFlavour(
        "parstwiner", "\t", "-",
        # ORG before POG so that the writer spells ORG as ORG; NAT (nationalities) is no entity here.
        {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "POG": "ORG", "EVE": "EVENT", "NAT": None},
        ("PER", "ORG", "LOC", "EVENT"),
    ),
    "conll": BioFlavour("conll", "\t", "-", None, ()),
}
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
    """conll tag type → (goftar type, category). The sector layer is tagged by category."""
    if layer not in schema.layers:
        raise FormatError(f"unknown layer {layer!r} (known: {', '.join(schema.layers)})")
    if layer == "sector":
        return {c: ("SECTOR", c) for c in schema.sector_categories}
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
    prefix = id_prefix if id_prefix is not None else f"{fl.name}-{path.stem}"

    def build(n: int, first_line: int, rows: list[tuple[str, str, str | None]]) -> Document:
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
        meta = {"source": fl.name, "lang": "fa", "layers": list(layers), "ne_types": list(ne_types),
                "relations": [], "origin": f"{path.name}:{first_line}"}
        return Document(f"{prefix}-{n:06d}", text, entities, [], meta)

    for n, block in enumerate(_line_blocks(path), 1):
        rows, error = [], None
        for lineno, line in block:
            if isinstance(line, UnicodeDecodeError):
                error = f"{path}:{lineno}: invalid UTF-8 at byte {line.start} of the line"
                break
            try:
                rows.append(_parse_bio_line(line, fl, known))
            except ValueError as exc:
                error = f"{path}:{lineno}: {exc}"  # the sentence's first problem is enough
                break
        yield DocumentError(error) if error else build(n, block[0][0], rows)


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
                key = (e.type, e.category if layer == "sector" and fl.types is None else None)
                name = spelled.get(key)
                if name is None:
                    label = f"{e.type}:{e.category}" if e.type == "SECTOR" else e.type
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


# ---------------------------------------------------------------------------
# doccano
# ---------------------------------------------------------------------------

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


def doccano_record(doc: Document) -> dict[str, Any]:
    """One document as a doccano JSONL record (entity ``T7`` gets id 7).

    >>> from goftar.inference.document import Document, Entity
    >>> doccano_record(Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 7)]))["entities"]
    [{'id': 1, 'label': 'PER', 'start_offset': 0, 'end_offset': 7}]
    """
    num = _numeric_ids(doc.entities)
    rec: dict[str, Any] = {
        "doc_id": doc.id,
        "text": doc.text,
        "entities": [
            {"id": num[e.id], "label": _category_label(e), "start_offset": e.start, "end_offset": e.end}
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


# ---------------------------------------------------------------------------
# BRAT standoff
# ---------------------------------------------------------------------------


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


# ---------------------------------------------------------------------------
# Any format
# ---------------------------------------------------------------------------


def _bio_flavour_of(path: Path, sample_lines: int = 5000) -> str | None:
    """The BIO flavour that parses (nearly) all of the first lines of ``path``.

    A few broken lines do not hide the flavour, so :func:`convert` can still
    report them by line.
    """
    lines = []
    with open(path, encoding="utf-8", errors="replace") as f:
        for k, line in enumerate(f):
            if k >= sample_lines:
                break
            if line.strip():
                lines.append(line.rstrip("\r\n"))
    if not lines:
        return None
    sch = Schema.default()
    parsed: dict[str, int] = {}
    for name, fl in FLAVOURS.items():
        known = _layer_tag_types("ne", sch) if fl.types is None else fl.types
        ok = 0
        for line in lines:
            try:
                _parse_bio_line(line, fl, known)
                ok += 1
            except ValueError:
                pass
        parsed[name] = ok
    best = max(parsed.values())
    if best < 0.9 * len(lines):
        return None
    fits = [name for name, ok in parsed.items() if ok == best]
    # A tab file whose tags are all PER/LOC/ORG fits both parstwiner and conll;
    # a flavour named in the path settles it, else the dataset (listed first) wins.
    for name in fits:
        if name in str(path).lower():
            return name
    return fits[0]


def detect_format(path: str | Path) -> str:
    """The format of a file or folder, from its extension and its first lines.

    >>> detect_format("data/peyma/train.txt")  # doctest: +SKIP
    'peyma'
    """
    path = Path(path)
    if path.is_dir():
        if any(path.rglob("*.ann")):
            return "brat"
        raise FormatError(f"{path}: a folder is read as BRAT, but it holds no .ann files")
    if not path.exists():
        raise FormatError(f"{path}: no such file or folder")
    suffix = path.suffix.lower()
    if suffix == ".ann" or (suffix == ".txt" and path.with_suffix(".ann").exists()):
        return "brat"
    if suffix in (".json", ".jsonl", ".ndjson"):
        with open(path, encoding="utf-8", errors="replace") as f:
            head = f.read(1 << 16)
        if re.search(r'"(annotations|predictions|completions)"\s*:|"data"\s*:\s*\{', head):
            return "labelstudio"
        if re.search(r'"(start_offset|from_id)"\s*:', head) or re.search(r'"label"\s*:\s*\[\s*\[', head):
            return "doccano"
        if suffix == ".json":
            return "labelstudio"
        return "jsonl"
    flavour = _bio_flavour_of(path)
    if flavour is None:
        raise FormatError(f"{path}: cannot tell the format; pass --from ({', '.join(FORMATS)})")
    return flavour


def _output_format(path: Path) -> str:
    suffix = path.suffix.lower()
    if path.is_dir() or not suffix or str(path).endswith(("/", "\\")):
        return "brat"
    if suffix in (".jsonl", ".ndjson"):
        return "jsonl"
    if suffix == ".json":
        return "labelstudio"
    if suffix in (".txt", ".bio", ".conll", ".tsv", ".iob"):
        return "conll"
    raise FormatError(f"{path}: cannot tell the output format from the extension; pass --to ({', '.join(FORMATS)})")


def _canonical(fmt: str | None) -> str | None:
    if fmt is None:
        return None
    f = _ALIASES.get(fmt.lower(), fmt.lower())
    if f not in FORMATS and f != "bio":
        raise FormatError(f"unknown format {fmt!r} (known: {', '.join(FORMATS)})")
    return f


def iter_documents(
    path: str | Path,
    fmt: str | None = None,
    *,
    layer: str = "ne",
    warnings: Counter | None = None,
    accept_predictions: bool = False,
    notes: list[ImportNote] | None = None,
) -> Iterator[Document | DocumentError]:
    """Yield the documents of ``path`` in any format (detected when ``fmt`` is None).

    Broken records come as :class:`DocumentError` with their location.
    ``accept_predictions`` and ``notes`` concern Label Studio exports (see
    :func:`iter_labelstudio`).

    >>> docs = [d for d in iter_documents("export.json") if isinstance(d, Document)]  # doctest: +SKIP
    """
    f = _resolved_format(path, fmt)
    if f == "jsonl":
        return (d for _, d in iter_jsonl(path))
    if f in BIO_FORMATS:
        return iter_bio(path, f, layer=layer, warnings=warnings)
    if f == "labelstudio":
        return iter_labelstudio(path, warnings=warnings, accept_predictions=accept_predictions, notes=notes)
    if f == "doccano":
        return iter_doccano(path, warnings=warnings)
    return iter_brat(path, warnings=warnings)


def read_documents(path: str | Path, fmt: str | None = None, *, layer: str = "ne") -> list[Document]:
    """All documents of ``path`` in any format (see :func:`iter_documents`); raise on the first broken record.

    >>> docs = read_documents("data/peyma/dev.txt")  # doctest: +SKIP
    """
    return _strict(iter_documents(path, fmt, layer=layer))


def _resolved_format(path: str | Path, fmt: str | None) -> str:
    """The reader :func:`iter_documents` would use for ``path``."""
    f = _canonical(fmt)
    if f in (None, "bio"):
        detected = detect_format(path)
        if f == "bio" and detected not in BIO_FORMATS:
            raise FormatError(f"{path}: does not parse as any BIO flavour ({', '.join(BIO_FORMATS)})")
        f = detected
    return f


def write_documents(
    docs: Iterable[Document], path: str | Path, fmt: str | None = None, *, layer: str = "ne",
    warnings: Counter | None = None, as_predictions: bool = False, model_version: str | None = None,
) -> int:
    """Write documents to ``path`` in ``fmt`` (from the extension when None). Returns the count.

    ``as_predictions``/``model_version``: Label Studio pre-annotations (see :func:`write_labelstudio`).
    """
    f = _canonical(fmt) or _output_format(Path(path))
    if f == "bio":
        f = "conll"
    if f == "jsonl":
        return write_jsonl(docs, path)
    if f in BIO_FORMATS:
        return write_bio(docs, path, f, layer=layer, warnings=warnings)
    if f == "labelstudio":
        return write_labelstudio(docs, path, predictions=as_predictions, model_version=model_version,
                                 warnings=warnings)
    if as_predictions:
        raise FormatError(f"--as-predictions writes Label Studio tasks; {path} is {f}")
    if f == "doccano":
        return write_doccano(docs, path)
    return write_brat(docs, path)


@dataclass
class ConversionReport:
    """What :func:`convert` did.

    ``problems``: records that could not be read, one ``file:line: what`` each
    (they are not in the output). ``warnings``: counts of things converted
    with a loss or a caveat (spans mapped to O, I- without B-, duplicate ids …).
    ``notes``: the located repairs, dropped spans/relations and skipped tasks
    of Label Studio imports (:class:`ImportNote`).
    """

    documents: int = 0
    problems: list[str] = field(default_factory=list)
    warnings: Counter = field(default_factory=Counter)
    notes: list[ImportNote] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f"{self.documents} documents written, {len(self.problems)} broken records skipped"]
        lines += [f"  {n} × {what}" for what, n in sorted(self.warnings.items())]
        return "\n".join(lines)


def convert(
    inputs: str | Path | Sequence[str | Path],
    output: str | Path,
    from_format: str | None = None,
    to_format: str | None = None,
    *,
    layer: str = "ne",
    as_predictions: bool = False,
    model_version: str | None = None,
    accept_predictions: bool = False,
) -> ConversionReport:
    """Convert annotation files between formats (see the module docstring for names).

    Each input's format is ``from_format`` or detected from its extension
    and content; the output's is ``to_format`` or told by its extension
    (``.jsonl`` goftar, ``.json`` Label Studio, ``.conll``/``.txt`` conll,
    a folder BRAT). ``layer`` is the layer a BIO file holds or gets. Broken
    records are listed in the report's ``problems`` and the rest convert.
    ``as_predictions`` writes Label Studio pre-annotations (``model_version``
    defaults to each document's ``meta.model_version``, else ``goftar``);
    ``accept_predictions`` reads Label Studio tasks nobody annotated from
    their predictions instead of skipping them. An input is never the output.

    >>> report = convert(["train.txt", "dev.txt"], "peyma.jsonl", "peyma")  # doctest: +SKIP
    >>> print(report.summary())                                               # doctest: +SKIP
    8953 documents written, 0 broken records skipped
    """
    paths = [inputs] if isinstance(inputs, (str, Path)) else list(inputs)
    for p in paths:
        if not Path(p).exists():
            raise FormatError(f"{p}: no such file or folder")
        if Path(output).exists() and Path(p).resolve() == Path(output).resolve():
            raise FormatError(f"{output}: is also an input; write the conversion to another file")
    out_fmt = _canonical(to_format) or _output_format(Path(output))
    if as_predictions and out_fmt != "labelstudio":
        raise FormatError(f"--as-predictions writes Label Studio tasks (--to labelstudio), not {out_fmt}")
    from ..io import refuse_input_as_output

    refuse_input_as_output(paths, output)  # before any reader or writer opens anything
    report = ConversionReport()
    # Resolve every input's format before writing anything, so a wrong name fails fast.
    readers = [iter_documents(p, from_format, layer=layer, warnings=report.warnings,
                              accept_predictions=accept_predictions, notes=report.notes) for p in paths]

    def documents() -> Iterator[Document]:
        seen: set[str] = set()
        for reader in readers:
            for item in reader:
                if isinstance(item, DocumentError):
                    report.problems.append(str(item))
                    continue
                if item.id in seen:
                    report.warnings["documents whose id was already used"] += 1
                seen.add(item.id)
                yield item

    kw = dict(layer=layer, warnings=report.warnings, as_predictions=as_predictions, model_version=model_version)
    if out_fmt == "brat" or Path(output).is_dir():
        report.documents = write_documents(documents(), output, out_fmt, **kw)
        return report
    # a file: written beside the target and moved into place, so a failed run leaves an existing file as it was
    tmp = Path(output).with_name(f".{Path(output).name}.converting")
    try:
        report.documents = write_documents(documents(), tmp, out_fmt, **kw)
        os.replace(tmp, output)
    finally:
        if tmp.exists():
            tmp.unlink()
    return report


# ---------------------------------------------------------------------------
# Command line: goftar convert
# ---------------------------------------------------------------------------


def _convert_command(args: Any) -> int:
    try:
        report = convert(args.inputs, args.output, args.from_format, args.to_format, layer=args.layer,
                         as_predictions=args.as_predictions, model_version=args.model_version,
                         accept_predictions=args.accept_predictions)
    except (FormatError, OSError) as exc:
        print(f"goftar convert: error: {exc}", file=sys.stderr)
        return 2
    for note in report.notes:
        print(f"warning: {note}", file=sys.stderr)
    for p in report.problems:
        print(p, file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    return 1 if report.problems else 0


def register(subparsers: Any) -> None:
    """Add ``goftar convert INPUT... -o OUT [--from FMT] [--to FMT] [--layer ne]``."""
    names = ", ".join(FORMATS)
    p = subparsers.add_parser(
        "convert",
        help="convert annotations: goftar JSONL, PEYMA/ARMAN/ParsTwiNER/CoNLL BIO, Label Studio, doccano, BRAT",
        description=(
            f"Convert annotation files. Formats: {names}. Without --from each input's format is detected; "
            "without --to the output's comes from its extension (.jsonl goftar, .json Label Studio, "
            ".conll/.txt conll, a folder BRAT). Broken records are printed and skipped; the exit status is 1 "
            "when there were any."
        ),
    )
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files (or BRAT folders) to read")
    p.add_argument("-o", "--output", required=True, metavar="OUT", help="file or folder to write")
    p.add_argument("--from", dest="from_format", metavar="FMT", help=f"input format ({names})")
    p.add_argument("--to", dest="to_format", metavar="FMT", help=f"output format ({names})")
    p.add_argument("--layer", default="ne", help="layer a BIO file holds or gets (default: ne)")
    p.add_argument("--as-predictions", action="store_true",
                   help="write Label Studio tasks with the spans as predictions (pre-annotations to correct: "
                        "model_version, per-region and task scores), not as annotations")
    p.add_argument("--model-version", metavar="NAME",
                   help="model_version of the predictions (default: each document's meta.model_version, else goftar)")
    p.add_argument("--accept-predictions", action="store_true",
                   help="reading a Label Studio export: take a task nobody annotated from its prediction "
                        "(default: skip it with a warning, so model output never becomes gold unnoticed)")
    p.set_defaults(func=_convert_command)

    c = subparsers.add_parser(
        "labelstudio-config",
        help="print the Label Studio labelling config that goftar's tasks fit",
        description="Print the Label Studio labelling config (XML) for goftar tasks: one Labels group per layer "
                    "(sector categories as SECTOR:<CATEGORY>), the relation labels. Paste it into the project's "
                    "Labeling Interface (Code view) or pass it as label_config through the API.",
    )
    c.add_argument("--schema", metavar="YAML", help="schema file (default: the shipped configs/schema.yaml)")
    c.set_defaults(func=_labelstudio_config_command)


def _labelstudio_config_command(args: Any) -> int:
    try:
        schema = Schema.from_yaml(args.schema) if args.schema else None
    except (OSError, ValueError, KeyError) as exc:
        print(f"goftar labelstudio-config: error: {args.schema}: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(labelstudio_config(schema))
    return 0
