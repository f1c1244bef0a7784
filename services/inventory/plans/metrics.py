"""The metric catalogue: named figures computed in SQL from validated inventory data only
(the latest validated version of each organisation's submission, as the reports count),
for a reporting year, a PCB schedule and an optional scope (department, holders' sector).

The computations are in ``figures``. ``compute_metric`` is the one entry point, for the
routes and for in-process callers (plan targets, Convention reports, cooperation
indicators).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.schedules import Schedule
from services.inventory.plans.figures import (
    DEPARTMENT,
    SECTOR,
    BreakdownPart,
    Figures,
    MetricScope,
    asgm_mercury_releases,
    holders_validated_share,
    pcb_eliminated_cumulative,
    pcb_in_use,
    pcb_unanalysed,
    pcdd_pcdf_releases,
)
from services.inventory.registry.models import Site
from services.inventory.reports import queries
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import counts_nationally
from shared.db import utcnow

# What callers use (the scope and parts are ``figures``' own, re-exported here).
__all__ = [
    "METRICS",
    "BreakdownPart",
    "FilterNotAccepted",
    "MetricDefinition",
    "MetricScope",
    "MetricValue",
    "UnknownMetric",
    "check_filters",
    "compute_metric",
    "data_fingerprint",
    "metric_definition",
    "years_with_data",
]


@dataclass(frozen=True)
class MetricValue:
    """A computed metric: ``status`` is ``no_data`` (and ``value`` None) when no validated
    submission covers the year and scope."""

    metric: str
    year: int
    schedule: str
    scope: MetricScope
    unit: str
    value: Decimal | None
    breakdown: list[BreakdownPart]
    submissions: list[int]
    computed_at: datetime
    status: str


Compute = Callable[[AsyncSession, int, Schedule, MetricScope], Awaitable[Figures]]


@dataclass(frozen=True)
class MetricDefinition:
    """One metric of the catalogue."""

    id: str
    title_en: str
    title_es: str
    description: str
    unit: str
    dimensions: tuple[str, ...]
    filters: tuple[str, ...]
    sections: tuple[Section, ...]  # the sections whose validated data it reads
    compute: Compute = field(repr=False)


class UnknownMetric(LookupError):
    """No metric of this id in the catalogue."""


class FilterNotAccepted(ValueError):
    """A scope filter the metric does not accept."""

    def __init__(self, name: str, metric: str) -> None:
        super().__init__(f"Metric {metric} does not accept the filter {name}.")
        self.name = name


# -- the catalogue -------------------------------------------------------------------------

_BOTH = (DEPARTMENT, SECTOR)
_PCB_NOTE = (
    " Classes follow the schedule asked for (`convention` or `national`), by the reports' "
    "SQL classification. Items without a known mass count as items, not as 0 t of mass."
)

METRICS: dict[str, MetricDefinition] = {
    m.id: m
    for m in (
        MetricDefinition(
            id="pcb_in_use",
            title_en="PCB equipment in use, by class",
            title_es="Equipos con PCB en uso, por clase",
            description="Items of a PCB class (P1, P2, P3, presumed) in use or on standby "
            "in the year's validated inventory; headline in tonnes of total mass, items "
            "and tonnes by class in the breakdown." + _PCB_NOTE,
            unit="t",
            dimensions=("pcb_class",),
            filters=_BOTH,
            sections=(Section.PCB,),
            compute=pcb_in_use,
        ),
        MetricDefinition(
            id="pcb_eliminated_cumulative",
            title_en="PCB eliminated, cumulative",
            title_es="PCB eliminados, acumulado",
            description="Items of a PCB class whose status in the year's validated "
            "inventory is `eliminated` (with disposal evidence): the inventory keeps "
            "eliminated items, so the figure is cumulative to the end of the year; "
            "headline in tonnes, items and tonnes by class in the breakdown." + _PCB_NOTE,
            unit="t",
            dimensions=("pcb_class",),
            filters=_BOTH,
            sections=(Section.PCB,),
            compute=pcb_eliminated_cumulative,
        ),
        MetricDefinition(
            id="holders_validated_share",
            title_en="Registered holders with a validated inventory",
            title_es="Poseedores registrados con inventario validado",
            description="Share (%) of the registered holders (of the sector; with a site "
            "in the department) that the year's validated inventory names in any section "
            "(PCB items, UP-POPs or mercury estimates). No data when the year has no "
            "validated submission or the scope no holder.",
            unit="%",
            dimensions=("holders",),
            filters=_BOTH,
            sections=(Section.PCB, Section.UPOPS, Section.MERCURY),
            compute=holders_validated_share,
        ),
        MetricDefinition(
            id="pcb_unanalysed",
            title_en="Items still unanalysed",
            title_es="Equipos aún sin análisis",
            description="Items not eliminated whose class is `presumed` or `unknown`: no "
            "screening, GC result or nameplate establishes their PCB concentration yet; "
            "by class in the breakdown." + _PCB_NOTE,
            unit="items",
            dimensions=("pcb_class",),
            filters=_BOTH,
            sections=(Section.PCB,),
            compute=pcb_unanalysed,
        ),
        MetricDefinition(
            id="pcdd_pcdf_releases",
            title_en="PCDD/PCDF releases, by vector",
            title_es="Liberaciones de PCDD/PCDF, por vector",
            description="Determined PCDD/PCDF releases of the year's validated UP-POPs "
            "inventory (Stockholm Annex C) by TEQ scheme and vector; parts not determined "
            "(ND) are left out, never summed as zero. The headline is the total under "
            "WHO-2005; totals under other schemes appear only in the breakdown, never "
            "added to it (no conversion between schemes).",
            unit="g TEQ/a",
            dimensions=("teq_scheme", "vector"),
            filters=_BOTH,
            sections=(Section.UPOPS,),
            compute=pcdd_pcdf_releases,
        ),
        MetricDefinition(
            id="asgm_mercury_releases",
            title_en="Mercury releases from ASGM",
            title_es="Liberaciones de mercurio de la MAPE",
            description="Mercury releases of artisanal and small-scale gold mining "
            "(Minamata Article 7) in the year's validated mercury inventory, by pathway "
            "and department (kg Hg/a). ASGM estimates seldom name a holder, so no sector "
            "filter.",
            unit="kg/a",
            dimensions=("pathway", "department"),
            filters=(DEPARTMENT,),
            sections=(Section.MERCURY,),
            compute=asgm_mercury_releases,
        ),
    )
}


def metric_definition(metric_id: str) -> MetricDefinition:
    """The catalogue's metric ``metric_id`` (``UnknownMetric`` when there is none)."""
    try:
        return METRICS[metric_id]
    except KeyError:
        raise UnknownMetric(metric_id) from None


