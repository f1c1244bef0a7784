"""Reports assembled from grouped SQL results (``queries``, then ``arithmetic``): a few
rows per group, never the items themselves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.models import MercuryEstimate
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.rules import Thresholds
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.registry.models import Holder
from services.inventory.registry.rules import DEPARTMENTS
from services.inventory.reports import arithmetic, queries
from services.inventory.reports.arithmetic import PcbGroup
from services.inventory.reports.queries import Scope
from services.inventory.reports.schemas import (
    ByDepartmentOut,
    ByHolderOut,
    BySectorOut,
    ComparedColumnOut,
    ConversionOut,
    DepartmentSummaryOut,
    HolderSummaryOut,
    MercurySummaryOut,
    NationalSummaryOut,
    PcbSummaryOut,
    SectorSummaryOut,
    TimeSeriesOut,
    UpopsComparisonOut,
    UpopsSummaryOut,
    YearSummaryOut,
)
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.upops.models import UpopsEstimate
from services.inventory.vocabulary import VOCABULARIES
from shared.pagination import encode_cursor


async def default_year(session: AsyncSession, year: int | None) -> int | None:
    """The year asked for, else the latest year with validated data."""
    if year is not None:
        return year
    years = await queries.years_with_data(session)
    return years[-1] if years else None


@dataclass(frozen=True)
class Lens:
    """How figures are judged and limited: the date deadlines refer to, the schedule
    classes and deadlines come from, the holders' sectors counted (None: every one)."""

    as_of: date
    schedule: Schedule = Schedule.CONVENTION
    sectors: tuple[str, ...] | None = None

    def header(self) -> dict[str, Any]:
        """What every report says of its lens."""
        sectors = list(self.sectors) if self.sectors is not None else None
        return {"as_of": self.as_of, "schedule": self.schedule.value, "sector_filter": sectors}


def _lens(as_of: date | Lens) -> Lens:
    return as_of if isinstance(as_of, Lens) else Lens(as_of)


def _holder_filter(table: Any, holders: list[int] | None, lens: Lens) -> list[Any]:
    where = [] if holders is None else [table.holder_id.in_(holders)]
    if lens.sectors is not None:
        where.append(table.holder_id.in_(queries.sector_holders(lens.sectors)))
    return where


@dataclass
class _Figures:
    """Grouped rows of the three sections under one key each (a department, a holder, a
    year), and the summary parts they make."""

    thresholds: Thresholds
    densities: dict[str, Decimal]
    as_of: date
    keyed: bool  # False: one national summary, under the key None
    pcb: dict[Any, list[PcbGroup]]
    upops: dict[tuple[Any, ...], list[tuple[Any, ...]]]
    mercury: dict[tuple[Any, ...], list[tuple[Any, ...]]]

    def keys(self) -> set[Any]:
        return set(self.pcb) | {k[0] for k in self.upops} | {k[0] for k in self.mercury}

    def parts(self, key: Any) -> dict[str, Any]:
        """The ``pcb``, ``upops`` and ``mercury`` parts of the summary of ``key``."""
        row_key = (key,) if self.keyed else ()
        return {
            "pcb": PcbSummaryOut(
                **arithmetic.pcb_summary(
                    self.pcb.get(key, []), self.thresholds, self.as_of, self.densities
                )
            ),
            "upops": UpopsSummaryOut(**arithmetic.upops_summary(self.upops.get(row_key, []))),
            "mercury": MercurySummaryOut(
                **arithmetic.mercury_summary(self.mercury.get(row_key, []))
            ),
        }


