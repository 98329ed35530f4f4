"""Cost against text length: time and peak memory of one article of 10k, 100k and 1M characters.

    .venv/bin/python scripts/bench_scaling.py                 # torch backend, the shipped model
    .venv/bin/python scripts/bench_scaling.py --sizes 10000 100000 --backend onnx --model runs/onnx

The article is the texts of data/test.jsonl joined by blank lines and cut to
the size (whole articles repeated as needed), so it reads like news, with
entities, quotes and relations at the usual density. Each size runs in a
fresh subprocess: the time is load-free (the model is loaded first, then one
``Extractor.predict`` call is timed), the peak memory is the subprocess's
maximum RSS (load included) and its growth over the loaded model.

Results: runs/bench_scaling.json and the section "## Cost against text length"
of docs/BENCHMARKS.md (only that section is rewritten).
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SECTION = "## Cost against text length"


def make_text(n: int) -> str:
    texts = [json.loads(line)["text"] for line in (ROOT / "data" / "test.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    parts, size, i = [], 0, 0
    while size < n:
        t = texts[i % len(texts)]
        parts.append(t)
        size += len(t) + 2
        i += 1
    return "\n\n".join(parts)[:n]


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def worker(size: int, model: str | None, backend: str, threads: int | None) -> dict:
    from goftar.inference import Extractor

    text = make_text(size)
    ex = Extractor.from_pretrained(model, backend=backend, threads=threads)
    ex.predict("قالیباف گفت: روابط تجاری را توسعه می‌دهیم.")  # warm-up
    loaded = _rss_mb()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    t0 = time.perf_counter()
    doc = ex.predict(text)
    dt = time.perf_counter() - t0
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
    if doc.error:
        raise SystemExit(f"{size}: {doc.error}")
    return {"chars": len(text), "tokens": len(ex.encoder.encode(text).ids), "seconds": round(dt, 2), "cpu_seconds": round(cpu, 2),
            "peak_rss_mb": round(_rss_mb(), 1), "loaded_rss_mb": round(loaded, 1),
            "entities": len(doc.entities), "relations": len(doc.relations), "quotes": len(doc.quotes or [])}


def write_section(results: list[dict], cmd: str, note: str) -> None:
    path = ROOT / "docs" / "BENCHMARKS.md"
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    base = results[0]
    L = [SECTION, "", f"Command: `{cmd}`", "", note, "",
         "| characters | tokens | wall s | CPU s | CPU s per 100k chars | peak RSS MB | RSS over loaded model MB | entities | relations | quotes |",
         "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        L.append(f"| {r['chars']:,} | {r['tokens']:,} | {r['seconds']} | {r['cpu_seconds']} | {r['cpu_seconds'] / r['chars'] * 1e5:.2f} | "
                 f"{r['peak_rss_mb']} | {r['peak_rss_mb'] - r['loaded_rss_mb']:.0f} | {r['entities']} | {r['relations']} | {r['quotes']} |")
    last = results[-1]
    L += ["", f"From {base['chars']:,} to {last['chars']:,} characters ({last['chars'] / base['chars']:.0f}×) the CPU time grew "
          f"{last['cpu_seconds'] / max(base['cpu_seconds'], 1e-9):.0f}× (wall {last['seconds'] / max(base['seconds'], 1e-9):.0f}×) and the memory over the loaded model "
          f"{(last['peak_rss_mb'] - last['loaded_rss_mb']) / max(base['peak_rss_mb'] - base['loaded_rss_mb'], 1):.0f}×.", ""]
    start = next((i for i, x in enumerate(lines) if x.strip() == SECTION), None)
    if start is None:
        lines += [""] + L
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        lines[start:end] = L
    path.write_text("\n".join(lines).rstrip() + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000], help="article lengths in characters")
    ap.add_argument("--model", default=None, help="model folder (default: the shipped goftar-fa-small)")
    ap.add_argument("--backend", default="torch", choices=["torch", "onnx"], help="runtime backend")
    ap.add_argument("--threads", type=int, default=None, help="intra-op threads")
    ap.add_argument("--note", default="", help="machine and conditions, written above the table")
    ap.add_argument("--no-write", action="store_true", help="print only; leave docs/BENCHMARKS.md alone")
    ap.add_argument("--worker", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        print(json.dumps(worker(args.worker, args.model, args.backend, args.threads)))
        return 0
    results = []
    for size in args.sizes:
        cmd = [sys.executable, __file__, "--worker", str(size), "--backend", args.backend]
        if args.model:
            cmd += ["--model", args.model]
        if args.threads:
            cmd += ["--threads", str(args.threads)]
        out = subprocess.run(cmd, capture_output=True, text=True, env={**os.environ, "TQDM_DISABLE": "1"})
        if out.returncode:
            print(out.stderr, file=sys.stderr)
            return 1
        r = json.loads(out.stdout.strip().splitlines()[-1])
        print(json.dumps(r), flush=True)
        results.append(r)
    (ROOT / "runs").mkdir(exist_ok=True)
    (ROOT / "runs" / "bench_scaling.json").write_text(json.dumps(results, indent=1))
    if not args.no_write:
        shown = f"--sizes {' '.join(map(str, args.sizes))} --backend {args.backend}" + (f" --model {args.model}" if args.model else "")
        note = args.note or (f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
                             f"{datetime.date.today()}.")
        write_section(results, f"python scripts/bench_scaling.py {shown}".strip(), note)
    return 0


if __name__ == "__main__":
    sys.exit(main())
