"""Writing outputs without ever destroying an input or a finished file.

- :func:`refuse_input_as_output`: an output path that resolves to one of the
  inputs (or to a file inside an input folder) is refused before anything is
  opened for writing.
- :func:`atomic_write`: write into a temporary file beside the target and
  move it into place when (and only when) writing finished; a failed run
  leaves the old file as it was.
- :class:`LineAppender` and :func:`complete_lines`: JSON-lines output that a
  kill can interrupt at any byte. Each record is one ``write`` of one complete
  line; on resume, the complete lines are kept and a truncated last line is cut.
"""
from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import InputError


def _same(a: Path, b: Path) -> bool:
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return False


def refuse_input_as_output(inputs: Iterable[str | os.PathLike], output: str | os.PathLike) -> None:
    """Raise :class:`InputError` when ``output`` is (or is inside, or holds) one of ``inputs``."""
    if str(output) == "-":
        return
    out = Path(output)
    out_r = out.resolve()
    for raw in inputs:
        inp = Path(raw)
        inp_r = inp.resolve()
        if out_r == inp_r or _same(out, inp):
            raise InputError(f"{output}: the output is also an input; choose another -o (nothing was written)")
        if inp.is_dir() and inp_r in out_r.parents:
            raise InputError(f"{output}: the output lies inside the input folder {raw}; choose another -o (nothing was written)")
        if out.is_dir() and out_r in inp_r.parents:
            raise InputError(f"{output}: the output folder holds the input {raw}; choose another -o (nothing was written)")


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike, mode: str = "w", encoding: str | None = "utf-8") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path``, on failure it is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding) as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        if path.exists():
            with contextlib.suppress(OSError):
                os.chmod(tmp, path.stat().st_mode & 0o7777)
        else:
            os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


class LineAppender:
    """Append complete lines to a file: one ``os.write`` loop per line, nothing buffered.

    A process killed mid-line leaves at most one truncated last line, which
    :func:`complete_lines` cuts on resume.
    """

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o666)

    def write_line(self, line: str) -> None:
        data = (line.rstrip("\n") + "\n").encode("utf-8")
        view = memoryview(data)
        while view:
            n = os.write(self.fd, view)
            view = view[n:]

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> "LineAppender":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def complete_lines(path: str | os.PathLike, repair: bool = True) -> tuple[list[dict], int]:
    """The records of an earlier (maybe interrupted) JSON-lines output, and the bytes dropped.

    Every line that ends with a newline and parses as a JSON object is kept.
    A last line without its newline (or that does not parse) is what a kill
    leaves: with ``repair`` the file is truncated to the end of the last
    complete line. A broken line anywhere else means the file is not ours to
    repair: :class:`InputError`.
    """
    path = Path(path)
    records: list[dict] = []
    good_end = 0
    with open(path, "rb") as f:
        data = f.read()
    pos = 0
    while pos < len(data):
        nl = data.find(b"\n", pos)
        if nl < 0:
            break  # a truncated last line
        raw = data[pos:nl]
        lineno = data.count(b"\n", 0, pos) + 1
        if raw.strip():
            try:
                obj = json.loads(raw.decode("utf-8"))
                if not isinstance(obj, dict):
                    raise ValueError("not an object")
            except ValueError:
                if data[nl + 1:].strip():
                    raise InputError(f"{path}:{lineno}: not a goftar output line; cannot resume into this file") from None
                break  # the last line is broken: drop it
            records.append(obj)
        pos = good_end = nl + 1
    dropped = len(data) - good_end
    if dropped and repair:
        with open(path, "r+b") as f:
            f.truncate(good_end)
    return records, dropped