async def _figures(
    session: AsyncSession,
    scope: Scope,
    lens: Lens,
    *,
    by: str | None,
    estimates_by: Callable[[Any], list[Any]] = lambda _table: [],
    flags: bool = True,
    holders: list[int] | None = None,
) -> _Figures:
    """The scope's figures by one dimension (``by``: department, holder, sector, year;
    None for one national summary), estimates grouped by ``estimates_by(table)``."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session, lens.schedule)
    densities = await load_densities(session)
    pcb: dict[Any, list[PcbGroup]] = defaultdict(list)
    for g in await queries.pcb_groups(
        session,
        scope,
        thresholds,
        densities,
        by=[by] if by else [],
        flags=flags,
        holders=holders,
        sectors=lens.sectors,
    ):
        pcb[g.keys[0] if by else None].append(g)
    estimates: list[dict[tuple[Any, ...], list[tuple[Any, ...]]]] = []
    for section, table in ((Section.UPOPS, UpopsEstimate), (Section.MERCURY, MercuryEstimate)):
        columns = estimates_by(table)
        rows = await queries.estimate_groups(
            session,
            scope,
            section,
            by=columns,
            join_submissions=by == "year",
            join_holders=by == "sector",
            where=_holder_filter(table, holders, lens),
        )
        estimates.append(arithmetic.split(rows, len(columns)))
    return _Figures(thresholds, densities, lens.as_of, by is not None, pcb, *estimates)


async def national_summary(
    session: AsyncSession, scope: Scope, as_of: date | Lens
) -> NationalSummaryOut:
    """The national summary of a year, or the summary of one submission."""
    lens = _lens(as_of)
    figures = await _figures(session, scope, lens, by=None)
    return NationalSummaryOut(
        year=scope.year,
        **lens.header(),
        scope="national" if scope.submission_id is None else "submission",
        submission_id=scope.submission_id,
        **figures.parts(None),
    )


async def by_department(session: AsyncSession, scope: Scope, as_of: date | Lens) -> ByDepartmentOut:
    """The summary of a year, department by department (estimates without a department
    under ``null``)."""
    lens = _lens(as_of)
    figures = await _figures(
        session, scope, lens, by="department", estimates_by=lambda t: [t.department_code]
    )
    departments = [
        DepartmentSummaryOut(
            department_code=code,
            department_name=DEPARTMENTS.get(code) if code else None,
            **figures.parts(code),
        )
        for code in sorted(figures.keys(), key=lambda c: (c is None, c or ""))
    ]
    return ByDepartmentOut(year=scope.year, **lens.header(), departments=departments)


async def by_sector(session: AsyncSession, scope: Scope, lens: Lens) -> BySectorOut:
    """The summary of a year, sector by sector: the sector the holders of the items and
    estimates record now (estimates that name no holder under ``null``)."""
    figures = await _figures(
        session, scope, lens, by="sector", estimates_by=lambda _t: [Holder.sector]
    )
    labels = VOCABULARIES["sector"]
    sectors = [
        SectorSummaryOut(
            sector=code,
            sector_label_es=labels[code][0] if code in labels else None,
            sector_label_en=labels[code][1] if code in labels else None,
            **figures.parts(code),
        )
        for code in sorted(figures.keys(), key=lambda c: (c is None, c or ""))
    ]
    return BySectorOut(year=scope.year, **lens.header(), sectors=sectors)


async def by_holder(
    session: AsyncSession, scope: Scope, as_of: date | Lens, *, after: int, limit: int
) -> ByHolderOut:
    """The summary of a year for one page of holders (in id order, after ``after``; of
    the lens's sectors)."""
    lens = _lens(as_of)
    named = union(
        select(PcbItem.holder_id.label("holder_id")).where(
            PcbItem.submission_id.in_(scope.ids(Section.PCB))
        ),
        select(UpopsEstimate.holder_id).where(
            UpopsEstimate.submission_id.in_(scope.ids(Section.UPOPS))
        ),
        select(MercuryEstimate.holder_id).where(
            MercuryEstimate.submission_id.in_(scope.ids(Section.MERCURY))
        ),
    ).subquery()
    in_sectors = [] if lens.sectors is None else [Holder.sector.in_(list(lens.sectors))]
    page = list(
        await session.scalars(
            select(Holder)
            .where(Holder.id.in_(select(named.c.holder_id)), Holder.id > after, *in_sectors)
            .order_by(Holder.id)
            .limit(limit + 1)
        )
    )
    next_cursor = encode_cursor([page[limit - 1].id]) if len(page) > limit else None
    page = page[:limit]
    figures = await _figures(
        session,
        scope,
        lens,
        by="holder",
        estimates_by=lambda t: [t.holder_id],
        flags=False,
        holders=[h.id for h in page],
    )
    holders = [
        HolderSummaryOut(holder_id=h.id, ruc=h.ruc, name=h.name, **figures.parts(h.id))
        for h in page
    ]
    return ByHolderOut(year=scope.year, **lens.header(), holders=holders, next_cursor=next_cursor)


async def time_series(
    session: AsyncSession, *, from_year: int | None, to_year: int | None, as_of: date | Lens
) -> TimeSeriesOut:
    """National figures of every year with validated data (within the bounds)."""
    lens = _lens(as_of)
    scope = Scope(first_year=from_year, last_year=to_year)
    figures = await _figures(
        session, scope, lens, by="year", estimates_by=lambda _t: [Submission.year], flags=False
    )
    return TimeSeriesOut(
        **lens.header(),
        years=[YearSummaryOut(year=y, **figures.parts(y)) for y in sorted(figures.keys())],
    )


async def upops_comparison(session: AsyncSession, scopes: list[Scope]) -> UpopsComparisonOut:
    """UP-POPs inventories side by side (one column per scope), each pollutant and scheme
    on its own row; no conversion between schemes (``arithmetic.NO_CONVERSION``)."""
    await queries.tune_for_aggregates(session)
    columns = []
    for scope in scopes:
        rows = await queries.estimate_groups(session, scope, Section.UPOPS)
        columns.append(
            ComparedColumnOut(
                scope="national" if scope.submission_id is None else "submission",
                year=scope.year,
                submission_id=scope.submission_id,
                upops=UpopsSummaryOut(**arithmetic.upops_summary(rows)),
            )
        )
    totals = [[t.model_dump() for t in c.upops.totals] for c in columns]
    return UpopsComparisonOut(
        columns=columns,
        rows=arithmetic.side_by_side(totals),
        conversion=ConversionOut(applied=False, note=arithmetic.NO_CONVERSION),
    )


# -- CSV ---------------------------------------------------------------------------------

PCB_COLUMNS = (
    "pcb_class",
    "status",
    "items",
    "total_mass_t",
    "fluid_mass_t",
    "items_not_weighed",
    "fluid_items_not_weighed",
    "estimated_total_mass_t",
    "estimated_fluid_mass_t",
)
UPOPS_COLUMNS = (
    "pollutant",
    "teq_scheme",
    "source_group",
    "vector",
    "status",
    "release",
    "unit",
    "release_g_teq_per_year",
    "complete",
    "not_determined_parts",
)
MERCURY_COLUMNS = ("category", "pathway", "release_kg_per_year")


def section_rows(part: PcbSummaryOut | UpopsSummaryOut | MercurySummaryOut) -> list[list[Any]]:
    """One section of a summary as CSV rows (columns ``*_COLUMNS``)."""
    if isinstance(part, PcbSummaryOut):
        return [
            [
                c.pcb_class,
                c.status,
                c.items,
                c.total_mass_t,
                c.fluid_mass_t,
                c.items_not_weighed,
                c.fluid_items_not_weighed,
                c.estimated_total_mass_t,
                c.estimated_fluid_mass_t,
            ]
            for c in part.by_class_and_status
        ]
    if isinstance(part, UpopsSummaryOut):
        return [
            [
                total.pollutant,
                total.teq_scheme,
                group,
                vector,
                cell.status,
                cell.release,
                cell.unit,
                cell.release_g_teq_per_year,
                cell.complete,
                cell.not_determined_parts,
            ]
            for total in part.totals
            for group, vectors in total.by_source_group.items()
            for vector, cell in vectors.items()
        ]
    return [
        [category, pathway, kg]
        for category, pathways in part.by_category.items()
        for pathway, kg in pathways.items()
    ]


def section_columns(section: Section) -> tuple[str, ...]:
    """The CSV columns of a section."""
    return {
        Section.PCB: PCB_COLUMNS,
        Section.UPOPS: UPOPS_COLUMNS,
        Section.MERCURY: MERCURY_COLUMNS,
    }[section]


def part_of(summary: Any, section: Section) -> Any:
    """The section's part of a summary-like object."""
    return {
        Section.PCB: summary.pcb,
        Section.UPOPS: summary.upops,
        Section.MERCURY: summary.mercury,
    }[section]
