#!/usr/bin/env python3
"""Tune a checkpoint's per-layer logit biases (``decode.label_bias``) on a dev set, without retraining.

    python scripts/tune_label_bias.py --model models/goftar-fa-small --dev data/dev.jsonl --out runs/tune-bias
    python scripts/tune_label_bias.py --model runs/continue/best --dev data/dev.jsonl --out runs/tune-bias --write

A bias is added to one label's logit before decoding: ``{"role": {"I-ROLE": 0.5}}`` makes titles run
longer, ``{"sector": {"O": -1.5}}`` finds more sectors. One pass of coordinate search over ``GRID``
(one layer at a time, the others held at their current best), each setting scored with ``goftar
score`` on the dev documents; the objective is the mean of the headline figures (entity layers,
relations, speaker attribution), so a bias that lengthens titles but costs role_of is not taken.

Writes ``OUT/tune.json`` (every setting tried, its figures and the chosen biases). With ``--write``
the chosen biases go into the checkpoint's ``config.json`` (``decode.label_bias``; nothing else in
it changes). Tune on dev, never on the test split.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

# layer → (label, values tried); 0.0 (no bias) is always among them
GRID = {
    "role": ("I-ROLE", [0.0, 0.5, 1.0, 1.5]),
    "sector": ("O", [0.0, -0.5, -1.0, -1.5, -2.0]),
    "ne": ("O", [0.0, 0.5, 1.0]),
}
HEADLINE = ("ne", "role", "sector", "quote", "said_by", "role_of", "topic", "speaker")


def figures(metrics: dict) -> dict[str, float]:
    """The headline figures of one ``goftar score`` result, in percent."""
    e, r = metrics["entities"], metrics["relations"]
    out = {layer: 100 * e[layer]["micro"]["f1"] for layer in ("ne", "role", "sector", "quote") if layer in e}
    out.update({k: 100 * r[k]["f1"] for k in ("said_by", "role_of", "topic") if k in r})
    out["speaker"] = 100 * (metrics.get("speaker_attribution") or {}).get("accuracy", 0.0)
    return {k: round(v, 2) for k, v in out.items()}


def objective(fig: dict[str, float]) -> float:
    return sum(fig.get(k, 0.0) for k in HEADLINE) / len(HEADLINE)


def search(evaluate, layers: dict[str, tuple[str, list[float]]], start: dict | None = None) -> tuple[dict, list[dict]]:
    """One pass of coordinate search. ``evaluate(label_bias) -> figures``; returns the chosen biases and every trial."""
    best = {k: dict(v) for k, v in (start or {}).items()}
    trials: list[dict] = []
    cache: dict[str, dict] = {}

    def run(bias: dict) -> float:
        key = json.dumps(bias, sort_keys=True)
        if key not in cache:
            cache[key] = evaluate(bias)
            trials.append({"label_bias": bias, "figures": cache[key], "objective": round(objective(cache[key]), 3)})
        return objective(cache[key])

    best_score = run(best)
    for layer, (label, values) in layers.items():
        for v in values:
            trial = {k: dict(x) for k, x in best.items() if k != layer}
            if v:
                trial[layer] = {label: v}
            s = run(trial)
            if s > best_score + 1e-9:
                best, best_score = trial, s
    return best, trials


def write_bias(model_dir: Path, bias: dict) -> None:
    """Set ``decode.label_bias`` in ``model_dir/config.json``, leaving every other field as it was."""
    path = model_dir / "config.json"
    config = json.loads(path.read_text(encoding="utf-8"))
    config.setdefault("decode", {})["label_bias"] = bias
    config["decode"] = dict(sorted(config["decode"].items()))
    path.write_text(json.dumps(config, ensure_ascii=False, indent=2, sort_keys=True) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="goftar checkpoint folder")
    ap.add_argument("--dev", required=True, help="annotated dev documents (goftar JSONL)")
    ap.add_argument("--out", required=True, help="folder for tune.json")
    ap.add_argument("--layers", nargs="+", default=list(GRID), choices=list(GRID))
    ap.add_argument("--write", action="store_true", help="store the chosen biases in the checkpoint's config.json")
    args = ap.parse_args(argv)

    from goftar.inference.document import read_jsonl
    from goftar.inference.extractor import Extractor
    from goftar.training.scoring import score

    model_dir = Path(args.model)
    if not (model_dir / "config.json").is_file():
        ap.error(f"{model_dir}: not a goftar checkpoint (no config.json)")
    gold = read_jsonl(args.dev)
    if not gold:
        ap.error(f"{args.dev}: no documents")
    ex = Extractor.from_pretrained(str(model_dir))
    base = dict(ex.decode)
    known = set(ex.layer_labels)
    layers = {k: v for k, v in GRID.items() if k in args.layers and k in known}
    texts = [{"id": d.id, "text": d.text} for d in gold]

    def evaluate(bias: dict) -> dict:
        ex.decode = {**base, "label_bias": bias}
        fig = figures(score(gold, ex(texts, batch_size=8), ex.schema))
        print(json.dumps(bias, ensure_ascii=False), {k: round(v, 1) for k, v in fig.items()}, flush=True)
        return fig

    best, trials = search(evaluate, layers, base.get("label_bias") or {})
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "tune.json").write_text(json.dumps({"model": str(model_dir), "dev": args.dev, "chosen": best, "trials": trials},
                                              ensure_ascii=False, indent=1), encoding="utf-8")
    print("chosen label_bias:", json.dumps(best, ensure_ascii=False))
    if args.write:
        write_bias(model_dir, best)
        print(f"written to {model_dir / 'config.json'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
