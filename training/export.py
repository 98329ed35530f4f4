"""``goftar export``: a goftar checkpoint → ONNX (fp32 and int8) for the torch-free runtime.

    goftar export --model models/goftar-fa-small --out runs/goftar-fa-small-onnx

Writes, into ``--out``:

- ``model.onnx``: the encoder and the BIO heads in one graph,
  ``input_ids, attention_mask [N, L] int64 → hidden [N, L, H], logits_<layer> [N, L, C]``
  (one logits output per layer, in ``config.layer_labels`` order); fp32, with
  onnxruntime's BERT fusions (attention, skip-layer-norm, bias-GELU) applied
  offline when they match;
- ``model.int8.onnx``: the same graph, dynamically quantised to int8
  (``onnxruntime.quantization.quantize_dynamic``: int8 weights, uint8
  activations quantised on the fly), except the nodes listed under
  ``config.json → onnx.int8.fp32_nodes`` (see :data:`KEEP_FP32`);
- ``relation.onnx``: the relation head,
  ``hidden [T, H], heads [P, 2], tails [P, 2], feats [P, 7] → logits [P, 1 + R]``;
  fp32 for both precisions (it is well under 1 % of the work, and scores are
  relation decisions' thresholds);
- ``tokenizer.json`` (the exact backend tokenizer the torch runtime uses),
  ``tokenizer_config.json``, ``config.json`` (the checkpoint's config plus an
  ``onnx`` section naming the files of each precision) and ``README.md``.

Load with ``Extractor.from_pretrained(out, backend="onnx", precision="int8")``
(or ``"fp32"``); that needs only onnxruntime, tokenizers and numpy.
"""
from __future__ import annotations

import json
import re
import shutil
import sys
import time
from pathlib import Path
from typing import Any, Callable

OPSET = 17
FILES = {
    "fp32": {"windows": "model.onnx", "relations": "relation.onnx"},
    "int8": {"windows": "model.int8.onnx", "relations": "relation.onnx"},
}
# What stays fp32 in model.int8.onnx: node-name regular expressions, and the
# word "heads" for the BIO heads (their nodes are named ``/m/<layer>/MatMul``).
# The BIO heads read the final hidden state directly and their logits are
# what the decoder takes the argmax of; they are < 0.5 % of the FLOPs.
KEEP_FP32: tuple[str, ...] = ("heads",)
# Only matrix products are quantised; the word-embedding Gather stays fp32
# (quantising it saves file size, not time, and moves every token's input).
QUANT_OPS = ["MatMul", "Attention"]


def _wrappers(model):
    import torch

    class Windows(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids, attention_mask)

    class Relations(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, hidden, heads, tails, feats):
            return self.m.relation_logits(hidden, heads, tails, feats)

    # eval() on the wrappers themselves: the exporter restores the wrapper's
    # mode afterwards, recursively, and a fresh Module is in training mode.
    return Windows(model).eval(), Relations(model).eval()


def export_onnx(model, out: Path, opset: int = OPSET) -> dict[str, Any]:
    """The two fp32 graphs, straight from the exporter (no fusion)."""
    import torch

    model = model.float().eval()
    layers = list(model.config.layer_labels)
    H = model.encoder.config.hidden_size
    windows, relations = _wrappers(model)
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    outputs = ["hidden", *[f"logits_{layer}" for layer in layers]]
    dyn = {n: {0: "windows", 1: "length"} for n in ["input_ids", "attention_mask", *outputs]}
    torch.onnx.export(windows, (ids, mask), str(out / "model.raw.onnx"), dynamo=False, opset_version=opset,
                      input_names=["input_ids", "attention_mask"], output_names=outputs, dynamic_axes=dyn,
                      do_constant_folding=True)
    hidden = torch.randn(12, H)
    heads = torch.tensor([[0, 2], [3, 4], [5, 9]])
    tails = torch.tensor([[3, 4], [0, 2], [1, 2]])
    feats = torch.zeros(3, 7, dtype=torch.long)
    torch.onnx.export(relations, (hidden, heads, tails, feats), str(out / "relation.onnx"), dynamo=False,
                      opset_version=opset, input_names=["hidden", "heads", "tails", "feats"], output_names=["logits"],
                      dynamic_axes={"hidden": {0: "tokens"}, "heads": {0: "pairs"}, "tails": {0: "pairs"},
                                    "feats": {0: "pairs"}, "logits": {0: "pairs"}},
                      do_constant_folding=True)
    return {"outputs": outputs, "hidden_size": H}


