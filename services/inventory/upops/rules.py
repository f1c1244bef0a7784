"""Release arithmetic for unintentional POPs: dioxins, furans, dl-PCB, HCB, PeCBz (UNEP
dioxin Toolkit; DOMAIN.md §2).

Pure functions, no I/O, Decimal only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Final, TypeAlias

from services.inventory.estimates.rules import require_decimal
from services.inventory.factors.rules import ND, FactorValue, NotApplicable, NotDetermined, Vector

ReleaseValue: TypeAlias = Decimal | NotDetermined | NotApplicable

# Factors are in µg TEQ per unit of activity; releases in g TEQ per year.
MICROGRAMS_PER_GRAM_EXPONENT: Final = 6


def release_g_teq_per_year(
    activity_rate: Decimal,
    factor: FactorValue,
    grams_exponent: int = -MICROGRAMS_PER_GRAM_EXPONENT,
) -> ReleaseValue:
    """Release in g TEQ/a = activity rate x factor (µg TEQ per unit) / 10^6 (for HCB and
    PeCBz the same in mass: g/a from µg per unit). ``grams_exponent`` is the power of ten
    of the gram the factor's numerator is in (-6 for µg, -9 for ng, -3 for mg).

    ND stays ND and NA stays NA whatever the rate. The result is exact (the division by
    10^6 only moves the decimal point); round for display, not before summing.
    """
    require_decimal("activity_rate", activity_rate)
    if isinstance(factor, NotDetermined | NotApplicable):
        return factor
    require_decimal("factor", factor)
    return (activity_rate * factor).scaleb(grams_exponent)


def releases_by_vector(
    activity_rate: Decimal,
    factors: Mapping[Vector, FactorValue],
    exponents: Mapping[Vector, int] | None = None,
) -> dict[Vector, ReleaseValue]:
    """Release per vector for one source, all five vectors present.

    A vector absent from ``factors`` has no factor determined, so it comes out ND rather
    than silently zero.
    """
    powers = exponents or {}
    return {
        v: release_g_teq_per_year(
            activity_rate, factors.get(v, ND), powers.get(v, -MICROGRAMS_PER_GRAM_EXPONENT)
        )
        for v in Vector
    }


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
            total += require_decimal("release", part)
            determined += 1
    return ReleaseTotal(total, determined, nd, na)
