"""``goftar predict --engine ray``: Ray Data actors give the single-process records, line for line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import LONG


@pytest.fixture(scope="session")
def ray_cluster():
    """One local cluster for every test here (starting one takes seconds)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level="ERROR",
             object_store_memory=200 * 1024 * 1024)
    yield ray
    ray.shutdown()


@pytest.fixture(scope="session")
def articles(tmp_path_factory, seed_doc) -> Path:
    """JSONL input: the seed article, a long one, short ones, an empty text, a broken line, an emoji."""
    long = LONG.read_text(encoding="utf-8")
    rows = [
        {"id": "seed", "text": seed_doc.text, "meta": {"source": "Mehr"}},
        {"id": "long", "text": long},
        {"id": "short", "text": "قالیباف گفت: روابط تجاری را توسعه می‌دهیم."},
        {"id": "emoji", "text": "🙂 رئیس مجلس گفت: همکاری‌های اقتصادی را توسعه می‌دهیم."},
        {"id": "empty", "text": "  "},
    ]
    path = tmp_path_factory.mktemp("ray-in") / "articles.jsonl"
    lines = [json.dumps(r, ensure_ascii=False) for r in rows]
    lines.insert(3, '{"id": "broken", "text": ')  # an unreadable line: an error record on both paths
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def _single(model, inputs, out, **kw) -> list[str]:
    from goftar.inference.predict import predict_files

    predict_files(str(model), [str(i) for i in inputs], str(out), backend="onnx", progress=False, threads=1, **kw)
    return out.read_text(encoding="utf-8").splitlines()


def test_ray_int8_equals_single_process(ray_cluster, onnx_tiny, articles, tmp_path):
    """The default (ONNX int8), two workers: the same lines as `goftar predict`, in the same order.

    One window per forward pass on both sides: int8 activation scales are taken
    per call, so only then is the arithmetic the same (docs/ray.md)."""
    from goftar.inference.ray_engine import predict_ray

    want = _single(onnx_tiny, [articles], tmp_path / "single.jsonl", batch_size=1)
    n, errors, _ = predict_ray([str(articles)], str(tmp_path / "ray.jsonl"), str(onnx_tiny), batch_size=1,
                               num_workers=2, progress=False, docs_per_call=2)
    got = (tmp_path / "ray.jsonl").read_text(encoding="utf-8").splitlines()
    assert got == want
    assert (n, errors) == (6, 1)
    recs = [json.loads(x) for x in got]
    assert [r["id"] for r in recs] == ["seed", "long", "short", "articles:4", "emoji", "empty"]
    assert "articles.jsonl:4" in recs[3]["error"]
    assert recs[0]["meta"] == {"source": "Mehr"} and "quotes" in recs[0]
    assert not list(tmp_path.glob("*.part"))


def test_ray_fp32_batched_equals_single_process(ray_cluster, onnx_tiny, articles, tmp_path):
    from goftar.inference.ray_engine import predict_ray

    want = _single(onnx_tiny, [articles], tmp_path / "single.jsonl", precision="fp32")
    predict_ray([str(articles)], str(tmp_path / "ray.jsonl"), str(onnx_tiny), precision="fp32",
                num_workers=2, progress=False, docs_per_call=3)
    assert (tmp_path / "ray.jsonl").read_text(encoding="utf-8").splitlines() == want


