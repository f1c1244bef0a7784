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
