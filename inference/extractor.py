"""The Python API: ``Extractor.from_pretrained(path)(texts)``.

>>> from goftar.inference import Extractor            # doctest: +SKIP
>>> ex = Extractor.from_pretrained()                   # the shipped default model  # doctest: +SKIP
>>> doc = ex(["قالیباف گفت: روابط تجاری را توسعه می‌دهیم."])[0]  # doctest: +SKIP
>>> doc.quotes[0].speaker_name                         # a Quote; doc.quotes[0].to_dict() is its JSON  # doctest: +SKIP
'قالیباف'

One result per input, in order; an input that cannot be processed gives a
:class:`Document` with ``error`` set instead of stopping the batch.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Protocol, Sequence

import numpy as np

from . import bio
from .cues import checkpoint_lexicon, find_cues, token_tags
from .decode import (DECODE_DEFAULTS, Mention, anchored_quotes, apposition, candidate_pairs, cut_at_words, decide_relations,
                     decode_bio, drop_institutions, extend_titles, foreign_titles, merge_touching, names_not_titles,
                     nearest_holders, pronoun_speakers, propagate_titles, split_titles, strip_honorifics, trim_edge_words)
from .document import Document, Entity, Relation, record_problem, unicode_problem
from .errors import ModelError
from .encode import Encoding, TextEncoder, pad_windows
from .normalize import Normalizer
from .schema import Schema

DEFAULT_MODEL_NAME = "goftar-fa-small"
# the repository's models/ folder, when the package runs from a checkout (an installed wheel has none)
DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / DEFAULT_MODEL_NAME


def model_search_path() -> list[Path]:
    """Where the default model is looked for, in order: ``GOFTAR_MODEL``, the user cache
    (``$XDG_CACHE_HOME/goftar/models/goftar-fa-small``, default ``~/.cache/...``), the checkout's ``models/``."""
    out = []
    if os.environ.get("GOFTAR_MODEL"):
        out.append(Path(os.environ["GOFTAR_MODEL"]))
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    out.append(cache / "goftar" / "models" / DEFAULT_MODEL_NAME)
    out.append(DEFAULT_MODEL)
    return out


def find_model(path: str | os.PathLike | None = None) -> Path:
    """A model folder: ``path`` when given, else the first of :func:`model_search_path` that holds a model."""
    if path is not None:
        return Path(path)
    tried = model_search_path()
    for p in tried:
        if (p / "config.json").exists():
            return p
    raise ModelError(
        "no default model found (looked in: " + ", ".join(str(p) for p in tried) + "). It ships in the repository's "
        "models/goftar-fa-small (an installed wheel does not carry it): pass its folder, set GOFTAR_MODEL, "
        f"or copy it to {tried[-2]}."
    )
MAX_CHARS = 2_000_000
PAIR_CHUNK = 2048


class Runner(Protocol):
    """What a backend provides: running the network. Decoding is shared."""

    def run_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray, cue_ids: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]: ...

    def run_relations(self, hidden: np.ndarray, heads: np.ndarray, tails: np.ndarray, feats: np.ndarray,
                      csum: np.ndarray) -> np.ndarray:
        """``csum`` [T + 1, H] is :func:`span_cumsum` of ``hidden``, computed once per document."""
        ...


def span_cumsum(hidden: np.ndarray) -> np.ndarray:
    """[T, H] → [T + 1, H] float32, row i the sum of the first i rows of ``hidden``.

    Computed once per document and handed to every chunk of relation pairs, so
    relation scoring costs O(T + P) rather than O(T × chunks). Summed in float64
    (then rounded once), so long documents do not accumulate float32 error.
    """
    out = np.zeros((hidden.shape[0] + 1, hidden.shape[1]), dtype=np.float32)
    if hidden.shape[0]:
        out[1:] = np.cumsum(hidden, axis=0, dtype=np.float64)
    return out


