"""Release arithmetic for unintentional POPs and mercury (UNEP Toolkits; DOMAIN.md §2-3).

Pure functions, no I/O, Decimal only. Emission factors, input factors and distribution
factors are data with provenance; this module only does the arithmetic on them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import Enum, StrEnum
from typing import Final, TypeAlias

# --- Unintentional POPs (dioxins, furans, dl-PCB, HCB, PeCBz) -------------------------


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
ReleaseValue: TypeAlias = Decimal | NotDetermined | NotApplicable

# Factors are in µg TEQ per unit of activity; releases in g TEQ per year.
MICROGRAMS_PER_GRAM_EXPONENT: Final = 6


class UnitMismatch(ValueError):
    """The activity rate and the factor are not per the same unit."""


def _require_decimal(name: str, value: object) -> Decimal:
    # A float here would mean a value already rounded in binary somewhere upstream.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
    return value


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


def _normalise_unit(unit: str) -> str:
    return " ".join(unit.split()).casefold()


def check_units(activity_unit: str, factor_unit_denominator: str) -> None:
    """Raise ``UnitMismatch`` unless the activity is measured in the factor's unit.

    Compared after trimming, collapsing inner whitespace and ignoring case ("t" and " T "
    match, "t" and "TJ" do not). Ignoring case means "Mg" and "mg" match too: store
    tonnes as "t", never as "Mg".
    """
    activity = _normalise_unit(activity_unit)
    factor = _normalise_unit(factor_unit_denominator)
    if not activity or not factor:
        raise UnitMismatch("unit missing on the activity rate or the factor")
    if activity != factor:
        raise UnitMismatch(
            f"activity rate is in {activity_unit.strip()!r} but the factor is per "
            f"{factor_unit_denominator.strip()!r}"
        )


def release_g_teq_per_year(activity_rate: Decimal, factor: FactorValue) -> ReleaseValue:
    """Release in g TEQ/a = activity rate x factor (µg TEQ per unit) / 10^6.

    ND stays ND and NA stays NA whatever the rate. The result is exact (the division by
    10^6 only moves the decimal point); round for display, not before summing.
    """
    _require_decimal("activity_rate", activity_rate)
    if isinstance(factor, NotDetermined | NotApplicable):
        return factor
    _require_decimal("factor", factor)
    return (activity_rate * factor).scaleb(-MICROGRAMS_PER_GRAM_EXPONENT)


def releases_by_vector(
    activity_rate: Decimal, factors: Mapping[Vector, FactorValue]
) -> dict[Vector, ReleaseValue]:
    """Release per vector for one source, all five vectors present.

    A vector absent from ``factors`` has no factor determined, so it comes out ND rather
    than silently zero.
    """
    return {v: release_g_teq_per_year(activity_rate, factors.get(v, ND)) for v in Vector}


@dataclass(frozen=True, slots=True)
class ReleaseTotal:
    """A sum that keeps "not determined" visible.

    ``determined_g_teq`` sums the numeric parts only; ``not_determined`` counts the ND
    parts left out of it. Totals over sources add up with ``+``.
    """

    determined_g_teq: Decimal = Decimal(0)
    determined_parts: int = 0
    not_determined: int = 0
    not_applicable: int = 0

    @property
    def complete(self) -> bool:
        """True when no part was ND, so ``determined_g_teq`` is the whole release."""
        return self.not_determined == 0

    @property
    def value(self) -> Decimal | NotDetermined:
        """The number to show: ND when nothing was determined and something was ND
        (a bare 0 would claim there is no release). Check ``complete`` as well."""
        if self.determined_parts == 0 and self.not_determined > 0:
            return ND
        return self.determined_g_teq

    def __add__(self, other: ReleaseTotal) -> ReleaseTotal:
        return ReleaseTotal(
            self.determined_g_teq + other.determined_g_teq,
            self.determined_parts + other.determined_parts,
            self.not_determined + other.not_determined,
            self.not_applicable + other.not_applicable,
        )


def total_releases(parts: Iterable[ReleaseValue]) -> ReleaseTotal:
    """Sum releases (over vectors, or over sources) without turning ND into zero."""
    total = Decimal(0)
    determined = nd = na = 0
    for part in parts:
        if isinstance(part, NotDetermined):
            nd += 1
        elif isinstance(part, NotApplicable):
            na += 1
        else:
            total += _require_decimal("release", part)
            determined += 1
    return ReleaseTotal(total, determined, nd, na)


# --- Mercury ------------------------------------------------------------------------


class Pathway(StrEnum):
    """Output pathways of the mercury Toolkit."""

    AIR = "air"
    WATER = "water"
    LAND = "land"
    BY_PRODUCTS = "by_products"
    GENERAL_WASTE = "general_waste"
    SECTOR_SPECIFIC = "sector_specific"


class DistributionError(ValueError):
    """Distribution factors that cannot split a mercury input."""


# Gram resolution: far finer than any Toolkit factor's uncertainty, and what is stored.
KG_HG_QUANTUM: Final = Decimal("0.001")


def mercury_input_kg(
    activity_rate: Decimal, input_factor_kg_per_unit: Decimal, *, quantum: Decimal = KG_HG_QUANTUM
) -> Decimal:
    """Mercury input in kg Hg/a = activity rate x input factor, rounded half-up to
    ``quantum``."""
    _require_decimal("activity_rate", activity_rate)
    _require_decimal("input_factor_kg_per_unit", input_factor_kg_per_unit)
    return (activity_rate * input_factor_kg_per_unit).quantize(quantum, rounding=ROUND_HALF_UP)


def _check_factors(
    factors: Mapping[Pathway, Decimal], tolerance: Decimal
) -> dict[Pathway, Decimal]:
    checked: dict[Pathway, Decimal] = {}
    for key, factor in factors.items():
        try:
            pathway = Pathway(key)
        except ValueError:
            raise DistributionError(f"unknown pathway {key!r}") from None
        if not isinstance(factor, Decimal) or not factor.is_finite():
            raise DistributionError(f"factor for {pathway} must be a finite Decimal")
        if factor < 0:
            raise DistributionError(f"factor for {pathway} is negative: {factor}")
        checked[pathway] = factor
    total = sum(checked.values(), Decimal(0))
    if abs(total - 1) > tolerance:
        raise DistributionError(f"distribution factors sum to {total}, not 1 (±{tolerance})")
    return checked


def distribute(
    input_kg: Decimal,
    factors: Mapping[Pathway, Decimal],
    tolerance: Decimal = Decimal("0.001"),
    *,
    quantum: Decimal = KG_HG_QUANTUM,
) -> dict[Pathway, Decimal]:
    """Split a mercury input over the output pathways: input x distribution factor.

    Raises ``DistributionError`` for unknown pathways, negative factors, or factors not
    summing to 1 within ``tolerance``. Factors are used as given, not rescaled to 1.
    Every pathway is in the result (0 where no factor was given). Parts are rounded to
    ``quantum`` by largest remainder, so they add up exactly to the rounded
    ``input_kg x sum(factors)`` instead of drifting by a gram or two.
    """
    _require_decimal("input_kg", input_kg)
    checked = _check_factors(factors, tolerance)
    exact = {p: input_kg * checked.get(p, Decimal(0)) for p in Pathway}
    floors = {p: v.quantize(quantum, rounding=ROUND_DOWN) for p, v in exact.items()}
    target = sum(exact.values(), Decimal(0)).quantize(quantum, rounding=ROUND_HALF_UP)
    missing = int((target - sum(floors.values(), Decimal(0))) / quantum)
    # Hand the leftover quanta to the largest remainders; Pathway order breaks ties so
    # the result does not depend on the mapping's order.
    order = sorted(Pathway, key=lambda p: exact[p] - floors[p], reverse=True)
    for pathway in order[:missing]:
        floors[pathway] += quantum
    return floors
