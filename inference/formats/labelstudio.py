"""Label Studio: pre-annotations out, corrected annotations in.

Out: :func:`write_labelstudio` writes goftar documents as Label Studio tasks,
either as ``annotations`` (gold converted from another format) or, with
``predictions=True``, as pre-annotations for people to correct: each task's
``predictions`` entry carries ``model_version``, a per-region ``score`` and a
task-level ``score`` (the lowest confidence over the task's quotes and
speaker links, so the Data Manager can sort the least certain tasks first).
:func:`labelstudio_config` is the labelling config those tasks fit: one
``Labels`` group per layer of the schema (sector categories as
``SECTOR:<CATEGORY>`` labels) and one relation label per relation type.

In: :func:`iter_labelstudio` reads a Label Studio JSON export. Only human
annotations become gold: a task nobody annotated is skipped with a warning
unless ``accept_predictions=True`` (then its first prediction is used and the
document's meta says ``labelstudio_origin: prediction``). Flaws that can be
repaired are repaired and reported (edge punctuation trimmed off a span by
:func:`goftar.inference.validate.trim_span`, a ``left`` arrow reversed, a
``bi`` arrow or a backwards arrow oriented by the relation's head and tail
types, UTF-16 offsets converted); flaws that cannot drop only that span or
relation, reported as ``file:task N:region R: what``. One bad task never
loses the rest of the file.

Offsets. Label Studio's editor counts ``Text`` offsets in code points (its
frontend tests "calculate offsets by code points", so an emoji counts one)
and counts ``\\r\\n`` as two characters; that is how Python indexes a
``str``, so goftar writes its own offsets unchanged. Versions before the
code-point fix stored UTF-16 offsets (JavaScript string indices) in texts
with emoji; a region whose ``value.text`` shows that is converted on reading.
ZWNJ (U+200C) and «» are single UTF-16 units: both counts agree on them.
"""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator

from ..document import Document, DocumentError, Entity, Relation
from ..schema import Schema
from ..validate import trim_span
from ._common import _count, _schema

TEXT_NAME = "text"  # the <Text> object's name in the config
DEFAULT_MODEL_VERSION = "goftar"


# ---------------------------------------------------------------------------
# Labels: one string per span, as Label Studio and doccano hold them
# ---------------------------------------------------------------------------


def span_label(entity: Entity, schema: Schema | None = None) -> str:
    """The single label string of an entity in Label Studio and doccano: ``SECTOR:TRADE``, ``PER``.

    A type that carries a category (its layer is tagged by category) is written ``TYPE:CATEGORY``.
    """
    if entity.category and _schema(schema).has_categories(entity.type):
        return f"{entity.type}:{entity.category}"
    return entity.type


def split_label(label: str) -> tuple[str, str | None]:
    """``"SECTOR:TRADE"`` → ``("SECTOR", "TRADE")``; ``"PER"`` → ``("PER", None)``."""
    typ, sep, cat = label.partition(":")
    return (typ, cat) if sep and cat else (label, None)


@dataclass(frozen=True)
class ImportNote:
    """One located message of the importer: a repair, a drop, or a skipped task.

    ``kind`` is ``"repaired"`` (the data was fixed and kept), ``"dropped"``
    (a span or relation was left out) or ``"skipped"`` (a whole task was not
    imported: no human annotation).
    """

    where: str
    kind: str
    what: str

    def __str__(self) -> str:
        return f"{self.where}: {self.what}"


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------


def task_score(doc: Document) -> float | None:
    """The task-level score of a pre-annotated document: its least certain decision.

    The lowest score over its QUOTE spans and its ``said_by`` links (the
    decisions a corrector most needs to check); a document with neither
    falls back to the lowest score over all its spans and relations; None
    when nothing carries a score.

    >>> from goftar.inference.document import Document, Entity, Relation
    >>> task_score(Document("d", "x y", [Entity("T1", "PER", 0, 1, score=0.4), Entity("T2", "QUOTE", 2, 3, score=0.9)],
    ...                      [Relation("said_by", "T2", "T1", 0.7)]))
    0.7
    """
    key = [e.score for e in doc.entities if e.type == "QUOTE" and e.score is not None]
    key += [r.score for r in doc.relations if r.type == "said_by" and r.score is not None]
    if not key:
        key = [x.score for x in [*doc.entities, *doc.relations] if x.score is not None]
    return round(float(min(key)), 4) if key else None


