"""``goftar predict``: batch inference over text files, folders, JSONL, JSON arrays and Label Studio exports.

    goftar predict --model models/goftar-fa-small data/examples/ -o out.jsonl
    goftar predict corpus/ --recursive -o out.jsonl --resume      # after a kill: only what is missing

INPUT is a ``.txt`` file, a folder of them (``--recursive`` for subfolders),
JSONL with ``id`` and ``text``, a ``.json`` array of such objects, or a Label
Studio export (tasks whose ``data.text`` is the article). Inputs are streamed.

Nothing is lost or destroyed:

- one output line per input record, in input order; a record that cannot be
  processed gets a line with ``error`` naming its file and line, the rest go on;
- each line is written whole as soon as its document is done, so a kill leaves
  complete lines (and at most one truncated last line);
- ``--resume`` keeps the complete lines of an earlier run, cuts a truncated
  last line, and processes only the documents whose ids are missing;
- an output that already holds lines is refused without ``--resume`` or
  ``--overwrite``; with ``--overwrite`` the new output is written beside it and
  replaces it at the end; an output that is one of the inputs is refused;
- Ctrl-C or SIGTERM stops after the current batch with a one-line summary
  and the command that resumes the run.
"""
from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any, Iterator

from .document import Document, DocumentError, iter_json_lines, record_problem
from .errors import EXIT_BAD_INPUT, EXIT_INTERRUPTED, EXIT_OK, EXIT_RECORD_ERRORS, InputError
from .io import LineAppender, complete_lines, refuse_input_as_output

TEXT_SUFFIXES = (".txt",)
JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


def _warn(msg: str) -> None:
    print(f"goftar predict: {msg}", file=sys.stderr)


