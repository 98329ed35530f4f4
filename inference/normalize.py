"""Offset-keeping normalisation of Persian text.

Every function here maps characters one to one: ``len(normalize(t)) ==
len(t)`` and character ``i`` of the output comes from character ``i`` of the
input, so any span found on the normalised text is a span of the caller's
original string.

>>> normalize("كتاب‌هاي ۱۲")
'کتاب\u200cهای 12'

Characters that carry no meaning for the model (tatweel, harakat, LRM/RLM,
ZWJ, BOM) are *neutralised*: they become U+200B ZERO WIDTH SPACE, which
:meth:`Normalizer.compact` drops before tokenisation while keeping a map back
to the original indices.
"""
from __future__ import annotations

import unicodedata
from dataclasses import asdict, dataclass
from typing import Any

NEUTRAL = "\u200b"

# The Arabic-letter map, the one home of this rule: Arabic ي ى → Persian ی, ك → ک.
ARABIC_LETTERS = {"\u064a": "\u06cc", "\u0649": "\u06cc", "\u0643": "\u06a9"}
_LETTERS = ARABIC_LETTERS
_ARABIC_TABLE = str.maketrans(ARABIC_LETTERS)
_PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
_ARABIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
_LATIN_DIGITS = "0123456789"
# tatweel, harakat (fathatan … sukun, superscript alef and friends), bidi marks, ZWJ, BOM
_NEUTRAL_CHARS = (
    ["\u0640", "\u0670", "\u200b", "\u200d", "\u200e", "\u200f", "\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069", "\ufeff"]
    + [chr(c) for c in range(0x064B, 0x0660)]
    + [chr(c) for c in range(0x06D6, 0x06DD)]
)
_SPACES = ["\u00a0", "\u2007", "\u202f"] + [chr(c) for c in range(0x2000, 0x200B)]


@dataclass(frozen=True)
class Normalizer:
    """Settings of the one-to-one normaliser; stored in every checkpoint.

    digits: ``"latin"`` (default), ``"persian"`` or ``"keep"``.
    """

    arabic_letters: bool = True
    presentation_forms: bool = True
    digits: str = "latin"
    neutralise: bool = True
    spaces: bool = True

    def __post_init__(self) -> None:
        if self.digits not in ("latin", "persian", "keep"):
            raise ValueError(f"digits must be 'latin', 'persian' or 'keep', not {self.digits!r}")
        table: dict[int, str] = {}
        if self.presentation_forms:
            for cp in list(range(0xFB50, 0xFE00)) + list(range(0xFE70, 0xFEFF)):
                base = unicodedata.normalize("NFKC", chr(cp))
                if base and base != chr(cp) and not base.isspace():
                    # ligatures (ﻻ) keep their first letter: one character in, one out
                    table[cp] = base[0]
        if self.arabic_letters:
            table.update({ord(k): v for k, v in _LETTERS.items()})
            for cp, v in list(table.items()):
                table[cp] = _LETTERS.get(v, v)
        if self.digits != "keep":
            target = _LATIN_DIGITS if self.digits == "latin" else _PERSIAN_DIGITS
            for src in (_PERSIAN_DIGITS, _ARABIC_DIGITS, _LATIN_DIGITS):
                for a, b in zip(src, target):
                    if a != b:
                        table[ord(a)] = b
        if self.neutralise:
            table.update({ord(c): NEUTRAL for c in _NEUTRAL_CHARS})
        if self.spaces:
            table.update({ord(c): " " for c in _SPACES})
        object.__setattr__(self, "_table", table)

    def __call__(self, text: str) -> str:
        return text.translate(self._table)  # type: ignore[attr-defined]

    def compact(self, text: str) -> tuple[str, list[int]]:
        """Normalise, then drop neutralised characters.

        Returns ``(compact_text, index)`` with ``index[j]`` the position in
        ``text`` of character ``j`` of ``compact_text``.
        """
        norm = self(text)
        if NEUTRAL not in norm:
            return norm, list(range(len(norm)))
        index = [i for i, c in enumerate(norm) if c != NEUTRAL]
        return "".join(norm[i] for i in index), index

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any] | None) -> "Normalizer":
        return cls(**(d or {}))


_DEFAULT = Normalizer()


def normalize(text: str) -> str:
    """Normalise with the default settings; the result has the same length."""
    return _DEFAULT(text)


def persian_letters(text: str) -> str:
    """Only the Arabic-letter map of the normaliser (ي ى → ی, ك → ک), one character for one.

    >>> persian_letters("كشوري") == "کشوری"
    True
    """
    return text.translate(_ARABIC_TABLE)