class TorchRunner:
    """Runs a :class:`GoftarModel` with PyTorch (no gradients)."""

    def __init__(self, model):
        import torch

        self.torch = torch
        self.model = model

    @property
    def device(self):
        return next(self.model.parameters()).device

    def run_windows(self, input_ids, attention_mask, cue_ids=None):
        torch = self.torch
        was_training = self.model.training
        self.model.eval()
        with torch.inference_mode():
            cues = None if cue_ids is None else torch.as_tensor(cue_ids, device=self.device)
            out = self.model(torch.as_tensor(input_ids, device=self.device), torch.as_tensor(attention_mask, device=self.device), cues)
        self.model.train(was_training)
        return out[0].float().cpu().numpy(), [o.float().cpu().numpy() for o in out[1:]]

    def run_relations(self, hidden, heads, tails, feats, csum):
        torch = self.torch
        was_training = self.model.training
        self.model.eval()
        dev = self.device
        with torch.inference_mode():
            out = self.model.relation_logits(
                torch.as_tensor(hidden, device=dev), torch.as_tensor(heads, device=dev),
                torch.as_tensor(tails, device=dev), torch.as_tensor(feats, device=dev),
                csum=torch.as_tensor(csum, device=dev),
            )
        self.model.train(was_training)
        return out.float().cpu().numpy()


@dataclass
class _Pending:
    index: int
    doc: Document
    enc: Encoding | None
    cues: list | None = None