def fuse(src: Path, dst: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """onnxruntime's offline BERT fusions (hardware independent). Returns the fused op counts."""
    from onnxruntime.transformers.optimizer import optimize_model

    opt = optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0)
    opt.save_model_to_file(str(dst))
    counts: dict[str, int] = {}
    for n in opt.model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return counts


def matmul_nodes(path: Path) -> list[str]:
    import onnx

    return [n.name for n in onnx.load(str(path), load_external_data=False).graph.node if n.op_type in QUANT_OPS]


def _patterns(keep_fp32, layers) -> list[str]:
    out = []
    for p in keep_fp32:
        out += [rf"^/m/{re.escape(layer)}/" for layer in layers] if p == "heads" else [p]
    return out


def quantize(src: Path, dst: Path, keep_fp32: tuple[str, ...] | list[str] = KEEP_FP32, layers: list[str] = (),
             per_channel: bool = False) -> list[str]:
    """Dynamic int8 quantisation of every MatMul/Attention except nodes matching ``keep_fp32``. Returns those kept."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    names = matmul_nodes(src)
    keep = [n for n in names if any(re.search(p, n) for p in _patterns(keep_fp32, layers))]
    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=QUANT_OPS,
                     nodes_to_exclude=keep, per_channel=per_channel,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT})
    return keep


def _check(model, tokenizer, out: Path, texts: list[str]) -> dict[str, Any]:
    """Compare the ONNX graphs with torch on real windows: max |Δ| (fp32) and argmax agreement (int8)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from goftar.inference.encode import TextEncoder, pad_windows
    from goftar.inference.normalize import Normalizer

    cfg = model.config
    enc = TextEncoder(tokenizer, Normalizer.from_dict(cfg.normalizer), cfg.window_length, cfg.window_stride)
    rows = [r for t in texts for r in enc.window_inputs(enc.encode(t))][:16]
    ids, mask = pad_windows(rows, enc.pad_id)
    with torch.inference_mode():
        ref = [o.float().numpy() for o in model(torch.as_tensor(ids), torch.as_tensor(mask))]
        h = torch.as_tensor(ref[0][0])
        n = int(mask[0].sum())
        heads = torch.tensor([[1, 3], [4, 5], [0, n]])
        tails = torch.tensor([[4, 5], [1, 3], [2, 3]])
        feats = torch.zeros(3, 7, dtype=torch.long)
        rel_ref = model.relation_logits(h, heads, tails, feats).numpy()
    real = mask.astype(bool)
    report: dict[str, Any] = {"windows": len(rows), "tokens": int(real.sum())}
    for prec, files in FILES.items():
        s = ort.InferenceSession(str(out / files["windows"]), providers=["CPUExecutionProvider"])
        got = s.run(None, {"input_ids": ids, "attention_mask": mask})
        r = {"max_abs_hidden": float(np.abs(got[0] - ref[0])[real].max())}
        for layer, a, b in zip(cfg.layer_labels, got[1:], ref[1:]):
            r[f"argmax_agree_{layer}"] = float((a.argmax(-1) == b.argmax(-1))[real].mean())
            r[f"max_abs_logits_{layer}"] = float(np.abs(a - b)[real].max())
        rs = ort.InferenceSession(str(out / files["relations"]), providers=["CPUExecutionProvider"])
        rel = rs.run(None, {"hidden": ref[0][0], "heads": heads.numpy(), "tails": tails.numpy(), "feats": feats.numpy()})[0]
        r["max_abs_relation"] = float(np.abs(rel - rel_ref).max())
        report[prec] = r
    return report


