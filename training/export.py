"""``goftar export``: a goftar checkpoint → ONNX (fp32 and int8) for the torch-free runtime.

    goftar export --model models/goftar-fa-small --out runs/goftar-fa-small-onnx --calibration data/dev.jsonl

Writes, into ``--out``:

- ``model.onnx``: the encoder and the BIO heads in one graph,
  ``input_ids, attention_mask [N, L] int64 → hidden [N, L, H], logits_<layer> [N, L, C]``
  (one logits output per layer, in ``config.layer_labels`` order); fp32, exported
  with eager attention so that onnxruntime's BERT fusions (Attention,
  EmbedLayerNormalization, BiasGelu) apply offline;
- ``model.int8.onnx``: the same graph, dynamically quantised
  (``onnxruntime.quantization.quantize_dynamic``: int8 weights per output
  channel, uint8 activations quantised per call), SmoothQuant-scaled when
  ``--calibration`` articles are given, except the nodes listed under
  ``config.json → onnx.int8.fp32_nodes`` (see :data:`KEEP_FP32`);
- ``relation.onnx``: the relation head,
  ``hidden [T, H], heads [P, 2], tails [P, 2], feats [P, 7], csum [T + 1, H] → logits [P, 1 + R]``;
  fp32 for both precisions (well under 1 % of the work; its scores feed
  thresholded decisions);
- ``tokenizer.json`` (the exact backend tokenizer the torch runtime uses),
  ``tokenizer_config.json``, ``config.json`` (the checkpoint's config plus an
  ``onnx`` section: files of each precision, output names, pad id, what was
  fused, kept fp32 and smoothed, and a check against torch) and ``README.md``
  (the checkpoint's card plus an "ONNX export" section).

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
# What stays fp32 in model.int8.onnx. Entries are node-name regular
# expressions, or:
# - "heads": the BIO heads (nodes ``/m/<layer>/MatMul``): they read the final
#   hidden state and their logits are what the decoder takes the argmax of;
#   < 0.5 % of the FLOPs;
# - "outliers:K": the K matrix products whose input activations have the
#   widest range relative to their spread ((max - min) / std on calibration
#   text). Activations are quantised per tensor on the fly, so one input with a
#   few huge values (BERT's outlier dimensions, typically in a feed-forward
#   output) loses the resolution of all the others. On goftar-fa-small these
#   are the FFN outputs of layers 4 and 0 (range/std 314 and 215 on dev text,
#   the next 188); keeping layer 4's alone in fp32 halves the int8 logit drift,
#   and layer 0's as well lowers it a little more (docs/BENCHMARKS.md). With
#   0.3 and its decoding, 2 left ROLE and topic 0.9 points from fp32 on dev;
#   8 (FFN outputs of layers 0-2, 4-7 and layer 6's FFN input) keep every dev
#   figure within 0.36 of fp32, for 10 MB more in model.int8.onnx.
KEEP_FP32: tuple[str, ...] = ("heads", "outliers:8")
CALIBRATION = [
    "به گزارش خبرگزاری مهر، محمدباقر قالیباف رئیس مجلس شورای اسلامی در دیدار با رئیس پارلمان بلاروس گفت: "
    "روابط اقتصادی و تجاری بین دو کشور باید توسعه یابد.",
    "وزیر نفت امروز در نشست خبری اعلام کرد که تولید گاز در پارس جنوبی ۱۰ درصد افزایش یافته و صادرات "
    "به ۲۵ میلیارد دلار رسیده است.",
    "رئیس کل بانک مرکزی با اشاره به نرخ تورم گفت: سیاست‌های پولی در سال ۱۴۰۳ با هدف کنترل نقدینگی اجرا می‌شود.",
    "سخنگوی وزارت امور خارجه روز دوشنبه در تهران تاکید کرد که ایران از هر طرح صلحی در منطقه حمایت می‌کند.",
    "به گفته مدیرعامل شرکت راه‌آهن، قطار مسافری تهران-مشهد از ساعت ۸ صبح فردا دوباره راه‌اندازی می‌شود.",
    "دانشگاه تهران اعلام کرد که ثبت‌نام دانشجویان جدید از ۱۵ شهریور آغاز خواهد شد و تا پایان ماه ادامه دارد.",
]
# Only matrix products are quantised; the word-embedding Gather stays fp32
# (quantising it saves file size, not time, and moves every token's input).
QUANT_OPS = ["MatMul", "Attention"]
# The relation graph's inputs. ``csum`` [T + 1, H] is the cumulative sum of
# ``hidden`` (goftar.inference.extractor.span_cumsum), computed once per
# document: pairs are scored in chunks, and a sum inside the graph was redone
# over the whole document for every chunk (quadratic on long articles).
RELATION_INPUTS = ["hidden", "heads", "tails", "feats", "csum"]
# SmoothQuant's migration strength (alpha), used when real calibration articles
# are given. On goftar-fa-small (dev articles as calibration, test articles
# held out) 0.7 lowered the int8 drift (KL of the BIO distributions to fp32)
# from 0.0107 to 0.0073 and halved the NE tokens whose label flips.
SMOOTH_ALPHA = 0.7


def window_inputs(config) -> list[str]:
    """Input names of the window graph: the speech-cue tags too when the model reads them."""
    return ["input_ids", "attention_mask", "cue_ids"] if getattr(config, "cue_features", False) else ["input_ids", "attention_mask"]


def _feed(sess, ids, mask, cues) -> dict:
    """Inputs of a window graph for calibration and checks: the windows' speech-cue tags when the graph reads them."""
    feed = {"input_ids": ids, "attention_mask": mask}
    if "cue_ids" in {i.name for i in sess.get_inputs()}:
        feed["cue_ids"] = cues
    return feed