def model_version_of(doc: Document, default: str = DEFAULT_MODEL_VERSION) -> str:
    """``meta.model_version`` (or ``meta.model``) of a predicted document, else ``default``."""
    for key in ("model_version", "model"):
        v = doc.meta.get(key)
        if isinstance(v, str) and v:
            return v
    return default


def labelstudio_task(
    doc: Document, *, predictions: bool = False, model_version: str | None = None, schema: Schema | None = None
) -> dict[str, Any]:
    """One document as a Label Studio task (``annotations``, or ``predictions`` for pre-annotation).

    Each span is a ``labels`` region of the ``Labels`` group of its layer
    (``from_name`` = the layer name), each relation a ``relation`` item.
    ``model_version`` (predictions only) defaults to :func:`model_version_of`.

    >>> from goftar.inference.document import Document, Entity
    >>> t = labelstudio_task(Document("d1", "قالیباف گفت", [Entity("T1", "PER", 0, 7)]))
    >>> t["annotations"][0]["result"][0]["value"]
    {'start': 0, 'end': 7, 'text': 'قالیباف', 'labels': ['PER']}
    """
    sch = _schema(schema)
    result: list[dict[str, Any]] = []
    for e in doc.entities:
        r: dict[str, Any] = {
            "id": e.id, "from_name": sch.layer_of(e.type) or "ne", "to_name": TEXT_NAME, "type": "labels",
            "value": {"start": e.start, "end": e.end, "text": doc.text[e.start:e.end], "labels": [span_label(e, sch)]},
        }
        if e.score is not None:
            r["score"] = round(float(e.score), 4)
        result.append(r)
    for rel in doc.relations:
        r = {"type": "relation", "from_id": rel.head, "to_id": rel.tail, "direction": "right", "labels": [rel.type]}
        if rel.score is not None:
            r["score"] = round(float(rel.score), 4)
        result.append(r)
    data: dict[str, Any] = {TEXT_NAME: doc.text, "doc_id": doc.id}
    if doc.meta:
        data["meta"] = doc.meta
    if not predictions:
        return {"data": data, "annotations": [{"result": result}]}
    pred: dict[str, Any] = {"model_version": model_version or model_version_of(doc), "result": result}
    score = task_score(doc)
    if score is not None:
        pred["score"] = score
    return {"data": data, "predictions": [pred]}


def write_labelstudio(
    docs: Iterable[Document], path: str | Path, *, predictions: bool = False, model_version: str | None = None,
    schema: Schema | None = None, warnings: Counter | None = None,
) -> int:
    """Write documents as a Label Studio import file (a JSON list, one task per line).

    ``predictions=True`` writes model output as pre-annotations to correct in
    Label Studio. Without it, documents that carry model scores are still
    written as annotations (as if a person had made them) and counted in
    ``warnings``. The project needs :func:`labelstudio_config` as its
    labelling config. Returns the number of tasks written.
    """
    n = 0
    with open(path, "w", encoding="utf-8") as f:
        f.write("[")
        for doc in docs:
            if not predictions and any(x.score is not None for x in [*doc.entities, *doc.relations]):
                _count(warnings, "labelstudio: model output written as annotations (pass --as-predictions "
                                 "to write pre-annotations)")
            task = labelstudio_task(doc, predictions=predictions, model_version=model_version, schema=schema)
            f.write(("\n" if n == 0 else ",\n") + json.dumps(task, ensure_ascii=False))
            n += 1
        f.write("\n]\n")
    return n


def _xml_attr(s: str) -> str:
    return s.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")


