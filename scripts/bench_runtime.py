"""CPU runtime benchmark: ONNX int8 vs ONNX fp32 vs torch fp32 vs the transformers pipeline.

    make bench          # = .venv/bin/python scripts/bench_runtime.py

Same inputs for every configuration: the texts of data/test.jsonl plus long
articles made by joining them. Configurations, measured in this order in one
process (passes interleaved round by round, so a drift of the machine hits
all of them alike):

  pipeline    transformers pipeline("token-classification", aggregation_strategy="simple"),
              NER only, on a BertForTokenClassification built from the checkpoint's
              encoder + its `ne` BIO head (so: the same fine-tuned network, one head)
  torch-fp32  goftar, torch backend (all layers + relations + quotes)
  onnx-fp32   goftar, ONNX backend, fp32 graphs
  onnx-int8   goftar, ONNX backend, int8 graph

Cold start (import + load) and peak RSS (load + one call on 32 articles) are
measured in a fresh subprocess per configuration. F1 of each configuration is
scored against data/test.jsonl (goftar.training.scoring.score). The machine's
matmul peak is measured in the same run (numpy and torch fp32 2048³; int8 with
onnxruntime's MatMulInteger), and the encoder's useful FLOPs are counted from
the windows actually run (real tokens only, no padding).

Results: runs/bench_runtime.json and the section "## CPU runtime (ONNX int8 vs
torch vs pipeline)" of docs/BENCHMARKS.md (only that section is rewritten).
"""
from __future__ import annotations

import time

T0 = time.perf_counter()  # worker mode: cold start counts from here

import argparse  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
CONFIGS = ["pipeline", "torch-fp32", "onnx-fp32", "onnx-int8"]
SECTION = "## CPU runtime (ONNX int8 vs torch vs pipeline)"
AIMS = {"int8_vs_torch": 2.5, "f1_loss": 0.5, "goftar_vs_pipeline": 2.0, "rss_mb": 300, "cold_s": 1.5}


