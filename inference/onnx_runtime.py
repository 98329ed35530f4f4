"""The torch-free backend: run a ``goftar export`` folder with onnxruntime.

Needs only onnxruntime, tokenizers and numpy (``pip install "goftar[onnx]"``)::

    from goftar.inference import Extractor
    ex = Extractor.from_pretrained("goftar-fa-small-onnx", backend="onnx", precision="int8")

Only "run the network" lives here; tokenisation, windows, BIO decoding and
relation decisions are the same numpy code the torch backend uses.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import numpy as np

PRECISIONS = ("int8", "fp32")


class _Tokenizer:
    """A raw ``tokenizers.Tokenizer`` with the pad id the checkpoint's tokenizer used."""

    def __init__(self, backend_tokenizer, pad_token_id: int | None):
        self.backend_tokenizer = backend_tokenizer
        self.pad_token_id = pad_token_id


def session_options(threads: int | None = None):
    """Sequential execution, all graph optimisations, ``threads`` intra-op threads (default: all cores)."""
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.inter_op_num_threads = 1
    # Window lengths vary from call to call: a memory pattern is planned (and kept) per input shape, so
    # with patterns on, memory grows with every new length (and the time saved is nil here).
    so.enable_mem_pattern = False
    if threads:
        so.intra_op_num_threads = int(threads)
    so.log_severity_level = 3
    return so


class OnnxRunner:
    """The :class:`~goftar.inference.extractor.Runner` of an exported folder."""

    def __init__(self, windows_path: str | os.PathLike, relations_path: str | os.PathLike, outputs: list[str],
                 threads: int | None = None, disabled_optimizers: list[str] | None = None):
        import onnxruntime as ort

        so = session_options(threads)
        providers = ["CPUExecutionProvider"]
        off = list(disabled_optimizers or [])

        def session(p):
            try:
                return ort.InferenceSession(str(p), so, providers=providers, disabled_optimizers=off)
            except Exception as exc:  # a damaged graph: name the file, in one line
                from .errors import ModelError

                raise ModelError(f"{p}: cannot load this ONNX graph ({str(exc).splitlines()[0][:200]}); "
                                 f"re-run `goftar export`") from None

        self.windows = session(windows_path)
        self.relations = session(relations_path)
        self.outputs = list(outputs)
        # exports from before the csum input compute the cumulative sum inside the graph (once per chunk)
        self.relations_take_csum = "csum" in {i.name for i in self.relations.get_inputs()}
        self.takes_cues = "cue_ids" in {i.name for i in self.windows.get_inputs()}

    def run_windows(self, input_ids: np.ndarray, attention_mask: np.ndarray, cue_ids: np.ndarray | None = None) -> tuple[np.ndarray, list[np.ndarray]]:
        feed = {
            "input_ids": np.ascontiguousarray(input_ids, dtype=np.int64),
            "attention_mask": np.ascontiguousarray(attention_mask, dtype=np.int64),
        }
        if self.takes_cues:  # the speech-cue tags of a model that reads them (all "none" if not given)
            feed["cue_ids"] = np.ascontiguousarray(np.zeros_like(input_ids) if cue_ids is None else cue_ids, dtype=np.int64)
        out = self.windows.run(self.outputs, feed)
        return out[0], out[1:]

    def run_relations(self, hidden: np.ndarray, heads: np.ndarray, tails: np.ndarray, feats: np.ndarray,
                      csum: np.ndarray | None = None) -> np.ndarray:
        feed = {
            "hidden": np.ascontiguousarray(hidden, dtype=np.float32),
            "heads": np.ascontiguousarray(heads, dtype=np.int64),
            "tails": np.ascontiguousarray(tails, dtype=np.int64),
            "feats": np.ascontiguousarray(feats, dtype=np.int64),
        }
        if self.relations_take_csum:
            if csum is None:
                from .extractor import span_cumsum

                csum = span_cumsum(feed["hidden"])
            feed["csum"] = np.ascontiguousarray(csum, dtype=np.float32)
        return self.relations.run(["logits"], feed)[0]


def load_onnx(path: str | os.PathLike, threads: int | None = None, precision: str = "int8") -> tuple[OnnxRunner, _Tokenizer, dict[str, Any]]:
    """``(runner, tokenizer, config)`` of a ``goftar export`` folder, for :class:`Extractor`."""
    from tokenizers import Tokenizer

    path = Path(path)
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {PRECISIONS}, not {precision!r}")
    config = json.loads((path / "config.json").read_text(encoding="utf-8"))
    info = config.get("onnx")
    if not info:
        raise FileNotFoundError(
            f"{path} is a goftar checkpoint but not an ONNX export (config.json has no 'onnx' section). "
            f"Export it first: goftar export --model {path} --out {path}-onnx"
        )
    files = info["files"][precision]
    for f in files.values():
        if not (path / f).exists():
            raise FileNotFoundError(f"{path / f} is missing; re-run `goftar export` for this model")
    tok = Tokenizer.from_file(str(path / "tokenizer.json"))
    runner = OnnxRunner(path / files["windows"], path / files["relations"], info["outputs"], threads=threads,
                        disabled_optimizers=info.get("disabled_optimizers"))
    return runner, _Tokenizer(tok, info.get("pad_token_id")), config
