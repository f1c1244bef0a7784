"""The metric catalogue: named figures computed in SQL from validated inventory data only
(the latest validated version of each organisation's submission, as the reports count),
for a reporting year, a PCB schedule and an optional scope (department, holders' sector).

Each metric reuses the reports' queries (``reports.queries``): the PCB class is the same
SQL classification, releases the same sums, so a metric and a report never disagree.
``compute_metric`` is the one entry point, for the routes and for in-process callers
(plan targets, Convention reports, cooperation indicators).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, exists, func, or_, select, union
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.models import MercuryEstimate
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.rules import IN_SERVICE, PCB_CLASSES, OperatingStatus, PcbClass
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.registry.models import Holder, Site
from services.inventory.reports import queries
from services.inventory.reports.arithmetic import ASGM, PcbGroup
from services.inventory.reports.queries import Scope
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import counts_nationally, current_ids
from services.inventory.upops.models import UpopsEstimate
from shared.db import utcnow

DEPARTMENT = "department"
SECTOR = "sector"
# The TEQ scheme of a PCDD/F metric's headline value; other schemes stay in the breakdown.
HEADLINE_TEQ_SCHEME = "WHO-2005"
PCDD_PCDF = "pcdd_pcdf"

_PCB = {c.value for c in PCB_CLASSES}
_IN_SERVICE = {s.value for s in IN_SERVICE}
_UNANALYSED = {PcbClass.PRESUMED.value, PcbClass.UNKNOWN.value}
_TONNE = Decimal("0.001")


@dataclass(frozen=True)
class MetricScope:
    """Which part of the country a figure covers: a department (2-digit UBIGEO code), the
    holders of one sector, or (both None) the whole country."""

    department: str | None = None
    sector: str | None = None


@dataclass(frozen=True)
class BreakdownPart:
    """One part of a figure: its keys (dimension -> value), value and unit."""

    key: dict[str, str | None]
    value: Decimal
    unit: str


@dataclass(frozen=True)
class Figures:
    """What a metric's computation yields: the headline value (None when there is none),
    its parts and the validated submissions it came from."""

    value: Decimal | None
    breakdown: list[BreakdownPart]
    submissions: list[int]


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


# -- PCB ---------------------------------------------------------------------------------


def _tonnes(kg: Decimal) -> Decimal:
    return (kg / 1000).quantize(_TONNE)


def _pcb_where(scope: MetricScope) -> list[Any]:
    where: list[Any] = []
    if scope.department is not None:
        where.append(PcbItem.department_code == scope.department)
    if scope.sector is not None:
        where.append(PcbItem.holder_id.in_(queries.sector_holders([scope.sector])))
    return where


async def _pcb_groups(
    session: AsyncSession, year: int, schedule: Schedule, scope: MetricScope
) -> tuple[list[PcbGroup], list[int]]:
    """The PCB groups of the year's validated inventory in the scope (the reports' query,
    by department when one is asked for), and the submissions holding items in the scope."""
    thresholds, _ = await load_thresholds(session, schedule)
    densities = await load_densities(session)
    by = ["department"] if scope.department is not None else []
    sectors = [scope.sector] if scope.sector is not None else None
    groups = await queries.pcb_groups(
        session, Scope(year=year), thresholds, densities, by=by, flags=False, sectors=sectors
    )
    if scope.department is not None:
        groups = [g for g in groups if g.keys[0] == scope.department]
    ids = await session.scalars(
        select(PcbItem.submission_id)
        .where(PcbItem.submission_id.in_(current_ids(Section.PCB, year)), *_pcb_where(scope))
        .distinct()
        .order_by(PcbItem.submission_id)
    )
    return groups, list(ids)


def _by_class(groups: Sequence[PcbGroup], keep: Callable[[PcbGroup], bool]) -> Figures:
    """Items and tonnes of the kept groups by PCB class; the headline is the tonnes."""
    items: dict[str, int] = {}
    kg: dict[str, Decimal] = {}
    for g in groups:
        if keep(g):
            items[g.pcb_class] = items.get(g.pcb_class, 0) + g.items
            kg[g.pcb_class] = kg.get(g.pcb_class, Decimal(0)) + g.total_mass_kg
    breakdown: list[BreakdownPart] = []
    for cls in sorted(items):
        breakdown.append(BreakdownPart({"pcb_class": cls}, Decimal(items[cls]), "items"))
        breakdown.append(BreakdownPart({"pcb_class": cls}, _tonnes(kg[cls]), "t"))
    return Figures(_tonnes(sum(kg.values(), Decimal(0))), breakdown, [])


async def pcb_in_use(
    session: AsyncSession, year: int, schedule: Schedule, scope: MetricScope
) -> Figures:
    """PCB-class items (P1, P2, P3, presumed) in service (in use or on standby)."""
    groups, ids = await _pcb_groups(session, year, schedule, scope)
    figures = _by_class(groups, lambda g: g.pcb_class in _PCB and g.status in _IN_SERVICE)
    return Figures(figures.value, figures.breakdown, ids)


async def pcb_eliminated_cumulative(
    session: AsyncSession, year: int, schedule: Schedule, scope: MetricScope
) -> Figures:
    """PCB-class items whose status in the year's inventory is ``eliminated``."""
    groups, ids = await _pcb_groups(session, year, schedule, scope)
    eliminated = OperatingStatus.ELIMINATED.value
    figures = _by_class(groups, lambda g: g.pcb_class in _PCB and g.status == eliminated)
    return Figures(figures.value, figures.breakdown, ids)