def _cpu_busy_s() -> float:
    """CPU-seconds all processes of the machine have been busy since boot (/proc/stat)."""
    f = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    v = [int(x) for x in f]
    idle = v[3] + (v[4] if len(v) > 4 else 0)
    return (sum(v[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _own_cpu_s() -> float:
    import resource

    a, b = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return a.ru_utime + a.ru_stime + b.ru_utime + b.ru_stime


def _threads_env(threads: int) -> None:
    for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[k] = str(threads)


# -- building the configurations ------------------------------------------------
def build_pipeline_model(model_dir: Path, out: Path) -> Path:
    """A plain token-classification model: the goftar encoder + its `ne` head, saved for pipeline()
    (with cue tags all "none" when the checkpoint reads speech cues)."""
    import torch
    from transformers import AutoConfig, AutoModelForTokenClassification, AutoTokenizer

    from goftar.inference.modeling import GoftarModel

    g = GoftarModel.from_pretrained(model_dir).float().eval()
    labels = g.config.layer_labels["ne"]
    enc = {k: v for k, v in g.encoder.config.to_dict().items()
           if k not in ("id2label", "label2id", "architectures", "_name_or_path", "transformers_version", "dtype", "torch_dtype")}
    model_type = enc.pop("model_type")
    cfg = AutoConfig.for_model(model_type, **enc, id2label=dict(enumerate(labels)), label2id={x: i for i, x in enumerate(labels)})
    m = AutoModelForTokenClassification.from_config(cfg).eval()
    missing, unexpected = getattr(m, m.base_model_prefix).load_state_dict(g.encoder.state_dict(), strict=False)
    if [k for k in missing if "pooler" not in k] or unexpected:
        raise RuntimeError(f"encoder weights do not fit the token-classification model: {missing[:3]} {unexpected[:3]}")
    m.classifier.load_state_dict(g.bio_heads["ne"].state_dict())
    if g.config.cue_features:
        # A plain token classifier has no cue input: it sees every token with the cue tag "none" (id 0),
        # whose two embeddings fold into the word embeddings (added to every token) and the head's bias.
        with torch.no_grad():
            getattr(m, m.base_model_prefix).get_input_embeddings().weight += g.cue_input.weight[0]
            m.classifier.bias += m.classifier.weight @ g.cue_output.weight[0]
    ids = torch.randint(5, min(1000, cfg.vocab_size), (2, 40))
    mask = torch.ones_like(ids)
    with torch.inference_mode():
        diff = (m(input_ids=ids, attention_mask=mask).logits - g(ids, mask)[1]).abs().max().item()
    if diff > 1e-4:
        raise RuntimeError(f"pipeline model differs from goftar's ne head by {diff}")
    m.save_pretrained(out)
    tok = AutoTokenizer.from_pretrained(model_dir)
    tok.model_max_length = g.config.window_length  # same window as goftar; the rest by `stride`
    tok.save_pretrained(out)
    return out


class Pipeline:
    """The transformers pipeline on goftar-normalised text (same tokens as goftar), spans mapped back."""

    def __init__(self, folder: Path, normalizer_cfg: dict, stride: int, threads: int):
        import torch
        from transformers import pipeline

        from goftar.inference.normalize import Normalizer

        torch.set_num_threads(threads)
        self.pipe = pipeline("token-classification", model=str(folder), aggregation_strategy="simple", device=-1)
        self.norm = Normalizer.from_dict(normalizer_cfg)
        self.stride = stride

    def __call__(self, texts: list[str], batch_size: int = 16) -> list[list[dict]]:
        from goftar.inference.decode import trim_span

        compact = [self.norm.compact(t) for t in texts]
        outs = self.pipe([c for c, _ in compact], batch_size=batch_size, stride=self.stride)
        if texts and isinstance(outs, list) and outs and isinstance(outs[0], dict):
            outs = [outs]
        res = []
        for (c, index), groups in zip(compact, outs):
            spans = []
            for g in groups:
                # the SentencePiece offsets include the word's leading space: trim as goftar's decoder does
                s, e = trim_span(c, int(g["start"]), int(g["end"]))
                if e > s:
                    spans.append({"type": g["entity_group"], "start": int(index[s]), "end": int(index[e - 1]) + 1,
                                  "score": float(g["score"])})
            res.append(spans)
        return res


def load_config(name: str, model_dir: Path, onnx_dir: Path, pipe_dir: Path, threads: int):
    """(callable texts → results, extractor-or-None) for one configuration."""
    if name == "pipeline":
        cfg = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
        stride = cfg.get("window_length", 256) - 2 - cfg.get("window_stride", 192)
        return Pipeline(pipe_dir, cfg.get("normalizer"), stride, threads)
    from goftar.inference.extractor import Extractor

    if name == "torch-fp32":
        return Extractor.from_pretrained(model_dir, backend="torch", threads=threads)
    return Extractor.from_pretrained(onnx_dir, backend="onnx", precision=name.split("-")[1], threads=threads)


# -- worker: cold start and peak RSS in a fresh process -----------------------
def _vm(key: str) -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1]) / 1024.0
    return float("nan")


def worker(args) -> None:
    _threads_env(args.threads)
    runner = load_config(args.worker, Path(args.model), Path(args.onnx), Path(args.pipe_dir), args.threads)
    loaded = time.perf_counter()
    wall_loaded = time.time()
    rss_loaded = _vm("VmRSS")
    texts = json.loads(Path(args.texts).read_text(encoding="utf-8"))
    t = time.perf_counter()
    out = runner(texts, batch_size=args.batch_size)
    assert len(out) == len(texts)
    first_batch = time.perf_counter() - t
    mods = sorted({m.split(".")[0] for m in sys.modules if m.split(".")[0] in ("torch", "transformers", "onnxruntime")})
    print(json.dumps({"cold_start_s": loaded - T0, "wall_loaded": wall_loaded, "rss_loaded_mb": rss_loaded,
                      "peak_rss_mb": _vm("VmHWM"), "batch_s": first_batch, "articles": len(texts), "modules": mods}))


def run_worker(name: str, args, texts_file: Path) -> dict:
    cmd = [sys.executable, str(Path(__file__).resolve()), "--worker", name, "--model", str(args.model), "--onnx", str(args.onnx),
           "--pipe-dir", str(args.pipe_dir), "--texts", str(texts_file), "--threads", str(args.threads),
           "--batch-size", str(args.batch_size)]
    t = time.time()
    res = subprocess.run(cmd, capture_output=True, text=True, env=dict(os.environ, PYTHONWARNINGS="ignore"))
    if res.returncode != 0:
        raise RuntimeError(f"worker {name} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    out["process_to_loaded_s"] = out.pop("wall_loaded") - t
    return out


# -- measurements -----------------------------------------------------------------
def matmul_peaks(threads: int, n: int = 2048, reps: int = 5) -> dict:
    import numpy as np
    import torch

    torch.set_num_threads(threads)
    flops = 2.0 * n ** 3
    a = np.random.default_rng(0).standard_normal((n, n), dtype=np.float32)
    b = np.random.default_rng(1).standard_normal((n, n), dtype=np.float32)
    best_np = min(_timed(lambda: a @ b) for _ in range(reps))
    ta, tb = torch.from_numpy(a), torch.from_numpy(b)
    best_t = min(_timed(lambda: ta @ tb) for _ in range(reps))
    out = {"n": n, "numpy_fp32_gflops": flops / best_np / 1e9, "torch_fp32_gflops": flops / best_t / 1e9}
    out["fp32_peak_gflops"] = max(out["numpy_fp32_gflops"], out["torch_fp32_gflops"])
    try:
        out["int8_peak_gops"] = _int8_peak(n, threads, reps)
    except Exception as exc:  # reported, not fatal
        out["int8_peak_error"] = f"{type(exc).__name__}: {exc}"
    return out


def _int8_peak(n: int, threads: int, reps: int) -> float:
    """u8 × s8 → i32 matmul in onnxruntime (the kernel the int8 graph uses), op/s."""
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import TensorProto, helper

    from goftar.inference.onnx_runtime import session_options

    w = np.random.default_rng(2).integers(-127, 127, (n, n), dtype=np.int8)
    g = helper.make_graph(
        [helper.make_node("MatMulInteger", ["a", "w"], ["y"])], "mm",
        [helper.make_tensor_value_info("a", TensorProto.UINT8, [n, n])],
        [helper.make_tensor_value_info("y", TensorProto.INT32, [n, n])],
        [onnx.numpy_helper.from_array(w, "w")])
    m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)])
    s = ort.InferenceSession(m.SerializeToString(), session_options(threads), providers=["CPUExecutionProvider"])
    a = np.random.default_rng(3).integers(0, 255, (n, n), dtype=np.uint8)
    s.run(None, {"a": a})
    best = min(_timed(lambda: s.run(None, {"a": a})) for _ in range(reps))
    return 2.0 * n ** 3 / best / 1e9


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def encoder_flops(model_cfg: dict, window_lengths: list[int], heads: str = "all") -> float:
    """Useful FLOPs of the encoder + BIO heads over windows of these real lengths (no padding)."""
    e = model_cfg["encoder"]
    H, I, n_layers = e["hidden_size"], e["intermediate_size"], e["num_hidden_layers"]
    labels = model_cfg["layer_labels"]
    C = sum(len(v) for v in labels.values()) if heads == "all" else len(labels["ne"])
    total = 0.0
    for n in window_lengths:
        per_layer = 2 * n * (4 * H * H + 2 * H * I) + 2 * 2 * n * n * H  # projections + QK^T and AV
        total += n_layers * per_layer + 2 * n * H * C
    return total