class Inputs:
    """The documents of the given paths, with their count known before reading them (for progress)."""

    def __init__(self, paths: list[str], recursive: bool = False, encoding: str = "utf-8", warn=_warn):
        self.paths = [str(p) for p in paths]
        self.recursive = recursive
        self.encoding = encoding
        self.warn = warn
        self._plan: list[tuple[str, Path, Path | None]] | None = None

    # -- what will be read ----------------------------------------------
    def plan(self) -> list[tuple[str, Path, Path | None]]:
        """``(kind, path, folder it came from)`` per source: kind is txt | json | missing | empty-folder | bad-entry."""
        if self._plan is not None:
            return self._plan
        plan: list[tuple[str, Path, Path | None]] = []
        for raw in self.paths:
            path = Path(raw)
            if path.is_dir():
                found = self._folder(path)
                plan += found or [("empty-folder", path, None)]
            elif path.suffix.lower() in JSON_SUFFIXES and path.exists():
                plan.append(("json", path, None))
            elif path.exists():
                plan.append(("txt", path, None))
            else:
                plan.append(("missing", path, None))
        self._plan = plan
        return plan

    def _folder(self, folder: Path) -> list[tuple[str, Path, Path | None]]:
        out: list[tuple[str, Path, Path | None]] = []
        skipped_dirs = 0
        walk = sorted(folder.rglob("*")) if self.recursive else sorted(folder.iterdir())
        for p in walk:
            is_txt = p.suffix.lower() in TEXT_SUFFIXES
            try:
                if p.is_dir():
                    if is_txt:
                        out.append(("bad-entry", p, folder))
                    elif not self.recursive:
                        skipped_dirs += 1
                    continue
                if not is_txt:
                    continue
                if not p.is_file():  # a broken link, a socket, …
                    out.append(("bad-entry", p, folder))
                    continue
            except OSError:
                out.append(("bad-entry", p, folder))
                continue
            out.append(("txt", p, folder))
        if skipped_dirs:
            self.warn(f"{folder}: {skipped_dirs} subfolder(s) not read (pass --recursive to read them)")
        return out

    def count(self) -> int:
        """How many records :meth:`__iter__` will yield (reads JSON files' lines, not their texts)."""
        n = 0
        for kind, path, _ in self.plan():
            if kind != "json":
                n += 1
                continue
            array = self._json_array(path)
            if array is not None:
                n += len(array) if isinstance(array, list) else 1
            else:
                with open(path, "rb") as f:
                    n += sum(1 for line in f if line.strip())
        return n

    # -- reading --------------------------------------------------------
    def __iter__(self) -> Iterator[Document]:
        for kind, path, folder in self.plan():
            if kind == "txt":
                yield self._read_txt(path, folder)
            elif kind == "json":
                yield from self._read_json(path)
            elif kind == "bad-entry":
                yield Document(id=self._doc_id(path, folder), text="", meta={"path": str(path)},
                               error=f"{path}: not a readable file ({'a folder' if path.is_dir() else 'a broken link or special file'})")
            elif kind == "empty-folder":
                yield Document(id=str(path), text="", error=f"{path}: folder holds no .txt files"
                               + ("" if self.recursive else " (pass --recursive to read its subfolders)"))
            else:
                yield Document(id=str(path), text="", error=f"{path}: no such file or folder")

    @staticmethod
    def _doc_id(path: Path, folder: Path | None) -> str:
        if folder is None:
            return path.stem
        rel = path.relative_to(folder)
        return str(rel.with_suffix("")) if len(rel.parts) > 1 else path.stem

    def _read_txt(self, path: Path, folder: Path | None) -> Document:
        doc_id, meta = self._doc_id(path, folder), {"path": str(path)}
        try:
            data = path.read_bytes()
        except OSError as exc:
            return Document(id=doc_id, text="", meta=meta, error=f"{path}: cannot read ({exc.strerror or exc})")
        try:
            text = data.decode(self.encoding)
        except UnicodeDecodeError as exc:
            utf8 = self.encoding.lower().replace("_", "-") in ("utf-8", "utf8")
            hint = " (pass --encoding, e.g. cp1256, for legacy files)" if utf8 else ""
            name = "UTF-8" if utf8 else self.encoding
            return Document(id=doc_id, text="", meta=meta, error=f"{path}: invalid {name} at byte offset {exc.start}{hint}")
        if text.startswith("\ufeff"):
            text = text[1:]
        return Document(id=doc_id, text=text, meta=meta)

    def _json_array(self, path: Path):
        """The parsed content of a ``.json`` file that is one JSON value, else None (then it is read as JSON lines)."""
        if path.suffix.lower() != ".json":
            return None
        cache = getattr(self, "_json_cache", {})
        self._json_cache = cache
        if path not in cache:
            try:
                value = json.loads(path.read_bytes().decode(self.encoding))
            except (ValueError, UnicodeDecodeError):
                value = None
            cache[path] = value if isinstance(value, (list, dict)) else None
        return cache[path]

    def _read_json(self, path: Path) -> Iterator[Document]:
        value = self._json_array(path)
        if value is None:
            for lineno, where, obj in iter_json_lines(path, self.encoding, check_unicode=False):
                yield self._record(obj, where, f"{path.stem}:{lineno}")
            return
        self._json_cache.pop(path, None)
        items = value if isinstance(value, list) else [value]
        for i, obj in enumerate(items):
            yield self._record(obj, f"{path}[{i}]", f"{path.stem}:{i}")

    @staticmethod
    def _record(obj: Any, where: str, fallback_id: str) -> Document:
        """One input record: ``{"id", "text", "meta"}`` or a Label Studio task ``{"id", "data": {"text"}}``."""
        if isinstance(obj, DocumentError):
            return Document(id=fallback_id, text="", error=str(obj), where=where)
        if isinstance(obj, dict) and "text" not in obj and isinstance(obj.get("data"), dict):  # Label Studio task
            data = obj["data"]
            meta = {k: v for k, v in data.items() if k not in ("text", "id")}
            obj = {"id": data.get("id", obj.get("id", fallback_id)), "text": data.get("text"),
                   "meta": {**meta, "labelstudio_task": obj.get("id")} if "id" in obj else meta}
        problem = record_problem(obj)
        doc_id = obj.get("id", fallback_id) if isinstance(obj, dict) else fallback_id
        if not isinstance(doc_id, (str, int)) or isinstance(doc_id, bool):
            doc_id = fallback_id
        if problem:
            return Document(id=str(doc_id), text="", error=f"{where}: {problem}", where=where)
        return Document(id=str(doc_id), text=obj["text"], meta=dict(obj.get("meta") or {}), where=where)