def labelstudio_config(schema: Schema | None = None) -> str:
    """The Label Studio labelling config that the tasks of :func:`write_labelstudio` fit.

    One ``Labels`` group per layer (``ne``, ``role``, ``sector``, ``quote``;
    spans of different groups may nest, as layers do), the sector layer with
    one ``SECTOR:<CATEGORY>`` label per category, and one relation label per
    relation type. White space is shown as it is (``pre-wrap``): offsets count
    every character.

    >>> cfg = labelstudio_config()
    >>> "SECTOR:TRADE" in cfg and '<Relation value="said_by"/>' in cfg
    True
    """
    sch = _schema(schema)
    lines = ["<View>", "  <Style>.htx-text { white-space: pre-wrap; }</Style>", "  <Relations>"]
    lines += [f'    <Relation value="{_xml_attr(r)}"/>' for r in sch.relations]
    lines.append("  </Relations>")
    for layer, types in sch.layers.items():
        typ = sch.layer_type(layer)
        labels = [f"{typ}:{c}" for c in sch.tag_names(layer)] if typ is not None else list(types)
        lines.append(f'  <Labels name="{_xml_attr(layer)}" toName="{TEXT_NAME}" showInline="true">')
        lines += [f'    <Label value="{_xml_attr(lab)}"/>' for lab in labels]
        lines.append("  </Labels>")
    lines += [f'  <Text name="{TEXT_NAME}" value="${TEXT_NAME}" granularity="symbol"/>', "</View>"]
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------
# Reading
# ---------------------------------------------------------------------------


def _utf16_to_codepoints(text: str) -> Callable[[int], int] | None:
    """Map UTF-16 offsets to code point offsets; None when both agree (no astral chars)."""
    if all(ord(c) <= 0xFFFF for c in text):
        return None
    table, u = {}, 0
    for i, c in enumerate(text):
        table[u] = i
        u += 2 if ord(c) > 0xFFFF else 1
    table[u] = len(text)
    return lambda off: table.get(off, -1)


class _Drop(Exception):
    """A span or relation that cannot be repaired: leave it out, say why."""