def _wrappers(model):
    import torch

    class Windows(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask, cue_ids=None):
            return self.m(input_ids, attention_mask, cue_ids)

    class Relations(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, hidden, heads, tails, feats, csum):
            return self.m.relation_logits(hidden, heads, tails, feats, csum=csum)

    # eval() on the wrappers themselves: the exporter restores the wrapper's
    # mode afterwards, recursively, and a fresh Module is in training mode.
    return Windows(model).eval(), Relations(model).eval()


def export_onnx(model, out: Path, opset: int = OPSET) -> dict[str, Any]:
    """The two fp32 graphs, straight from the exporter (no fusion)."""
    import torch

    model = model.float().eval()
    try:  # the classic attention pattern is what onnxruntime's fusions recognise (sdpa's is not)
        model.encoder.set_attn_implementation("eager")
    except Exception:  # an encoder without the switch exports as it is
        pass
    layers = list(model.config.layer_labels)
    H = model.encoder.config.hidden_size
    windows, relations = _wrappers(model)
    ids = torch.full((2, 16), 5, dtype=torch.long)
    mask = torch.ones_like(ids)
    mask[1, 9:] = 0
    outputs = ["hidden", *[f"logits_{layer}" for layer in layers]]
    inputs = window_inputs(model.config)
    args = (ids, mask, torch.zeros_like(ids)) if "cue_ids" in inputs else (ids, mask)
    dyn = {n: {0: "windows", 1: "length"} for n in [*inputs, *outputs]}
    torch.onnx.export(windows, args, str(out / "model.raw.onnx"), dynamo=False, opset_version=opset,
                      input_names=inputs, output_names=outputs, dynamic_axes=dyn,
                      do_constant_folding=True)
    hidden = torch.randn(12, H)
    heads = torch.tensor([[0, 2], [3, 4], [5, 9]])
    tails = torch.tensor([[3, 4], [0, 2], [1, 2]])
    feats = torch.zeros(3, len(model.config.relation_features), dtype=torch.long)
    from goftar.inference.modeling import span_cumsum

    csum = span_cumsum(hidden)  # an input: the runtime computes it once per document, not once per chunk of pairs
    torch.onnx.export(relations, (hidden, heads, tails, feats, csum), str(out / "relation.onnx"), dynamo=False,
                      opset_version=opset, input_names=RELATION_INPUTS, output_names=["logits"],
                      dynamic_axes={"hidden": {0: "tokens"}, "heads": {0: "pairs"}, "tails": {0: "pairs"},
                                    "feats": {0: "pairs"}, "csum": {0: "tokens_plus_one"}, "logits": {0: "pairs"}},
                      do_constant_folding=True)
    return {"outputs": outputs, "hidden_size": H}


