"""National figures, computed by the database (GROUP BY over the items and releases,
never by loading records into Python): PCB items and tonnes by class and status, the
2025 and 2028 deadlines, UP-POPs releases by source group and vector, mercury releases by
category and pathway; nationally, by department, by holder, and across years.

Only validated data counts: the latest validated version of each organisation's
submission for the year and section (``submissions.service.current_ids``), unless a caller
previews one submission it may see.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, case, func, select, text
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.models import FluidDensity, PcbItem, PcbThresholds
from services.inventory.pcb.rules import (
    PCB_CLASSES,
    OperatingStatus,
    Thresholds,
)
from services.inventory.releases.models import (
    MercuryEstimate,
    MercuryRelease,
    UpopsEstimate,
    UpopsRelease,
)
from services.inventory.reports import cells
from services.inventory.reports.cells import PcbSummaryCell
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import counts_nationally, current_ids

_PCB = {c.value for c in PCB_CLASSES}
_IN_SERVICE = {OperatingStatus.IN_USE.value, OperatingStatus.STANDBY.value}
_MANAGED = {OperatingStatus.ELIMINATED.value, OperatingStatus.DECONTAMINATED.value}
ELIMINATED = OperatingStatus.ELIMINATED.value


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


@dataclass(frozen=True)
class PcbGroup:
    """One group of items: its keys and what the report needs to know about them."""

    keys: tuple[Any, ...]
    pcb_class: str
    status: str
    labelled: bool | None
    in_food_feed_area: bool | None
    screening_only: bool | None
    items: int
    total_mass_kg: Decimal
    fluid_mass_kg: Decimal


# Report dimensions: the column on items, and on summary cells (None: items only).
DIMENSIONS: dict[str, tuple[Any, Any]] = {
    "department": (PcbItem.department_code, PcbSummaryCell.department_code),
    "year": (Submission.year, Submission.year),
    "holder": (PcbItem.holder_id, None),
}


def _merge(groups: list[PcbGroup]) -> list[PcbGroup]:
    merged: dict[tuple[Any, ...], PcbGroup] = {}
    for g in groups:
        key = (g.keys, g.pcb_class, g.status, g.labelled, g.in_food_feed_area, g.screening_only)
        found = merged.get(key)
        merged[key] = (
            g
            if found is None
            else PcbGroup(
                keys=g.keys,
                pcb_class=g.pcb_class,
                status=g.status,
                labelled=g.labelled,
                in_food_feed_area=g.in_food_feed_area,
                screening_only=g.screening_only,
                items=found.items + g.items,
                total_mass_kg=found.total_mass_kg + g.total_mass_kg,
                fluid_mass_kg=found.fluid_mass_kg + g.fluid_mass_kg,
            )
        )
    return list(merged.values())


def _groups(rows: Sequence[Any], n: int, flags: bool) -> list[PcbGroup]:
    out = []
    for row in rows:
        extra = (
            (bool(row[n + 2]), bool(row[n + 3]), bool(row[n + 4])) if flags else (None, None, None)
        )
        out.append(
            PcbGroup(
                keys=tuple(row[:n]),
                pcb_class=row[n],
                status=row[n + 1],
                labelled=extra[0],
                in_food_feed_area=extra[1],
                screening_only=extra[2],
                items=int(row[-3]),
                total_mass_kg=Decimal(row[-2]),
                fluid_mass_kg=Decimal(row[-1]),
            )
        )
    return out


async def pcb_groups(
    session: AsyncSession,
    scope: Scope,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    *,
    by: Sequence[str] = (),
    flags: bool = True,
    holders: Sequence[int] | None = None,
    use_cells: bool = True,
) -> list[PcbGroup]:
    """PCB items of the scope counted and weighed by the ``by`` dimensions, class and status
    (and, with ``flags``, label, location and screening-only evidence).

    Submissions whose summary cells are current are read from the cells; the others (and
    any report by holder) from the items, by the same SQL classification.
    """
    ids = list(await session.scalars(scope.ids(Section.PCB)))
    if not ids:
        return []
    fresh: set[int] = set()
    current = cells.basis(thresholds, densities)
    if use_cells and "holder" not in by:
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
        cell_groups = _groups((await session.execute(stmt)).all(), len(by), True)
        if not flags:
            cell_groups = [
                PcbGroup(
                    g.keys,
                    g.pcb_class,
                    g.status,
                    None,
                    None,
                    None,
                    g.items,
                    g.total_mass_kg,
                    g.fluid_mass_kg,
                )
                for g in cell_groups
            ]
        groups += cell_groups
    if stale:
        where = [] if holders is None else [PcbItem.holder_id.in_(list(holders))]
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
        postgres = session.get_bind().dialect.name == "postgresql"
        if postgres:
            # The planner cannot know the CASE yields a handful of groups and would sort a
            # million rows; hashing them is several times faster.
            await session.execute(text("SET LOCAL enable_sort = off"))
        groups += _groups((await session.execute(stmt)).all(), len(by), flags)
        if postgres:
            await session.execute(text("SET LOCAL enable_sort = on"))
    return _merge(groups)


def _tonnes(kg: Decimal) -> Decimal:
    return (kg / 1000).quantize(Decimal("0.001"))


def _share(part: int | Decimal, whole: int | Decimal) -> Decimal | None:
    if not whole:
        return None
    return (Decimal(part) / Decimal(whole)).quantize(Decimal("0.0001"))


@dataclass
class _Tally:
    items: int = 0
    total_mass_kg: Decimal = Decimal(0)
    fluid_mass_kg: Decimal = Decimal(0)

    def add(self, g: PcbGroup) -> None:
        self.items += g.items
        self.total_mass_kg += g.total_mass_kg
        self.fluid_mass_kg += g.fluid_mass_kg

    def out(self) -> dict[str, Any]:
        return {
            "items": self.items,
            "total_mass_t": _tonnes(self.total_mass_kg),
            "fluid_mass_t": _tonnes(self.fluid_mass_kg),
        }


def pcb_summary(groups: Sequence[PcbGroup], thresholds: Thresholds, as_of: date) -> dict[str, Any]:
    """The PCB part of a summary, from grouped counts (a handful of rows, not items)."""
    by_class: dict[str, _Tally] = defaultdict(_Tally)
    by_status: dict[str, _Tally] = defaultdict(_Tally)
    cells: dict[tuple[str, str], _Tally] = defaultdict(_Tally)
    totals = _Tally()
    pcb_items = eliminated = in_service = not_managed = 0
    pcb_mass = eliminated_mass = Decimal(0)
    flags = {"label_missing": 0, "prohibited_location": 0, "needs_gc_confirmation": 0}
    for g in groups:
        for tally in (
            by_class[g.pcb_class],
            by_status[g.status],
            cells[(g.pcb_class, g.status)],
            totals,
        ):
            tally.add(g)
        is_pcb = g.pcb_class in _PCB
        if is_pcb:
            pcb_items += g.items
            pcb_mass += g.total_mass_kg
            if g.status == ELIMINATED:
                eliminated += g.items
                eliminated_mass += g.total_mass_kg
            if g.status in _IN_SERVICE:
                in_service += g.items
            if g.status not in _MANAGED:
                not_managed += g.items
        if g.labelled is not None:
            if g.pcb_class in ("P1", "P2") and not g.labelled and g.status != ELIMINATED:
                flags["label_missing"] += g.items
            if is_pcb and g.in_food_feed_area and g.status != ELIMINATED:
                flags["prohibited_location"] += g.items
            if g.screening_only:
                flags["needs_gc_confirmation"] += g.items

    use_due = as_of <= thresholds.use_deadline
    esm_due = as_of <= thresholds.esm_deadline
    summary: dict[str, Any] = {
        **totals.out(),
        "by_class": {k: v.out() for k, v in sorted(by_class.items())},
        "by_status": {k: v.out() for k, v in sorted(by_status.items())},
        "by_class_and_status": [
            {"pcb_class": c, "status": s, **v.out()} for (c, s), v in sorted(cells.items())
        ],
        "pcb_items": pcb_items,
        "pcb_items_eliminated": eliminated,
        "share_eliminated": _share(eliminated, pcb_items),
        "share_eliminated_by_mass": _share(eliminated_mass, pcb_mass),
        "deadlines": {
            "use": {
                "deadline": thresholds.use_deadline,
                "items_due": in_service if use_due else 0,
                "items_overdue": 0 if use_due else in_service,
            },
            "esm": {
                "deadline": thresholds.esm_deadline,
                "items_due": not_managed if esm_due else 0,
                "items_overdue": 0 if esm_due else not_managed,
            },
        },
    }
    if any(g.labelled is not None for g in groups) or not groups:
        summary["flags"] = flags
    return summary


# -- unintentional POPs ----------------------------------------------------------------------


async def upops_groups(
    session: AsyncSession,
    scope: Scope,
    *,
    by: Sequence[Any] = (),
    join_submissions: bool = False,
    where: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """Releases summed by ``by``, source group and vector, counting ND and NA parts
    apart (ND is never summed as zero)."""
    determined = UpopsRelease.release_kind == "value"
    keys = [*by, UpopsEstimate.source_group, UpopsRelease.vector]
    stmt = (
        select(
            *keys,
            func.sum(case((determined, UpopsRelease.release_g_teq_per_year), else_=None)),
            func.sum(case((determined, 1), else_=0)),
            func.sum(case((UpopsRelease.release_kind == "ND", 1), else_=0)),
            func.sum(case((UpopsRelease.release_kind == "NA", 1), else_=0)),
        )
        .join(UpopsEstimate, UpopsEstimate.id == UpopsRelease.estimate_id)
        .where(UpopsEstimate.submission_id.in_(scope.ids(Section.UPOPS)), *where)
        .group_by(*keys)
        .order_by(*keys)
    )
    if join_submissions:
        stmt = stmt.join(Submission, Submission.id == UpopsEstimate.submission_id)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


def release_cell(value: Any, determined: int, nd: int, na: int) -> dict[str, Any]:
    """One summed release: the determined sum, and whether ND parts were left out."""
    if determined:
        status = "determined"
    elif nd:
        status = "not_determined"
    else:
        status = "not_applicable"
    return {
        "status": status,
        "release_g_teq_per_year": Decimal(value) if determined else None,
        "complete": nd == 0,
        "not_determined_parts": int(nd),
    }


def upops_summary(rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The UP-POPs part of a summary: by source group and vector, and totals by vector."""
    by_group: dict[str, dict[str, Any]] = {}
    sums: dict[str, Decimal] = {}
    counts: dict[str, tuple[int, int, int]] = {}
    for group, vector, value, determined, nd, na in rows:
        by_group.setdefault(group, {})[vector] = release_cell(value, determined, nd, na)
        sums[vector] = sums.get(vector, Decimal(0)) + Decimal(value or 0)
        d0, n0, a0 = counts.get(vector, (0, 0, 0))
        counts[vector] = (d0 + int(determined), n0 + int(nd), a0 + int(na))
    by_vector = {v: release_cell(sums[v], *counts[v]) for v in counts}
    total = sum(sums.values(), Decimal(0))
    nd_parts = sum(c[1] for c in counts.values())
    return {
        "by_source_group": by_group,
        "by_vector": by_vector,
        "determined_g_teq_per_year": total,
        "complete": nd_parts == 0,
        "not_determined_parts": nd_parts,
    }


