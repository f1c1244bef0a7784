"""Reports assembled from grouped SQL results (``queries``): a few rows per group, never
the items themselves."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from typing import Any

from sqlalchemy import select, union
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.classes import load_densities, load_thresholds
from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder
from services.inventory.registry.rules import DEPARTMENTS
from services.inventory.releases.models import MercuryEstimate, UpopsEstimate
from services.inventory.reports import queries
from services.inventory.reports.queries import Scope
from services.inventory.reports.schemas import (
    ByDepartmentOut,
    ByHolderOut,
    DepartmentSummaryOut,
    HolderSummaryOut,
    MercurySummaryOut,
    NationalSummaryOut,
    PcbSummaryOut,
    TimeSeriesOut,
    UpopsSummaryOut,
    YearSummaryOut,
)
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from shared.pagination import encode_cursor


async def default_year(session: AsyncSession, year: int | None) -> int | None:
    """The year asked for, else the latest year with validated data."""
    if year is not None:
        return year
    years = await queries.years_with_data(session)
    return years[-1] if years else None


def _split(rows: Sequence[tuple[Any, ...]], n: int) -> dict[tuple[Any, ...], list[tuple[Any, ...]]]:
    out: dict[tuple[Any, ...], list[tuple[Any, ...]]] = defaultdict(list)
    for row in rows:
        out[tuple(row[:n])].append(tuple(row[n:]))
    return out


async def national_summary(session: AsyncSession, scope: Scope, as_of: date) -> NationalSummaryOut:
    """The national summary of a year, or the summary of one submission."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
    groups = await queries.pcb_groups(session, scope, thresholds, densities)
    return NationalSummaryOut(
        year=scope.year,
        as_of=as_of,
        scope="national" if scope.submission_id is None else "submission",
        submission_id=scope.submission_id,
        pcb=PcbSummaryOut(**queries.pcb_summary(groups, thresholds, as_of)),
        upops=UpopsSummaryOut(**queries.upops_summary(await queries.upops_groups(session, scope))),
        mercury=MercurySummaryOut(
            **queries.mercury_summary(await queries.mercury_groups(session, scope))
        ),
    )


async def by_department(session: AsyncSession, scope: Scope, as_of: date) -> ByDepartmentOut:
    """The summary of a year, department by department (estimates without a department
    under ``null``)."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
    pcb: dict[Any, list[queries.PcbGroup]] = defaultdict(list)
    for g in await queries.pcb_groups(session, scope, thresholds, densities, by=["department"]):
        pcb[g.keys[0]].append(g)
    upops = _split(
        await queries.upops_groups(session, scope, by=[UpopsEstimate.department_code]), 1
    )
    mercury = _split(
        await queries.mercury_groups(session, scope, by=[MercuryEstimate.department_code]), 1
    )
    codes = set(pcb) | {k[0] for k in upops} | {k[0] for k in mercury}
    departments = [
        DepartmentSummaryOut(
            department_code=code,
            department_name=DEPARTMENTS.get(code) if code else None,
            pcb=PcbSummaryOut(**queries.pcb_summary(pcb.get(code, []), thresholds, as_of)),
            upops=UpopsSummaryOut(**queries.upops_summary(upops.get((code,), []))),
            mercury=MercurySummaryOut(**queries.mercury_summary(mercury.get((code,), []))),
        )
        for code in sorted(codes, key=lambda c: (c is None, c or ""))
    ]
    return ByDepartmentOut(year=scope.year, as_of=as_of, departments=departments)


async def by_holder(
    session: AsyncSession, scope: Scope, as_of: date, *, after: int, limit: int
) -> ByHolderOut:
    """The summary of a year for one page of holders (in id order, after ``after``)."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
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
    page = list(
        await session.scalars(
            select(Holder)
            .where(Holder.id.in_(select(named.c.holder_id)), Holder.id > after)
            .order_by(Holder.id)
            .limit(limit + 1)
        )
    )
    next_cursor = encode_cursor([page[limit - 1].id]) if len(page) > limit else None
    page = page[:limit]
    ids = [h.id for h in page]
    pcb: dict[Any, list[queries.PcbGroup]] = defaultdict(list)
    for g in await queries.pcb_groups(
        session, scope, thresholds, densities, by=["holder"], flags=False, holders=ids
    ):
        pcb[g.keys[0]].append(g)
    upops = _split(
        await queries.upops_groups(
            session, scope, by=[UpopsEstimate.holder_id], where=[UpopsEstimate.holder_id.in_(ids)]
        ),
        1,
    )
    mercury = _split(
        await queries.mercury_groups(
            session,
            scope,
            by=[MercuryEstimate.holder_id],
            where=[MercuryEstimate.holder_id.in_(ids)],
        ),
        1,
    )
    holders = [
        HolderSummaryOut(
            holder_id=h.id,
            ruc=h.ruc,
            name=h.name,
            pcb=PcbSummaryOut(**queries.pcb_summary(pcb.get(h.id, []), thresholds, as_of)),
            upops=UpopsSummaryOut(**queries.upops_summary(upops.get((h.id,), []))),
            mercury=MercurySummaryOut(**queries.mercury_summary(mercury.get((h.id,), []))),
        )
        for h in page
    ]
    return ByHolderOut(year=scope.year, as_of=as_of, holders=holders, next_cursor=next_cursor)