# onnxruntime graph optimisers the runtime turns off for these graphs: its
# SkipLayerNormalization kernel is slower on this CPU than Add + the
# LayerNormalization kernel (int8, 8 windows × 256: 0.206 s instead of 0.242 s).
DISABLED_OPTIMIZERS = ["SkipLayerNormFusion"]


def fuse(src: Path, dst: Path, num_heads: int, hidden_size: int) -> dict[str, int]:
    """onnxruntime's offline BERT fusions (hardware independent): attention, embedding layer norm, bias + GELU.
    Returns the op counts of the result."""
    from onnxruntime.transformers.fusion_options import FusionOptions
    from onnxruntime.transformers.optimizer import optimize_model

    options = FusionOptions("bert")
    options.enable_skip_layer_norm = False  # see DISABLED_OPTIMIZERS
    opt = optimize_model(str(src), model_type="bert", num_heads=num_heads, hidden_size=hidden_size, opt_level=0,
                         optimization_options=options)
    opt.save_model_to_file(str(dst))
    counts: dict[str, int] = {}
    for n in opt.model.graph.node:
        counts[n.op_type] = counts.get(n.op_type, 0) + 1
    return counts


def matmul_nodes(path: Path) -> list[str]:
    import onnx

    return [n.name for n in onnx.load(str(path), load_external_data=False).graph.node if n.op_type in QUANT_OPS]


