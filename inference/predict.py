"""``goftar predict``: batch inference over text files, folders or JSONL, streamed to JSONL.

    goftar predict --model models/goftar-fa-small data/examples/ -o out.jsonl

INPUT is a ``.txt`` file, a folder of them, or JSONL with ``id`` and
``text``. Input and output are streamed, so memory stays flat on any number of
articles. A document that cannot be read gets an output line with ``error``
(and is reported on stderr with file and line); the rest go on.
"""
from __future__ import annotations

import sys
from pathlib import Path
from typing import Iterator

from .document import Document, DocumentError, iter_json_lines


def iter_inputs(paths: list[str]) -> Iterator[Document]:
    """Yield one Document per input text; unreadable ones carry ``error``."""
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            files = sorted(path.glob("*.txt"))
            if not files:
                yield Document(id=str(path), text="", error=f"{path}: folder holds no .txt files")
            for f in files:
                yield _read_txt(f)
        elif path.suffix in (".jsonl", ".json"):
            yield from _read_jsonl(path)
        elif path.exists():
            yield _read_txt(path)
        else:
            yield Document(id=str(path), text="", error=f"{path}: no such file or folder")


def _read_txt(path: Path) -> Document:
    data = path.read_bytes()
    try:
        return Document(id=path.stem, text=data.decode("utf-8"), meta={"path": str(path)})
    except UnicodeDecodeError as exc:
        return Document(id=path.stem, text="", error=f"{path}: invalid UTF-8 at byte offset {exc.start}", meta={"path": str(path)})


def _read_jsonl(path: Path) -> Iterator[Document]:
    for lineno, where, obj in iter_json_lines(path):
        if isinstance(obj, DocumentError):
            yield Document(id=f"{path.stem}:{lineno}", text="", error=str(obj))
            continue
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            yield Document(id=str(obj.get("id", f"{path.stem}:{lineno}")) if isinstance(obj, dict) else f"{path.stem}:{lineno}",
                           text="", error=f"{where}: expected an object with a string 'text'")
            continue
        yield Document(id=str(obj.get("id", f"{path.stem}:{lineno}")), text=obj["text"], meta=obj.get("meta") or {})


def predict_files(model: str | None, inputs: list[str], output: str, batch_size: int = 8, backend: str = "torch",
                  threads: int | None = None, progress: bool = True, precision: str = "int8") -> tuple[int, int]:
    """Run the model over every input and write one JSON line each. Returns (documents, errors)."""
    from .extractor import Extractor

    ex = Extractor.from_pretrained(model, backend=backend, threads=threads, precision=precision)
    n = errors = 0
    if output != "-":
        Path(output).parent.mkdir(parents=True, exist_ok=True)
    out = sys.stdout if output == "-" else open(output, "w", encoding="utf-8")
    try:
        for doc in ex.stream(iter_inputs(inputs), batch_size=batch_size, progress=progress):
            out.write(doc.to_json() + "\n")
            n += 1
            if doc.error:
                errors += 1
                print(f"error: {doc.error}", file=sys.stderr)
    finally:
        if out is not sys.stdout:
            out.close()
    return n, errors


def register(sub) -> None:
    p = sub.add_parser("predict", help="extract entities, quotes and relations from texts")
    p.add_argument("inputs", nargs="+", help=".txt files, folders of them, or JSONL with id and text")
    p.add_argument("--model", default=None, help="goftar checkpoint folder (default: the shipped goftar-fa-small)")
    p.add_argument("-o", "--output", default="-", help="output JSONL (default: stdout)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass")
    p.add_argument("--backend", choices=["torch", "onnx"], default="torch")
    p.add_argument("--threads", type=int, default=None, help="intra-op threads of either backend (default: all cores)")
    p.add_argument("--precision", choices=["int8", "fp32"], default="int8", help="with --backend onnx: which exported graphs")
    p.add_argument("--no-progress", action="store_true")
    from .ray_engine import add_arguments as add_ray_arguments  # --engine, --ray-*: inference/ray_engine.py

    add_ray_arguments(p)
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    if args.engine == "ray":  # scale-out: inference/ray_engine.py
        from .ray_engine import cmd as ray_cmd

        return ray_cmd(args)
    n, errors = predict_files(args.model, args.inputs, args.output, args.batch_size, args.backend, args.threads,
                              not args.no_progress, args.precision)
    print(f"{n} documents, {errors} with errors → {args.output}", file=sys.stderr)
    return 1 if errors and errors == n else 0
