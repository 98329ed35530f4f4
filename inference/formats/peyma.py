"""PEYMA: token/BIO lines ``token|B_DAT`` (the separator is the LAST ``|``: tokens may hold one)."""
from __future__ import annotations

from .flavour import BioFlavour

PEYMA = BioFlavour(
    "peyma", "|", "_",
    {"PER": "PER", "ORG": "ORG", "LOC": "LOC", "DAT": "DATE", "TIM": "TIME", "MON": "MONEY", "PCT": "PERCENT"},
    ("PER", "ORG", "LOC", "DATE", "TIME", "MONEY", "PERCENT"),
)
