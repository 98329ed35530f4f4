"""Learning curve: the same recipe on 25 %, 50 % and 100 % of the training articles.

    GOFTAR_DATASETS=… python scripts/learning_curve.py --init-from runs/base-0.1 --out runs/curve

For every fraction the script writes a nested subset of ``data/train.jsonl`` (one shuffle with
``--seed``; the 25 % articles are inside the 50 % ones), a copy of ``--config`` whose corpus source
points at that subset (every other source, the PEYMA/ARMAN slices included, and every setting stay
as they are), trains it with ``goftar train`` and scores the kept checkpoint on ``--test`` with
``goftar score``'s measures. The run is resumable: a fraction whose ``best/`` and ``metrics.json``
exist is skipped, one that stopped half way continues with ``goftar train --resume``.

Writes ``OUT/pNN/`` (run), ``OUT/pNN.test.json`` (scores), ``OUT/summary.md`` (one table).
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import yaml


def subsets(lines: list[str], fractions: list[float], seed: int) -> dict[float, list[str]]:
    """Nested subsets: the articles of a smaller fraction are the first of every larger one."""
    order = list(range(len(lines)))
    random.Random(seed).shuffle(order)
    out = {}
    for f in fractions:
        k = max(1, round(f * len(lines)))
        keep = sorted(order[:k])  # file order kept, only membership is random
        out[f] = [lines[i] for i in keep]
    return out


def derived_config(config: dict, corpus: str, subset: Path, out_dir: Path, init_from: str | None) -> dict:
    """``config`` with the ``corpus`` source replaced by ``subset`` and the run written to ``out_dir``."""
    cfg = json.loads(json.dumps(config))
    found = False
    for src in cfg["data"]["train"]:
        if Path(src["path"]).as_posix() == Path(corpus).as_posix():
            src["path"] = str(subset)
            found = True
    if not found:
        raise SystemExit(f"the config has no training source {corpus!r} to replace")
    cfg["train"]["output_dir"] = str(out_dir)
    if init_from:
        cfg.setdefault("model", {})["init_from"] = init_from
    return cfg


def tag(f: float) -> str:
    return f"p{round(100 * f):02d}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--config", default="configs/continue.yaml")
    ap.add_argument("--corpus", default="data/train.jsonl", help="the training source the fractions are taken of")
    ap.add_argument("--test", default="data/test.jsonl")
    ap.add_argument("--init-from", help="replaces model.init_from in every run")
    ap.add_argument("--fractions", type=float, nargs="+", default=[0.25, 0.5, 1.0])
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--out", default="runs/curve")
    ap.add_argument("--exclude-batch", nargs="*", default=[],
                    help="leave out the articles whose meta.batch is one of these (the curve's corpus is the rest)")
    ap.add_argument("--trained", nargs="*", default=[], metavar="FRACTION=MODEL",
                    help="a point already trained with this recipe on that fraction (e.g. 1.0=models/goftar-fa-small): "
                         "scored, not retrained")
    args = ap.parse_args(argv)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    raw = Path(args.config).read_text(encoding="utf-8")
    config = yaml.safe_load(os.path.expandvars(raw))  # ${GOFTAR_DATASETS}, as goftar train reads it
    lines = [ln for ln in Path(args.corpus).read_text(encoding="utf-8").splitlines()
             if ln.strip() and (json.loads(ln).get("meta") or {}).get("batch") not in set(args.exclude_batch)]
    trained = {float(f): Path(m) for f, m in (t.split("=", 1) for t in args.trained)}
    goftar = [sys.executable, "-m", "goftar.cli"]

    for f, docs in subsets(lines, sorted(args.fractions), args.seed).items():
        run = out / tag(f)
        subset = out / f"{tag(f)}.train.jsonl"
        if not subset.exists():
            subset.write_text("\n".join(docs) + "\n", encoding="utf-8")
        cfg_path = out / f"{tag(f)}.yaml"
        cfg_path.write_text(yaml.safe_dump(derived_config(config, args.corpus, subset, run, args.init_from),
                                           allow_unicode=True, sort_keys=False), encoding="utf-8")
        print(f"[curve] {tag(f)}: {len(docs)} of {len(lines)} articles", flush=True)

    for f in args.fractions:  # training order as given (the full run first by default)
        run, cfg_path = out / tag(f), out / f"{tag(f)}.yaml"
        model = trained.get(f, run / "best")
        if f in trained:
            print(f"[curve] {tag(f)}: scoring {model} (trained before with this recipe)", flush=True)
        elif not ((run / "best" / "config.json").exists() and (run / "metrics.json").exists()):
            cmd = goftar + (["train", "--resume", str(run)] if (run / "last").is_dir()
                            else ["train", "--config", str(cfg_path)])
            print("[curve] " + " ".join(cmd), flush=True)
            subprocess.run(cmd, check=True)
        scores = out / f"{tag(f)}.test.json"
        if not scores.exists():
            pred = out / f"{tag(f)}.pred-test.jsonl"
            subprocess.run(goftar + ["predict", args.test, "--model", str(model), "-o", str(pred), "--overwrite",
                                    "--backend", "torch", "--no-progress"],
                           check=True)
            subprocess.run(goftar + ["score", "--gold", args.test, "--pred", str(pred), "--json", str(scores)], check=True)
    (out / "summary.md").write_text(summary(out, args.fractions, len(lines)), encoding="utf-8")
    print((out / "summary.md").read_text(encoding="utf-8"))
    return 0


def summary(out: Path, fractions: list[float], n: int) -> str:
    rows = []
    for f in sorted(fractions):
        p = out / f"{tag(f)}.test.json"
        if p.exists():
            rows.append((f, json.loads(p.read_text(encoding="utf-8"))))
    if not rows:
        return "no fraction scored yet\n"
    pc = lambda x: f"{100 * x:.1f}"  # noqa: E731
    head = "| measure | " + " | ".join(f"{round(100 * f)} % ({max(1, round(f * n))} articles)" for f, _ in rows) + " |"
    lines = [head, "|---" * (len(rows) + 1) + "|"]
    first = rows[0][1]
    for layer, v in first["entities"].items():
        if "micro" in v:
            lines.append(f"| `{layer}` span F1 | " + " | ".join(pc(m["entities"][layer]["micro"]["f1"]) for _, m in rows) + " |")
    for r, v in first["relations"].items():
        if isinstance(v, dict) and "f1" in v:
            lines.append(f"| `{r}` F1 | " + " | ".join(pc(m["relations"][r]["f1"]) for _, m in rows) + " |")
    lines.append("| QUOTE exact F1 | " + " | ".join(pc(m["quotes"]["exact"]["f1"]) for _, m in rows) + " |")
    lines.append("| speaker attribution | " + " | ".join(pc(m["speaker_attribution"]["accuracy"]) for _, m in rows) + " |")
    lines.append("| sector category accuracy | " + " | ".join(pc(m["sector_category_accuracy"]["accuracy"]) for _, m in rows) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