def iter_inputs(paths: list[str], recursive: bool = False, encoding: str = "utf-8") -> Iterator[Document]:
    """Yield one Document per input record; unreadable ones carry ``error``."""
    return iter(Inputs(paths, recursive=recursive, encoding=encoding))


class Interrupted(Exception):
    """Ctrl-C or SIGTERM during a run."""


def resume_command(argv: list[str] | None = None) -> str:
    """The command line that continues this run: the same one, with ``--resume`` instead of ``--overwrite``."""
    argv = list(sys.argv if argv is None else argv)
    args = [a for a in argv[1:] if a != "--overwrite"]
    if "--resume" not in args:
        args.append("--resume")
    return shlex.join(["goftar", *args])


def _output_state(output: str, resume: bool, overwrite: bool) -> tuple[Counter, int]:
    """``(ids already written, records kept)``; refuses an output that holds lines unless told what to do."""
    done: Counter = Counter()
    path = Path(output)
    if output == "-" or not path.exists():
        return done, 0
    if path.is_dir():
        raise InputError(f"{output}: is a folder; -o takes a JSONL file")
    if path.stat().st_size == 0:
        return done, 0
    if resume:
        records, dropped = complete_lines(path)
        if dropped:
            _warn(f"{output}: dropped a truncated last line ({dropped} bytes) left by an interrupted run")
        for r in records:
            done[str(r.get("id"))] += 1
        return done, len(records)
    if overwrite:
        return done, 0
    raise InputError(f"{output} already holds results: pass --resume to continue it, --overwrite to replace it, "
                     f"or choose another -o (nothing was written)")


def predict_files(model: str | None, inputs: list[str], output: str, batch_size: int = 8, backend: str = "auto",
                  threads: int | None = None, progress: bool = True, precision: str = "int8", *,
                  resume: bool = False, overwrite: bool = False, recursive: bool = False, encoding: str = "utf-8",
                  device: str = "cpu", extractor=None) -> tuple[int, int]:
    """Run the model over every input and write one JSON line each. Returns (documents written now, errors).

    Raises :class:`InputError` before writing anything when the output is an
    input or already holds results (see the module docstring), and
    :class:`Interrupted` after a clean stop on Ctrl-C / SIGTERM (what was done is written).
    """
    if resume and overwrite:
        raise InputError("--resume and --overwrite exclude each other: --resume keeps the earlier results, --overwrite replaces them")
    refuse_input_as_output(inputs, output)
    done, kept = _output_state(output, resume, overwrite)
    source = Inputs(inputs, recursive=recursive, encoding=encoding)
    total = None
    if progress:
        try:
            total = max(0, source.count() - kept)
        except OSError:
            total = None
    if extractor is None:
        from .extractor import Extractor

        extractor = Extractor.from_pretrained(model, backend=backend, threads=threads, precision=precision, device=device,
                                              progress=progress)

    def todo() -> Iterator[Document]:
        for doc in source:
            if done[doc.id] > 0:
                done[doc.id] -= 1
                continue
            yield doc

    n = errors = 0
    target = Path(output) if output != "-" else None
    tmp: Path | None = None
    if target is not None and overwrite and target.exists() and target.stat().st_size:
        fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        os.close(fd)
        tmp = Path(name)
    writer = None if target is None else LineAppender(tmp or target)
    stop: list[int] = []

    def on_signal(signum, frame):
        if stop:  # a second Ctrl-C: stop now
            raise KeyboardInterrupt
        stop.append(signum)

    old = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            old[sig] = signal.signal(sig, on_signal)
        except ValueError:  # not the main thread: no handlers, the run cannot be interrupted cleanly
            pass
    finished = False
    try:
        for doc in extractor.stream(todo(), batch_size=batch_size, progress=progress, total=total):
            line = _to_line(doc)
            if writer is None:
                sys.stdout.write(line + "\n")
                sys.stdout.flush()
            else:
                writer.write_line(line)
            n += 1
            if doc.error:
                errors += 1
                print(f"error: {doc.error}", file=sys.stderr)
            if stop:
                raise Interrupted
        finished = True
    except KeyboardInterrupt:
        raise Interrupted from None
    finally:
        for sig, h in old.items():
            signal.signal(sig, h)
        if writer is not None:
            writer.close()
        if tmp is not None:
            if finished or stop:
                os.replace(tmp, target)
            else:
                tmp.unlink(missing_ok=True)
        predict_files.last = {"written": n, "errors": errors, "kept": kept}
    return n, errors


