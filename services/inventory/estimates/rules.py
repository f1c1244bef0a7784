"""Arithmetic both kinds of release estimate share (UNEP Toolkits; DOMAIN.md §2-3): Decimal
checks and the unit an activity rate is measured in.

Pure functions, no I/O, Decimal only.
"""

from __future__ import annotations

from decimal import Decimal


class UnitMismatch(ValueError):
    """The activity rate and the factor are not per the same unit."""


def require_decimal(name: str, value: object) -> Decimal:
    # A float here would mean a value already rounded in binary somewhere upstream.
    if not isinstance(value, Decimal) or not value.is_finite():
        raise TypeError(f"{name} must be a finite Decimal, got {value!r}")
    if value < 0:
        raise ValueError(f"{name} must not be negative, got {value}")
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
