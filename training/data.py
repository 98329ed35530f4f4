"""Training data: sources with partial labels, ZWNJ augmentation, and encoding into model targets.

Pipeline: source files → :class:`Document` (any format ``goftar convert``
reads) → a ``datasets.Dataset`` of documents with what each annotates →
per epoch: augment → tokenise/window → BIO targets as *allowed-label masks* and
relation candidates with labels → packed batches.

Partial labels: a source says which layers and which ``ne`` types it
annotates. A token PEYMA labels ``O`` may still be a FAC, so for such tokens
every label of an unannotated type is allowed too; the loss maximises the
probability of the allowed set. A layer a source does not annotate allows
every label, which makes its loss exactly zero.
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from goftar.inference import bio
from goftar.inference.cues import Lexicon, find_cues, token_tags
from goftar.inference.decode import Mention, candidate_pairs, token_span
from goftar.inference.document import Document, Entity, iter_jsonl
from goftar.inference.encode import TextEncoder
from goftar.inference.schema import Schema
from goftar.inference.validate import validate_document

from .config import SourceConfig

ZWNJ = "\u200c"
# a space that stands where a ZWNJ belongs: before plural/verb suffixes and after the «می» prefix
_SUFFIX_SPACE = re.compile(r"(\S) ((?:ها|های|هایی|اند|ایم|اید|تر|ترین)(?=\s|$|[.,،:؛]))")
_PREFIX_SPACE = re.compile(r"(^|\s)(ن?می) (?=\S)")


# -- reading ------------------------------------------------------------
def read_source(src: SourceConfig) -> tuple[list[Document], list[str]]:
    """Read a source's documents; returns (documents, problems). Broken records are reported, not fatal."""
    path = Path(src.path)
    if not path.exists():
        if "GOFTAR_DATASETS" in str(src.path):
            raise FileNotFoundError(f"training source not found: {path} — set GOFTAR_DATASETS to the folder holding "
                                    f"peyma/ and arman/ (PEYMA and ARMAN are not shipped with goftar)")
        raise FileNotFoundError(f"training source not found: {path}")
    from goftar.inference import formats

    # the format is told in one place (formats.detect_format), as `goftar convert` and `validate` tell it
    fmt = formats.detect_format(path) if src.format == "auto" else src.format
    problems: list[str] = []
    if fmt in ("goftar", "jsonl"):
        docs = []
        for lineno, d in iter_jsonl(path):
            if isinstance(d, Document):
                d.meta.setdefault("_where", f"{path}:{lineno}")
                docs.append(d)
            else:
                problems.append(str(d))
    else:
        docs = []
        for d in formats.iter_documents(path, fmt):
            if isinstance(d, Document):
                docs.append(d)
            else:
                problems.append(str(d))
    # a document that breaks the guide (offsets off its text, bad relation) is reported and left out
    kept = []
    for d in docs:
        bad = validate_document(d)
        if bad:
            where = d.meta.get("_where", str(path))
            problems.extend(f"{where} {d.id}: {b}" for b in bad)
        else:
            kept.append(d)
        d.meta.pop("_where", None)
    docs = kept
    if src.exclude_texts_from:
        banned = set()
        for other in src.exclude_texts_from:
            o = SourceConfig(path=other, format=src.format)
            banned |= {d.text for d in read_source(o)[0]}
        docs = [d for d in docs if d.text not in banned]
    if src.max_docs is not None:
        docs = docs[: src.max_docs]
    return docs, problems


def annotation_of(doc: Document, src: SourceConfig, schema: Schema) -> dict[str, Any]:
    """What this document annotates: the source config wins over the reader's meta, else everything."""
    layers = src.layers or doc.meta.get("layers") or list(schema.layers)
    ne_types = src.ne_types or doc.meta.get("ne_types") or list(schema.layers["ne"])
    rels = src.relations if src.relations is not None else doc.meta.get("relations")
    if rels is None:
        rels = [r.name for r in schema.relations.values()
                if all(schema.layer_of(t) in layers for t in (*r.head, *r.tail))]
    return {"layers": list(layers), "ne_types": list(ne_types), "relations": list(rels)}