predict_files.last = {}


def _to_line(doc: Document) -> str:
    """The output line of ``doc``; a document that cannot be serialised becomes an error line of its own."""
    try:
        line = doc.to_json()
        line.encode("utf-8")
        return line
    except (TypeError, ValueError, UnicodeEncodeError) as exc:
        bad = Document(id=str(doc.id), text="", error=f"{doc.where or doc.id}: cannot write this result ({type(exc).__name__}: {exc})")
        return bad.to_json()


def register(sub) -> None:
    p = sub.add_parser("predict", help="extract entities, quotes and relations from texts",
                       description=__doc__.split("\n\n", 1)[1].split("Nothing is lost")[0].strip())
    p.add_argument("inputs", nargs="+",
                   help=".txt files, folders of them, JSONL with id and text, JSON arrays, or Label Studio exports")
    p.add_argument("--model", default=None, help="goftar checkpoint or `goftar export` folder (default: the shipped goftar-fa-small)")
    p.add_argument("-o", "--output", default="-", help="output JSONL (default: stdout)")
    p.add_argument("--resume", action="store_true",
                   help="continue an interrupted run: keep the output's complete lines and process only the missing ids")
    p.add_argument("--overwrite", action="store_true", help="replace an output that already holds results (at the end of the run)")
    p.add_argument("--recursive", "-r", action="store_true", help="read .txt files in subfolders of input folders too")
    p.add_argument("--encoding", default="utf-8", help="encoding of the input files (default utf-8; e.g. cp1256 for legacy Persian files)")
    p.add_argument("--batch-size", type=int, default=8, help="windows per forward pass (default 8)")
    p.add_argument("--backend", choices=["auto", "torch", "onnx"], default="auto",
                   help="runtime: auto (default) picks onnx for a `goftar export` folder, else torch")
    p.add_argument("--device", default="cpu", help="torch device, e.g. cpu (default), cuda, cuda:1, mps")
    p.add_argument("--threads", type=int, default=None, help="intra-op threads of either backend (default: all cores)")
    p.add_argument("--precision", choices=["int8", "fp32"], default="int8", help="with the onnx backend: which exported graphs (default int8)")
    p.add_argument("--no-progress", action="store_true", help="no progress bars (also none while the model loads)")
    from .ray_engine import add_arguments as add_ray_arguments  # --engine, --ray-*: inference/ray_engine.py

    add_ray_arguments(p)
    p.set_defaults(func=_cmd)


def _cmd(args) -> int:
    if args.engine == "ray":  # scale-out: inference/ray_engine.py
        from .ray_engine import cmd as ray_cmd

        return ray_cmd(args)
    try:
        n, errors = predict_files(args.model, args.inputs, args.output, args.batch_size, args.backend, args.threads,
                                  not args.no_progress, args.precision, resume=args.resume, overwrite=args.overwrite,
                                  recursive=args.recursive, encoding=args.encoding, device=args.device)
    except Interrupted:
        last = predict_files.last
        where = "stdout" if args.output == "-" else args.output
        tail = f"; resume with: {resume_command()}" if args.output != "-" else ""
        print(f"goftar predict: interrupted: {last.get('written', 0)} documents written now "
              f"({last.get('kept', 0)} kept from before) to {where}{tail}", file=sys.stderr)
        return EXIT_INTERRUPTED
    kept = predict_files.last.get("kept", 0)
    print(f"{n} documents, {errors} with errors → {args.output}" + (f" ({kept} kept from the earlier run)" if kept else ""),
          file=sys.stderr)
    return EXIT_RECORD_ERRORS if errors and errors == n else EXIT_OK


__all__ = ["Inputs", "iter_inputs", "predict_files", "resume_command", "Interrupted", "EXIT_BAD_INPUT"]
