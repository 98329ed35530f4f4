#!/usr/bin/env python3
"""PEYMA NER benchmark for an encoder folder: fine-tune, select on dev, score test.

    python scripts/bench_peyma.py --encoder encoders/e5-small-fa --out runs/bench-peyma \\
        --epochs 5 --lr 8e-5 --batch-size 32 --crf

A plain token classifier (``AutoModelForTokenClassification``) on the encoder,
trained on PEYMA train (8,028 sentences), the epoch with the best dev F1 kept,
then scored on test with seqeval in strict IOB2 mode (per type and micro).
Text goes through goftar's normaliser first, as it will at inference. Labels
sit on the first sub-token of each PEYMA word; PEYMA words may hold inner
spaces (``می شود``: it replaced ZWNJ by a space), which the tokenizer splits,
so a word can start several "▁" pieces but is still one labelled word.

``--crf`` adds BIO-constrained Viterbi decoding at prediction time (no
trained transitions: ``O → I-X``, ``B-X → I-Y``, ``I-X → I-Y`` and a
sentence-initial ``I-X`` are forbidden); both decodings are reported.

Runs on CPU and CUDA (bf16 autocast where supported, else fp16 with a grad
scaler). Writes ``results.json`` to ``--out``. ``--max-train N`` trains on the
first N sentences only, for a smoke run.
"""
from __future__ import annotations

import argparse
import json
import math
import random
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from goftar.inference import bio

REPO = Path(__file__).resolve().parent.parent
DEFAULT_DATA = REPO.parent / "shared" / "datasets" / "peyma"
TYPES = ("PER", "ORG", "LOC", "DAT", "TIM", "MON", "PCT")
LABELS = ["O"] + [f"{p}-{t}" for t in TYPES for p in ("B", "I")]
IGNORE = -100


@dataclass
class Sentence:
    """One PEYMA sentence: words and their IOB2 tags (``B-PER``, not PEYMA's ``B_PER``)."""

    words: list[str]
    tags: list[str]