def pct(values: list[float], q: float) -> float:
    v = sorted(values)
    k = (len(v) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)


def f1_table(gold, preds, schema) -> dict:
    from goftar.training.scoring import score

    m = score(gold, preds, schema)
    out = {f"entities/{layer}": 100 * per["micro"]["f1"] for layer, per in m["entities"].items() if "micro" in per}
    out |= {f"relations/{r}": 100 * v["f1"] for r, v in m["relations"].items() if isinstance(v, dict) and "f1" in v}
    return out


def pipeline_docs(gold, spans_list):
    from goftar.inference.document import Document, Entity

    docs = []
    for d, spans in zip(gold, spans_list):
        ents = [Entity(f"T{i}", s["type"], s["start"], s["end"], None, s["score"]) for i, s in enumerate(spans, 1)]
        docs.append(Document(id=d.id, text=d.text, entities=ents, relations=[]))
    return docs


# -- main ---------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(ROOT / "models" / "goftar-fa-small"))
    ap.add_argument("--onnx", default=str(ROOT / "runs" / "bench-onnx"), help="ONNX export folder (re-exported unless --no-export)")
    ap.add_argument("--no-export", action="store_true")
    ap.add_argument("--calibration", default=str(ROOT / "data" / "dev.jsonl"), help="export: calibration articles (not the test set)")
    ap.add_argument("--pipe-dir", default=str(ROOT / "runs" / "bench-pipeline-model"))
    ap.add_argument("--data", default=str(ROOT / "data" / "test.jsonl"))
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=8, help="windows (goftar) / chunks (pipeline) per forward pass")
    ap.add_argument("--long-group", type=int, default=6, help="long articles: this many test texts joined")
    ap.add_argument("--min-seconds", type=float, default=20.0, help="throughput: at least this long per configuration")
    ap.add_argument("--rounds", type=int, default=3, help="throughput: at least this many passes per configuration")
    ap.add_argument("--cold-runs", type=int, default=3)
    ap.add_argument("--configs", default=",".join(CONFIGS))
    ap.add_argument("--json", default=str(ROOT / "runs" / "bench_runtime.json"))
    ap.add_argument("--docs", default=str(ROOT / "docs" / "BENCHMARKS.md"), help="markdown file whose section to rewrite ('' to skip)")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--texts", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    _threads_env(args.threads)
    configs = [c for c in args.configs.split(",") if c]
    model_dir, onnx_dir, pipe_dir = Path(args.model), Path(args.onnx), Path(args.pipe_dir)
    busy = subprocess.run(["pgrep", "-f", "goftar train"], capture_output=True, text=True).stdout.split()
    if busy:
        print(f"warning: `goftar train` is running (pids {busy}): the figures will be too low", file=sys.stderr)
    started = time.strftime("%Y-%m-%d %H:%M")
    busy0, own0, wall0 = _cpu_busy_s(), _own_cpu_s(), time.time()

    # 1. the configurations' files
    if not args.no_export:
        t = time.time()
        subprocess.run([sys.executable, "-m", "goftar.cli", "export", "--model", str(model_dir), "--out", str(onnx_dir),
                        "--calibration", str(args.calibration)],
                       check=True, stdout=subprocess.DEVNULL, env=dict(os.environ, PYTHONWARNINGS="ignore"))
        print(f"exported {model_dir} → {onnx_dir} in {time.time() - t:.0f} s", file=sys.stderr)
    if "pipeline" in configs:
        build_pipeline_model(model_dir, pipe_dir)

    # 2. inputs
    from goftar.inference.document import read_jsonl

    gold = read_jsonl(args.data)
    texts = [d.text for d in gold]
    longs = ["\n\n".join(texts[i:i + args.long_group]) for i in range(0, len(texts), args.long_group)]
    articles = texts + longs
    batch32 = [texts[i % len(texts)] for i in range(32)]
    tmp = ROOT / "runs" / "bench_texts32.json"
    tmp.parent.mkdir(parents=True, exist_ok=True)
    tmp.write_text(json.dumps(batch32, ensure_ascii=False), encoding="utf-8")

    # 3. cold start + peak RSS, fresh process each
    cold: dict[str, dict] = {}
    for name in configs:
        runs = [run_worker(name, args, tmp) for _ in range(args.cold_runs)]
        cold[name] = {
            "cold_start_s": statistics.median(r["cold_start_s"] for r in runs),
            "process_to_loaded_s": statistics.median(r["process_to_loaded_s"] for r in runs),
            "peak_rss_mb": max(r["peak_rss_mb"] for r in runs),
            "rss_loaded_mb": statistics.median(r["rss_loaded_mb"] for r in runs),
            "batch32_s": statistics.median(r["batch_s"] for r in runs),
            "heavy_modules": runs[0]["modules"],
        }
        print(f"{name}: cold {cold[name]['cold_start_s']:.2f} s, peak RSS {cold[name]['peak_rss_mb']:.0f} MB", file=sys.stderr)

    # 4. load everything in this process, in order
    import numpy as np

    runners = {name: load_config(name, model_dir, onnx_dir, pipe_dir, args.threads) for name in configs}
    any_ex = next((r for n, r in runners.items() if n != "pipeline"), None)
    if any_ex is None:
        from goftar.inference.extractor import Extractor

        any_ex = Extractor.from_pretrained(onnx_dir, backend="onnx", precision="fp32", threads=args.threads)
    model_cfg = any_ex.config
    encs = [any_ex.encoder.encode(t) for t in articles]
    tokens = sum(len(e) for e in encs)
    windows = [(b - a) + any_ex.encoder.n_special for e in encs for a, b in e.windows]
    flops = {"goftar": encoder_flops(model_cfg, windows, "all"), "pipeline": encoder_flops(model_cfg, windows, "ne")}

    # 5. F1 on the test set
    f1: dict[str, dict] = {}
    for name, r in runners.items():
        if name == "pipeline":  # NER only: its one layer is all it can be scored on
            preds = pipeline_docs(gold, r([d.text for d in gold], batch_size=args.batch_size))
            f1[name] = {k: v for k, v in f1_table(gold, preds, any_ex.schema).items() if k == "entities/ne"}
        else:
            preds = r([{"id": d.id, "text": d.text} for d in gold], batch_size=args.batch_size)
            f1[name] = f1_table(gold, preds, any_ex.schema)

    # 6. throughput, interleaved passes; then latency, one article per call
    for r in runners.values():  # warm-up
        r(articles[:2], batch_size=args.batch_size)
    passes: dict[str, list[float]] = {n: [] for n in configs}
    spent = {n: 0.0 for n in configs}
    while min(len(v) for v in passes.values()) < args.rounds or min(spent.values()) < args.min_seconds:
        for name, r in runners.items():
            dt = _timed(lambda: r(articles, batch_size=args.batch_size))
            passes[name].append(dt)
            spent[name] += dt
    latency: dict[str, list[float]] = {n: [] for n in configs}
    for name, r in runners.items():  # one configuration at a time: short calls suffer from another's spinning threads
        r(articles[:1], batch_size=args.batch_size)
        for text in articles:
            latency[name].append(_timed(lambda: r([text], batch_size=args.batch_size)))

    peaks = matmul_peaks(args.threads)
    foreign = max(0.0, (_cpu_busy_s() - busy0) - (_own_cpu_s() - own0))
    wall = time.time() - wall0

    # 7. summary
    res: dict[str, dict] = {}
    for name in configs:
        t = statistics.median(passes[name])
        fl = flops["pipeline" if name == "pipeline" else "goftar"]
        res[name] = {
            "pass_s": t, "passes": len(passes[name]), "articles_per_s": len(articles) / t, "tokens_per_s": tokens / t,
            "latency_p50_ms": 1000 * pct(latency[name], 0.5), "latency_p95_ms": 1000 * pct(latency[name], 0.95),
            "useful_gflops": fl / t / 1e9, "fraction_fp32_peak": fl / t / 1e9 / peaks["fp32_peak_gflops"],
            **cold[name],
        }
        if "int8_peak_gops" in peaks and name == "onnx-int8":
            res[name]["fraction_int8_peak"] = fl / t / 1e9 / peaks["int8_peak_gops"]
    ratios = {}

    def ratio(a, b):
        if a in res and b in res:
            ratios[f"{a} / {b}"] = res[a]["articles_per_s"] / res[b]["articles_per_s"]

    for a, b in [("onnx-int8", "torch-fp32"), ("onnx-fp32", "torch-fp32"), ("onnx-int8", "onnx-fp32"),
                 ("onnx-int8", "pipeline"), ("onnx-fp32", "pipeline"), ("torch-fp32", "pipeline")]:
        ratio(a, b)
    delta = {}
    if "onnx-int8" in f1 and "torch-fp32" in f1:
        delta = {k: f1["onnx-int8"][k] - f1["torch-fp32"][k] for k in f1["torch-fp32"]}
    machine = {
        "cpu": _cpu_model(), "cores": os.cpu_count(), "threads": args.threads, "python": platform.python_version(),
        "versions": _versions(), "date": started, "busy_training": bool(busy),
        "run_wall_s": wall, "other_processes_cpu_s": foreign,
        "other_processes_share": foreign / (wall * (os.cpu_count() or 1)),
    }
    report = {"machine": machine, "inputs": {"articles": len(articles), "test_texts": len(texts), "long_articles": len(longs),
                                               "long_group": args.long_group, "tokens": tokens, "windows": len(windows),
                                               "batch_size": args.batch_size, "data": str(args.data)},
              "configs": res, "ratios": ratios, "f1": f1, "f1_delta_int8_vs_torch": delta, "peaks": peaks,
              "useful_flops": flops, "onnx_export": _export_info(onnx_dir),
              "command": "make bench  # = .venv/bin/python scripts/bench_runtime.py " + " ".join(argv or sys.argv[1:])}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False), encoding="utf-8")
    md = render(report)
    print(md)
    if args.docs:
        write_section(Path(args.docs), md)
    return 0