def test_parquet_in_and_out_and_views_read_it(ray_cluster, onnx_tiny, articles, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from goftar.inference.ray_engine import predict_ray
    from goftar.inference.views.table import quotes_table

    src = [json.loads(x) for x in articles.read_text(encoding="utf-8").splitlines() if x.endswith("}")]
    table = pa.table({"id": [r["id"] for r in src], "text": [r["text"] for r in src],
                      "meta": [json.dumps(r.get("meta") or {}, ensure_ascii=False) for r in src]})
    pq.write_table(table, tmp_path / "in.parquet")
    jsonl_in = tmp_path / "in.jsonl"
    jsonl_in.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in src), encoding="utf-8")
    want = _single(onnx_tiny, [jsonl_in], tmp_path / "single.jsonl", batch_size=1)

    predict_ray([str(tmp_path / "in.parquet")], str(tmp_path / "out.parquet"), str(onnx_tiny), batch_size=1,
                num_workers=2, progress=False)
    out = pq.read_table(tmp_path / "out.parquet")
    assert out.column_names == ["id", "error", "record"]
    assert out.column("record").to_pylist() == want
    assert out.column("id").to_pylist() == [r["id"] for r in src]
    # the quote table from the Parquet predictions is the one from the JSONL predictions
    quotes_table([str(tmp_path / "out.parquet")], str(tmp_path / "a.csv"))
    quotes_table([str(tmp_path / "single.jsonl")], str(tmp_path / "b.csv"))
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


def test_cli_engine_ray_and_no_overwrite(ray_cluster, onnx_tiny, articles, tmp_path, capsys):
    from goftar.cli import main

    out = tmp_path / "cli.jsonl"
    rc = main(["predict", str(articles), "--engine", "ray", "--model", str(onnx_tiny), "-o", str(out),
               "--ray-workers", "1", "--batch-size", "1", "--no-progress"])
    assert rc == 0
    assert out.read_text(encoding="utf-8").splitlines() == _single(onnx_tiny, [articles], tmp_path / "s.jsonl", batch_size=1)
    before = out.read_bytes()
    rc = main(["predict", str(articles), "--engine", "ray", "--model", str(onnx_tiny), "-o", str(out), "--no-progress"])
    assert rc == 2 and "exists" in capsys.readouterr().err
    assert out.read_bytes() == before


def test_worker_threads_follow_its_cpus(onnx_tiny):
    """The actor's onnxruntime sessions get the CPUs it was given as intra-op threads."""
    from goftar.inference.ray_engine import ExtractorWorker, pack_model

    packed = pack_model(onnx_tiny, "onnx", "int8")
    assert set(packed) == {"config.json", "tokenizer.json", "tokenizer_config.json", "model.int8.onnx", "relation.onnx"}
    w = ExtractorWorker(packed, threads=3)
    sess = w.extractor.runner.windows
    assert int(sess.get_session_options().intra_op_num_threads) == 3
    res = w({"id": ["a"], "text": ["قالیباف گفت: روابط تجاری را توسعه می‌دهیم."]})
    assert res["id"] == ["a"] and res["error"] == [""] and json.loads(res["record"][0])["id"] == "a"


def test_engine_ray_without_model_says_what_to_pass(tmp_path):
    from goftar.inference.ray_engine import predict_ray

    with pytest.raises(ValueError, match="goftar export"):
        predict_ray([str(tmp_path / "x.jsonl")], str(tmp_path / "o.jsonl"), None)


def test_predict_dataset_on_a_users_dataset(ray_cluster, onnx_tiny, articles, tmp_path):
    """The Python entry point on a Dataset built by the caller (no meta or error columns)."""
    import ray

    from goftar.inference.ray_engine import predict_dataset

    src = [json.loads(x) for x in articles.read_text(encoding="utf-8").splitlines() if x.endswith("}")]
    ds = ray.data.from_items([{"id": r["id"], "text": r["text"]} for r in src])
    rows = predict_dataset(ds, onnx_tiny, batch_size=1, num_workers=2, docs_per_call=2).take_all()
    plain = tmp_path / "plain.jsonl"
    plain.write_text("".join(json.dumps({"id": r["id"], "text": r["text"]}, ensure_ascii=False) + "\n" for r in src),
                     encoding="utf-8")
    want = {json.loads(x)["id"]: x for x in _single(onnx_tiny, [plain], tmp_path / "s.jsonl", batch_size=1)}
    assert {r["id"]: r["record"] for r in rows} == want
    assert all(r["error"] == "" for r in rows)