def export(model_dir: str | Path, out_dir: str | Path, keep_fp32: tuple[str, ...] | list[str] = KEEP_FP32,
           fusion: bool = True, check_texts: list[str] | None = None, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Export ``model_dir`` (a goftar checkpoint) into ``out_dir``; returns what was done (also in config.json)."""
    import onnx
    from transformers import AutoTokenizer

    from goftar.inference.modeling import GoftarModel

    model_dir, out = Path(model_dir), Path(out_dir)
    if out.resolve() == model_dir.resolve():
        raise ValueError("--out must be a new folder, not the checkpoint itself")
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.time()
    model = GoftarModel.from_pretrained(model_dir).float().eval()
    tokenizer = AutoTokenizer.from_pretrained(model_dir)
    enc_cfg = model.encoder.config
    info = export_onnx(model, out)
    log(f"exported the graphs in {time.time() - t0:.1f} s")
    raw = out / "model.raw.onnx"
    fused: dict[str, int] = {}
    if fusion:
        try:
            fused = fuse(raw, out / "model.onnx", enc_cfg.num_attention_heads, enc_cfg.hidden_size)
            fused = {k: v for k, v in fused.items() if k in ("Attention", "SkipLayerNormalization", "LayerNormalization",
                                                              "BiasGelu", "Gelu", "FastGelu", "EmbedLayerNormalization")}
        except Exception as exc:  # fusion is an optimisation; the plain graph is correct too
            log(f"fusion failed ({type(exc).__name__}: {exc}); keeping the unfused graph")
            fusion = False
    if not fusion:
        shutil.copyfile(raw, out / "model.onnx")
    raw.unlink()
    kept = quantize(out / "model.onnx", out / "model.int8.onnx", keep_fp32, list(model.config.layer_labels))
    log(f"quantised in {time.time() - t0:.1f} s; kept fp32: {kept or 'none'}")

    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))
    if (model_dir / "tokenizer_config.json").exists():
        shutil.copyfile(model_dir / "tokenizer_config.json", out / "tokenizer_config.json")
    from goftar.inference.encode import TextEncoder
    from goftar.inference.normalize import Normalizer

    pad_id = TextEncoder(tokenizer, Normalizer.from_dict(model.config.normalizer), model.config.window_length,
                         model.config.window_stride).pad_id
    cfg = model.config.to_dict()
    onnx_info = {
        "opset": OPSET, "files": FILES, "inputs": ["input_ids", "attention_mask"], "outputs": info["outputs"],
        "relation_inputs": ["hidden", "heads", "tails", "feats"], "pad_token_id": pad_id,
        "fusion": fused if fusion else None,
        "int8": {"method": "onnxruntime.quantization.quantize_dynamic", "weight_type": "QInt8", "per_channel": False,
                 "op_types": QUANT_OPS, "fp32_patterns": list(keep_fp32), "fp32_nodes": kept,
                 "fp32_other": "word/position embeddings (Gather), LayerNorm, softmax, GELU, the relation head"},
        "source": str(model_dir), "onnxruntime": __import__("onnxruntime").__version__, "onnx": onnx.__version__,
    }
    if check_texts:
        onnx_info["check"] = _check(model, tokenizer, out, check_texts)
    cfg["onnx"] = onnx_info
    (out / "config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    sizes = {f: (out / f).stat().st_size for f in ("model.onnx", "model.int8.onnx", "relation.onnx")}
    onnx_info["sizes"] = sizes
    (out / "config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    _write_card(model_dir, out, onnx_info)
    log(f"wrote {out} in {time.time() - t0:.1f} s")
    return onnx_info


def _write_card(model_dir: Path, out: Path, info: dict[str, Any]) -> None:
    src = model_dir / "README.md"
    base = src.read_text(encoding="utf-8").rstrip() + "\n\n" if src.exists() else "# goftar model (ONNX)\n\n"
    mb = {k: f"{v / 2**20:.1f} MB" for k, v in info["sizes"].items()}
    q = info["int8"]
    lines = [
        "## ONNX export", "",
        f"Exported by `goftar export` from `{info['source']}` (opset {info['opset']}, onnxruntime {info['onnxruntime']}).",
        "Runs without torch or transformers: `pip install \"goftar[onnx]\"`, then", "",
        "```python", "from goftar.inference import Extractor",
        f"ex = Extractor.from_pretrained(\"{out.name}\", backend=\"onnx\", precision=\"int8\")  # or \"fp32\"",
        "doc = ex.predict(\"قالیباف گفت: روابط تجاری را توسعه می‌دهیم.\")", "```", "",
        "| file | what | size |", "|---|---|---|",
        f"| `model.onnx` | encoder + BIO heads, fp32 | {mb['model.onnx']} |",
        f"| `model.int8.onnx` | the same, int8 dynamic quantisation | {mb['model.int8.onnx']} |",
        f"| `relation.onnx` | relation head, fp32 (used by both precisions) | {mb['relation.onnx']} |", "",
        f"Fused operators in the fp32 graph: {info['fusion'] or 'none (unfused export)'}.", "",
        f"int8: {q['method']}, weights {q['weight_type']} per tensor, activations uint8 quantised per call; "
        f"quantised op types {q['op_types']}.",
        f"Left in fp32 because quantising them hurts accuracy or saves nothing: nodes matching {q['fp32_patterns']} "
        f"({len(q['fp32_nodes'])} nodes: {', '.join(q['fp32_nodes']) or 'none'}); also {q['fp32_other']}.", "",
    ]
    if "check" in info:
        lines += ["Agreement with the torch model on the check windows:", "", "```json",
                  json.dumps(info["check"], indent=1), "```", ""]
    (out / "README.md").write_text(base + "\n".join(lines), encoding="utf-8")


def register(sub) -> None:
    p = sub.add_parser("export", help="export a goftar checkpoint to ONNX (fp32 + int8) for the torch-free runtime")
    p.add_argument("--model", default=None, help="goftar checkpoint folder (default: the shipped goftar-fa-small)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--keep-fp32", nargs="*", default=None, metavar="REGEX",
                   help=f"node-name patterns left in fp32 in the int8 graph (default: {' '.join(KEEP_FP32)}; give none to quantise all)")
    p.add_argument("--no-fusion", action="store_true", help="skip onnxruntime's offline BERT fusions")
    p.add_argument("--check", default=None, help="JSONL or .txt whose texts check the export against torch (default: the seed/test texts if present)")
    p.set_defaults(func=_cmd)


def _check_texts(path: str | None) -> list[str]:
    from goftar.inference.predict import iter_inputs

    if path:
        return [d.text for d in iter_inputs([path]) if d.text][:8]
    return ["قالیباف در این دیدار گفت: روابط اقتصادی و تجاری بین ایران و بلاروس را باید توسعه دهیم.",
            "به گزارش خبرگزاری مهر، وزیر نفت امروز گفت که تولید گاز ۱۰ درصد افزایش یافته است."]


def _cmd(args) -> int:
    from goftar.inference.extractor import DEFAULT_MODEL

    model = args.model or str(DEFAULT_MODEL)
    keep = KEEP_FP32 if args.keep_fp32 is None else tuple(args.keep_fp32)
    info = export(model, args.out, keep_fp32=keep, fusion=not args.no_fusion, check_texts=_check_texts(args.check),
                  log=lambda s: print(s, file=sys.stderr))
    print(json.dumps({k: info[k] for k in ("files", "fusion", "sizes", "check") if k in info}, indent=1))
    return 0