# -- augmentation -------------------------------------------------------
def switch_zwnj(doc: Document, rng: random.Random) -> Document:
    """Rewrite the document with one ZWNJ style — ZWNJ, none, or space — keeping spans on the same words.

    Real news uses all three («همکاری‌های», «همکاریهای», «همکاری های»); the
    model must read them alike, so training sees each.
    """
    style = rng.choice(["zwnj", "none", "space"])
    text = doc.text
    if style == "zwnj":
        # spaces where a ZWNJ belongs become ZWNJs (same length, offsets unchanged)
        new = _PREFIX_SPACE.sub(lambda m: m.group(1) + m.group(2) + ZWNJ, _SUFFIX_SPACE.sub(lambda m: m.group(1) + ZWNJ + m.group(2), text))
        return Document(doc.id, new, list(doc.entities), list(doc.relations), doc.meta)
    if ZWNJ not in text:
        return doc
    repl = " " if style == "space" else ""
    out, index = [], []  # index[i] = new position of old char i
    for c in text:
        index.append(len(out))
        if c == ZWNJ:
            out.extend(repl)
        else:
            out.append(c)
    index.append(len(out))
    new = "".join(out)
    ents = []
    for e in doc.entities:
        s, t = index[e.start], index[e.end]
        while t > s and new[t - 1] == " ":
            t -= 1
        ents.append(Entity(e.id, e.type, s, t, e.category))
    return Document(doc.id, new, ents, list(doc.relations), doc.meta)


# -- encoding into targets ------------------------------------------------
@dataclass
class Example:
    ids: list[int]
    windows: list[list[int]]
    owner: np.ndarray
    labels: dict[str, np.ndarray]  # layer → label id per token (-1 = not annotated)
    open_labels: dict[str, list[int]]  # layer → labels also allowed on tokens labelled O
    heads: np.ndarray
    tails: np.ndarray
    feats: np.ndarray
    pair_labels: np.ndarray  # 0 = no relation, k = relation k-1, -100 = not annotated
    pair_group: np.ndarray = None  # per pair: id of its (head, one-per-head relation) group, -1 if none
    pair_class: np.ndarray = None  # per pair: the class index (1 + relation) the group competes for
    n_lost: int = 0  # gold spans no token could carry
    cue_windows: list[list[int]] | None = None  # speech-cue tag ids laid out like ``windows``


def encode_example(doc: Document, annot: dict[str, Any], encoder: TextEncoder, layer_labels: dict[str, list[str]],
                   relation_types: list[str], schema: Schema, allowed_pairs: list | None = None,
                   relation_features: list[str] | None = None, cue_features: bool = False,
                   lexicon: Lexicon | None = None) -> Example:
    """One document → model targets: BIO label ids per layer, relation candidates with their labels,
    and (``cue_features``) the speech-cue tag of every token, laid out in windows."""
    enc = encoder.encode(doc.text)
    cues = find_cues(doc.text, lexicon)
    T = len(enc.ids)
    labels: dict[str, np.ndarray] = {}
    open_labels: dict[str, list[int]] = {}
    n_lost = 0
    for layer, labs in layer_labels.items():
        if layer not in annot["layers"]:
            labels[layer] = np.full(T, -1, dtype=np.int64)
            open_labels[layer] = []
            continue
        lab_id = {l: i for i, l in enumerate(labs)}
        spans = []
        for e in doc.entities:
            if schema.layer_of(e.type) != layer:
                continue
            t = schema.tag_of(e.type, e.category)
            if f"B-{t}" not in lab_id:
                n_lost += 1
                continue
            spans.append((e.start, e.end, t))
        mapped, lost = bio.char_spans_to_units(enc.offsets, spans)
        n_lost += len(lost)
        y = np.array([lab_id[tag] for tag in bio.spans_to_tags(T, mapped)], dtype=np.int64)
        labels[layer] = y
        if layer == "ne":
            missing = [t for t in schema.layers["ne"] if t not in annot["ne_types"]]
            open_labels[layer] = [lab_id[f"{p}-{t}"] for t in missing for p in ("B", "I")]
        else:
            open_labels[layer] = []
    # relation candidates among gold mentions
    mentions, ent_index = [], {}
    pair_type_set = {t for r in schema.relations.values() for t in (*r.head, *r.tail)}
    for e in doc.entities:
        if e.type not in pair_type_set:
            continue
        span = token_span(enc.offsets, e.start, e.end)
        if span is None:
            continue
        ent_index[e.id] = len(mentions)
        mentions.append(Mention(e.type, span[0], span[1], e.start, e.end, e.category))
    heads, tails, feats, index = candidate_pairs(doc.text, mentions, schema, pairs=allowed_pairs, cues=cues,
                                                 features=relation_features)
    gold = {}
    for r in doc.relations:
        if r.head in ent_index and r.tail in ent_index:
            gold[(ent_index[r.head], ent_index[r.tail])] = r.type
    pl = np.zeros(len(index), dtype=np.int64)
    group = np.full(len(index), -1, dtype=np.int64)
    cls = np.zeros(len(index), dtype=np.int64)
    group_ids: dict[tuple[str, int], int] = {}
    for p, (hi, ti) in enumerate(index):
        names = schema.relations_for(mentions[hi].type, mentions[ti].type)
        if not any(n in annot["relations"] for n in names):
            pl[p] = -100
            continue
        if (hi, ti) in gold and gold[(hi, ti)] in relation_types:
            pl[p] = 1 + relation_types.index(gold[(hi, ti)])
        single = [n for n in names if schema.relations[n].max_per_head == 1 and n in relation_types]
        if single:
            group[p] = group_ids.setdefault((single[0], hi), len(group_ids))
            cls[p] = 1 + relation_types.index(single[0])
    cue_windows = encoder.window_features(enc, token_tags(doc.text, enc.offsets, cues)) if cue_features else None
    return Example(enc.ids, encoder.window_inputs(enc), enc.owner, labels, open_labels, heads, tails, feats, pl,
                   pair_group=group, pair_class=cls, n_lost=n_lost, cue_windows=cue_windows)