def activation_spread(path: Path, batches: list[tuple[Any, Any, Any]]) -> dict[str, float]:
    """(max - min) / std of the activation input of every quantisable node, over ``batches`` of windows."""
    import numpy as np
    import onnx
    import onnxruntime as ort

    model = onnx.load(str(path))
    nodes = [n for n in model.graph.node if n.op_type in QUANT_OPS]
    known = {o.name for o in model.graph.output}
    for n in nodes:
        if n.input[0] not in known:
            model.graph.output.append(onnx.helper.make_tensor_value_info(n.input[0], onnx.TensorProto.FLOAT, None))
            known.add(n.input[0])
    sess = ort.InferenceSession(model.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    acc: dict[str, list[float]] = {}
    for ids, mask, cues in batches:
        real = mask.astype(bool)
        for name, value in zip(names, sess.run(None, _feed(sess, ids, mask, cues))):
            if value.ndim == 3 and value.shape[:2] == real.shape:
                v = value[real].astype(np.float64)
                a = acc.setdefault(name, [np.inf, -np.inf, 0.0, 0.0, 0])
                a[0], a[1] = min(a[0], v.min()), max(a[1], v.max())
                a[2] += v.sum()
                a[3] += (v * v).sum()
                a[4] += v.size
    out = {}
    for n in nodes:
        lo, hi, s1, s2, k = acc[n.input[0]]
        std = max((s2 / k - (s1 / k) ** 2) ** 0.5, 1e-12)
        out[n.name] = float((hi - lo) / std)
    return out


def select_fp32(src: Path, keep_fp32, layers, batches=None) -> tuple[list[str], dict[str, float]]:
    """Node names ``keep_fp32`` selects in ``src`` (see :data:`KEEP_FP32`), and the spreads if measured."""
    names = matmul_nodes(src)
    keep: list[str] = []
    spread: dict[str, float] = {}
    for p in keep_fp32:
        if p == "heads":
            keep += [n for n in names if any(n.startswith(f"/m/{layer}/") for layer in layers)]
        elif p.startswith("outliers:"):
            if batches is None:
                raise ValueError("outliers:K needs calibration windows")
            spread = activation_spread(src, batches)
            ranked = sorted((n for n in spread if not any(n.startswith(f"/m/{layer}/") for layer in layers)),
                            key=lambda n: -spread[n])
            keep += ranked[: int(p.split(":", 1)[1])]
        else:
            keep += [n for n in names if re.search(p, n)]
    return list(dict.fromkeys(keep)), spread


def smooth_graph(src: Path, dst: Path, batches, alpha: float, skip: list[str]) -> int:
    """SmoothQuant (Xiao et al. 2023) for dynamic int8: move activation outliers into the weights.

    For every quantisable node with a constant weight (not in ``skip``): per input
    channel k, ``s_k = max|X_k|^alpha / max|W_k|^(1 - alpha)`` on the calibration
    windows; the node then reads ``X / s`` (an inserted Mul) with weight rows
    ``s_k W_k``, which is the same product in exact arithmetic, but the input
    that gets quantised per tensor no longer has a few channels 100× wider than
    the rest. Returns how many nodes were smoothed.
    """
    import numpy as np
    import onnx
    import onnxruntime as ort
    from onnx import helper, numpy_helper

    model = onnx.load(str(src))
    inits = {i.name: i for i in model.graph.initializer}
    nodes = [n for n in model.graph.node
             if n.op_type in QUANT_OPS and n.name not in skip and len(n.input) > 1 and n.input[1] in inits]
    probe = onnx.load(str(src))
    known = {o.name for o in probe.graph.output}
    for x in {n.input[0] for n in nodes} - known:
        probe.graph.output.append(helper.make_tensor_value_info(x, onnx.TensorProto.FLOAT, None))
    sess = ort.InferenceSession(probe.SerializeToString(), providers=["CPUExecutionProvider"])
    names = [o.name for o in sess.get_outputs()]
    wanted = {n.input[0] for n in nodes}
    amax: dict[str, Any] = {}
    for ids, mask, cues in batches:
        real = mask.astype(bool)
        for name, value in zip(names, sess.run(None, _feed(sess, ids, mask, cues))):
            if name in wanted:
                m = np.abs(value[real]).max(0)
                amax[name] = np.maximum(amax[name], m) if name in amax else m
    del sess, probe
    order = list(model.graph.node)
    for n in nodes:
        w = numpy_helper.to_array(inits[n.input[1]])
        sc = np.clip(amax[n.input[0]] ** alpha / np.maximum(np.abs(w).max(1), 1e-8) ** (1 - alpha), 1e-3, 1e3)
        sc = sc.astype(np.float32)
        tag = n.name.strip("/").replace("/", "_")
        model.graph.initializer.append(numpy_helper.from_array((w * sc[:, None]).astype(np.float32), f"{tag}_smooth_w"))
        model.graph.initializer.append(numpy_helper.from_array((1.0 / sc).astype(np.float32), f"{tag}_smooth_inv"))
        mul = helper.make_node("Mul", [n.input[0], f"{tag}_smooth_inv"], [f"{tag}_smooth_x"], name=f"{n.name}_smooth")
        order.insert(order.index(n), mul)
        n.input[0], n.input[1] = f"{tag}_smooth_x", f"{tag}_smooth_w"
    del model.graph.node[:]
    model.graph.node.extend(order)
    used = {i for n in model.graph.node for i in n.input}
    keep = [i for i in model.graph.initializer if i.name in used]
    del model.graph.initializer[:]
    model.graph.initializer.extend(keep)
    onnx.save(model, str(dst))
    return len(nodes)


def quantize(src: Path, dst: Path, fp32_nodes: list[str], per_channel: bool = True) -> None:
    """Dynamic int8 quantisation of every MatMul/Attention with a constant weight, except ``fp32_nodes`` (names)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=QUANT_OPS,
                     nodes_to_exclude=list(fp32_nodes), per_channel=per_channel,
                     extra_options={"MatMulConstBOnly": True, "DefaultTensorType": onnx.TensorProto.FLOAT})


def _windows(model, tokenizer, texts: list[str], limit: int = 32):
    """Real model inputs from ``texts``: up to ``limit`` padded windows in batches of 4, each batch
    ``(input_ids, attention_mask, cue_ids)`` with the speech-cue tags the runtime would feed."""
    from goftar.inference.cues import checkpoint_lexicon, find_cues, token_tags
    from goftar.inference.encode import TextEncoder, pad_windows
    from goftar.inference.normalize import Normalizer

    cfg = model.config
    enc = TextEncoder(tokenizer, Normalizer.from_dict(cfg.normalizer), cfg.window_length, cfg.window_stride)
    lexicon = checkpoint_lexicon(cfg)
    rows, cue_rows = [], []
    for t in texts:
        if not t.strip():
            continue
        e = enc.encode(t)
        windows = enc.window_inputs(e)
        rows += windows
        cue_rows += (enc.window_features(e, token_tags(e.text, e.offsets, find_cues(e.text, lexicon)))
                     if getattr(cfg, "cue_features", False) else [[0] * len(w) for w in windows])
    rows, cue_rows = rows[:limit], cue_rows[:limit]
    batches = []
    for i in range(0, len(rows), 4):
        ids, mask = pad_windows(rows[i:i + 4], enc.pad_id)
        cues, _ = pad_windows(cue_rows[i:i + 4], 0)
        batches.append((ids, mask, cues))
    return batches, enc.pad_id


def _check(model, out: Path, batches) -> dict[str, Any]:
    """Compare the ONNX graphs with torch on real windows: max |Δ| (fp32) and argmax agreement (int8)."""
    import numpy as np
    import onnxruntime as ort
    import torch

    layers = list(model.config.layer_labels)
    with torch.inference_mode():
        refs = [[o.float().numpy() for o in model(torch.as_tensor(i), torch.as_tensor(m), torch.as_tensor(c))]
                for i, m, c in batches]
        h = torch.as_tensor(refs[0][0][0])
        n = int(batches[0][1][0].sum())
        heads = torch.tensor([[1, 3], [4, 5], [0, n]])
        tails = torch.tensor([[4, 5], [1, 3], [2, 3]])
        feats = torch.zeros(3, len(model.config.relation_features), dtype=torch.long)
        rel_ref = model.relation_logits(h, heads, tails, feats).numpy()  # csum computed inside: checks the input too
    report: dict[str, Any] = {"windows": sum(len(b[0]) for b in batches), "tokens": int(sum(b[1].sum() for b in batches))}
    for prec, files in FILES.items():
        s = ort.InferenceSession(str(out / files["windows"]), providers=["CPUExecutionProvider"])
        worst = {"hidden": 0.0, **{layer: 0.0 for layer in layers}}
        agree = {layer: [0, 0] for layer in layers}
        for (ids, mask, cues), ref in zip(batches, refs):
            got = s.run(None, _feed(s, ids, mask, cues))
            real = mask.astype(bool)
            worst["hidden"] = max(worst["hidden"], float(np.abs(got[0] - ref[0])[real].max()))
            for layer, a, b in zip(layers, got[1:], ref[1:]):
                worst[layer] = max(worst[layer], float(np.abs(a - b)[real].max()))
                agree[layer][0] += int((a.argmax(-1) == b.argmax(-1))[real].sum())
                agree[layer][1] += int(real.sum())
        r: dict[str, float] = {"max_abs_hidden": worst["hidden"]}
        for layer in layers:
            r[f"argmax_agree_{layer}"] = agree[layer][0] / max(agree[layer][1], 1)
            r[f"max_abs_logits_{layer}"] = worst[layer]
        rs = ort.InferenceSession(str(out / files["relations"]), providers=["CPUExecutionProvider"])
        from goftar.inference.extractor import span_cumsum

        rel = rs.run(None, {"hidden": refs[0][0][0], "heads": heads.numpy(), "tails": tails.numpy(), "feats": feats.numpy(),
                            "csum": span_cumsum(refs[0][0][0])})[0]
        r["max_abs_relation"] = float(np.abs(rel - rel_ref).max())
        report[prec] = r
    return report


def export(model_dir: str | Path, out_dir: str | Path, keep_fp32: tuple[str, ...] | list[str] = KEEP_FP32,
           per_channel: bool = True, fusion: bool = True, calibration: list[str] | None = None,
           smooth: float = SMOOTH_ALPHA, log: Callable[[str], None] = print) -> dict[str, Any]:
    """Export ``model_dir`` (a goftar checkpoint) into ``out_dir``; returns what was done (also in config.json).

    ``calibration``: real articles (say data/dev.jsonl's texts) that pick the
    ``outliers:K`` nodes, set the SmoothQuant scales (``smooth`` = alpha; 0
    turns it off) and check the graphs against torch. Without them the
    built-in sentences (:data:`CALIBRATION`) pick the outliers and check, and
    nothing is smoothed: short sentences give scales that hurt.
    """
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
    layers = list(model.config.layer_labels)
    enc_cfg = model.encoder.config
    info = export_onnx(model, out)
    log(f"exported the graphs in {time.time() - t0:.1f} s")
    raw = out / "model.raw.onnx"
    fused: dict[str, int] | None = None
    if fusion:
        try:
            counts = fuse(raw, out / "model.onnx", enc_cfg.num_attention_heads, enc_cfg.hidden_size)
            fused = {k: v for k, v in counts.items() if k in ("Attention", "SkipLayerNormalization", "LayerNormalization",
                                                               "BiasGelu", "Gelu", "FastGelu", "EmbedLayerNormalization")}
        except Exception as exc:  # fusion is an optimisation; the plain graph is correct too
            log(f"fusion failed ({type(exc).__name__}: {exc}); keeping the unfused graph")
    if fused is None:
        shutil.copyfile(raw, out / "model.onnx")
    raw.unlink()
    batches, pad_id = _windows(model, tokenizer, calibration or CALIBRATION)
    kept, spread = select_fp32(out / "model.onnx", keep_fp32, layers, batches)
    smoothed = 0
    if calibration and smooth > 0:
        smoothed = smooth_graph(out / "model.onnx", out / "model.smooth.onnx", batches, smooth, kept)
        quantize(out / "model.smooth.onnx", out / "model.int8.onnx", kept, per_channel=per_channel)
        (out / "model.smooth.onnx").unlink()
    else:
        if smooth > 0:
            log("no SmoothQuant: it needs --calibration with real articles")
        quantize(out / "model.onnx", out / "model.int8.onnx", kept, per_channel=per_channel)
    log(f"quantised in {time.time() - t0:.1f} s; smoothed {smoothed} nodes; kept fp32: {kept or 'none'}")

    tokenizer.backend_tokenizer.save(str(out / "tokenizer.json"))  # exactly what the torch backend tokenises with
    if (model_dir / "tokenizer_config.json").exists():
        shutil.copyfile(model_dir / "tokenizer_config.json", out / "tokenizer_config.json")
    top = sorted(spread.items(), key=lambda kv: -kv[1])[:5]
    onnx_info = {
        "opset": OPSET, "files": FILES, "inputs": window_inputs(model.config), "outputs": info["outputs"],
        "relation_inputs": RELATION_INPUTS, "pad_token_id": pad_id,
        "fusion": fused, "disabled_optimizers": DISABLED_OPTIMIZERS,
        "int8": {"method": "onnxruntime.quantization.quantize_dynamic", "weight_type": "QInt8",
                 "per_channel": per_channel, "activations": "uint8, per tensor, computed per call",
                 "smoothquant": {"alpha": smooth, "nodes": smoothed,
                                 "calibration": f"{len(calibration)} texts" if calibration else None} if smoothed else None,
                 "op_types": QUANT_OPS, "fp32_rules": list(keep_fp32), "fp32_nodes": kept,
                 "activation_spread_top": {k: round(v, 1) for k, v in top},
                 "fp32_other": "word/position embeddings and LayerNorms, softmax, GELU, the relation head"},
        "source": str(model_dir), "onnxruntime": __import__("onnxruntime").__version__, "onnx": onnx.__version__,
    }
    onnx_info["check"] = _check(model, out, batches)
    onnx_info["sizes"] = {f: (out / f).stat().st_size for f in ("model.onnx", "model.int8.onnx", "relation.onnx")}
    cfg = model.config.to_dict()
    cfg["onnx"] = onnx_info
    (out / "config.json").write_text(json.dumps(cfg, ensure_ascii=False, indent=2), encoding="utf-8")
    _write_card(model_dir, out, onnx_info)
    log(f"wrote {out} in {time.time() - t0:.1f} s")
    return onnx_info


def _write_card(model_dir: Path, out: Path, info: dict[str, Any]) -> None:
    src = model_dir / "README.md"
    base = src.read_text(encoding="utf-8").rstrip() + "\n\n" if src.exists() else "# goftar model (ONNX)\n\n"
    mb = {k: f"{v / 2**20:.1f} MB" for k, v in info["sizes"].items()}
    q = info["int8"]
    spread = ", ".join(f"`{k}` {v}" for k, v in q["activation_spread_top"].items()) or "not measured"
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
        f"**int8**: {q['method']}; weights {q['weight_type']} "
        f"{'per output channel' if q['per_channel'] else 'per tensor'}; activations {q['activations']}; "
        f"quantised op types {q['op_types']}. "
        + (f"SmoothQuant (alpha {q['smoothquant']['alpha']}, scales from {q['smoothquant']['calibration']}) on "
           f"{q['smoothquant']['nodes']} nodes: each reads its input divided per channel by s (an inserted Mul) with "
           "weight rows multiplied by s, so the per-tensor activation scale is no longer set by a few outlier channels."
           if q.get("smoothquant") else "No SmoothQuant (export with --calibration to get it)."), "",
        f"**Left in fp32** (rules {q['fp32_rules']}): {', '.join(f'`{n}`' for n in q['fp32_nodes']) or 'nothing'}. "
        "The BIO heads (`/m/<layer>/MatMul`) because their logits are what the decoder reads and they cost < 0.5 % "
        "of the work; `outliers:K` keeps the K products whose input activations spread widest ((max − min) / std "
        "on calibration text), because a per-tensor uint8 scale set by a few outlier values flattens all the others. "
        f"Widest spreads measured: {spread}. Also fp32: {q['fp32_other']}.", "",
        "Agreement with the torch model on the calibration windows:", "", "```json",
        json.dumps(info["check"], indent=1), "```", "",
    ]
    (out / "README.md").write_text(base + "\n".join(lines), encoding="utf-8")


def register(sub) -> None:
    p = sub.add_parser("export", help="export a goftar checkpoint to ONNX (fp32 + int8) for the torch-free runtime")
    p.add_argument("--model", default=None, help="goftar checkpoint folder (default: the shipped goftar-fa-small)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--keep-fp32", nargs="*", default=None, metavar="RULE",
                   help=f"what stays fp32 in the int8 graph: 'heads', 'outliers:K' or node-name regexes "
                        f"(default: {' '.join(KEEP_FP32)}; give the flag alone to quantise everything)")
    p.add_argument("--per-tensor", action="store_true", help="one weight scale per matrix instead of per output channel")
    p.add_argument("--no-fusion", action="store_true", help="skip onnxruntime's offline BERT fusions")
    p.add_argument("--calibration", default=None,
                   help="JSONL or .txt of real articles (e.g. data/dev.jsonl, never the test set) for the int8 scales, "
                        "the outlier nodes and the check (default: built-in sentences, and no SmoothQuant)")
    p.add_argument("--smooth", type=float, default=SMOOTH_ALPHA,
                   help=f"SmoothQuant alpha with --calibration (default {SMOOTH_ALPHA}; 0: off)")
    p.set_defaults(func=_cmd)


def _calibration(path: str | None) -> list[str] | None:
    from goftar.inference.predict import iter_inputs

    if not path:
        return None
    return [d.text for d in iter_inputs([path]) if d.text][:16]


def _cmd(args) -> int:
    from goftar.inference.extractor import DEFAULT_MODEL

    model = args.model or str(DEFAULT_MODEL)
    keep = KEEP_FP32 if args.keep_fp32 is None else tuple(args.keep_fp32)
    info = export(model, args.out, keep_fp32=keep, per_channel=not args.per_tensor, fusion=not args.no_fusion,
                  calibration=_calibration(args.calibration), smooth=args.smooth, log=lambda s: print(s, file=sys.stderr))
    print(json.dumps({k: info[k] for k in ("fusion", "int8", "sizes", "check")}, indent=1, ensure_ascii=False))
    return 0
