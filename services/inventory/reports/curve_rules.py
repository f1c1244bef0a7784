"""The arithmetic of the PCB elimination curve (pure, Decimal only): tallies of items and
tonnes that never turn an unweighed item into 0 t, and the projection of the year the
last item of some classes would leave use at the recent rate of removal.

The SQL that yields the grouped rows is ``reports.curve``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal
from typing import Any, Final

from services.inventory.pcb.mass import MassMethod
from services.inventory.pcb.rules import PCB_CLASSES, OperatingStatus, PcbClass

# The classes the curve shows, in order; the totals add up the PCB classes only (proven
# or presumed above 50 mg/kg: those the Convention's obligations concern). Items of
# unknown class are shown apart, never in the totals.
CURVE_CLASSES: Final = (
    PcbClass.P1.value,
    PcbClass.P2.value,
    PcbClass.P3.value,
    PcbClass.PRESUMED.value,
    PcbClass.UNKNOWN.value,
)
TOTAL_CLASSES: Final = frozenset(c.value for c in PCB_CLASSES)
# Priorities (i) and (ii) of Annex A Part II (a): the "determined efforts" to remove from
# use by 2025, the classes of the headline projection.
P1_P2: Final = (PcbClass.P1.value, PcbClass.P2.value)

IN_SERVICE: Final = frozenset({OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value})
ELIMINATED: Final = OperatingStatus.ELIMINATED.value
# How many of the latest years with data the removal rate is the mean of.
RATE_WINDOW_YEARS: Final = 3

PROJECTION_RULE = (
    "Rate: the mean number of items of the classes moved out of use (from in use or "
    "stand-by to any other status) per year, over the last 3 years up to the curve's last "
    "year in which the validated inventory records at least one dated status change of an "
    "item in scope (fewer when fewer such years exist). Projected year: the curve's last "
    "year plus ceil(items still in use at its end / rate). Null when the rate is zero "
    "(never at this rate), when no item is in use (already done), or without any dated "
    "change (no data)."
)


def tonnes(kg: Decimal) -> Decimal:
    """kg as tonnes, to the kilogram."""
    return (kg / 1000).quantize(Decimal("0.001"))


@dataclass
class Tally:
    """Items and their total mass; items that cannot be weighed are counted, never summed
    as zero (``pcb.mass``: recorded total, else dry + fluid, else not weighed)."""

    items: int = 0
    total_mass_kg: Decimal = Decimal(0)
    estimated_total_mass_kg: Decimal = Decimal(0)
    items_not_weighed: int = 0

    def add(self, items: int, mass_kg: Decimal, basis: str) -> None:
        self.items += items
        if basis == MassMethod.NOT_WEIGHED.value:
            self.items_not_weighed += items
            return
        self.total_mass_kg += mass_kg
        if basis == MassMethod.DRY_PLUS_FLUID.value:
            self.estimated_total_mass_kg += mass_kg

    def out(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total_mass_t": tonnes(self.total_mass_kg),
            "estimated_total_mass_t": tonnes(self.estimated_total_mass_kg),
            "items_not_weighed": self.items_not_weighed,
        }


@dataclass
class Series:
    """One series of one year (in use, removed from use, eliminated) by class."""

    by_class: dict[str, Tally] = field(default_factory=lambda: {c: Tally() for c in CURVE_CLASSES})

    def add(self, pcb_class: str, items: int, mass_kg: Decimal, basis: str) -> None:
        if pcb_class in self.by_class:
            self.by_class[pcb_class].add(items, mass_kg, basis)

    def total(self) -> Tally:
        total = Tally()
        for cls, t in self.by_class.items():
            if cls in TOTAL_CLASSES:
                total.items += t.items
                total.total_mass_kg += t.total_mass_kg
                total.estimated_total_mass_kg += t.estimated_total_mass_kg
                total.items_not_weighed += t.items_not_weighed
        return total

    def items_of(self, classes: Iterable[str]) -> int:
        return sum(self.by_class[c].items for c in classes if c in self.by_class)


SERIES: Final = ("in_use", "removed_from_use", "eliminated_cumulative")


def series_of_year(rows: Iterable[Sequence[Any]]) -> dict[str, Series]:
    """The three series of one year from rows (class, status at the year's end, total
    mass basis, items, mass kg); items not yet in the inventory at that date have a NULL
    status and count in none. Removed from use: every status but in use and stand-by
    (eliminated included); eliminated: the cumulative count of eliminated items."""
    out = {name: Series() for name in SERIES}
    for pcb_class, status, basis, items, mass_kg in rows:
        if status is None:
            continue
        mass = Decimal(mass_kg or 0)
        if status in IN_SERVICE:
            out["in_use"].add(pcb_class, int(items), mass, basis)
        else:
            out["removed_from_use"].add(pcb_class, int(items), mass, basis)
        if status == ELIMINATED:
            out["eliminated_cumulative"].add(pcb_class, int(items), mass, basis)
    return out


@dataclass(frozen=True)
class Projection:
    """When the last item of ``classes`` would leave use at the recent rate."""

    classes: tuple[str, ...]
    base_year: int
    in_use_at_base: int
    window_years: tuple[int, ...]
    removals_in_window: int
    rate_items_per_year: Decimal | None
    projected_year: int | None
    status: str  # projected | none_in_use | never_at_this_rate | no_data

    def out(self, use_deadline_year: int) -> dict[str, Any]:
        meets = None if self.projected_year is None else self.projected_year <= use_deadline_year
        if self.status == "none_in_use":
            meets = True
        return {
            "classes": list(self.classes),
            "base_year": self.base_year,
            "items_in_use_at_base": self.in_use_at_base,
            "window_years": list(self.window_years),
            "removals_in_window": self.removals_in_window,
            "rate_items_per_year": self.rate_items_per_year,
            "projected_year_last_removed": self.projected_year,
            "status": self.status,
            "meets_use_deadline": meets,
            "rule": PROJECTION_RULE,
        }


def project(
    classes: Sequence[str],
    *,
    base_year: int,
    in_use_at_base: int,
    removals_by_year: Mapping[int, int],
    years_with_changes: Iterable[int],
) -> Projection:
    """``PROJECTION_RULE`` applied: ``removals_by_year`` counts the items of ``classes``
    moved out of use per year; ``years_with_changes`` are the years with any dated status
    change in scope."""
    window = tuple(
        sorted(y for y in set(years_with_changes) if y <= base_year)[-RATE_WINDOW_YEARS:]
    )
    removed = sum(removals_by_year.get(y, 0) for y in window)

    def made(rate: Decimal | None, year: int | None, status: str) -> Projection:
        return Projection(
            tuple(classes), base_year, in_use_at_base, window, removed, rate, year, status
        )

    if in_use_at_base == 0:
        return made(None if not window else _rate(removed, window), None, "none_in_use")
    if not window:
        return made(None, None, "no_data")
    rate = _rate(removed, window)
    if rate == 0:
        return made(rate, None, "never_at_this_rate")
    years = int(
        (Decimal(in_use_at_base) / (Decimal(removed) / len(window))).to_integral_value(
            ROUND_CEILING
        )
    )
    return made(rate, base_year + years, "projected")


def _rate(removed: int, window: Sequence[int]) -> Decimal:
    return (Decimal(removed) / len(window)).quantize(Decimal("0.01"))
