"""The torch-free ONNX runtime: export, load without torch/transformers, same results as torch."""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

from tests.helpers import LONG

# Set before anything else in the child: importing torch or transformers fails
# there as if they were not installed.
BLOCKER = textwrap.dedent("""
    import sys

    class _Blocked:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("torch", "transformers"):
                raise ImportError(f"{name} is blocked: the ONNX runtime must not need it")
            return None

    sys.meta_path.insert(0, _Blocked())
""")


def _texts(seed_doc) -> list[dict]:
    long = LONG.read_text(encoding="utf-8")
    return [{"id": "seed", "text": seed_doc.text}, {"id": "long", "text": long},
            {"id": "short", "text": "قالیباف گفت: روابط تجاری را توسعه می‌دهیم."}, {"id": "empty", "text": "  "}]


def _view(doc: dict) -> tuple:
    ents = [(e["type"], e["start"], e["end"], e.get("category")) for e in doc["entities"]]
    rels = [(r["type"], r["head"], r["tail"]) for r in doc["relations"]]
    return ents, rels


def _no_scores(obj):
    if isinstance(obj, dict):
        return {k: _no_scores(v) for k, v in obj.items() if "score" not in k}
    if isinstance(obj, list):
        return [_no_scores(v) for v in obj]
    return obj


def test_export_layout_and_card(onnx_tiny, trained_tiny):
    files = {p.name for p in onnx_tiny.iterdir()}
    assert {"model.onnx", "model.int8.onnx", "relation.onnx", "tokenizer.json", "config.json", "README.md"} <= files
    assert not any(f.endswith((".safetensors", ".bin", ".pt")) for f in files)
    cfg = json.loads((onnx_tiny / "config.json").read_text())
    from goftar.inference.modeling import GoftarConfig

    src = GoftarConfig.from_pretrained(trained_tiny)  # what the torch backend decodes with
    assert cfg["layer_labels"] == src.layer_labels and cfg["relation_types"] == src.relation_types
    assert cfg["allowed_pairs"] == src.allowed_pairs
    info = cfg["onnx"]
    assert info["outputs"] == ["hidden", *[f"logits_{layer}" for layer in cfg["layer_labels"]]]
    assert info["files"]["int8"]["windows"] == "model.int8.onnx" and info["files"]["fp32"]["windows"] == "model.onnx"
    # the BIO heads and the two widest-spread inputs ("heads", "outliers:2") stay fp32, and the card says which
    kept = info["int8"]["fp32_nodes"]
    heads = [f"/m/{layer}/MatMul" for layer in cfg["layer_labels"]]
    assert set(heads) <= set(kept) and len(kept) == len(heads) + 2
    outliers = [n for n in kept if n not in heads]
    spread = info["int8"]["activation_spread_top"]
    assert sorted(spread, key=lambda n: -spread[n])[:2] == outliers
    card = (onnx_tiny / "README.md").read_text()
    assert "## ONNX export" in card and all(n in card for n in kept)
    # calibration articles given: SmoothQuant on every other quantised node (2 layers × 4 products, less the 2 kept)
    assert info["int8"]["smoothquant"]["nodes"] == 2 * 4 - 2 and "SmoothQuant" in card
    # the export's own check: fp32 equals torch, int8 close
    assert info["check"]["fp32"]["max_abs_hidden"] < 1e-4
    assert info["check"]["int8"]["argmax_agree_ne"] > 0.9
    # int8 holds int8 weights
    import onnx

    g = onnx.load(str(onnx_tiny / "model.int8.onnx")).graph
    assert any(n.op_type in ("MatMulInteger", "DynamicQuantizeMatMul") for n in g.node)
    assert any(i.data_type == onnx.TensorProto.INT8 for i in g.initializer)


