"""The SQL of the reports, run by the database (GROUP BY over the items and releases, never
by loading records into Python): PCB items and tonnes by class and status, UP-POPs
releases by source group and vector, mercury releases by category and pathway;
nationally, by department, by holder, by the holders' sector, and across years.
``arithmetic`` turns the grouped rows into figures.

Only validated data counts: the latest validated version of each organisation's
submission for the year and section (``submissions.service.current_ids``), unless a caller
previews one submission it may see.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.models import MercuryEstimate, MercuryRelease
from services.inventory.pcb.models import FluidDensity, PcbItem, PcbThresholds
from services.inventory.pcb.rules import Thresholds
from services.inventory.registry.models import Holder
from services.inventory.reports import cells
from services.inventory.reports.arithmetic import PcbGroup, groups_of, merge, without_flags
from services.inventory.reports.cells import PcbSummaryCell
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import counts_nationally, current_ids
from services.inventory.upops.models import UpopsEstimate, UpopsRelease


@dataclass(frozen=True)
class Scope:
    """Which submissions a report reads: the national data of ``year`` (or of every year,
    for the time series), or one submission."""

    year: int | None = None
    submission_id: int | None = None
    first_year: int | None = None
    last_year: int | None = None

    def ids(self, section: Section) -> Select[int]:
        """The ids of the scope's submissions of one section."""
        if self.submission_id is not None:
            return select(Submission.id).where(
                Submission.id == self.submission_id, Submission.section == section.value
            )
        query = current_ids(section, self.year)
        if self.first_year is not None:
            query = query.where(Submission.year >= self.first_year)
        if self.last_year is not None:
            query = query.where(Submission.year <= self.last_year)
        return query


