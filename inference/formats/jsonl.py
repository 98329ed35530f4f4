"""goftar JSONL, the interchange (docs/ANNOTATION.md): the rules live in :mod:`goftar.inference.document`."""
from __future__ import annotations

from pathlib import Path
from typing import Iterator

from ..document import Document, DocumentError, iter_jsonl, read_jsonl, write_jsonl  # noqa: F401  (re-exported)


def iter_goftar(path: str | Path) -> Iterator[Document | DocumentError]:
    """Yield the documents of a goftar JSONL file; a broken line comes as ``DocumentError("file:line: …")``."""
    return (d for _, d in iter_jsonl(path))