class Extractor:
    """Finds entities, titles, sectors and quotes, and links them.

    Build with :meth:`from_pretrained`; call with a list of texts (or
    ``{"id", "text"}`` dicts / :class:`Document` objects)::

        ex = Extractor.from_pretrained("models/goftar-fa-small")
        docs = ex(["…", "…"], batch_size=8)
        docs[0].entities, docs[0].relations, docs[0].quotes
    """

    def __init__(self, runner: Runner, tokenizer, config: dict[str, Any], decode: dict[str, Any] | None = None):
        self.runner = runner
        try:  # runners written before the csum argument take four
            import inspect

            params = inspect.signature(runner.run_relations).parameters
            self._runner_takes_csum = "csum" in params or any(p.kind == p.VAR_POSITIONAL for p in params.values())
        except (TypeError, ValueError):
            self._runner_takes_csum = True
        self.tokenizer = tokenizer
        self.config = config
        self.schema = Schema.from_dict(config["schema"])
        self.layer_labels: dict[str, list[str]] = config["layer_labels"]
        self.relation_types: list[str] = config["relation_types"]
        # decode settings: the checkpoint's, overridden by the caller's (aggregation, constrained)
        self.decode = {**DECODE_DEFAULTS, **(config.get("decode") or {}), **(decode or {})}
        self.decode["quote_anchor"] = {**DECODE_DEFAULTS["quote_anchor"], **(self.decode.get("quote_anchor") or {})}
        self.lexicon = checkpoint_lexicon(config)  # the cue lexicon the weights were trained with
        self.cue_features = bool(config.get("cue_features", False))
        self.relation_features = [n for n, _ in config.get("relation_features") or []] or None
        unknown = set(self.decode) - set(DECODE_DEFAULTS)
        if unknown:
            raise ValueError(f"unknown decode settings {sorted(unknown)}; known: {sorted(DECODE_DEFAULTS)}")
        for layer, biases in (self.decode.get("label_bias") or {}).items():
            if layer not in self.layer_labels:
                raise ValueError(f"decode label_bias names layer {layer!r}; the model's layers: {sorted(self.layer_labels)}")
            bad = sorted(set(biases) - set(self.layer_labels[layer]))
            if bad:
                raise ValueError(f"decode label_bias[{layer!r}] names labels {bad} the layer does not have; "
                                 f"its labels: {self.layer_labels[layer]}")
        if self.decode["aggregation"] not in bio.AGGREGATIONS:
            raise ValueError(f"decode aggregation must be one of {bio.AGGREGATIONS}, not {self.decode['aggregation']!r}")
        self.encoder = TextEncoder(
            tokenizer, Normalizer.from_dict(config.get("normalizer")),
            config.get("window_length", 256), config.get("window_stride", 192),
        )

    # -- construction ---------------------------------------------------
    @classmethod
    def from_pretrained(cls, path: str | os.PathLike | None = None, backend: str = "auto", device: str = "cpu", threads: int | None = None,
                        precision: str = "int8", progress: bool = True, decode: dict[str, Any] | None = None) -> "Extractor":
        """Load a goftar checkpoint folder (default: the shipped goftar-fa-small).

        ``backend="auto"`` (the default) runs a ``goftar export`` folder with
        onnxruntime and a checkpoint with torch; ``"onnx"`` needs only
        onnxruntime, tokenizers and numpy; ``precision`` ("int8" or "fp32")
        picks its graphs. ``threads`` sets the intra-op threads of either
        backend; ``device`` the torch device. ``progress=False`` keeps
        transformers' loading bars quiet. ``decode`` overrides the checkpoint's
        decode settings (``{"aggregation": "first" | "mean" | "token",
        "constrained": True | False, "quote_anchor": {...}}``).

        The folder is checked first (:func:`goftar.inference.checks.check_model_folder`):
        config and tokenizer parse, every tensor is there with its shape and
        dtype, the goftar version is known; a :class:`ModelError` names the
        file and what is wrong otherwise.
        """
        from .checks import check_model_folder

        path = find_model(path)
        if backend not in ("auto", "torch", "onnx"):
            raise ValueError(f"backend must be 'auto', 'torch' or 'onnx', not {backend!r}")
        kind = check_model_folder(path, backend=backend, precision=precision)
        if kind == "onnx":
            if device != "cpu":
                raise ModelError(f"{path}: the onnx backend runs on the CPU; --device {device} needs a torch checkpoint")
            from .onnx_runtime import load_onnx

            runner, tokenizer, config = load_onnx(path, threads=threads, precision=precision)
            return cls(runner, tokenizer, config, decode=decode)
        import torch
        from transformers import AutoTokenizer
        from transformers.utils import logging as hf_logging

        from .modeling import GoftarModel

        if threads:
            torch.set_num_threads(threads)
        bars = hf_logging.is_progress_bar_enabled()
        if not progress:
            hf_logging.disable_progress_bar()
        try:
            model = GoftarModel.from_pretrained(path).to(device).float().eval()
            tokenizer = AutoTokenizer.from_pretrained(path)
        finally:
            if bars and not progress:
                hf_logging.enable_progress_bar()
        return cls.from_model(model, tokenizer, decode=decode)

    @classmethod
    def from_model(cls, model, tokenizer, decode: dict[str, Any] | None = None) -> "Extractor":
        """Wrap an in-memory model (used during training for dev evaluation)."""
        return cls(TorchRunner(model), tokenizer, model.config.to_dict(), decode=decode)

    # -- public API -----------------------------------------------------
    def __call__(self, inputs: Sequence[str | dict | Document] | str, batch_size: int = 8, progress: bool = False) -> list[Document]:
        single = isinstance(inputs, str)
        docs = list(self.stream([inputs] if single else inputs, batch_size=batch_size, progress=progress))
        return docs

    def predict(self, text: str) -> Document:
        """One text in, one :class:`Document` out."""
        return self([text])[0]

    def stream(self, inputs: Iterable[str | dict | Document], batch_size: int = 8, progress: bool = False, total: int | None = None) -> Iterator[Document]:
        """Process an iterable lazily, yielding results in input order.

        Windows of several documents are grouped by length into batches of
        ``batch_size`` windows; memory stays bounded by ``batch_size * 8``
        windows in flight, whatever the length of the stream.
        """
        bar = None
        if progress:
            from tqdm.auto import tqdm

            bar = tqdm(total=total, unit="doc", desc="goftar", file=None)
        pending: list[_Pending] = []
        n_windows = 0
        budget = max(1, batch_size) * 8
        for i, item in enumerate(inputs):
            p = self._prepare(i, item)
            pending.append(p)
            n_windows += len(p.enc.windows) if p.enc else 0
            if n_windows >= budget:
                yield from self._flush(pending, batch_size, bar)
                pending, n_windows = [], 0
        yield from self._flush(pending, batch_size, bar)
        if bar is not None:
            bar.close()

    # -- internals ------------------------------------------------------
    def _prepare(self, i: int, item) -> _Pending:
        """One input → a pending document, or a Document with ``error``; never raises."""
        try:
            return self._prepare_unchecked(i, item)
        except Exception as exc:  # a record nobody foresaw must still get its own result
            doc = item if isinstance(item, Document) else Document(id=str(i), text="")
            where = doc.where or f"input {i}"
            return _Pending(i, Document(id=str(doc.id), text="", meta={}, where=doc.where,
                                        error=f"{where}: cannot process ({type(exc).__name__}: {exc})"), None)

    def _prepare_unchecked(self, i: int, item) -> _Pending:
        if isinstance(item, Document) and item.error:  # a reader already failed on it: pass the error through
            return _Pending(i, item, None)
        where = f"input {i}"
        if isinstance(item, Document):
            where = item.where or where
            obj = {"id": item.id, "text": item.text, "meta": item.meta}
        elif isinstance(item, dict):
            obj = item
        else:
            obj = {"text": item}
        problem = record_problem(obj)
        raw_id = obj.get("id", str(i))
        doc_id = str(raw_id) if isinstance(raw_id, (str, int)) and not isinstance(raw_id, bool) and not unicode_problem(raw_id) else str(i)
        if problem:
            if not isinstance(item, (dict, Document)):
                problem = f"expected text as a string, got {type(item).__name__}" if not isinstance(item, str) else problem
            return _Pending(i, Document(id=doc_id, text="", where=where, error=f"{where}: {problem}"), None)
        text = obj["text"]
        doc = Document(id=doc_id, text=text, meta=dict(obj.get("meta") or {}), where=where)
        if len(text) > MAX_CHARS:
            doc.error = f"{where}: text of {len(text)} characters is over the limit of {MAX_CHARS}"
            doc.text = ""
            return _Pending(i, doc, None)
        if not text.strip():
            doc.quotes = []
            return _Pending(i, doc, None)
        try:
            enc = self.encoder.encode(text)
        except Exception as exc:
            doc.error = f"{where}: the tokenizer rejected the text ({type(exc).__name__}: {exc})"
            return _Pending(i, doc, None)
        return _Pending(i, doc, enc)

    def _flush(self, pending: list[_Pending], batch_size: int, bar) -> Iterator[Document]:
        if not pending:
            return
        rows: list[list[int]] = []
        cue_rows: list[list[int]] = []
        where: list[tuple[int, int]] = []
        for k, p in enumerate(pending):
            if p.enc is None or not p.enc.ids:
                continue
            p.cues = find_cues(p.enc.text, self.lexicon)
            if self.cue_features:
                cue_rows.extend(self.encoder.window_features(p.enc, token_tags(p.enc.text, p.enc.offsets, p.cues)))
            for w, r in enumerate(self.encoder.window_inputs(p.enc)):
                rows.append(r)
                where.append((k, w))
        hidden_of: dict[tuple[int, int], np.ndarray] = {}
        logits_of: dict[tuple[int, int], list[np.ndarray]] = {}
        order = sorted(range(len(rows)), key=lambda j: len(rows[j]))  # length buckets: little padding
        failed: dict[int, str] = {}
        for b in range(0, len(order), max(1, batch_size)):
            chunk = order[b:b + batch_size]
            try:
                self._run_chunk(chunk, rows, cue_rows, where, hidden_of, logits_of)
            except Exception:  # find the window that fails; the others of the batch go on
                for j in chunk:
                    try:
                        self._run_chunk([j], rows, cue_rows, where, hidden_of, logits_of)
                    except Exception as exc:
                        failed.setdefault(where[j][0], f"the network failed on it ({type(exc).__name__}: {exc})")
        for k, p in enumerate(pending):
            if p.enc is not None and p.enc.ids:
                try:
                    if k in failed:
                        raise RuntimeError(failed[k])
                    self._decode(p, hidden_of, logits_of, k)
                except Exception as exc:  # one bad document must not stop the batch
                    p.doc.error = f"{p.doc.where or f'input {p.index}'}: {type(exc).__name__}: {exc}"
                    p.doc.entities, p.doc.relations, p.doc.quotes = [], [], None
            if bar is not None:
                bar.update(1)
            yield p.doc

    def _run_chunk(self, chunk, rows, cue_rows, where, hidden_of, logits_of) -> None:
        ids, mask = pad_windows([rows[j] for j in chunk], self.encoder.pad_id)
        if self.cue_features:
            cue_ids, _ = pad_windows([cue_rows[j] for j in chunk], 0)
            hidden, logits = self.runner.run_windows(ids, mask, cue_ids)
        else:
            hidden, logits = self.runner.run_windows(ids, mask)
        for r, j in enumerate(chunk):
            hidden_of[where[j]] = hidden[r]
            logits_of[where[j]] = [lg[r] for lg in logits]

    def gather(self, enc: Encoding, per_window: dict[int, np.ndarray]) -> np.ndarray:
        """Document-level rows from window-level arrays, each token from its owner window."""
        return np.stack([per_window[int(w)][int(pos)] for w, pos in enc.owner])

    def _decode(self, p: _Pending, hidden_of, logits_of, k: int) -> None:
        enc, doc = p.enc, p.doc
        n_win = len(enc.windows)
        hidden = self.gather(enc, {w: hidden_of[(k, w)] for w in range(n_win)})
        mentions: list[Mention] = []
        word_spans = bio.words(enc.text)
        groups = bio.token_words(word_spans, enc.offsets)  # every layer reads the same words
        cues = p.cues if p.cues is not None else find_cues(enc.text, self.lexicon)
        settings = {k: self.decode[k] for k in ("aggregation", "constrained")}
        for li, (layer, labels) in enumerate(self.layer_labels.items()):
            logits = self.gather(enc, {w: logits_of[(k, w)][li] for w in range(n_win)})
            layer_type = self.schema.layer_type(layer)  # a layer tagged by category: its one type, else None
            bias = (self.decode.get("label_bias") or {}).get(layer)
            if bias:
                logits = logits + np.array([float(bias.get(lab, 0.0)) for lab in labels], dtype=logits.dtype)
            found = decode_bio(enc.text, enc.offsets, logits, labels, layer_type, word_spans=word_spans, groups=groups,
                               **settings)
            found = merge_touching(enc.text, found, self.decode.get("merge_touching") or [])
            found = strip_honorifics(enc.text, found, enc.offsets, self.decode.get("honorifics") or [])
            if layer == "role":
                found = cut_at_words(enc.text, found, enc.offsets, self.decode.get("role_stop_words") or [])
                found = split_titles(enc.text, found, enc.offsets, self.decode.get("title_heads") or [])
                found = drop_institutions(enc.text, found, self.decode.get("institution_heads") or [])
            if layer == "quote":
                found = anchored_quotes(enc.text, enc.offsets, logits, labels, found, cues, word_spans,
                                        self.decode.get("quote_anchor"), groups)
            mentions.extend(found)
        mentions = names_not_titles(enc.text, mentions, self.decode.get("not_titles") or [])
        mentions = extend_titles(enc.text, mentions, self.decode.get("extend_titles") or [])
        # after the extension: a title the model ran up to «در» takes in the place after it first («سفیر … در» + «کوبا»)
        mentions = trim_edge_words(enc.text, mentions, enc.offsets, self.decode.get("edge_stop_words") or [])
        mentions.sort(key=lambda m: (m.start, -m.end))
        self.link(doc, enc.text, mentions, hidden, cues)

    def link(self, doc: Document, text: str, mentions: list[Mention], hidden: np.ndarray, cues: list | None = None) -> None:
        """Score relations among ``mentions`` and fill ``doc`` (entities, relations, quotes)."""
        from .quotes import quotes_view

        for j, m in enumerate(mentions, 1):
            m.id = f"T{j}"
        doc.entities = [Entity(m.id, m.type, m.start, m.end, m.category, m.score, text[m.start:m.end]) for m in mentions]
        if cues is None:
            cues = find_cues(text, self.lexicon)
        heads, tails, feats, index = candidate_pairs(
            text, mentions, self.schema, pairs=self.config.get("allowed_pairs"), cues=cues, features=self.relation_features,
        )
        doc.relations = []
        if index:
            h32 = np.ascontiguousarray(hidden, dtype=np.float32)
            csum = span_cumsum(h32)  # once per document, not once per chunk
            # pairs in chunks: memory stays bounded on very long documents
            extra = (csum,) if self._runner_takes_csum else ()
            logits = np.concatenate([
                self.runner.run_relations(h32, heads[c:c + PAIR_CHUNK], tails[c:c + PAIR_CHUNK], feats[c:c + PAIR_CHUNK], *extra)
                for c in range(0, len(index), PAIR_CHUNK)
            ])
            decided = decide_relations(
                logits, index, mentions, self.schema, self.relation_types,
                self.config.get("relation_threshold", 0.5), self.config.get("single_relation_threshold", 0.5),
            )
            prepositions = self.decode.get("foreign_title_prepositions") or ()
            propagate = self.decode.get("title_propagation", True)
            # apposition once for both title rules that read it
            adjacent = apposition(text, mentions) if propagate or (prepositions and cues) else None
            if propagate:
                decided = propagate_titles(text, mentions, decided, self.decode.get("title_aliases") or (), adjacent)
            if self.decode.get("nearest_holders"):
                decided = nearest_holders(text, mentions, decided, self.decode.get("plural_title_heads") or ())
            decided = foreign_titles(text, mentions, decided, cues, prepositions, adjacent)
            if self.decode.get("pronoun_speakers"):
                decided = pronoun_speakers(text, mentions, decided, cues)
            for name, hi, ti, score in decided:
                doc.relations.append(Relation(name, mentions[hi].id, mentions[ti].id, score))
            doc.relations.sort(key=lambda r: (int(r.head[1:]), r.type, int(r.tail[1:])))
        doc.quotes = quotes_view(doc)
