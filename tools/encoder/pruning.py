"""Pruning the vocabulary: the pieces a Persian corpus uses, specials, single characters, Persian-script pieces."""
from __future__ import annotations

import json
import os
import unicodedata
from pathlib import Path
from typing import Callable, Iterable, Iterator

import numpy as np

from .reading import METASPACE, PieceVocabulary


# --------------------------------------------------------------------------
# Corpus for pruning
# --------------------------------------------------------------------------


def _repo_root() -> Path:
    here = Path(__file__).resolve().parents[2]  # tools/encoder/pruning.py → the repository
    return here if (here / "pyproject.toml").is_file() else Path.cwd()


def default_corpus_dirs() -> list[Path]:
    """``$GOFTAR_DATASETS`` (the raw and NER datasets, when set) and the repository's ``data/``."""
    root = _repo_root()
    dirs = [Path(os.environ["GOFTAR_DATASETS"])] if os.environ.get("GOFTAR_DATASETS") else []
    dirs.append(root / "data")
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
