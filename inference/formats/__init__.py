"""Readers and writers between goftar documents and other annotation formats, one module per tool.

This package is the one place that tells formats apart (:func:`detect_format`).

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

from __future__ import annotations

import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from ..document import Document, DocumentError, Entity, Relation  # noqa: F401  (re-exported)
from ..schema import Schema
from ._common import FormatError, _count, _schema, _strict  # noqa: F401
from .arman import is_demonym  # noqa: F401
from .brat import brat_annotation, brat_annotation_conf, iter_brat, read_brat, write_brat  # noqa: F401
from .doccano import _doccano_record, doccano_record, iter_doccano, read_doccano, write_doccano  # noqa: F401
from .flavour import BioFlavour  # noqa: F401
from .jsonl import iter_goftar, write_jsonl  # write_jsonl looked up here, so tests can replace it
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
from .tokens import FLAVOURS, _layer_tag_types, _parse_bio_line, iter_bio, read_bio, write_bio  # noqa: F401

FORMATS = ("jsonl", "peyma", "arman", "parstwiner", "conll", "labelstudio", "doccano", "brat")
BIO_FORMATS = ("peyma", "arman", "parstwiner", "conll")
# Other spellings people type for the same formats.
_ALIASES = {"goftar": "jsonl", "label-studio": "labelstudio", "label_studio": "labelstudio", "ls": "labelstudio",
            "standoff": "brat", "bio": "bio"}


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
        return iter_goftar(path)
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