def pack(examples: list[Example], batch_windows: int, rng: random.Random) -> list[list[int]]:
    """Shuffle, then group examples so each batch holds at most ``batch_windows`` windows (one long document may exceed it alone)."""
    order = list(range(len(examples)))
    rng.shuffle(order)
    batches, cur, n = [], [], 0
    for i in order:
        w = len(examples[i].windows)
        if cur and n + w > batch_windows:
            batches.append(cur)
            cur, n = [], 0
        cur.append(i)
        n += w
    if cur:
        batches.append(cur)
    return batches


def collate(examples: list[Example], pad_id: int, layer_labels: dict[str, list[str]]) -> dict[str, Any]:
    """Stack windows of several documents; per document keep its token→window map and targets as tensors."""
    import torch

    rows, docs, cue_rows = [], [], []
    for ex in examples:
        base = len(rows)
        rows.extend(ex.windows)
        if ex.cue_windows is not None:
            cue_rows.extend(ex.cue_windows)
        allowed = {}
        for layer, labs in layer_labels.items():
            y = ex.labels[layer]
            m = torch.zeros(len(y), len(labs), dtype=torch.bool)
            if len(y) and (y < 0).all():
                m[:] = True  # layer not annotated: every label allowed → zero loss
            else:
                m[torch.arange(len(y)), torch.as_tensor(np.maximum(y, 0))] = True
                if ex.open_labels[layer]:
                    o = torch.as_tensor(y == 0)
                    for k in ex.open_labels[layer]:
                        m[o, k] = True
            allowed[layer] = m
        docs.append({
            "rows": torch.as_tensor(ex.owner[:, 0] + base, dtype=torch.long),
            "pos": torch.as_tensor(ex.owner[:, 1], dtype=torch.long),
            "allowed": allowed,
            "heads": torch.as_tensor(ex.heads), "tails": torch.as_tensor(ex.tails),
            "feats": torch.as_tensor(ex.feats), "pair_labels": torch.as_tensor(ex.pair_labels),
            "pair_group": torch.as_tensor(ex.pair_group), "pair_class": torch.as_tensor(ex.pair_class),
        })
    L = max(len(r) for r in rows)
    ids = torch.full((len(rows), L), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), L), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = torch.as_tensor(r)
        mask[i, : len(r)] = 1
    out = {"input_ids": ids, "attention_mask": mask, "docs": docs}
    if cue_rows:
        cue_ids = torch.zeros((len(rows), L), dtype=torch.long)
        for i, r in enumerate(cue_rows):
            cue_ids[i, : len(r)] = torch.as_tensor(r)
        out["cue_ids"] = cue_ids
    return out