async def pcb_unanalysed(
    session: AsyncSession, year: int, schedule: Schedule, scope: MetricScope
) -> Figures:
    """Items not eliminated whose class is presumed or unknown: no analysis (nor
    nameplate) establishes their concentration yet."""
    groups, ids = await _pcb_groups(session, year, schedule, scope)
    eliminated = OperatingStatus.ELIMINATED.value
    counts: dict[str, int] = {}
    for g in groups:
        if g.pcb_class in _UNANALYSED and g.status != eliminated:
            counts[g.pcb_class] = counts.get(g.pcb_class, 0) + g.items
    breakdown = [
        BreakdownPart({"pcb_class": c}, Decimal(n), "items") for c, n in sorted(counts.items())
    ]
    return Figures(Decimal(sum(counts.values())), breakdown, ids)


# -- holders -----------------------------------------------------------------------------


def _holders_in(scope: MetricScope) -> Select[Any]:
    stmt = select(Holder.id)
    if scope.sector is not None:
        stmt = stmt.where(Holder.sector == scope.sector)
    if scope.department is not None:
        stmt = stmt.where(
            exists(
                select(Site.id).where(
                    Site.holder_id == Holder.id,
                    func.substr(Site.ubigeo, 1, 2) == scope.department,
                )
            )
        )
    return stmt


async def holders_validated_share(
    session: AsyncSession, year: int, _schedule: Schedule, scope: MetricScope
) -> Figures:
    """Registered holders (of the sector; with a site in the department) that the year's
    validated inventory names (PCB items, UP-POPs or mercury estimates), as a share."""
    registered = list(await session.scalars(_holders_in(scope)))
    named = union(
        *(
            select(t.holder_id.label("holder_id"), t.submission_id.label("submission_id")).where(
                t.submission_id.in_(current_ids(section, year)), t.holder_id.is_not(None)
            )
            for t, section in (
                (PcbItem, Section.PCB),
                (UpopsEstimate, Section.UPOPS),
                (MercuryEstimate, Section.MERCURY),
            )
        )
    ).subquery()
    rows = (
        await session.execute(
            select(named.c.holder_id, named.c.submission_id).where(
                named.c.holder_id.in_(_holders_in(scope))
            )
        )
    ).all()
    validated = {r[0] for r in rows}
    any_validated = await session.scalar(
        select(func.count(Submission.id)).where(counts_nationally(), Submission.year == year)
    )
    if not registered or not any_validated:
        return Figures(None, [], [])
    share = (Decimal(100) * len(validated) / len(registered)).quantize(Decimal("0.1"))
    breakdown = [
        BreakdownPart({"holders": "validated"}, Decimal(len(validated)), "holders"),
        BreakdownPart({"holders": "registered"}, Decimal(len(registered)), "holders"),
    ]
    # Every holder counted (even at 0 %) stands on the year's validated submissions.
    ids = sorted({r[1] for r in rows}) or sorted(
        await session.scalars(
            select(Submission.id).where(counts_nationally(), Submission.year == year)
        )
    )
    return Figures(share, breakdown, ids)


