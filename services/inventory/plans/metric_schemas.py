"""Representations of the metric catalogue and of a computed metric."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.plans.metrics import MetricDefinition, MetricValue


class MetricInfoOut(BaseModel):
    """One metric of the catalogue."""

    id: str
    title_en: str
    title_es: str
    description: str
    unit: str
    dimensions: list[str] = Field(description="The keys of the breakdown's parts.")
    filters: list[str] = Field(description="The scope filters it accepts: department, sector.")


class MetricCatalogueOut(BaseModel):
    """Every metric targets and indicators can be bound to."""

    items: list[MetricInfoOut]


class ScopeOut(BaseModel):
    """The part of the country a figure covers (both null: the whole country)."""

    department: str | None
    sector: str | None


class BreakdownOut(BaseModel):
    """One part of a figure."""

    key: dict[str, str | None]
    value: float
    unit: str


class MetricOut(BaseModel):
    """A metric computed from validated data: ``value`` is the headline in ``unit``
    (null with ``status`` `no_data` when no validated submission covers the year and
    scope), ``submissions`` the validated submissions it came from."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "metric": "pcb_in_use",
                    "year": 2024,
                    "schedule": "convention",
                    "scope": {"department": None, "sector": None},
                    "unit": "t",
                    "value": 12.55,
                    "breakdown": [
                        {"key": {"pcb_class": "P1"}, "value": 3, "unit": "items"},
                        {"key": {"pcb_class": "P1"}, "value": 8.3, "unit": "t"},
                    ],
                    "submissions": [1],
                    "computed_at": "2026-12-02T00:40:00Z",
                    "status": "ok",
                }
            ]
        }
    )

    metric: str
    year: int
    schedule: str
    scope: ScopeOut
    unit: str
    value: float | None
    breakdown: list[BreakdownOut]
    submissions: list[int]
    computed_at: datetime
    status: Literal["ok", "no_data"]


def info_out(definition: MetricDefinition) -> MetricInfoOut:
    """The catalogue entry of a metric."""
    return MetricInfoOut(
        id=definition.id,
        title_en=definition.title_en,
        title_es=definition.title_es,
        description=definition.description,
        unit=definition.unit,
        dimensions=list(definition.dimensions),
        filters=list(definition.filters),
    )


def metric_out(found: MetricValue) -> MetricOut:
    """The API view of a computed metric (decimals as JSON numbers)."""
    return MetricOut(
        metric=found.metric,
        year=found.year,
        schedule=found.schedule,
        scope=ScopeOut(department=found.scope.department, sector=found.scope.sector),
        unit=found.unit,
        value=None if found.value is None else float(found.value),
        breakdown=[
            BreakdownOut(key=p.key, value=float(p.value), unit=p.unit) for p in found.breakdown
        ],
        submissions=found.submissions,
        computed_at=found.computed_at,
        status="ok" if found.status == "ok" else "no_data",
    )