def read_peyma(path: Path) -> list[Sentence]:
    """``word|TAG`` per line, blank line between sentences; split on the last ``|``."""
    if not path.is_file():
        raise SystemExit(f"{path}: PEYMA split not found; pass --data DIR (the folder with train/dev/test.txt)")
    sentences, words, tags = [], [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            if words:
                sentences.append(Sentence(words, tags))
                words, tags = [], []
            continue
        if "|" not in line:
            raise SystemExit(f"{path}:{n}: expected 'word|TAG', got {line!r}")
        word, tag = line.rsplit("|", 1)
        tag = tag.strip().replace("_", "-", 1)
        if tag not in LABELS:
            raise SystemExit(f"{path}:{n}: unknown tag {tag!r}")
        words.append(word)
        tags.append(tag)
    if words:
        sentences.append(Sentence(words, tags))
    return sentences


@dataclass
class Encoded:
    """A tokenised sentence: ids, training labels, and where each word's first piece sits."""

    ids: list[int]
    labels: list[int]
    first_piece: list[int]  # per word: position of its first piece, -1 if truncated away or empty


def encode(sentences: list[Sentence], tokenizer, max_length: int) -> tuple[list[Encoded], int]:
    """Normalise each word, tokenise the sentence pre-split into words, label first pieces.

    Returns the encodings and the number of words lost to truncation.
    """
    from goftar.inference.normalize import Normalizer

    normalizer = Normalizer()
    label_id = {label: i for i, label in enumerate(LABELS)}
    out, lost = [], 0
    for s in sentences:
        # a word the normaliser empties (a lone tatweel) keeps its raw form, so it still gets a piece
        words = [normalizer.compact(w)[0].strip() or w.strip() or "-" for w in s.words]
        enc = tokenizer(words, is_split_into_words=True, truncation=True, max_length=max_length)
        first = [-1] * len(words)
        labels = [IGNORE] * len(enc["input_ids"])
        previous = None
        for pos, w in enumerate(enc.word_ids()):
            if w is not None and w != previous:
                first[w] = pos
                labels[pos] = label_id[s.tags[w]]  # labels only on the first piece of a word
            previous = w
        lost += sum(f < 0 for f in first)
        out.append(Encoded(list(enc["input_ids"]), labels, first))
    return out, lost


def batches(items: list[Encoded], batch_size: int, pad_id: int, shuffle: bool, rng: random.Random):
    """Padded (ids, mask, labels) tensors plus the indices of the sentences in the batch."""
    import torch

    order = list(range(len(items)))
    if shuffle:
        rng.shuffle(order)
    else:  # evaluation: similar lengths together, less padding
        order.sort(key=lambda i: len(items[i].ids))
    for a in range(0, len(order), batch_size):
        idx = order[a:a + batch_size]
        width = max(len(items[i].ids) for i in idx)
        ids = torch.full((len(idx), width), pad_id, dtype=torch.long)
        mask = torch.zeros((len(idx), width), dtype=torch.long)
        labels = torch.full((len(idx), width), IGNORE, dtype=torch.long)
        for row, i in enumerate(idx):
            n = len(items[i].ids)
            ids[row, :n] = torch.tensor(items[i].ids)
            mask[row, :n] = 1
            labels[row, :n] = torch.tensor(items[i].labels)
        yield ids, mask, labels, idx


def predict(model, items: list[Encoded], batch_size: int, pad_id: int, device, autocast_dtype, crf: bool):
    """Word-level tags per sentence: ``{"argmax": [...], "bio_viterbi": [...]}`` (the latter with ``crf``)."""
    import torch

    o_only = np.full(len(LABELS), -np.inf)
    o_only[0] = 0.0  # words with no piece (truncated) are predicted O
    out = {"argmax": [None] * len(items)}
    if crf:
        out["bio_viterbi"] = [None] * len(items)
    model.eval()
    with torch.no_grad():
        for ids, mask, _, idx in batches(items, batch_size, pad_id, False, random.Random(0)):
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                logits = model(input_ids=ids.to(device), attention_mask=mask.to(device)).logits
            log_probs = torch.log_softmax(logits.float(), dim=-1).cpu().numpy()
            for row, i in enumerate(idx):
                words = np.stack([log_probs[row, p] if p >= 0 else o_only for p in items[i].first_piece])
                out["argmax"][i] = [LABELS[k] for k in words.argmax(axis=1)]
                if crf:
                    out["bio_viterbi"][i] = [LABELS[k] for k in bio.viterbi(words, LABELS)]
    return out


def score(gold: list[list[str]], pred: list[list[str]]) -> dict:
    """seqeval strict IOB2: micro precision/recall/F1 and per type (with support)."""
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    report = classification_report(gold, pred, mode="strict", scheme=IOB2, output_dict=True, zero_division=0)
    per_type = {t: {k: round(float(v), 4) if k != "support" else int(v) for k, v in r.items()}
                for t, r in report.items() if t in TYPES}
    micro = {k: round(float(v), 4) if k != "support" else int(v) for k, v in report["micro avg"].items()}
    return {"micro": micro, "per_type": per_type}


def main(argv: list[str] | None = None) -> int:
    """Fine-tune, select on dev, score test; returns 0 and writes ``results.json``."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--encoder", required=True, type=Path, help="encoder folder (python -m tools.encoder build --out)")
    ap.add_argument("--out", required=True, type=Path, help="folder for results.json")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="PEYMA folder with train/dev/test.txt")
    ap.add_argument("--epochs", type=int, default=5)
    ap.add_argument("--lr", type=float, default=8e-5, help="peak learning rate (linear warm-up, then linear decay)")
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--eval-batch-size", type=int, default=64)
    ap.add_argument("--max-length", type=int, default=128, help="training window in pieces (incl. <s> </s>)")
    ap.add_argument("--eval-max-length", type=int, default=512,
                    help="dev/test window; words past it are predicted O and counted as lost")
    ap.add_argument("--warmup", type=float, default=0.1, help="fraction of steps spent warming up")
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--max-train", type=int, help="train on the first N sentences only (smoke runs)")
    ap.add_argument("--crf", action="store_true", help="also decode with BIO-constrained Viterbi")
    ap.add_argument("--seed", type=int, default=13)
    args = ap.parse_args(argv)

    import torch
    from transformers import AutoModelForTokenClassification, AutoTokenizer, get_linear_schedule_with_warmup
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    random.seed(args.seed)
    np.random.seed(args.seed)
    torch.manual_seed(args.seed)
    device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
    autocast_dtype = None
    if device.type == "cuda":
        autocast_dtype = torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    scaler = torch.amp.GradScaler("cuda", enabled=autocast_dtype == torch.float16)

    def log(msg: str) -> None:
        print(msg, file=sys.stderr, flush=True)

    splits = {name: read_peyma(args.data / f"{name}.txt") for name in ("train", "dev", "test")}
    if args.max_train:
        splits["train"] = splits["train"][:args.max_train]
    tokenizer = AutoTokenizer.from_pretrained(args.encoder)
    train, lost_train = encode(splits["train"], tokenizer, args.max_length)
    dev, lost_dev = encode(splits["dev"], tokenizer, args.eval_max_length)
    test, lost_test = encode(splits["test"], tokenizer, args.eval_max_length)
    gold = {name: [s.tags for s in splits[name]] for name in ("dev", "test")}
    log(f"PEYMA: train {len(train)}, dev {len(dev)}, test {len(test)} sentences; words lost to truncation: "
        f"train {lost_train}, dev {lost_dev}, test {lost_test}; device {device}"
        + (f" ({torch.cuda.get_device_name()}, autocast {autocast_dtype})" if device.type == "cuda" else ""))

    model = AutoModelForTokenClassification.from_pretrained(
        args.encoder, num_labels=len(LABELS), id2label=dict(enumerate(LABELS)),
        label2id={label: i for i, label in enumerate(LABELS)},
    ).to(device)
    # no weight decay on biases and LayerNorm weights; embeddings stay trainable
    decay = [p for n, p in model.named_parameters() if p.ndim >= 2]
    no_decay = [p for n, p in model.named_parameters() if p.ndim < 2]
    optimizer = torch.optim.AdamW([{"params": decay, "weight_decay": args.weight_decay},
                                   {"params": no_decay, "weight_decay": 0.0}], lr=args.lr)
    steps_per_epoch = math.ceil(len(train) / args.batch_size)
    total = steps_per_epoch * args.epochs
    scheduler = get_linear_schedule_with_warmup(optimizer, int(args.warmup * total), total)
    pad_id = tokenizer.pad_token_id
    primary = "bio_viterbi" if args.crf else "argmax"

    epochs, best, best_state = [], None, None
    rng = random.Random(args.seed)
    for epoch in range(1, args.epochs + 1):
        model.train()
        t0, losses = time.perf_counter(), []
        for step, (ids, mask, labels, _) in enumerate(batches(train, args.batch_size, pad_id, True, rng), 1):
            with torch.autocast(device.type, dtype=autocast_dtype, enabled=autocast_dtype is not None):
                loss = model(input_ids=ids.to(device), attention_mask=mask.to(device), labels=labels.to(device)).loss
            optimizer.zero_grad(set_to_none=True)
            scaler.scale(loss).backward()
            scaler.unscale_(optimizer)
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            scaler.step(optimizer)
            scaler.update()
            scheduler.step()
            losses.append(loss.item())
            if step % 50 == 0:
                log(f"epoch {epoch} step {step}/{steps_per_epoch} loss {np.mean(losses[-50:]):.4f} "
                    f"({time.perf_counter() - t0:.0f}s)")
        if device.type == "cuda":
            torch.cuda.synchronize()
        train_seconds = time.perf_counter() - t0
        preds = predict(model, dev, args.eval_batch_size, pad_id, device, autocast_dtype, args.crf)
        dev_scores = {name: score(gold["dev"], p)["micro"]["f1-score"] for name, p in preds.items()}
        epochs.append({"epoch": epoch, "train_loss": round(float(np.mean(losses)), 4),
                       "train_seconds": round(train_seconds, 1), "dev_f1": dev_scores})
        log(f"epoch {epoch}: loss {np.mean(losses):.4f}, {train_seconds:.0f}s, dev F1 "
            + ", ".join(f"{k} {v:.4f}" for k, v in dev_scores.items()))
        if best is None or dev_scores[primary] > best["dev_f1"][primary]:
            best = epochs[-1]
            best_state = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

    model.load_state_dict(best_state)
    preds = predict(model, test, args.eval_batch_size, pad_id, device, autocast_dtype, args.crf)
    test_scores = {name: score(gold["test"], p) for name, p in preds.items()}
    build_info = args.encoder / "build_info.json"
    results = {
        "benchmark": "PEYMA NER, seqeval strict IOB2, test of the epoch with the best dev F1",
        "encoder": str(args.encoder.resolve()),
        "encoder_build": json.loads(build_info.read_text(encoding="utf-8")).get("parameters") if build_info.is_file() else None,
        "parameters": sum(p.numel() for p in model.parameters()),
        "device": torch.cuda.get_device_name() if device.type == "cuda" else f"cpu ({torch.get_num_threads()} threads)",
        "autocast": str(autocast_dtype) if autocast_dtype else None,
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "sentences": {"train": len(train), "dev": len(dev), "test": len(test)},
        "words_lost_to_truncation": {"train": lost_train, "dev": lost_dev, "test": lost_test},
        "selected_on": primary,
        "best_epoch": best["epoch"],
        "epochs": epochs,
        "seconds_per_epoch": round(float(np.mean([e["train_seconds"] for e in epochs])), 1),
        "test": test_scores,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "results.json").write_text(json.dumps(results, indent=2) + "\n", encoding="utf-8")
    for name, s in test_scores.items():
        m = s["micro"]
        print(f"test {name}: F1 {100 * m['f1-score']:.1f} (P {100 * m['precision']:.1f}, R {100 * m['recall']:.1f}); "
              + ", ".join(f"{t} {100 * r['f1-score']:.1f}" for t, r in s["per_type"].items()))
    print(f"best epoch {best['epoch']}, {results['seconds_per_epoch']}s per epoch on {results['device']}; "
          f"results in {args.out / 'results.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
