"""Mercury release arithmetic: input and its distribution over the output pathways (UNEP
mercury Toolkit; DOMAIN.md §3).

Pure functions, no I/O, Decimal only.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Final

from services.inventory.estimates.rules import require_decimal


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
    require_decimal("activity_rate", activity_rate)
    require_decimal("input_factor_kg_per_unit", input_factor_kg_per_unit)
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
    require_decimal("input_kg", input_kg)
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
