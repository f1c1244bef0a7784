"""Representation of the PCB elimination curve."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CurveTally(BaseModel):
    """Items and tonnes (total equipment mass: recorded, else dry + fluid). Items that
    cannot be weighed are counted in ``items_not_weighed``, never as 0 t."""

    items: int
    total_mass_t: Decimal = Field(description="Sum over the items that could be weighed.")
    estimated_total_mass_t: Decimal = Field(description="Part estimated as dry + fluid mass.")
    items_not_weighed: int


class CurveSeries(BaseModel):
    """One series of one year: by class, and the total of the PCB classes (P1, P2, P3,
    presumed; ``unknown`` is shown apart and not in the total)."""

    metric: str | None = Field(
        description="The metrics-catalogue id this figure corresponds to (null: none)."
    )
    total: CurveTally
    by_class: dict[str, CurveTally]


class CurveYear(BaseModel):
    """The state of the inventory at the end of one year (31 December)."""

    year: int
    as_of: date
    in_use: CurveSeries = Field(description="In use or stand-by at the year's end.")
    removed_from_use: CurveSeries = Field(
        description="Out of use at the year's end (stored, decontaminated, shipped or "
        "eliminated), cumulative."
    )
    eliminated_cumulative: CurveSeries = Field(description="Eliminated by the year's end.")
    removals_in_year: dict[str, int] = Field(
        description="Items moved out of use during the year, by class (the projection's rate)."
    )


class CurveDeadline(BaseModel):
    """Where the curve stands against one deadline of the schedule."""

    deadline: date
    reached: bool = Field(description="The deadline has passed (figures are as of it).")
    items_in_use: int | None = Field(
        description="PCB-class items in use on the deadline (null before it)."
    )
    p1_p2_items_in_use: int | None
    items_not_eliminated: int | None = Field(
        description="PCB-class items not yet eliminated on the deadline (null before it)."
    )


class CurveProjection(BaseModel):
    """The year the last item of ``classes`` would leave use at the recent rate."""

    classes: list[str]
    base_year: int
    items_in_use_at_base: int
    window_years: list[int]
    removals_in_window: int
    rate_items_per_year: Decimal | None
    projected_year_last_removed: int | None = Field(
        description="Null: never at this rate (rate 0), none in use, or no data (see status)."
    )
    status: str = Field(description="projected, none_in_use, never_at_this_rate or no_data")
    meets_use_deadline: bool | None
    rule: str


class CurveSource(BaseModel):
    """A validated submission the curve reads."""

    submission_id: int
    org_code: str
    year: int
    revision: int


_ZERO: dict[str, Any] = {
    "items": 0,
    "total_mass_t": "0.000",
    "estimated_total_mass_t": "0.000",
    "items_not_weighed": 0,
}
_ONE: dict[str, Any] = {
    "items": 1,
    "total_mass_t": "0.500",
    "estimated_total_mass_t": "0.000",
    "items_not_weighed": 0,
}
_CLASSES = ("P1", "P2", "P3", "presumed", "unknown")


def _series(metric: str | None, tally: dict[str, Any]) -> dict[str, Any]:
    by_class = {c: tally if c == "P1" else _ZERO for c in _CLASSES}
    return {"metric": metric, "total": tally, "by_class": by_class}


_PROJECTION = {
    "classes": ["P1", "P2"],
    "base_year": 2024,
    "items_in_use_at_base": 1,
    "window_years": [2022, 2023, 2024],
    "removals_in_window": 3,
    "rate_items_per_year": "1.00",
    "projected_year_last_removed": 2025,
    "status": "projected",
    "meets_use_deadline": True,
    "rule": "Rate: the mean number of items ... moved out of use per year ...",
}
_EXAMPLE: dict[str, Any] = {
    "schedule": "convention",
    "from_year": 2024,
    "to_year": 2024,
    "department": None,
    "sector_filter": None,
    "basis": "Validated PCB submissions that count nationally; ...",
    "years": [
        {
            "year": 2024,
            "as_of": "2024-12-31",
            "in_use": _series("pcb_in_use", _ONE),
            "removed_from_use": _series(None, _ONE),
            "eliminated_cumulative": _series("pcb_eliminated_cumulative", _ZERO),
            "removals_in_year": {"P1": 1, "P2": 0, "P3": 0, "presumed": 0, "unknown": 0},
        }
    ],
    "deadlines": {
        "use": {
            "deadline": "2025-12-31",
            "reached": True,
            "items_in_use": 1,
            "p1_p2_items_in_use": 1,
            "items_not_eliminated": 2,
        },
        "esm": {
            "deadline": "2028-12-31",
            "reached": False,
            "items_in_use": None,
            "p1_p2_items_in_use": None,
            "items_not_eliminated": None,
        },
    },
    "projection": _PROJECTION,
    "projection_all_pcb": {**_PROJECTION, "classes": ["P1", "P2", "P3", "presumed"]},
    "sources": [{"submission_id": 3, "org_code": "MINEM", "year": 2024, "revision": 1}],
}


class PcbCurveOut(BaseModel):
    """The PCB elimination curve, year by year, with its deadlines and projection."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    schedule: str
    from_year: int
    to_year: int
    department: str | None
    sector_filter: list[str] | None
    basis: str = Field(description="Which items and dates the curve reads (the rule).")
    years: list[CurveYear]
    deadlines: dict[str, CurveDeadline] = Field(description="`use` (2025) and `esm` (2028).")
    projection: CurveProjection = Field(description="P1 and P2 (Annex A Part II (a)(i)-(ii)).")
    projection_all_pcb: CurveProjection = Field(description="Every PCB class (P1-P3, presumed).")
    sources: list[CurveSource]