class _TaskReader:
    """Reads one task into a Document, noting every repair and drop."""

    def __init__(self, where: str, text: str, schema: Schema, warnings: Counter | None, notes: list[ImportNote] | None):
        self.where, self.text, self.schema = where, text, schema
        self.warnings, self.notes = warnings, notes
        self.to_cp = _utf16_to_codepoints(text)

    def note(self, where: str, kind: str, what: str, count: str) -> None:
        _count(self.warnings, f"labelstudio: {count}")
        if self.notes is not None:
            self.notes.append(ImportNote(where, kind, what))

    # -- spans ------------------------------------------------------------
    def region(self, r: dict[str, Any], rwhere: str) -> Entity:
        v = r.get("value")
        if not isinstance(v, dict):
            raise _Drop("region has no value object")
        labels = v.get("labels") or []
        if len(labels) != 1:
            raise _Drop(f"{len(labels)} labels {labels!r}; a goftar span has exactly one")
        typ, cat = split_label(str(labels[0]))
        if self.schema.layer_of(typ) is None:
            raise _Drop(f"label {labels[0]!r} is not in the schema (types: {', '.join(self.schema.entity_types)})")
        if cat is not None and (not self.schema.has_categories(typ) or cat not in self.schema.sector_categories):
            raise _Drop(f"label {labels[0]!r} is not in the schema (sector categories: "
                        f"{', '.join(self.schema.sector_categories)})")
        try:
            start, end = int(v["start"]), int(v["end"])
        except (KeyError, TypeError, ValueError):
            raise _Drop("value needs integer start and end (a Text region)") from None
        text = self.text
        shown = v.get("text")
        if isinstance(shown, str) and text[start:end] != shown:
            cs, ce = (self.to_cp(start), self.to_cp(end)) if self.to_cp is not None else (-1, -1)
            if cs >= 0 and ce >= 0 and text[cs:ce] == shown:
                start, end = cs, ce  # an editor that counted UTF-16 units (JavaScript string length)
                self.note(rwhere, "repaired", f"UTF-16 offsets converted to code points ({cs}-{ce})",
                          "UTF-16 offsets converted")
            else:
                raise _Drop(f"value.text {shown!r} is not text[{start}:{end}] = {text[start:end]!r}")
        if not 0 <= start < end <= len(text):
            raise _Drop(f"offsets {start}-{end} outside the text (length {len(text)}) or empty")
        s, e = trim_span(text, start, end)
        if s == e:
            raise _Drop(f"span {text[start:end]!r} is only white space or punctuation")
        if (s, e) != (start, end):
            self.note(rwhere, "repaired", f"span {text[start:end]!r} trimmed to {text[s:e]!r} (edge white space or "
                      "punctuation)", "spans trimmed of edge white space or punctuation")
        return Entity("", typ, s, e, cat, r.get("score"))

    # -- relations --------------------------------------------------------
    def relation(self, r: dict[str, Any], rwhere: str, ents: dict[str, Entity]) -> list[Relation]:
        labels = r.get("labels") or []
        if not labels:
            raise _Drop("relation has no label (choose said_by, role_of or topic in Label Studio)")
        a, b = str(r.get("from_id")), str(r.get("to_id"))
        for eid in (a, b):
            if eid not in ents:
                raise _Drop(f"refers to no kept region {eid}")
        direction = r.get("direction", "right")
        if direction not in ("right", "left", "bi"):
            raise _Drop(f"direction {direction!r} (Label Studio's are right, left and bi)")
        if direction == "left":
            a, b = b, a
            self.note(rwhere, "repaired", "left arrow reversed (head is the arrow's source)", "left arrows reversed")
        out = []
        for lab in labels:
            rt = self.schema.relations.get(str(lab))
            if rt is None:
                raise _Drop(f"relation label {lab!r} is not in the schema (known: {', '.join(self.schema.relations)})")
            fits = ents[a].type in rt.head and ents[b].type in rt.tail
            back = ents[b].type in rt.head and ents[a].type in rt.tail
            if not fits and back:
                head, tail = b, a
                why = "bi arrow" if direction == "bi" else "arrow drawn from tail to head"
                self.note(rwhere, "repaired", f"{lab} {why}: oriented {ents[b].type}->{ents[a].type}",
                          "relation arrows oriented by head and tail type")
            elif fits:
                head, tail = a, b
                if direction == "bi" and back:
                    raise _Drop(f"{lab} bi arrow between two {ents[a].type}s: the direction cannot be told")
                if direction == "bi":
                    self.note(rwhere, "repaired", f"{lab} bi arrow: oriented {ents[a].type}->{ents[b].type}",
                              "relation arrows oriented by head and tail type")
            else:
                raise _Drop(f"{lab} between {ents[a].type} and {ents[b].type} (head {'/'.join(rt.head)}, "
                            f"tail {'/'.join(rt.tail)})")
            out.append(Relation(str(lab), head, tail, r.get("score")))
        return out

    def read(self, results: list[Any]) -> tuple[list[Entity], list[Relation]]:
        entities: dict[str, Entity] = {}
        rels: list[tuple[dict[str, Any], str]] = []
        choices: dict[str, str] = {}
        dropped: set[str] = set()
        for k, r in enumerate(results):
            if not isinstance(r, dict):
                self.note(f"{self.where}:result {k}", "dropped", f"expected an object, got {type(r).__name__}; dropped",
                          "malformed results dropped")
                continue
            rtype = r.get("type")
            rid = r.get("id")
            rwhere = f"{self.where}:region {rid}" if rid is not None else f"{self.where}:result {k}"
            if rtype == "labels":
                try:
                    ent = self.region(r, rwhere)
                    eid = str(rid) if rid not in (None, "") else f"r{k}"
                    if eid in entities:
                        raise _Drop(f"region id {eid} used twice")
                except _Drop as exc:
                    if rid is not None:
                        dropped.add(str(rid))
                    self.note(rwhere, "dropped", f"{exc}; span dropped", "spans dropped")
                    continue
                ent.id = eid
                entities[eid] = ent
            elif rtype == "relation":
                rels.append((r, f"{self.where}:relation {r.get('from_id')}->{r.get('to_id')}"))
            elif rtype == "choices" and rid is not None and (r.get("value") or {}).get("choices"):
                choices[str(rid)] = str(r["value"]["choices"][0])  # a per-region choice: a sector's category
            else:
                _count(self.warnings, f"labelstudio: {rtype or 'untyped'} results ignored")
        for eid, cat in choices.items():
            e = entities.get(eid)
            if e is not None and self.schema.has_categories(e.type) and e.category is None:
                if cat in self.schema.sector_categories:
                    e.category = cat
                else:
                    self.note(f"{self.where}:region {eid}", "dropped", f"sector category {cat!r} is not in the schema; "
                              "span dropped", "spans dropped")
                    del entities[eid]
        for eid, e in list(entities.items()):
            if self.schema.has_categories(e.type) and e.category is None:
                self.note(f"{self.where}:region {eid}", "dropped",
                          f"{e.type} without a category (label it {e.type}:<CATEGORY>); span dropped", "spans dropped")
                del entities[eid]
        relations: list[Relation] = []
        for r, rwhere in rels:
            try:
                relations.extend(self.relation(r, rwhere, entities))
            except _Drop as exc:
                self.note(rwhere, "dropped", f"{exc}; relation dropped", "relations dropped")
        return list(entities.values()), relations


