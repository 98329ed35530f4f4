"""Memory of `goftar predict` on a long stream: RSS sampled while N short articles go through.

    .venv/bin/python scripts/stream_rss.py --model runs/bench-onnx --backend onnx --n 10000

Writes N short articles (one to three sentences of data/test.jsonl, numbered
so that no two are the same) to a JSONL file, runs `goftar predict` on it in a
subprocess with output to a file, and samples the child's RSS (VmRSS) and the
number of output lines every --interval seconds. Prints a JSON summary: RSS
after each tenth of the stream, the peak (VmHWM), and the growth from the
first tenth to the highest RSS over the last tenth. Memory is flat when that
growth is a few MB whatever N.
"""
from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_articles(n: int, source: Path) -> list[dict]:
    texts = [json.loads(line)["text"] for line in source.read_text(encoding="utf-8").splitlines() if line.strip()]
    sents = [s.strip() for t in texts for s in re.split(r"(?<=[.!؟?])\s+", t) if len(s.strip()) > 20]
    out = []
    for i in range(n):
        k = 1 + i % 3
        body = " ".join(sents[(i * 7 + j) % len(sents)] for j in range(k))
        out.append({"id": f"a{i:06d}", "text": f"خبر شماره {i + 1}: {body}"})
    return out


def _status(pid: int) -> dict[str, float]:
    out = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) / 1024.0
    except (FileNotFoundError, ProcessLookupError):
        pass
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True, help="checkpoint (torch) or export folder (onnx)")
    ap.add_argument("--backend", choices=["torch", "onnx"], default="onnx")
    ap.add_argument("--precision", choices=["int8", "fp32"], default="int8")
    ap.add_argument("--n", type=int, default=10_000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=16)
    ap.add_argument("--interval", type=float, default=0.5)
    ap.add_argument("--source", default=str(ROOT / "data" / "test.jsonl"))
    ap.add_argument("--work", default=str(ROOT / "runs" / "stream_rss"))
    ap.add_argument("--json", default=None, help="write the summary here too")
    args = ap.parse_args(argv)

    work = Path(args.work)
    work.mkdir(parents=True, exist_ok=True)
    inp, out = work / f"in-{args.n}.jsonl", work / "out.jsonl"
    with open(inp, "w", encoding="utf-8") as f:
        for a in make_articles(args.n, Path(args.source)):
            f.write(json.dumps(a, ensure_ascii=False) + "\n")
    in_mb = inp.stat().st_size / 2**20
    out.unlink(missing_ok=True)
    cmd = [sys.executable, "-m", "goftar.cli", "predict", str(inp), "--model", args.model, "--backend", args.backend,
           "--precision", args.precision, "--threads", str(args.threads), "--batch-size", str(args.batch_size),
           "-o", str(out), "--no-progress"]
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    samples: list[tuple[float, int, float]] = []  # (seconds, lines written, RSS MB)
    hwm = 0.0
    lines, offset = 0, 0
    while proc.poll() is None:
        st = _status(proc.pid)
        hwm = max(hwm, st.get("VmHWM", 0.0))
        if out.exists():
            with open(out, "rb") as f:
                f.seek(offset)
                chunk = f.read()
            offset += len(chunk)
            lines += chunk.count(b"\n")
        if st.get("VmRSS"):
            samples.append((time.time() - t0, lines, st["VmRSS"]))
        time.sleep(args.interval)
    err = proc.stderr.read()
    wall = time.time() - t0
    if proc.returncode != 0:
        print(err[-3000:], file=sys.stderr)
        return proc.returncode
    got = [json.loads(x)["id"] for x in out.read_text(encoding="utf-8").splitlines()]
    assert got == [f"a{i:06d}" for i in range(args.n)], "output lines missing or out of order"

    def rss_at(frac: float) -> float | None:
        want = frac * args.n
        cands = [s for s in samples if s[1] >= want]
        return cands[0][2] if cands else None

    tenths = {f"{10 * k}%": rss_at(k / 10) for k in range(1, 10)}
    tail = [s[2] for s in samples if s[1] >= 0.9 * args.n]
    last = max(tail) if tail else None  # the highest RSS seen over the last tenth of the stream
    first = tenths.get("10%")
    summary = {
        "articles": args.n, "input_mb": round(in_mb, 1), "backend": args.backend,
        "precision": args.precision if args.backend == "onnx" else "fp32",
        "model": args.model, "threads": args.threads, "batch_size": args.batch_size, "wall_s": round(wall, 1),
        "articles_per_s": round(args.n / wall, 1), "samples": len(samples),
        "rss_mb_after": {k: (round(v, 1) if v is not None else None) for k, v in tenths.items()},
        "peak_rss_mb": round(hwm, 1),
        "rss_mb_max_last_tenth": last and round(last, 1),
        "growth_mb": round(last - first, 1) if first and last else None,
        "command": " ".join(cmd[1:]).replace(str(ROOT) + "/", ""),
    }
    text = json.dumps(summary, indent=1, ensure_ascii=False)
    print(text)
    if args.json:
        Path(args.json).write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