def _cpu_model() -> str:
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        for line in out.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor()


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for p in ("torch", "transformers", "onnxruntime", "onnx", "tokenizers", "numpy"):
        try:
            out[p] = version(p)
        except PackageNotFoundError:
            pass
    return out


def _export_info(onnx_dir: Path) -> dict:
    try:
        info = json.loads((onnx_dir / "config.json").read_text(encoding="utf-8"))["onnx"]
    except (OSError, KeyError, ValueError):
        return {}
    return {k: info.get(k) for k in ("fusion", "int8", "sizes")}


def render(r: dict) -> str:
    m, inp, c = r["machine"], r["inputs"], r["configs"]
    names = list(c)
    L = [SECTION, "",
         f"Measured by `scripts/bench_runtime.py` (`make bench`). Date {m['date']}. Machine: {m['cores']}-core CPU "
         f"({m['cpu']}), {m['threads']} threads for every configuration; Python {m['python']}, "
         + ", ".join(f"{k} {v}" for k, v in m["versions"].items()) + "."
         + (" **A `goftar train` job was running: figures too low.**" if m["busy_training"] else "")
         + f" Other processes used {100 * m['other_processes_share']:.1f} % of the machine's CPU time during the "
           f"{m['run_wall_s'] / 60:.0f}-minute run.", "",
         f"Command: `{r['command'].strip()}`", "",
         f"Inputs: the {inp['test_texts']} texts of `{Path(inp['data']).name}` plus {inp['long_articles']} long articles "
         f"(each {inp['long_group']} of them joined): {inp['articles']} articles, {inp['tokens']:,} tokens, "
         f"{inp['windows']} windows of ≤ 256 tokens; {inp['batch_size']} windows per forward pass. "
         "Throughput: median of interleaved passes over all articles. Latency: one article per call, "
         "configurations one after the other. "
         "Cold start: import + load in a fresh process (median of runs; in brackets: from process spawn). "
         "Peak RSS: fresh process, load + one call on 32 articles.", "",
         "| | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]

    def row(label, fmt, key):
        L.append(f"| {label} | " + " | ".join(fmt(c[n].get(key)) if c[n].get(key) is not None else "–" for n in names) + " |")

    row("articles/s", lambda v: f"{v:.2f}", "articles_per_s")
    row("tokens/s", lambda v: f"{v:,.0f}", "tokens_per_s")
    row("latency p50 / article", lambda v: f"{v:.0f} ms", "latency_p50_ms")
    row("latency p95 / article", lambda v: f"{v:.0f} ms", "latency_p95_ms")
    row("peak RSS, 32 articles", lambda v: f"{v:.0f} MB", "peak_rss_mb")
    L.append("| cold start (import + load) | " + " | ".join(
        f"{c[n]['cold_start_s']:.2f} s ({c[n]['process_to_loaded_s']:.2f} s)" for n in names) + " |")
    row("useful GFLOP/s (encoder)", lambda v: f"{v:.0f}", "useful_gflops")
    row("share of fp32 matmul peak", lambda v: f"{100 * v:.0f} %", "fraction_fp32_peak")
    row("share of int8 matmul peak", lambda v: f"{100 * v:.0f} %", "fraction_int8_peak")
    L.append("| torch / transformers imported | " + " | ".join(
        ("yes" if {"torch", "transformers"} & set(c[n]["heavy_modules"]) else "**no**") for n in names) + " |")
    p = r["peaks"]
    L += ["", f"Matmul peak ({p['n']}³, {m['threads']} threads): numpy fp32 {p['numpy_fp32_gflops']:.0f} GFLOP/s, "
              f"torch fp32 {p['torch_fp32_gflops']:.0f} GFLOP/s"
          + (f", onnxruntime int8 (MatMulInteger u8×s8) {p['int8_peak_gops']:.0f} GOP/s" if "int8_peak_gops" in p else "")
          + ". Useful FLOPs: projections and attention products of the encoder plus the BIO heads, on real tokens "
            "only (the pipeline: its one head); the rate divides them by the whole extraction time, decoding included.", "",
          "Ratios of throughput (articles/s):", ""]
    L += [f"- {k}: **{v:.2f}×**" for k, v in r["ratios"].items()]
    f1 = r["f1"]
    keys = list(next(iter(f1.values())).keys()) if f1 else []
    if "torch-fp32" in f1:
        keys = list(f1["torch-fp32"].keys())
    L += ["", "F1 on the test set (`goftar.training.scoring.score`; entity layers: strict span micro F1; "
              "relations: strict), and the change int8 − torch fp32 (points):", "",
          "| | " + " | ".join(f1) + " | Δ int8 − torch |", "|---|" + "---|" * (len(f1) + 1)]
    for k in keys:
        d = r["f1_delta_int8_vs_torch"].get(k)
        L.append(f"| {k} | " + " | ".join(f"{f1[n][k]:.2f}" if k in f1[n] else "–" for n in f1)
                 + f" | {'' if d is None else f'{d:+.2f}'} |")
    e = r.get("onnx_export") or {}
    if e:
        q = e.get("int8") or {}
        L += ["", f"Export: fused {e.get('fusion')}; int8 {'per-channel' if q.get('per_channel') else 'per-tensor'} weights, "
                  f"per-tensor dynamic uint8 activations; left in fp32: {', '.join(f'`{n}`' for n in q.get('fp32_nodes', []))}; "
                  f"sizes " + ", ".join(f"{k} {v / 2**20:.0f} MB" for k, v in (e.get("sizes") or {}).items()) + "."]
    a = AIMS
    int8 = c.get("onnx-int8", {})
    aims = []
    if "onnx-int8 / torch-fp32" in r["ratios"]:
        v = r["ratios"]["onnx-int8 / torch-fp32"]
        aims.append(f"ONNX int8 ≥ {a['int8_vs_torch']}× torch fp32: {v:.2f}× — {'met' if v >= a['int8_vs_torch'] else 'not met'}")
    if r["f1_delta_int8_vs_torch"]:
        worst = min(r["f1_delta_int8_vs_torch"].items(), key=lambda kv: kv[1])
        aims.append(f"F1 loss ≤ {a['f1_loss']} on every layer: worst {worst[0]} {worst[1]:+.2f} — "
                    f"{'met' if -worst[1] <= a['f1_loss'] else 'not met'}")
    if "onnx-int8 / pipeline" in r["ratios"]:
        v = r["ratios"]["onnx-int8 / pipeline"]
        aims.append(f"goftar full extraction (ONNX int8) ≥ {a['goftar_vs_pipeline']}× pipeline NER-only: {v:.2f}× — "
                    f"{'met' if v >= a['goftar_vs_pipeline'] else 'not met'}")
    if int8:
        aims.append(f"peak RSS ≤ {a['rss_mb']} MB (32 articles, ONNX int8): {int8['peak_rss_mb']:.0f} MB — "
                    f"{'met' if int8['peak_rss_mb'] <= a['rss_mb'] else 'not met'}")
        aims.append(f"cold start ≤ {a['cold_s']} s (ONNX int8): {int8['cold_start_s']:.2f} s — "
                    f"{'met' if int8['cold_start_s'] <= a['cold_s'] else 'not met'}")
    L += ["", "Aims:", ""] + [f"- {x}" for x in aims] + [""]
    return "\n".join(L)


def write_section(path: Path, md: str) -> None:
    """Replace (or append) only our section of the benchmarks file."""
    text = path.read_text(encoding="utf-8") if path.exists() else "# Benchmarks\n"
    lines = text.splitlines()
    start = next((i for i, x in enumerate(lines) if x.strip() == SECTION), None)
    notes = ""
    if start is None:
        new = text.rstrip("\n") + "\n\n" + md.rstrip("\n") + "\n"
    else:
        end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
        old = "\n".join(lines[start:end])
        # keep hand-written notes below the marker line
        marker = "<!-- notes: kept by bench_runtime.py -->"
        if marker in old:
            notes = "\n" + old[old.index(marker):].rstrip("\n") + "\n"
        new = "\n".join(lines[:start]) + "\n" + md.rstrip("\n") + "\n" + notes + (
            "\n" + "\n".join(lines[end:]) + "\n" if end < len(lines) else "")
    path.write_text(new, encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