def test_onnx_runs_without_torch_and_matches_torch(onnx_tiny, trained_tiny, seed_doc, tmp_path):
    """A child where torch and transformers cannot be imported loads the export (API and CLI)
    and finds the same entities and relations as the torch backend (fp32; scores within 1e-3)."""
    from goftar.inference.extractor import Extractor

    items = _texts(seed_doc)
    inp = tmp_path / "in.jsonl"
    inp.write_text("".join(json.dumps(d, ensure_ascii=False) + "\n" for d in items), encoding="utf-8")
    child = BLOCKER + textwrap.dedent(f"""
        import json
        try:
            import torch
            raise SystemExit("torch imported despite the blocker")
        except ImportError:
            pass
        from goftar.inference import Extractor
        items = [json.loads(l) for l in open({str(inp)!r}, encoding="utf-8")]
        out = {{}}
        for prec in ("fp32", "int8"):
            ex = Extractor.from_pretrained({str(onnx_tiny)!r}, backend="onnx", precision=prec, threads=1)
            out[prec] = [d.to_dict() for d in ex(items, batch_size=4)]
        from goftar.cli import main
        rc = main(["predict", {str(inp)!r}, "--model", {str(onnx_tiny)!r}, "--backend", "onnx", "--precision", "fp32",
                   "--threads", "1", "-o", {str(tmp_path / "cli.jsonl")!r}, "--no-progress"])
        bad = sorted(m for m in sys.modules if m.split(".")[0] in ("torch", "transformers"))
        print(json.dumps({{"docs": out, "rc": rc, "loaded": bad}}))
    """)
    res = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr[-3000:]
    got = json.loads(res.stdout.strip().splitlines()[-1])
    assert got["loaded"] == [] and got["rc"] == 0

    import torch

    before = torch.get_num_threads()
    try:  # one thread: a tiny model gains nothing from more, and loses much on a busy machine
        ref = [d.to_dict() for d in Extractor.from_pretrained(trained_tiny, threads=1)(items, batch_size=4)]
    finally:
        torch.set_num_threads(before)
    n_ents = 0
    for a, b in zip(ref, got["docs"]["fp32"]):
        assert a["id"] == b["id"] and a["text"] == b["text"] and b.get("error") is None
        assert _view(a) == _view(b)
        for x, y in zip(a["entities"] + a["relations"], b["entities"] + b["relations"]):
            assert abs(x["score"] - y["score"]) < 1e-3
        assert _no_scores(a["quotes"]) == _no_scores(b["quotes"])
        n_ents += len(a["entities"])
    assert n_ents > 0, "the tiny model found nothing: the comparison proves nothing"
    cli = [json.loads(line) for line in (tmp_path / "cli.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [_view(d) for d in cli] == [_view(d) for d in got["docs"]["fp32"]]
    # int8: same documents, nearly the same entities
    same = total = 0
    for a, b in zip(ref, got["docs"]["int8"]):
        ea, eb = set(_view(a)[0]), set(_view(b)[0])
        same += len(ea & eb)
        total += max(len(ea | eb), 1)
    assert same / total > 0.9, (same, total)


def test_threads_settable_on_both_backends(onnx_tiny, trained_tiny):
    import torch

    from goftar.inference.extractor import Extractor

    ex = Extractor.from_pretrained(onnx_tiny, backend="onnx", precision="fp32", threads=1)
    assert ex.runner.windows.get_session_options().intra_op_num_threads == 1
    assert ex.runner.relations.get_session_options().intra_op_num_threads == 1
    before = torch.get_num_threads()
    try:
        Extractor.from_pretrained(trained_tiny, threads=1)
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_clear_errors(onnx_tiny, trained_tiny, tmp_path):
    from goftar.inference.extractor import Extractor

    from goftar.inference.errors import ModelError

    with pytest.raises(ModelError, match="goftar export"):
        Extractor.from_pretrained(trained_tiny, backend="onnx")
    with pytest.raises(ValueError, match="precision"):
        Extractor.from_pretrained(onnx_tiny, backend="onnx", precision="int4")


def test_export_command(trained_tiny, tmp_path):
    from goftar.cli import main

    out = tmp_path / "exp"
    assert main(["export", "--model", str(trained_tiny), "--out", str(out), "--keep-fp32"]) == 0
    cfg = json.loads((out / "config.json").read_text())
    assert cfg["onnx"]["int8"]["fp32_nodes"] == []  # nothing kept: every MatMul quantised
    assert cfg["onnx"]["int8"]["smoothquant"] is None  # no calibration articles, no smoothing
    from goftar.inference.extractor import Extractor

    doc = Extractor.from_pretrained(out, backend="onnx")("قالیباف گفت: روابط تجاری را توسعه می‌دهیم.")[0]
    assert doc.error is None


def test_export_folder_recognised_without_backend_and_relation_graph_takes_csum(onnx_tiny, trained_tiny, tmp_path, seed_doc):
    """`goftar predict --model EXPORT` needs no --backend onnx; the relation graph takes the per-document
    cumulative sum as an input (computed once, not once per chunk of pairs) and agrees with torch's."""
    import numpy as np
    import onnxruntime as ort
    import torch

    from goftar.inference.extractor import Extractor, span_cumsum
    from goftar.inference.onnx_runtime import OnnxRunner
    from goftar.cli import main

    ex = Extractor.from_pretrained(onnx_tiny)
    assert isinstance(ex.runner, OnnxRunner) and ex.runner.relations_take_csum
    sess = ort.InferenceSession(str(onnx_tiny / "relation.onnx"), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["hidden", "heads", "tails", "feats", "csum"]
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"id": "s", "text": seed_doc.text}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    assert main(["predict", "--model", str(onnx_tiny), str(src), "-o", str(out), "--no-progress"]) == 0
    assert "error" not in json.loads(out.read_text(encoding="utf-8"))
    from goftar.inference.modeling import GoftarModel

    model = GoftarModel.from_pretrained(trained_tiny).float().eval()
    h = np.random.default_rng(1).normal(size=(30, model.config.encoder["hidden_size"])).astype(np.float32)
    heads = np.array([[0, 3], [10, 12]], dtype=np.int64)
    tails = np.array([[20, 29], [1, 2]], dtype=np.int64)
    feats = np.zeros((2, len(model.config.relation_features)), dtype=np.int64)
    got = ex.runner.run_relations(h, heads, tails, feats, span_cumsum(h))
    with torch.inference_mode():
        want = model.relation_logits(torch.as_tensor(h), torch.as_tensor(heads), torch.as_tensor(tails), torch.as_tensor(feats)).numpy()
    assert np.allclose(got, want, atol=1e-4)
