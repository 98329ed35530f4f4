"""``goftar evaluate``: run a checkpoint over annotated documents and score it.

    goftar evaluate --model models/goftar-fa-small --data data/test.jsonl [--json metrics.json] [--pred-out pred.jsonl]
"""
from __future__ import annotations

import json
from pathlib import Path


def evaluate(model: str | None, data: str, backend: str = "torch", batch_size: int = 8, pred_out: str | None = None,
             precision: str = "int8", threads: int | None = None):
    from goftar.inference.document import write_jsonl
    from goftar.inference.extractor import Extractor

    from .scoring import read_gold, score

    gold = read_gold(data)  # the gold reading of `goftar score` too
    ex = Extractor.from_pretrained(model, backend=backend, precision=precision, threads=threads)
    preds = ex([{"id": d.id, "text": d.text} for d in gold], batch_size=batch_size, progress=True)
    if pred_out:
        write_jsonl(preds, pred_out)
    return score(gold, preds, ex.schema), preds


def register(sub) -> None:
    p = sub.add_parser("evaluate", help="predict on annotated documents and score against them")
    p.add_argument("--model", default=None, help="goftar checkpoint (default: the shipped model)")
    p.add_argument("--data", required=True, help="gold documents (goftar JSONL or any format goftar convert reads)")
    p.add_argument("--backend", choices=["auto", "torch", "onnx"], default="auto", help="runtime: auto (default) picks onnx for a `goftar export` folder, else torch")
    p.add_argument("--precision", choices=["int8", "fp32"], default="int8", help="with --backend onnx: which exported graphs")
    p.add_argument("--threads", type=int, default=None, help="intra-op threads (default: all cores)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default 8)")
    p.add_argument("--json", help="write the metrics as JSON here")
    p.add_argument("--pred-out", help="write the predictions as goftar JSONL here")
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    from .scoring import format_report

    metrics, _ = evaluate(args.model, args.data, args.backend, args.batch_size, args.pred_out, args.precision, args.threads)
    print(format_report(metrics))
    if args.json:
        Path(args.json).write_text(json.dumps(metrics, ensure_ascii=False, indent=1), encoding="utf-8")
    return 0
