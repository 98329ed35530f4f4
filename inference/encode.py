"""Text → normalised, tokenised, windowed model input, with offsets into the original text.

Long articles do not fit the encoder's window, so a document's tokens are
cut into overlapping windows; every token is then read from the window in
which it has the most context on both sides ("owner" window). Spans and
relations are decoded on the whole document afterwards, so nothing is lost at
a window edge.
"""
from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from .normalize import Normalizer


@dataclass
class Encoding:
    """One document, tokenised. Offsets point into the caller's original text."""

    text: str
    ids: list[int]
    offsets: np.ndarray  # [T, 2] char start/end in the original text
    windows: list[tuple[int, int]]  # token ranges [a, b)
    owner: np.ndarray = field(default=None)  # [T, 2] (window index, position in window incl. prefix)

    def __len__(self) -> int:
        return len(self.ids)


class TextEncoder:
    """Normalise, tokenise and cut into windows; the same object serves training and inference."""

    def __init__(self, tokenizer, normalizer: Normalizer, window_length: int = 256, window_stride: int = 192):
        # Work on the raw `tokenizers.Tokenizer`, so the ONNX runtime needs no transformers.
        raw = getattr(tokenizer, "backend_tokenizer", None) or getattr(tokenizer, "_tokenizer", None) or tokenizer
        if not hasattr(raw, "encode_batch"):
            raise TypeError(f"goftar needs a fast (tokenizers-backed) tokenizer, got {type(tokenizer).__name__}")
        self.tokenizer = copy.deepcopy(raw)
        self.tokenizer.no_truncation()
        self.tokenizer.no_padding()
        self.normalizer = normalizer
        self.window_length = int(window_length)
        plain = self.tokenizer.encode("a", add_special_tokens=False).ids
        full = self.tokenizer.encode("a", add_special_tokens=True).ids
        i = next(i for i in range(len(full) - len(plain) + 1) if full[i:i + len(plain)] == plain)
        self.prefix_ids, self.suffix_ids = full[:i], full[i + len(plain):]
        self.prefix = len(self.prefix_ids)
        self.n_special = len(self.prefix_ids) + len(self.suffix_ids)
        self.content_length = self.window_length - self.n_special
        if self.content_length < 8:
            raise ValueError(f"window_length {window_length} leaves no room for text after special tokens")
        self.window_stride = max(1, min(int(window_stride), self.content_length))
        pad = getattr(tokenizer, "pad_token_id", None)
        if pad is None:
            pad = next((self.tokenizer.token_to_id(t) for t in ("<pad>", "[PAD]") if self.tokenizer.token_to_id(t) is not None), 0)
        self.pad_id = int(pad)

    def encode(self, text: str) -> Encoding:
        compact, index = self.normalizer.compact(text)
        if compact.strip():
            enc = self.tokenizer.encode(compact, add_special_tokens=False)
            ids, offs = list(enc.ids), enc.offsets
        else:
            ids, offs = [], []
        offsets = np.zeros((len(ids), 2), dtype=np.int64)
        n = len(compact)
        for t, (s, e) in enumerate(offs):
            if e > s:
                offsets[t] = (index[s], index[e - 1] + 1)
            else:  # a token with no characters of its own (e.g. a lone "▁")
                p = index[s] if s < n else len(text)
                offsets[t] = (p, p)
        windows = self._windows(len(ids))
        owner = np.zeros((len(ids), 2), dtype=np.int64)
        best = np.full(len(ids), -1, dtype=np.int64)
        for w, (a, b) in enumerate(windows):
            pos = np.arange(a, b)
            context = np.minimum(pos - a, b - 1 - pos)
            better = context > best[a:b]
            best[a:b] = np.where(better, context, best[a:b])
            owner[a:b][better] = np.stack([np.full(better.sum(), w), pos[better] - a + self.prefix], axis=1)
        return Encoding(text=text, ids=ids, offsets=offsets, windows=windows, owner=owner)

    def _windows(self, n: int) -> list[tuple[int, int]]:
        if n == 0:
            return [(0, 0)]
        out, a = [], 0
        while True:
            b = min(a + self.content_length, n)
            out.append((a, b))
            if b >= n:
                return out
            a += self.window_stride

    def window_inputs(self, enc: Encoding) -> list[list[int]]:
        """Model input ids of each window, special tokens included."""
        return [self.prefix_ids + enc.ids[a:b] + self.suffix_ids for a, b in enc.windows]

    def window_features(self, enc: Encoding, per_token) -> list[list[int]]:
        """A per-token integer feature (cue tags) laid out like :meth:`window_inputs` (0 on special tokens)."""
        pre, suf = [0] * len(self.prefix_ids), [0] * len(self.suffix_ids)
        vals = [int(v) for v in per_token]
        return [pre + vals[a:b] + suf for a, b in enc.windows]


def pad_windows(rows: Sequence[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Right-pad window inputs to one length → (input_ids, attention_mask) int64 arrays."""
    L = max(len(r) for r in rows)
    ids = np.full((len(rows), L), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), L), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask
