"""The UP-POPs emission-factor catalogue (UNEP dioxin Toolkit; DOMAIN.md §2): release
vectors, and factors as the Toolkit prints them (a number, NA or ND).

Pure functions, no I/O, Decimal only. Factors are data with provenance; this module only
reads them.
"""

from __future__ import annotations

from decimal import Decimal
from enum import Enum, StrEnum
from typing import Final, TypeAlias


class Vector(StrEnum):
    """The five release vectors of the dioxin Toolkit."""

    AIR = "air"
    WATER = "water"
    LAND = "land"
    PRODUCT = "product"
    RESIDUE = "residue"


class NotDetermined(Enum):
    """Toolkit "ND": a release is expected but no factor exists. Never zero."""

    ND = "ND"

    def __str__(self) -> str:
        return self.value


class NotApplicable(Enum):
    """Toolkit "NA": no release is expected by this vector."""

    NA = "NA"

    def __str__(self) -> str:
        return self.value


ND: Final = NotDetermined.ND
NA: Final = NotApplicable.NA

FactorValue: TypeAlias = Decimal | NotDetermined | NotApplicable


def parse_factor(text: str) -> FactorValue:
    """Read a factor as the Toolkit tables print it: a number, "NA" or "ND"."""
    token = text.strip()
    if token.upper() == "NA":
        return NA
    if token.upper() == "ND":
        return ND
    try:
        value = Decimal(token)
    except ArithmeticError as exc:
        raise ValueError(f"not a factor: {text!r}") from exc
    if not value.is_finite() or value < 0:
        raise ValueError(f"not a factor: {text!r}")
    return value


# -- what a factor measures (DOMAIN.md §2; Stockholm Convention Annex C) ---------------------
# PCDD/PCDF and dioxin-like PCB are reported in toxic equivalents under one TEQ scheme
# (WHO-2005, WHO-1998 or I-TEQ); HCB and PeCBz have no TEF, so their factors and releases
# are plain masses (Toolkit 2013: µg/t, g/a or kg/a). A mass and a TEQ, or two TEQ schemes,
# are never added together.
TEQ_POLLUTANTS: Final = frozenset({"pcdd_pcdf", "dl_pcb"})
MASS_POLLUTANTS: Final = frozenset({"hcb", "pecbz"})

# A factor's numerator (per unit of activity) and its power of ten of the gram.
TEQ_VALUE_UNITS: Final = {"ng TEQ": -9, "µg TEQ": -6, "mg TEQ": -3}
MASS_VALUE_UNITS: Final = {"ng": -9, "µg": -6, "mg": -3}
GRAM_EXPONENT: Final = {**TEQ_VALUE_UNITS, **MASS_VALUE_UNITS}


def is_teq(pollutant: str) -> bool:
    """True for the pollutants reported in TEQ (PCDD/PCDF, dl-PCB)."""
    return pollutant in TEQ_POLLUTANTS


def normalise_value_unit(text: str) -> str:
    """A factor unit as stored: "ug"/"μg" (Greek mu) as "µg" (micro sign), "teq" as "TEQ",
    inner spaces collapsed."""
    words = text.replace("μ", "µ").split()
    if words and words[0].casefold() in ("ug", "µg"):
        words[0] = "µg"
    elif words:
        words[0] = words[0].lower()
    return " ".join(w.upper() if w.casefold() == "teq" else w for w in words)


def fit_value_unit(pollutant: str, unit: str | None, per: str | None = None) -> str:
    """The factor unit of ``pollutant`` (the default µg TEQ or µg when ``unit`` is None).
    ValueError when a TEQ unit is given for HCB/PeCBz or a mass unit for PCDD/F, dl-PCB.

    A unit written whole ("µg TEQ/t") is accepted when it is per ``per``, the factor's
    activity unit, and stored without it ("µg TEQ")."""
    allowed = TEQ_VALUE_UNITS if is_teq(pollutant) else MASS_VALUE_UNITS
    if unit is None:
        return "µg TEQ" if is_teq(pollutant) else "µg"
    if "/" in unit:
        unit, denominator = unit.rsplit("/", 1)
        if (
            per is not None
            and " ".join(denominator.split()).casefold() != " ".join(per.split()).casefold()
        ):
            raise ValueError(f"the unit is per {denominator.strip()!r}, the activity per {per!r}")
    found = normalise_value_unit(unit)
    if found not in allowed:
        kind = "TEQ (toxic equivalents)" if is_teq(pollutant) else "mass, not TEQ"
        raise ValueError(
            f"{pollutant} factors are in {kind}: the unit is one of {', '.join(allowed)}"
        )
    return found


def release_unit(pollutant: str) -> str:
    """The unit releases of ``pollutant`` are reported in: g TEQ/a or g/a."""
    return "g TEQ/a" if is_teq(pollutant) else "g/a"
