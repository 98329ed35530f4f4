"""What every reader and writer of :mod:`goftar.inference.formats` shares."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from ..document import Document, DocumentError
from ..schema import Schema


class FormatError(ValueError):
    """A file whose format cannot be told, or a conversion that cannot be done."""


def _schema(schema: Schema | None) -> Schema:
    return schema if schema is not None else Schema.default()


def _strict(items: Iterable[Document | DocumentError]) -> list[Document]:
    out = []
    for item in items:
        if isinstance(item, DocumentError):
            raise item
        out.append(item)
    return out


def _count(warnings: Counter | None, what: str, n: int = 1) -> None:
    if warnings is not None and n:
        warnings[what] += n
