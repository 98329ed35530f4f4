"""ParsTwiNER: token/BIO lines ``token<TAB>B-EVE``; its POG is an ORG here and NAT (nationalities) no entity."""
from __future__ import annotations

from .flavour import BioFlavour

PARSTWINER = BioFlavour(
    "parstwiner", "\t", "-",
    # ORG before POG so that the writer spells ORG as ORG; NAT (nationalities) is no entity here.
    {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "POG": "ORG", "EVE": "EVENT", "NAT": None},
    ("PER", "ORG", "LOC", "EVENT"),
)
