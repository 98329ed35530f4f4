"""Scale-out on Ray Data: ``goftar predict --engine ray``, and :func:`predict_dataset` for a Ray ``Dataset``.

    pip install "goftar[ray]"
    goftar export --model models/goftar-fa-small --out goftar-fa-small-onnx
    goftar predict articles.jsonl --engine ray --model goftar-fa-small-onnx -o out.jsonl            # local cluster
    goftar predict articles.parquet --engine ray --model goftar-fa-small-onnx --ray-address auto -o out.parquet

Each worker is a stateful Ray actor (:class:`ExtractorWorker`) that loads one
:class:`~goftar.inference.extractor.Extractor` once — ONNX int8 by default —
with onnxruntime's ``intra_op_num_threads`` set to the CPUs Ray gave the actor
(onnxruntime ignores ``OMP_NUM_THREADS``), then turns batches of documents
into prediction records with the same code as ``goftar predict``. The model
folder travels through Ray's object store, so worker nodes need no copy of it.

Records are the lines ``goftar predict`` writes (``Document.to_json()``), in
input order. JSONL output holds exactly those lines; Parquet output has the
columns ``id``, ``error`` and ``record`` (the same JSON line), and the views
(``goftar quotes/render/report``) read either.

Python::

    import ray
    from goftar.inference.ray_engine import predict_dataset
    ds = ray.data.read_parquet("s3://bucket/articles/")        # columns id, text (meta optional)
    out = predict_dataset(ds, "goftar-fa-small-onnx", num_workers=8, cpus_per_worker=2)
    out.write_parquet("s3://bucket/predictions/")            # columns id, error, record

How to run on a real cluster: docs/ray.md.
"""
from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Iterable, Iterator

from .document import Document

OUTPUT_COLUMNS = ("id", "error", "record")


def _require_ray():
    try:
        import ray  # noqa: F401
        import ray.data  # noqa: F401
    except ImportError:
        raise SystemExit("--engine ray needs Ray Data: pip install 'goftar[ray]'") from None
    return ray


def model_backend(model: str | os.PathLike, backend: str | None = None) -> str:
    """``backend`` if given, else "onnx" for a ``goftar export`` folder and "torch" for a checkpoint."""
    if backend:
        return backend
    cfg_path = Path(model) / "config.json"
    if not cfg_path.exists():
        raise FileNotFoundError(f"{model} is not a goftar model folder (no config.json)")
    cfg = json.loads(cfg_path.read_text(encoding="utf-8"))
    return "onnx" if cfg.get("onnx") else "torch"


def pack_model(model: str | os.PathLike, backend: str, precision: str = "int8") -> dict[str, bytes]:
    """The files a worker needs to load ``model``, as ``{name: bytes}`` (for the object store).

    For an ONNX export: config, tokenizer and the two graphs of ``precision``
    only (the int8 folder's 50 MB rather than all 160 MB).
    """
    path = Path(model)
    cfg = json.loads((path / "config.json").read_text(encoding="utf-8"))
    if backend == "onnx":
        info = cfg.get("onnx")
        if not info:
            raise FileNotFoundError(f"{path} is not an ONNX export; run `goftar export --model {path} --out {path}-onnx`")
        names = {"config.json", "tokenizer.json", "tokenizer_config.json", *info["files"][precision].values()}
    else:
        names = {p.name for p in path.iterdir() if p.is_file() and p.name != "README.md"}
    return {n: (path / n).read_bytes() for n in sorted(names) if (path / n).exists()}


class ExtractorWorker:
    """The Ray actor: one Extractor per worker, loaded once, called once per batch.

    ``model`` is a folder path visible to the worker, or the ``{name: bytes}``
    of :func:`pack_model` (unpacked into a temporary folder). A batch is a
    dict of columns ``id``, ``text`` and optionally ``meta`` (a JSON object
    text) and ``error``; the result has the columns ``id``, ``error``,
    ``record``.
    """

    def __init__(self, model, backend: str = "onnx", precision: str = "int8", batch_size: int = 8, threads: int | None = None):
        from .extractor import Extractor

        if type(model).__name__ == "ObjectRef":  # Ray Data passes constructor arguments as they are
            import ray

            model = ray.get(model)
        if isinstance(model, dict):
            self._tmp = tempfile.TemporaryDirectory(prefix="goftar-model-")
            for name, data in model.items():
                (Path(self._tmp.name) / name).write_bytes(data)
            model = self._tmp.name
        if threads is None:
            threads = _assigned_cpus()
        self.threads = threads
        self.batch_size = batch_size
        self.extractor = Extractor.from_pretrained(model, backend=backend, threads=threads, precision=precision)

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        docs = list(_batch_documents(batch))
        ids, errors, records = [], [], []
        for doc in self.extractor.stream(docs, batch_size=self.batch_size):
            ids.append(doc.id)
            errors.append(doc.error or "")  # a string column: no nulls for Arrow to turn into NaN
            records.append(doc.to_json())
        return {"id": ids, "error": errors, "record": records}