async def tune_for_aggregates(session: AsyncSession) -> None:
    """On PostgreSQL: memory for hashing the few groups of a summary in one pass (the
    planner cannot estimate how few the CASE expression yields, and would sort 10^6 rows
    otherwise), and no JIT (its compile time exceeds the query's)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL work_mem = '64MB'"))
        await session.execute(text("SET LOCAL jit = off"))


# -- PCB -----------------------------------------------------------------------------------


DIMENSIONS: dict[str, tuple[Any, Any]] = {
    "department": (PcbItem.department_code, PcbSummaryCell.department_code),
    "year": (Submission.year, Submission.year),
    "holder": (PcbItem.holder_id, None),
    # The holder's sector as it is now (holders may change it): never from the cells.
    "sector": (Holder.sector, None),
}


def sector_holders(sectors: Sequence[str]) -> Select[Any]:
    """SQL: the ids of the holders of the ``sectors``."""
    return select(Holder.id).where(Holder.sector.in_(list(sectors)))


async def pcb_groups(
    session: AsyncSession,
    scope: Scope,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    *,
    by: Sequence[str] = (),
    flags: bool = True,
    holders: Sequence[int] | None = None,
    sectors: Sequence[str] | None = None,
    use_cells: bool = True,
) -> list[PcbGroup]:
    """PCB items of the scope (of the ``holders``, of holders of the ``sectors``) counted
    and weighed by the ``by`` dimensions, class and status (and, with ``flags``, label,
    location and screening-only evidence).

    Submissions whose summary cells are current are read from the cells; the others (and
    any report by holder or sector, or of some sectors) from the items, by the same SQL
    classification.
    """
    ids = list(await session.scalars(scope.ids(Section.PCB)))
    if not ids:
        return []
    fresh: set[int] = set()
    current = cells.basis(thresholds, densities)
    if use_cells and sectors is None and all(DIMENSIONS[d][1] is not None for d in by):
        fresh = await cells.fresh_submissions(session, ids, current)
    stale = [i for i in ids if i not in fresh]
    needs_year = "year" in by
    groups: list[PcbGroup] = []
    if fresh:
        stmt = cells.cell_groups_statement(
            sorted(fresh), current, by=[DIMENSIONS[d][1] for d in by]
        )
        if needs_year:
            stmt = stmt.join(Submission, Submission.id == PcbSummaryCell.submission_id)
        cell_groups = groups_of((await session.execute(stmt)).all(), len(by), True)
        groups += cell_groups if flags else without_flags(cell_groups)
    if stale:
        where = [] if holders is None else [PcbItem.holder_id.in_(list(holders))]
        if sectors is not None:
            where.append(Holder.sector.in_(list(sectors)))
        stmt = cells.item_groups_statement(
            stale,
            thresholds,
            densities,
            by=[DIMENSIONS[d][0] for d in by],
            flags=flags,
            where=where,
        )
        if needs_year:
            stmt = stmt.join(Submission, Submission.id == PcbItem.submission_id)
        if "sector" in by or sectors is not None:
            stmt = stmt.join(Holder, Holder.id == PcbItem.holder_id)
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            # The planner cannot know the CASE yields a handful of groups and would sort a
            # million rows; hashing them is several times faster.
            await session.execute(text("SET LOCAL enable_sort = off"))
        groups += groups_of((await session.execute(stmt)).all(), len(by), flags)
        if postgres:
            await session.execute(text("SET LOCAL enable_sort = on"))
    return merge(groups)


def _upops_sums() -> list[Any]:
    determined = UpopsRelease.release_kind == "value"
    return [
        func.sum(case((determined, UpopsRelease.release_g_teq_per_year), else_=None)),
        func.sum(case((determined, 1), else_=0)),
        func.sum(case((UpopsRelease.release_kind == "ND", 1), else_=0)),
        func.sum(case((UpopsRelease.release_kind == "NA", 1), else_=0)),
    ]


# Per section: the estimates, their release rows, the keys the releases are summed by (after
# the report's own) and the sums.
_ESTIMATES: dict[Section, tuple[Any, Any, Callable[[], list[Any]], Callable[[], list[Any]]]] = {
    # Releases by pollutant, TEQ scheme ("" for the mass pollutants), source group and
    # vector, counting ND and NA parts apart (ND is never summed as zero). Pollutants and
    # schemes are never summed together (a TEQ and a mass, or two TEQ schemes).
    Section.UPOPS: (
        UpopsEstimate,
        UpopsRelease,
        lambda: [
            UpopsEstimate.pollutant,
            UpopsEstimate.teq_scheme,
            UpopsEstimate.source_group,
            UpopsRelease.vector,
        ],
        _upops_sums,
    ),
    # Releases by category, Toolkit level (1: catalogue factor, 2: own) and pathway.
    Section.MERCURY: (
        MercuryEstimate,
        MercuryRelease,
        lambda: [MercuryEstimate.category, MercuryEstimate.toolkit_level, MercuryRelease.pathway],
        lambda: [func.sum(MercuryRelease.release_kg_per_year)],
    ),
}


async def estimate_groups(
    session: AsyncSession,
    scope: Scope,
    section: Section,
    *,
    by: Sequence[Any] = (),
    join_submissions: bool = False,
    join_holders: bool = False,
    where: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """The scope's releases of a section of estimates summed by ``by`` and the section's
    keys: UP-POPs by pollutant, TEQ scheme, source group and vector (determined sum, then
    the counts of determined, ND and NA parts), mercury by category, level and pathway (kg)."""
    estimates, releases, section_keys, sums = _ESTIMATES[section]
    keys = [*by, *section_keys()]
    stmt = (
        select(*keys, *sums())
        .join(estimates, estimates.id == releases.estimate_id)
        .where(estimates.submission_id.in_(scope.ids(section)), *where)
        .group_by(*keys)
        .order_by(*keys)
    )
    if join_submissions:
        stmt = stmt.join(Submission, Submission.id == estimates.submission_id)
    if join_holders:  # estimates need not name a holder: those fall under a null sector
        stmt = stmt.outerjoin(Holder, Holder.id == estimates.holder_id)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


# -- freshness (cheap ETags for national figures) ----------------------------------------------


async def national_fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever national figures can: a validation or supersession, new thresholds
    or densities. Validated data itself never changes."""
    validated = (
        await session.execute(
            select(func.count(Submission.id), func.max(Submission.updated_at)).where(
                counts_nationally()
            )
        )
    ).one()
    thresholds = await session.scalar(select(func.max(PcbThresholds.version)))
    densities = await session.scalar(select(func.max(FluidDensity.updated_at)))
    return (*validated, thresholds, densities)


async def holders_fingerprint(session: AsyncSession) -> tuple[Any, ...]:
    """Changes whenever a holder is added or changed (its sector, for figures by sector)."""
    found = await session.execute(select(func.count(Holder.id), func.max(Holder.updated_at)))
    return tuple(found.one())


async def years_with_data(session: AsyncSession) -> list[int]:
    """Reporting years with validated data in any section, oldest first."""
    rows = await session.scalars(
        select(Submission.year).where(counts_nationally()).distinct().order_by(Submission.year)
    )
    return list(rows)