# -- releases ----------------------------------------------------------------------------


def _estimate_where(table: Any, scope: MetricScope) -> list[Any]:
    where: list[Any] = []
    if scope.department is not None:
        where.append(table.department_code == scope.department)
    if scope.sector is not None:
        where.append(table.holder_id.in_(queries.sector_holders([scope.sector])))
    return where


async def _estimate_submissions(
    session: AsyncSession, table: Any, section: Section, year: int, where: list[Any]
) -> list[int]:
    ids = await session.scalars(
        select(table.submission_id)
        .where(table.submission_id.in_(current_ids(section, year)), *where)
        .distinct()
        .order_by(table.submission_id)
    )
    return list(ids)


async def pcdd_pcdf_releases(
    session: AsyncSession, year: int, _schedule: Schedule, scope: MetricScope
) -> Figures:
    """PCDD/PCDF releases (determined parts only: ND is never summed as zero) by TEQ scheme
    and vector; the headline is the total under WHO-2005, never a sum across schemes."""
    where = [UpopsEstimate.pollutant == PCDD_PCDF, *_estimate_where(UpopsEstimate, scope)]
    rows = await queries.estimate_groups(session, Scope(year=year), Section.UPOPS, where=where)
    sums: dict[tuple[str, str], Decimal] = {}
    for _pollutant, scheme, _group, vector, value, determined, _nd, _na in rows:
        if determined:
            key = (scheme, vector)
            sums[key] = sums.get(key, Decimal(0)) + Decimal(value)
    breakdown = [
        BreakdownPart({"teq_scheme": s, "vector": v}, total, "g TEQ/a")
        for (s, v), total in sorted(sums.items())
    ]
    headline = [t for (s, _v), t in sums.items() if s == HEADLINE_TEQ_SCHEME]
    value = sum(headline, Decimal(0)) if headline else None
    ids = await _estimate_submissions(session, UpopsEstimate, Section.UPOPS, year, where)
    return Figures(value, breakdown, ids)


async def asgm_mercury_releases(
    session: AsyncSession, year: int, _schedule: Schedule, scope: MetricScope
) -> Figures:
    """Mercury releases of artisanal and small-scale gold mining by pathway and department
    (estimates without a department under ``null``)."""
    where = [MercuryEstimate.category == ASGM, *_estimate_where(MercuryEstimate, scope)]
    rows = await queries.estimate_groups(
        session,
        Scope(year=year),
        Section.MERCURY,
        by=[MercuryEstimate.department_code],
        where=where,
    )
    sums: dict[tuple[str, str | None], Decimal] = {}
    for department, _category, _level, pathway, kg in rows:
        key = (pathway, department)
        sums[key] = sums.get(key, Decimal(0)) + Decimal(kg)
    breakdown = [
        BreakdownPart({"pathway": p, "department": d}, kg, "kg/a")
        for (p, d), kg in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1] or ""))
    ]
    ids = await _estimate_submissions(session, MercuryEstimate, Section.MERCURY, year, where)
    return Figures(sum(sums.values(), Decimal(0)), breakdown, ids)


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