def _labelstudio_task(
    task: Any, where: str, default_id: str, text_key: str, *, accept_predictions: bool, schema: Schema,
    warnings: Counter | None, notes: list[ImportNote] | None,
) -> Document | None:
    """One task as a Document; None when it has no human annotation (skipped, noted)."""
    if not isinstance(task, dict):
        raise DocumentError(f"{where}: expected a task object, got {type(task).__name__}")
    data = task.get("data")
    if not isinstance(data, dict) or not isinstance(data.get(text_key), str):
        keys = ", ".join(data) if isinstance(data, dict) else "no 'data' object"
        raise DocumentError(f"{where}: task has no string data.{text_key} ({keys})")
    text = data[text_key]
    # Cancelled (skipped) annotations hold no labels; "completions" is the pre-1.0 name.
    anns = [a for a in task.get("annotations") or task.get("completions") or []
            if isinstance(a, dict) and not a.get("was_cancelled")]
    preds = [p for p in task.get("predictions") or [] if isinstance(p, dict)]
    reader = _TaskReader(where, text, schema, warnings, notes)
    meta = dict(data["meta"]) if isinstance(data.get("meta"), dict) else {}
    if anns:
        if len(anns) > 1:
            _count(warnings, "labelstudio: tasks with several annotations (the first was used)")
        results = anns[0].get("result") or []
    elif preds and accept_predictions:
        results = preds[0].get("result") or []
        meta["labelstudio_origin"] = "prediction"
        _count(warnings, "labelstudio: tasks taken from their prediction (--accept-predictions)")
    else:
        what = "no human annotation"
        if preds:
            what += " (only predictions; --accept-predictions takes them as they are)"
        reader.note(where, "skipped", f"{what}; task skipped", "tasks without a human annotation skipped")
        return None
    if not isinstance(results, list):
        raise DocumentError(f"{where}: annotation result is a {type(results).__name__}, not a list")
    entities, relations = reader.read(results)
    doc_id = data.get("doc_id") or data.get("id")
    if not doc_id:
        doc_id = f"labelstudio-{task['id']}" if task.get("id") is not None else default_id
    return Document(str(doc_id), text, entities, relations, meta)


