"""Insulating fluid kind from a trade name (pure; used when a record gives no kind).

Askarel trade names after UNEP's PCB inventory guidance (Aroclor, Pyralene, Clophen ...;
UNEP, *Guidelines for the Identification of PCBs and Materials Containing PCBs*, 1999,
list of PCB trade names); common mineral-oil, silicone and ester brands. Anything not
recognised stays unknown (None) rather than guessed: the item is then flagged
``trade_name_review`` and its fluid mass is not estimated until a person gives the kind.
"""

from __future__ import annotations

import unicodedata
from functools import lru_cache
from typing import Final

from services.inventory.vocabulary import FluidKind

ASKAREL_NAMES: Final = (
    "askarel",
    "aroclor",
    "pyralene",
    "pyranol",
    "pyroclor",
    "clophen",
    "inerteen",
    "kanechlor",
    "apirolio",
    "fenclor",
    "phenoclor",
    "sovol",
    "sovtol",
    "delor",
    "asbestol",
    "chlorextol",
    "elemex",
    "hyvol",
    "noflamol",
    "nepolin",
    "saf-t-kuhl",
    "diaclor",
    "dykanol",
    "chlorinol",
    "chlorphen",
    "no-flamol",
    "santotherm",
    "therminol fr",
    "inclor",
    "solvol",
)
MINERAL_OIL_NAMES: Final = (
    "mineral",
    "aceite dielectrico",
    "aceite de transformador",
    "transformer oil",
    "nytro",
    "nynas",
    "diala",
    "univolt",
    "voltesso",
    "luminol",
)
SILICONE_NAMES: Final = ("silicon", "dc 561", "dow corning 561", "xiameter", "kf-96")
ESTER_NAMES: Final = ("ester", "midel", "fr3", "envirotemp", "biotemp", "bio-temp")


@lru_cache(maxsize=4096)
def fluid_kind_from_trade_name(trade_name: str | None) -> FluidKind | None:
    """The fluid kind a trade name denotes, or None when it does not say."""
    if not trade_name:
        return None
    # Accents dropped: "Pyralène", "éster" and "aceite dieléctrico" match as typed.
    decomposed = unicodedata.normalize("NFKD", trade_name.casefold())
    name = "".join(c for c in decomposed if not unicodedata.combining(c))
    if any(n in name for n in ASKAREL_NAMES):
        return FluidKind.ASKAREL
    for names, kind in (
        (MINERAL_OIL_NAMES, FluidKind.MINERAL_OIL),
        (SILICONE_NAMES, FluidKind.SILICONE_OIL),
        (ESTER_NAMES, FluidKind.ESTER),
    ):
        if any(n in name for n in names):
            return kind
    return None