async def time_series(
    session: AsyncSession, *, from_year: int | None, to_year: int | None, as_of: date
) -> TimeSeriesOut:
    """National figures of every year with validated data (within the bounds)."""
    await queries.tune_for_aggregates(session)
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
    scope = Scope(first_year=from_year, last_year=to_year)
    year: list[Any] = [Submission.year]
    pcb: dict[Any, list[queries.PcbGroup]] = defaultdict(list)
    for g in await queries.pcb_groups(
        session, scope, thresholds, densities, by=["year"], flags=False
    ):
        pcb[g.keys[0]].append(g)
    upops = _split(await queries.upops_groups(session, scope, by=year, join_submissions=True), 1)
    mercury = _split(
        await queries.mercury_groups(session, scope, by=year, join_submissions=True), 1
    )
    years = sorted(set(pcb) | {k[0] for k in upops} | {k[0] for k in mercury})
    return TimeSeriesOut(
        as_of=as_of,
        years=[
            YearSummaryOut(
                year=y,
                pcb=PcbSummaryOut(**queries.pcb_summary(pcb.get(y, []), thresholds, as_of)),
                upops=UpopsSummaryOut(**queries.upops_summary(upops.get((y,), []))),
                mercury=MercurySummaryOut(**queries.mercury_summary(mercury.get((y,), []))),
            )
            for y in years
        ],
    )


# -- CSV ---------------------------------------------------------------------------------

PCB_COLUMNS = ("pcb_class", "status", "items", "total_mass_t", "fluid_mass_t")
UPOPS_COLUMNS = (
    "source_group",
    "vector",
    "status",
    "release_g_teq_per_year",
    "complete",
    "not_determined_parts",
)
MERCURY_COLUMNS = ("category", "pathway", "release_kg_per_year")


def section_rows(
    section: Section, part: PcbSummaryOut | UpopsSummaryOut | MercurySummaryOut
) -> list[list[Any]]:
    """One section of a summary as CSV rows (columns ``*_COLUMNS``)."""
    if isinstance(part, PcbSummaryOut):
        return [
            [c.pcb_class, c.status, c.items, c.total_mass_t, c.fluid_mass_t]
            for c in part.by_class_and_status
        ]
    if isinstance(part, UpopsSummaryOut):
        return [
            [
                group,
                vector,
                cell.status,
                cell.release_g_teq_per_year,
                cell.complete,
                cell.not_determined_parts,
            ]
            for group, vectors in part.by_source_group.items()
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