def iter_labelstudio_located(
    path: str | Path, *, text_key: str = TEXT_NAME, accept_predictions: bool = False, schema: Schema | None = None,
    warnings: Counter | None = None, notes: list[ImportNote] | None = None,
) -> Iterator[tuple[str, Document | DocumentError]]:
    """``(where, document)`` per task of a Label Studio export; see :func:`iter_labelstudio`."""
    path = Path(path)
    sch = _schema(schema)
    stem = path.stem
    kw = dict(accept_predictions=accept_predictions, schema=sch, warnings=warnings, notes=notes)

    def one(task: Any, where: str, default_id: str) -> Iterator[tuple[str, Document | DocumentError]]:
        try:
            doc = _labelstudio_task(task, where, default_id, text_key, **kw)  # type: ignore[arg-type]
        except DocumentError as exc:
            yield where, exc
            return
        except (AttributeError, KeyError, TypeError, ValueError) as exc:
            yield where, DocumentError(f"{where}: malformed task ({exc!r})")
            return
        if doc is not None:
            yield where, doc

    def task_where(prefix: str, task: Any, k: int) -> str:
        tid = task.get("id") if isinstance(task, dict) else None
        return f"{prefix}:task {tid}" if tid is not None else f"{prefix}:task #{k}"

    if path.suffix.lower() in (".jsonl", ".ndjson"):
        from ..document import iter_json_lines

        for lineno, where, obj in iter_json_lines(path):
            if isinstance(obj, DocumentError):
                yield where, obj
            else:
                yield from one(obj, task_where(where, obj, lineno), f"{stem}-{lineno:06d}")
        return
    try:
        with open(path, encoding="utf-8") as f:
            tasks = json.load(f)
    except json.JSONDecodeError as exc:
        yield str(path), DocumentError(f"{path}:{exc.lineno}: invalid JSON at column {exc.colno}: {exc.msg}")
        return
    except UnicodeDecodeError as exc:
        yield str(path), DocumentError(f"{path}: invalid UTF-8 at byte {exc.start}")
        return
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        yield str(path), DocumentError(f"{path}: a Label Studio export is a list of tasks, got {type(tasks).__name__}")
        return
    for k, task in enumerate(tasks, 1):
        yield from one(task, task_where(str(path), task, k), f"{stem}-{k:06d}")


def iter_labelstudio(
    path: str | Path, *, text_key: str = TEXT_NAME, accept_predictions: bool = False, schema: Schema | None = None,
    warnings: Counter | None = None, notes: list[ImportNote] | None = None,
) -> Iterator[Document | DocumentError]:
    """Yield the documents of a Label Studio JSON export (a list of tasks).

    Each task with a human annotation gives one document: the text is
    ``data.<text_key>``, spans and relations come from its first annotation
    that was not cancelled. A task without one is skipped and noted, unless
    ``accept_predictions`` (then its first prediction is read, scores kept,
    and ``meta.labelstudio_origin`` is ``"prediction"``). A label
    ``SECTOR:TRADE`` is a SECTOR with category TRADE (a label ``SECTOR``
    with a per-region ``choices`` result is read too). The document id is
    ``data.doc_id`` (what :func:`write_labelstudio` stores), else
    ``labelstudio-<task id>``. A ``.jsonl`` file holds one task per line.

    ``notes`` (a list) receives an :class:`ImportNote` per repair, dropped
    span or relation, and skipped task; ``warnings`` (a Counter) their
    counts. A task that cannot be read at all comes as a
    :class:`DocumentError` naming ``file:task N``.

    >>> docs = read_labelstudio("project-1-at-2024.json")  # doctest: +SKIP
    """
    for _, item in iter_labelstudio_located(path, text_key=text_key, accept_predictions=accept_predictions,
                                            schema=schema, warnings=warnings, notes=notes):
        yield item


def read_labelstudio(path: str | Path, **kwargs: Any) -> list[Document]:
    """All documents of a Label Studio export (see :func:`iter_labelstudio`); raise on the first broken task."""
    out = []
    for item in iter_labelstudio(path, **kwargs):
        if isinstance(item, DocumentError):
            raise item
        out.append(item)
    return out