def check_filters(definition: MetricDefinition, scope: MetricScope) -> None:
    """``FilterNotAccepted`` naming the first filter of ``scope`` the metric refuses."""
    for name in (DEPARTMENT, SECTOR):
        if getattr(scope, name) is not None and name not in definition.filters:
            raise FilterNotAccepted(name, definition.id)


async def compute_metric(
    session: AsyncSession,
    metric_id: str,
    *,
    year: int,
    schedule: Schedule | str = Schedule.CONVENTION,
    department: str | None = None,
    sector: str | None = None,
) -> MetricValue:
    """Compute one metric of the catalogue for a year, schedule and scope, from validated
    data only. ``no_data`` (value None) when no validated submission covers the year and
    scope: never a silent zero."""
    definition = metric_definition(metric_id)
    scope = MetricScope(department, sector)
    check_filters(definition, scope)
    schedule = Schedule(schedule)
    figures = await definition.compute(session, year, schedule, scope)
    no_data = not figures.submissions
    return MetricValue(
        metric=definition.id,
        year=year,
        schedule=schedule.value,
        scope=scope,
        unit=definition.unit,
        value=None if no_data else figures.value,
        breakdown=[] if no_data else figures.breakdown,
        submissions=figures.submissions,
        computed_at=utcnow(),
        status="no_data" if no_data else "ok",
    )


async def data_fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a metric can: a validation or supersession, new thresholds or
    densities, a holder or a site added or changed (holders by sector and department)."""
    sites = await session.execute(select(func.count(Site.id), func.max(Site.updated_at)))
    return (
        *(await queries.national_fingerprint(session)),
        *(await queries.holders_fingerprint(session)),
        *sites.one(),
    )


async def years_with_data(session: AsyncSession, metric_id: str) -> list[int]:
    """The reporting years with validated data in the sections the metric reads (the
    years worth computing it for), oldest first."""
    definition = metric_definition(metric_id)
    years = await session.scalars(
        select(Submission.year)
        .where(
            counts_nationally(),
            or_(*(Submission.section == s.value for s in definition.sections)),
        )
        .distinct()
        .order_by(Submission.year)
    )
    return list(years)
