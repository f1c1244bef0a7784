"""Plan and target representations: what a reviewer writes, and what readers get (each
target with its status, actual and trajectory)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.estimates.schemas import Department
from services.inventory.pcb.schedules import Schedule
from services.inventory.plans.rules import Direction, TargetStatus
from services.inventory.registry.schemas import StrictModel
from services.inventory.vocabulary import Sector

Year = Annotated[int, Field(ge=1990, le=2100)]
Value = Annotated[Decimal, Field(ge=0, max_digits=20, decimal_places=6)]
Title = Annotated[str, Field(min_length=1, max_length=300)]
LongText = Annotated[str, Field(min_length=1, max_length=4000)]
Code = Annotated[str, Field(pattern=r"^[A-Za-z0-9._-]{1,20}$")]
OrgCode = Annotated[str, Field(pattern=r"^[A-Z0-9_-]{2,40}$")]


class Convention(StrEnum):
    STOCKHOLM = "stockholm"
    MINAMATA = "minamata"


class ObjectiveIn(StrictModel):
    """An objective of the plan; targets name it by ``code``."""

    code: Code
    text_en: LongText
    text_es: LongText


class PlanIn(StrictModel):
    """A plan as a reviewer (MINAM) writes it; its targets are added one by one."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "title_en": "PCB and UP-POPs action plan 2026-2030",
                    "title_es": "Plan de acción PCB y COP-NI 2026-2030",
                    "convention": "stockholm",
                    "start_year": 2026,
                    "end_year": 2030,
                    "description": "Reduction of PCBs and UP-POPs (NIP update).",
                    "objectives": [
                        {
                            "code": "O1",
                            "text_en": "Eliminate the use of PCB equipment",
                            "text_es": "Eliminar el uso de equipos con PCB",
                        }
                    ],
                    "agencies": ["MINAM", "MINEM", "OEFA"],
                }
            ]
        }
    )

    title_en: Title
    title_es: Title
    convention: Convention
    start_year: Year
    end_year: Year = Field(description="At or after `start_year`.")
    description: Annotated[str, Field(max_length=4000)] = ""
    objectives: Annotated[list[ObjectiveIn], Field(max_length=50, default_factory=list)]
    agencies: Annotated[
        list[OrgCode],
        Field(max_length=50, default_factory=list, description="Responsible organisations"),
    ]


class PointIn(StrictModel):
    """A value for a year, in the target's unit."""

    year: Year
    value: Value


class TargetIn(StrictModel):
    """A target as a reviewer writes it. ``metric_id`` is one of `GET /v1/metrics` and
    ``unit`` must be its unit; target years lie inside the plan's period, after the
    baseline year."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "objective": "O1",
                    "indicator_en": "PCB equipment in use",
                    "indicator_es": "Equipos con PCB en uso",
                    "unit": "t",
                    "metric_id": "pcb_in_use",
                    "schedule": "national",
                    "baseline": {"year": 2023, "value": "12"},
                    "target_values": [{"year": 2026, "value": "6"}, {"year": 2028, "value": "0"}],
                    "direction": "decrease",
                }
            ]
        }
    )

    objective: Code
    indicator_en: LongText
    indicator_es: LongText
    unit: Annotated[str, Field(min_length=1, max_length=20)]
    metric_id: Annotated[str, Field(min_length=1, max_length=60)]
    department: Department | None = None
    sector: Sector | None = None
    schedule: Schedule = Schedule.CONVENTION
    baseline: PointIn
    target_values: Annotated[list[PointIn], Field(min_length=1, max_length=50)]
    direction: Direction


class ObjectiveOut(BaseModel):
    code: str
    text_en: str
    text_es: str


class PointOut(BaseModel):
    year: int
    value: float


class TargetScopeOut(BaseModel):
    department: str | None
    sector: str | None


class ActualOut(BaseModel):
    """The metric's value for a year, and the validated submissions it came from."""

    year: int
    value: float
    expected: float = Field(description="The trajectory's value for that year.")
    submissions: list[int]


class TargetOut(BaseModel):
    """A target with its status: the latest year with validated data judged against the
    trajectory (see the plans tag and `GET /v1/plans/{id}/targets/{tid}`)."""

    id: int
    plan_id: int
    objective: str
    indicator_en: str
    indicator_es: str
    unit: str
    metric_id: str
    scope: TargetScopeOut
    schedule: str
    baseline: PointOut
    target_values: list[PointOut]
    direction: Direction
    status: TargetStatus
    actual: ActualOut | None = Field(description="Of the latest year with data; null: none.")
    version: int
    updated_at: datetime


class TrajectoryYearOut(BaseModel):
    """One year of a target's trajectory."""

    year: int
    target_value: float = Field(description="Interpolated between baseline and targets.")
    actual_value: float | None
    status: TargetStatus
    submissions: list[int]


class TargetDetailOut(TargetOut):
    """A target with its trajectory, year by year from the baseline to the last target."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "plan_id": 1,
                    "objective": "O1",
                    "indicator_en": "PCB equipment in use",
                    "indicator_es": "Equipos con PCB en uso",
                    "unit": "t",
                    "metric_id": "pcb_in_use",
                    "scope": {"department": None, "sector": "electricity_distribution"},
                    "schedule": "national",
                    "baseline": {"year": 2023, "value": 8.5},
                    "target_values": [{"year": 2026, "value": 4.0}, {"year": 2028, "value": 0}],
                    "direction": "decrease",
                    "status": "at_risk",
                    "actual": {"year": 2024, "value": 7.15, "expected": 7.0, "submissions": [1]},
                    "version": 1,
                    "updated_at": "2026-12-02T00:40:00Z",
                    "trajectory": [
                        {
                            "year": 2023,
                            "target_value": 8.5,
                            "actual_value": None,
                            "status": "no_data",
                            "submissions": [],
                        },
                        {
                            "year": 2024,
                            "target_value": 7.0,
                            "actual_value": 7.15,
                            "status": "at_risk",
                            "submissions": [1],
                        },
                    ],
                }
            ]
        }
    )

    trajectory: list[TrajectoryYearOut]


class PlanSummaryOut(BaseModel):
    """A plan without its targets (the list)."""

    id: int
    title_en: str
    title_es: str
    convention: Convention
    start_year: int
    end_year: int
    description: str
    objectives: list[ObjectiveOut]
    agencies: list[str]
    version: int
    created_at: datetime
    updated_at: datetime


class PlanOut(PlanSummaryOut):
    """A plan with its targets and their statuses."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "title_en": "PCB and UP-POPs action plan 2026-2030",
                    "title_es": "Plan de acción PCB y COP-NI 2026-2030",
                    "convention": "stockholm",
                    "start_year": 2026,
                    "end_year": 2030,
                    "description": "Reduction of PCBs and UP-POPs (NIP update).",
                    "objectives": [
                        {
                            "code": "O1",
                            "text_en": "Eliminate the use of PCB equipment",
                            "text_es": "Eliminar el uso de equipos con PCB",
                        }
                    ],
                    "agencies": ["MINAM", "MINEM"],
                    "version": 1,
                    "created_at": "2026-12-02T00:40:00Z",
                    "updated_at": "2026-12-02T00:40:00Z",
                    "targets": [],
                }
            ]
        }
    )

    targets: list[TargetOut]