def _assigned_cpus() -> int | None:
    try:
        import ray

        cpus = ray.get_runtime_context().get_assigned_resources().get("CPU")
        return max(1, int(cpus)) if cpus else None
    except Exception:
        return None


def _column(batch: dict[str, Any], name: str, n: int) -> list:
    col = batch.get(name)
    if col is None:
        return [None] * n
    return list(col.tolist() if hasattr(col, "tolist") else col)


def _batch_documents(batch: dict[str, Any]) -> Iterator[Document]:
    texts = _column(batch, "text", len(batch["id"]))
    n = len(texts)
    ids, metas, errors = _column(batch, "id", n), _column(batch, "meta", n), _column(batch, "error", n)
    for doc_id, text, meta, error in zip(ids, texts, metas, errors):
        if isinstance(meta, (bytes, str)) and meta:
            meta = json.loads(meta)
        yield Document(id=str(doc_id), text=text if isinstance(text, str) else "", meta=dict(meta or {}),
                       error=error or (None if isinstance(text, str) else f"{doc_id}: 'text' is not a string"))


def predict_dataset(ds, model: str | os.PathLike, backend: str | None = None, precision: str = "int8", batch_size: int = 8,
                    num_workers: int = 1, cpus_per_worker: int = 1, docs_per_call: int = 16, ship_model: bool = True):
    """Map a Ray ``Dataset`` of documents (columns ``id``, ``text``; ``meta`` optional) to prediction records.

    ``num_workers`` actors of ``cpus_per_worker`` CPUs each; each call gets
    ``docs_per_call`` documents, and runs ``batch_size`` windows per forward
    pass as ``goftar predict --batch-size`` does. With ``ship_model`` the
    model's files go through the object store (workers need no copy);
    otherwise ``model`` must be a path every worker can read. Returns a
    ``Dataset`` with columns ``id``, ``error`` and ``record``, where
    ``record`` is the JSON line ``goftar predict`` writes.
    """
    import ray
    import ray.data

    backend = model_backend(model, backend)
    model_arg = ray.put(pack_model(model, backend, precision)) if ship_model else str(model)
    return ds.map_batches(
        ExtractorWorker,
        fn_constructor_kwargs={"model": model_arg, "backend": backend, "precision": precision,
                               "batch_size": batch_size, "threads": cpus_per_worker},
        batch_size=docs_per_call, batch_format="numpy", compute=ray.data.ActorPoolStrategy(size=num_workers),
        num_cpus=cpus_per_worker,
        zero_copy_batch=False,
    )


def read_inputs(inputs: list[str], read_documents=None):
    """A Ray ``Dataset`` of the inputs, read on the driver: Parquet (columns ``id`` and ``text``,
    ``meta`` optional: a struct or a JSON text) with pyarrow, anything else (JSONL, .txt, folders)
    through ``goftar predict``'s own readers, with their error records.

    Reading on the driver keeps every worker CPU for the model: on a cluster whose CPUs all go to
    the actors, Ray's own read tasks would wait for a free CPU for ever. For inputs larger than the
    driver's memory, read them with Ray and call :func:`predict_dataset` (docs/ray.md).
    """
    import ray

    if read_documents is None:
        from .predict import iter_inputs as read_documents
    rows: list[dict[str, Any]] = []
    for raw in inputs:  # in the order given, like the single-process path
        path = Path(raw)
        files = sorted(path.rglob("*.parquet")) if path.is_dir() else [path] if path.suffix == ".parquet" else []
        if not files:
            rows.extend({"id": d.id, "text": d.text, "meta": _meta_text(d.meta), "error": d.error or ""}
                        for d in read_documents([raw]))
            continue
        import pyarrow.parquet as pq

        for f in files:
            names = pq.ParquetFile(f).schema_arrow.names
            missing = {"id", "text"} - set(names)
            if missing:
                raise ValueError(f"{f}: Parquet input needs columns id and text (missing: {', '.join(sorted(missing))})")
            for i, r in enumerate(pq.read_table(f, columns=[c for c in ("id", "text", "meta") if c in names]).to_pylist()):
                ok = isinstance(r["text"], str)
                rows.append({"id": str(r["id"]), "text": r["text"] if ok else "", "meta": _meta_text(r.get("meta")),
                             "error": "" if ok else f"{f}: row {i + 1}: 'text' is not a string"})
    if not rows:
        raise ValueError(f"no documents in {', '.join(inputs)}")
    return ray.data.from_items(rows)


def _meta_text(meta) -> str:
    if not meta:
        return ""
    return meta if isinstance(meta, str) else json.dumps(meta, ensure_ascii=False)


