"""What a binding is written with, and how it and its values are shown."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.cooperation.bindings.catalogue import METRICS, SCHEDULES, SECTORS

METRIC_IDS = ", ".join(METRICS)


class BindingIn(BaseModel):
    """The inventory metric an indicator is fed by, with its scope and schedule."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"metric": "asgm_mercury_releases", "department": "17", "schedule": "convention"}
            ]
        },
    )

    metric: str = Field(max_length=60, description=f"An inventory metric id: {METRIC_IDS}.")
    department: str | None = Field(
        None, pattern=r"^[0-9]{2}$", description="INEI department code (e.g. 17 Madre de Dios)."
    )
    sector: str | None = Field(
        None, max_length=60, description="Holders' sector: " + ", ".join(SECTORS) + "."
    )
    schedule: str = Field(
        "convention", description="Schedule of the figures: " + " or ".join(SCHEDULES) + "."
    )


class ScopeOut(BaseModel):
    department: str | None
    sector: str | None


class ActualSourceOut(BaseModel):
    """Where a period's actual comes from: an inventory metric for the year of the
    period's end, read through the gateway."""

    metric: str
    year: int
    schedule: str
    scope: ScopeOut
    unit: str | None
    status: Literal["ok", "no_data", "not_read"] = Field(
        description="ok: the actual is the metric's value; no_data: no validated data covers "
        "the year and scope, so there is no actual (never a zero); not_read: the inventory "
        "has not answered yet."
    )
    value: str | None
    submissions: list[int] = Field(description="Validated inventory submissions it came from.")
    computed_at: datetime | None = Field(description="When the inventory computed it.")
    read_at: datetime | None = Field(description="When it was last read from the inventory.")
    stale: bool = Field(description="The last attempt to read the inventory failed.")
    failed_at: datetime | None = Field(description="When that attempt was made.")


class BindingOut(BaseModel):
    """An indicator bound to an inventory metric, with what was read for each period."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "activity": "PE-RUC-20492966658-MINAM-ASGM-21",
                    "result": 0,
                    "indicator": 0,
                    "metric": "asgm_mercury_releases",
                    "scope": {"department": "17", "sector": None},
                    "schedule": "convention",
                    "attached": True,
                    "refreshed_at": "2026-12-02T00:40:00Z",
                    "stale": False,
                    "failed_at": None,
                    "error": None,
                    "periods": [],
                }
            ]
        }
    )

    activity: str
    result: int
    indicator: int
    metric: str
    scope: ScopeOut
    schedule: str
    attached: bool = Field(
        description="An indicator exists at that position (false after an edit removed it: "
        "nothing is written then)."
    )
    refreshed_at: datetime | None = Field(description="The last successful read.")
    stale: bool
    failed_at: datetime | None
    error: str | None = Field(description="Why the last attempt failed.")
    periods: list[PeriodSourceOut]


class PeriodSourceOut(BaseModel):
    """A period of the bound indicator and its actual's source."""

    start: str
    end: str
    actual: str | None
    source: ActualSourceOut


BindingOut.model_rebuild()


class RefreshOut(BaseModel):
    """What a refresh of every binding did."""

    model_config = ConfigDict(
        json_schema_extra={"examples": [{"bindings": 2, "failed": 0, "changed_activities": 1}]}
    )

    bindings: int
    failed: int
    changed_activities: int