# -- mercury ---------------------------------------------------------------------------------


async def mercury_groups(
    session: AsyncSession,
    scope: Scope,
    *,
    by: Sequence[Any] = (),
    join_submissions: bool = False,
    where: Sequence[Any] = (),
) -> list[tuple[Any, ...]]:
    """Mercury releases summed by ``by``, category and pathway."""
    keys = [*by, MercuryEstimate.category, MercuryRelease.pathway]
    stmt = (
        select(*keys, func.sum(MercuryRelease.release_kg_per_year))
        .join(MercuryEstimate, MercuryEstimate.id == MercuryRelease.estimate_id)
        .where(MercuryEstimate.submission_id.in_(scope.ids(Section.MERCURY)), *where)
        .group_by(*keys)
        .order_by(*keys)
    )
    if join_submissions:
        stmt = stmt.join(Submission, Submission.id == MercuryEstimate.submission_id)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


def mercury_summary(rows: Sequence[tuple[Any, ...]]) -> dict[str, Any]:
    """The mercury part of a summary: kg Hg/a by category and pathway, and totals."""
    by_category: dict[str, dict[str, Decimal]] = {}
    by_pathway: dict[str, Decimal] = {}
    for category, pathway, kg in rows:
        by_category.setdefault(category, {})[pathway] = Decimal(kg)
        by_pathway[pathway] = by_pathway.get(pathway, Decimal(0)) + Decimal(kg)
    return {
        "by_category": by_category,
        "category_totals_kg_per_year": {
            c: sum(p.values(), Decimal(0)) for c, p in by_category.items()
        },
        "by_pathway": by_pathway,
        "total_kg_per_year": sum(by_pathway.values(), Decimal(0)),
    }


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


async def years_with_data(session: AsyncSession) -> list[int]:
    """Reporting years with validated data in any section, oldest first."""
    rows = await session.scalars(
        select(Submission.year).where(counts_nationally()).distinct().order_by(Submission.year)
    )
    return list(rows)