def write_records(batches: Iterable[dict[str, Any]], output: str, progress=None) -> tuple[int, int]:
    """Write record batches to JSONL (``goftar predict``'s lines) or Parquet (``id, error, record``).

    Written to ``OUTPUT.part`` and renamed when complete, so an interrupted
    run never leaves a file that looks finished. Returns (documents, errors).
    """
    n = errors = 0
    if output == "-":
        for b in batches:
            for rec in b["record"]:
                sys.stdout.write(rec + "\n")
            n += len(b["record"])
            errors += sum(1 for e in b["error"] if e)
        return n, errors
    out = Path(output)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".part")
    writer = None
    try:
        if out.suffix == ".parquet":
            import pyarrow as pa
            import pyarrow.parquet as pq

            schema = pa.schema([("id", pa.string()), ("error", pa.string()), ("record", pa.string())])
            writer = pq.ParquetWriter(tmp, schema)
            for b in batches:
                cols = {c: [None if v is None or v == "" else str(v) for v in b[c]] for c in OUTPUT_COLUMNS}
                writer.write_table(pa.table(cols, schema=schema))
                n, errors = _count(b, n, errors, progress)
            writer.close()
            writer = None
        else:
            with open(tmp, "w", encoding="utf-8") as f:
                for b in batches:
                    for rec, err in zip(b["record"], b["error"]):
                        f.write(rec + "\n")
                        if err:
                            print(f"error: {err}", file=sys.stderr)
                    n, errors = _count(b, n, errors, progress)
        tmp.replace(out)
    finally:
        if writer is not None:
            writer.close()
        if tmp.exists():
            tmp.unlink()
    return n, errors


def _count(b, n, errors, progress):
    k = len(b["record"])
    if progress is not None:
        progress.update(k)
    return n + k, errors + sum(1 for e in b["error"] if e)


def predict_ray(inputs: list[str], output: str, model: str | None, backend: str | None = None, precision: str = "int8",
                batch_size: int = 8, num_workers: int | None = None, cpus_per_worker: int = 1,
                ray_address: str | None = None, progress: bool = True, overwrite: bool = False,
                docs_per_call: int = 16) -> tuple[int, int, float]:
    """``goftar predict --engine ray``. Returns (documents, errors, seconds of the prediction run)."""
    ray = _require_ray()
    if model is None:
        raise ValueError("--engine ray needs --model: an exported folder (`goftar export --model models/goftar-fa-small "
                         "--out goftar-fa-small-onnx`), or a torch checkpoint with --backend torch")
    if output != "-" and Path(output).exists() and Path(output).stat().st_size > 0 and not overwrite:
        raise FileExistsError(f"{output} exists and is not empty; pass --overwrite to replace it")
    if not ray.is_initialized():
        ray.init(address=ray_address, ignore_reinit_error=True, include_dashboard=False, log_to_driver=False,
                 logging_level="ERROR")
    if not progress:
        import logging

        logging.getLogger("ray.data").setLevel(logging.WARNING)  # no per-run INFO lines under --no-progress
    ctx = ray.data.DataContext.get_current()
    ctx.execution_options.preserve_order = True  # records in input order, as the single-process path writes them
    ctx.enable_progress_bars = bool(progress)
    if num_workers is None:
        num_workers = max(1, int(ray.cluster_resources().get("CPU", 1) // max(1, cpus_per_worker)))
    ds = read_inputs(inputs)
    out = predict_dataset(ds, model, backend=backend, precision=precision, batch_size=batch_size, num_workers=num_workers,
                          cpus_per_worker=cpus_per_worker, docs_per_call=docs_per_call)
    t0 = time.perf_counter()
    n, errors = write_records(out.iter_batches(batch_size=256, batch_format="numpy"), output)
    return n, errors, time.perf_counter() - t0


def add_arguments(p) -> None:
    """The ``goftar predict`` options of this engine (registered by predict's parser)."""
    p.add_argument("--engine", choices=["local", "ray"], default="local",
                   help="local: this process; ray: Ray Data actors, one extractor each (pip install 'goftar[ray]')")
    p.add_argument("--ray-address", default=None,
                   help="with --engine ray: cluster to join ('auto', 'ray://host:10001'; default: start a local one)")
    p.add_argument("--ray-workers", type=int, default=None,
                   help="with --engine ray: number of worker actors (default: cluster CPUs / --ray-cpus-per-worker)")
    p.add_argument("--ray-cpus-per-worker", type=int, default=1,
                   help="with --engine ray: CPUs per actor, also its onnxruntime intra-op threads")


def cmd(args) -> int:
    """``goftar predict --engine ray`` (called from predict's command)."""
    # The folder says which backend (an export: ONNX; a checkpoint: torch); predict's default "torch" means "not chosen".
    backend = "onnx" if getattr(args, "backend", None) == "onnx" else None
    try:
        n, errors, secs = predict_ray(
            args.inputs, args.output, args.model, backend=backend, precision=args.precision, batch_size=args.batch_size,
            num_workers=args.ray_workers, cpus_per_worker=args.ray_cpus_per_worker, ray_address=args.ray_address,
            progress=not args.no_progress, overwrite=getattr(args, "overwrite", False),
        )
    except (FileExistsError, FileNotFoundError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    rate = f", {n / secs:.2f} documents/s" if secs > 0 else ""
    print(f"{n} documents, {errors} with errors → {args.output} (ray{rate})", file=sys.stderr)
    return 1 if errors and errors == n else 0
