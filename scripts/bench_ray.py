"""Articles/s of `goftar predict --engine ray` with 1 and 2 workers, against the single process.

    .venv/bin/goftar export --model models/goftar-fa-small --out runs/goftar-fa-small-onnx --calibration data/dev.jsonl
    .venv/bin/python scripts/bench_ray.py --model runs/goftar-fa-small-onnx --data data/test.jsonl

For each engine: one run over DATA (end to end: Ray actor start and model load included) and one over
DATA repeated --repeat times (ids made unique); the marginal rate (extra articles / extra seconds)
leaves out the fixed start-up cost and is what a long run would see.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path


def repeated(data: Path, k: int, out: Path) -> Path:
    rows = [json.loads(x) for x in data.read_text(encoding="utf-8").splitlines() if x.strip()]
    with open(out, "w", encoding="utf-8") as f:
        for r in range(k):
            for row in rows:
                f.write(json.dumps({"id": f"{row['id']}#{r}", "text": row["text"]}, ensure_ascii=False) + "\n")
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default="data/test.jsonl")
    ap.add_argument("--repeat", type=int, default=10)
    ap.add_argument("--batch-size", type=int, default=8)
    args = ap.parse_args()

    import ray

    from goftar.inference.predict import predict_files
    from goftar.inference.ray_engine import predict_ray

    tmp = Path(tempfile.mkdtemp(prefix="bench-ray-"))
    data = Path(args.data)
    big = repeated(data, args.repeat, tmp / "big.jsonl")
    n1 = sum(1 for x in data.read_text(encoding="utf-8").splitlines() if x.strip())
    nk = n1 * args.repeat
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR")
    print(f"# {time.strftime('%Y-%m-%d')} {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"load {os.getloadavg()[0]:.2f}, ray {ray.__version__}, python {platform.python_version()}")
    print("| engine | articles | seconds | articles/s | marginal articles/s |")
    print("|---|---:|---:|---:|---:|")

    def timed(fn) -> float:
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0

    runs = [
        ("single process, 1 thread", lambda src, out: predict_files(args.model, [str(src)], str(out), args.batch_size, "onnx", 1, False)),
        ("single process, 2 threads", lambda src, out: predict_files(args.model, [str(src)], str(out), args.batch_size, "onnx", 2, False)),
        ("ray, 1 worker × 1 CPU", lambda src, out: predict_ray([str(src)], str(out), args.model, batch_size=args.batch_size,
                                                                num_workers=1, cpus_per_worker=1, progress=False)),
        ("ray, 2 workers × 1 CPU", lambda src, out: predict_ray([str(src)], str(out), args.model, batch_size=args.batch_size,
                                                                 num_workers=2, cpus_per_worker=1, progress=False)),
    ]
    for name, run in runs:
        t1 = timed(lambda: run(data, tmp / "o1.jsonl"))
        tk = timed(lambda: run(big, tmp / "ok.jsonl"))
        for f in ("o1.jsonl", "ok.jsonl"):
            (tmp / f).unlink()
        print(f"| {name} | {n1} / {nk} | {t1:.1f} / {tk:.1f} | {n1 / t1:.2f} / {nk / tk:.2f} | {(nk - n1) / (tk - t1):.2f} |", flush=True)
    ray.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
