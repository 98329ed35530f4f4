"""How a token/BIO dataset spells its lines and tags (:class:`BioFlavour`); the datasets' own are in their modules."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence


@dataclass(frozen=True)
class BioFlavour:
    """How one token/BIO dataset spells its lines and tags.

    ``separator`` splits token from tag at its LAST occurrence (PEYMA tokens
    may hold ``|``, ARMAN's never hold spaces); ``prefix_sep`` joins B/I and
    the type (``B_DAT`` vs ``B-pers``). ``types`` maps the source's types to
    goftar ``ne`` types, ``None`` meaning "tagged there, not an entity here".
    ``ne_types`` is what the source annotates at all (the partial-label
    declaration). ``keeps_span(type, tokens)`` may veto a span (ARMAN's
    demonyms). A flavour with ``types=None`` (``conll``) uses the schema's
    types of the chosen layer as they are.
    """

    name: str
    separator: str
    prefix_sep: str
    types: dict[str, str | None] | None
    ne_types: tuple[str, ...]
    keeps_span: Callable[[str, Sequence[str]], bool] | None = None

    def inverse(self) -> dict[str, str]:
        """goftar type → the source's spelling (the first source type that maps to it)."""
        inv: dict[str, str] = {}
        for src, tgt in (self.types or {}).items():
            if tgt is not None:
                inv.setdefault(tgt, src)
        return inv
