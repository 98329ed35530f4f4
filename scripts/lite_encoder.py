"""Shrink the pruned e5 encoder further for the shipped default model.

    python scripts/lite_encoder.py encoders/e5-small-fa encoders/e5-small-fa-lite

`python -m tools.encoder build` keeps every single-character piece of every script, so
no text ever becomes <unk>. The default model must fit 60 MB in fp16, so this
variant keeps: special tokens, every piece the training corpus uses, the
Persian-script pieces (Arabic letters, digits, punctuation) of up to 4
characters that it does not use, and single-character pieces
of ASCII, Latin-1, general punctuation and currency signs. Dropped:
single characters of scripts Persian news does not use (CJK, Devanagari, …),
which become <unk> with this encoder.
"""
from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import numpy as np


# Persian-script pieces the corpus never used are kept up to this length: short
# pieces keep unseen words segmentable much as before, long ones are the bulk.
MAX_UNUSED_PERSIAN = 4


def _common_character(c: str) -> bool:
    """ASCII, Latin-1, general punctuation and currency signs."""
    cp = ord(c)
    return cp < 0x100 or 0x2000 <= cp <= 0x206F or 0x20A0 <= cp <= 0x20CF


def main(src: str, dst: str) -> int:
    from safetensors.numpy import load_file, save_file
    from tokenizers import Tokenizer

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/ lives in the checkout
    from tools.encoder import (
        corpus_files, default_corpus_dirs, is_persian_script_piece, is_single_character, texts_from_file, used_piece_ids,
    )

    src_p, dst_p = Path(src), Path(dst)
    tj = json.loads((src_p / "tokenizer.json").read_text(encoding="utf-8"))
    vocab = tj["model"]["vocab"]
    tok = Tokenizer.from_file(str(src_p / "tokenizer.json"))
    files = corpus_files(default_corpus_dirs())
    counts, n = used_piece_ids(tok, (t for f in files for t in texts_from_file(f)), len(vocab))
    special = {a["id"] for a in tj.get("added_tokens", [])}
    keep = set(special) | set(np.flatnonzero(counts).tolist())
    for i, (piece, _) in enumerate(vocab):
        core = piece.lstrip("\u2581")
        if (is_persian_script_piece(piece) and len(core) <= MAX_UNUSED_PERSIAN) or (
                is_single_character(piece) and (not core or _common_character(core))):
            keep.add(i)
    kept = np.array(sorted(keep), dtype=np.int64)
    new_id = {int(o): j for j, o in enumerate(kept)}
    tj["model"]["vocab"] = [vocab[i] for i in kept]
    tj["model"]["unk_id"] = new_id[tj["model"]["unk_id"]]
    for a in tj.get("added_tokens", []):
        a["id"] = new_id[a["id"]]
    pp = tj.get("post_processor") or {}
    for st in (pp.get("special_tokens") or {}).values():
        st["ids"] = [new_id[i] for i in st["ids"]]
    dst_p.mkdir(parents=True, exist_ok=True)
    (dst_p / "tokenizer.json").write_text(json.dumps(tj, ensure_ascii=False), encoding="utf-8")
    for name in ("tokenizer_config.json", "special_tokens_map.json"):
        if (src_p / name).exists():
            shutil.copy(src_p / name, dst_p / name)
    weights = load_file(str(src_p / "model.safetensors"))
    key = next(k for k in weights if k.endswith("word_embeddings.weight"))
    weights[key] = np.ascontiguousarray(weights[key][kept])
    save_file(weights, str(dst_p / "model.safetensors"), metadata={"format": "pt"})
    cfg = json.loads((src_p / "config.json").read_text(encoding="utf-8"))
    cfg["vocab_size"] = int(len(kept))
    (dst_p / "config.json").write_text(json.dumps(cfg, indent=2), encoding="utf-8")
    params = sum(v.size for v in weights.values())
    info = {"source": str(src_p), "kept_pieces": int(len(kept)), "of": len(vocab), "parameters": int(params), "corpus_texts": n}
    (dst_p / "lite_info.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print(json.dumps(info))
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:3]))
