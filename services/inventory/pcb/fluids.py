"""Insulating fluid kind from a trade name (pure; used when a record gives no kind).

Askarel trade names after UNEP's PCB inventory guidance (Aroclor, Pyralene, Clophen ...);
anything not recognised stays unknown (None) rather than guessed.
"""

from __future__ import annotations

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
)


@lru_cache(maxsize=4096)
def fluid_kind_from_trade_name(trade_name: str | None) -> FluidKind | None:
    """The fluid kind a trade name denotes, or None when it does not say."""
    if not trade_name:
        return None
    name = trade_name.casefold()
    if any(n in name for n in ASKAREL_NAMES):
        return FluidKind.ASKAREL
    if "mineral" in name or "aceite dieléctrico" in name or "aceite mineral" in name:
        return FluidKind.MINERAL_OIL
    if "silicon" in name:
        return FluidKind.SILICONE_OIL
    if "ester" in name or "midel" in name or "fr3" in name:
        return FluidKind.ESTER
    return None
