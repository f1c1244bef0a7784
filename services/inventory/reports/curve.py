"""The PCB elimination curve (issue 13 item 2): per year, PCB items and tonnes in use by
class, removed from use and eliminated (cumulative), from the dated status history of
validated items, set against the schedule's deadlines, with a projection at the recent
rate (``curve_rules``). Counted by the database (GROUP BY), never by loading items.

Which items: those of the validated submissions that count nationally
(``submissions.service.current_ids``), each physical item once (holder, manufacturer,
serial number: the inventory's natural key) in the copy of the latest reporting year that
lists it, since that copy carries the longest history. Its class is that of its effective
concentration (``pcb.classes``, under the schedule's thresholds), its mass that of
``pcb.mass``. Its status at a date is that of the last change dated on or before it (an
undated first status always holds); unlike ``pcb.status.status_on``, an item whose first
dated status comes later is not counted at all then: it was not in the inventory yet (so
an item recorded as eliminated in 2022 never counts as eliminated in 2020).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, extract, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.classes import (
    item_class_sql,
    load_densities,
    total_basis_sql,
    total_mass_sql,
)
from services.inventory.pcb.models import PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import Thresholds
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.reports import curve_rules as rules
from services.inventory.reports.curve_schemas import PcbCurveOut
from services.inventory.reports.queries import sector_holders
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import current_ids

BASIS = (
    "Validated PCB submissions that count nationally; each item (holder, manufacturer, "
    "serial number) once, from the latest reporting year listing it; its status on 31 "
    "December of each year from its dated status history (not counted before its first "
    "dated status); class from its effective concentration under the schedule; total "
    "mass as recorded, else dry + fluid mass, else not weighed (counted apart)."
)
METRICS = {
    "in_use": "pcb_in_use",
    "removed_from_use": None,  # not in the metrics catalogue
    "eliminated_cumulative": "pcb_eliminated_cumulative",
}
_IN_SERVICE = sorted(rules.IN_SERVICE)


def _latest_copies(department: str | None, sectors: Sequence[str] | None) -> Select[Any]:
    """SQL: the ids of the items the curve reads (see the module's docstring)."""
    ranked = (
        select(
            PcbItem.id.label("id"),
            func.row_number()
            .over(
                partition_by=(PcbItem.holder_id, PcbItem.manufacturer, PcbItem.serial_number),
                order_by=(Submission.year.desc(), Submission.id.desc()),
            )
            .label("rank"),
        )
        .join(Submission, Submission.id == PcbItem.submission_id)
        .where(PcbItem.submission_id.in_(current_ids(Section.PCB)))
        .subquery()
    )
    ids = select(ranked.c.id).where(ranked.c.rank == 1)
    where: list[Any] = [PcbItem.id.in_(ids)]
    if department is not None:
        where.append(PcbItem.department_code == department)
    if sectors is not None:
        where.append(PcbItem.holder_id.in_(sector_holders(sectors)))
    return select(PcbItem.id).where(*where)


def _status_at(as_of: date) -> Any:
    """SQL: the item's status on ``as_of``, NULL before its first dated status."""
    e = PcbStatusEvent
    return (
        select(e.to_status)
        .where(e.item_id == PcbItem.id, or_(e.changed_on.is_(None), e.changed_on <= as_of))
        .order_by(e.id.desc())
        .limit(1)
        .scalar_subquery()
    )


async def _state_rows(
    session: AsyncSession,
    items: Select[Any],
    as_of: date,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
) -> list[Sequence[Any]]:
    """Items counted and weighed by class, status on ``as_of`` and mass basis."""
    per_item = (
        select(
            item_class_sql(thresholds, densities).label("cls"),
            _status_at(as_of).label("status"),
            total_basis_sql(densities).label("basis"),
            total_mass_sql(densities).label("mass"),
        )
        .where(PcbItem.id.in_(items))
        .subquery()
    )
    c = per_item.c
    stmt = select(
        c.cls, c.status, c.basis, func.count(), func.coalesce(func.sum(c.mass), 0)
    ).group_by(c.cls, c.status, c.basis)
    return [tuple(r) for r in (await session.execute(stmt)).all()]


async def _yearly_rows(
    session: AsyncSession,
    items: Select[Any],
    first_year: int,
    last_year: int,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
) -> dict[int, list[Sequence[Any]]]:
    """``_state_rows`` on 31 December of every year from ``first_year`` to ``last_year``,
    in one pass over the status history: each change holds at the year ends from its own
    year (an undated first status: from always) up to the year of the next change
    (excluded), so the items are grouped by class, status, those two years and the mass
    basis, and the groups spread over the years here."""
    e = PcbStatusEvent
    following = func.lead(e.changed_on).over(partition_by=e.item_id, order_by=e.id)
    spans = (
        select(
            e.item_id.label("item_id"),
            e.to_status.label("status"),
            extract("year", e.changed_on).label("since"),
            extract("year", following).label("until"),
        )
        .where(e.item_id.in_(items))
        .subquery()
    )
    cls = item_class_sql(thresholds, densities)
    basis = total_basis_sql(densities)
    keys = (cls, spans.c.status, spans.c.since, spans.c.until, basis)
    stmt = (
        select(*keys, func.count(), func.coalesce(func.sum(total_mass_sql(densities)), 0))
        .select_from(spans)
        .join(PcbItem, PcbItem.id == spans.c.item_id)
        .group_by(*keys)
    )
    out: dict[int, list[Sequence[Any]]] = {y: [] for y in range(first_year, last_year + 1)}
    for pcb_class, status, since, until, mass_basis, count, mass in await session.execute(stmt):
        start = first_year if since is None else max(first_year, int(since))
        stop = last_year + 1 if until is None else min(last_year + 1, int(until))
        for year in range(start, stop):
            out[year].append((pcb_class, status, mass_basis, count, mass))
    return out


async def _removals(
    session: AsyncSession, items: Select[Any], thresholds: Thresholds, densities: dict[str, Decimal]
) -> tuple[dict[int, dict[str, int]], set[int]]:
    """Items moved out of use, by year and class; and the years with any dated change."""
    e = PcbStatusEvent
    year = extract("year", e.changed_on)
    cls = item_class_sql(thresholds, densities)
    in_scope = [e.item_id.in_(items), e.changed_on.is_not(None)]
    moved = (
        select(year, cls, func.count())
        .join(PcbItem, PcbItem.id == e.item_id)
        .where(*in_scope, e.from_status.in_(_IN_SERVICE), e.to_status.not_in(_IN_SERVICE))
        .group_by(year, cls)
    )
    removals: dict[int, dict[str, int]] = defaultdict(dict)
    for y, c, n in (await session.execute(moved)).all():
        removals[int(y)][str(c)] = int(n)
    years = {int(y) for y in await session.scalars(select(year).where(*in_scope).distinct())}
    return removals, years


async def first_change_year(session: AsyncSession) -> int | None:
    """The year of the earliest dated status change of a validated item."""
    items = select(PcbItem.id).where(PcbItem.submission_id.in_(current_ids(Section.PCB)))
    first = await session.scalar(
        select(func.min(PcbStatusEvent.changed_on)).where(PcbStatusEvent.item_id.in_(items))
    )
    return first.year if first is not None else None


def _series_out(series: dict[str, rules.Series]) -> dict[str, Any]:
    return {
        name: {
            "metric": METRICS[name],
            "total": s.total().out(),
            "by_class": {c: t.out() for c, t in s.by_class.items()},
        }
        for name, s in series.items()
    }


async def pcb_curve(
    session: AsyncSession,
    *,
    from_year: int,
    to_year: int,
    today: date,
    schedule: Schedule = Schedule.CONVENTION,
    department: str | None = None,
    sectors: Sequence[str] | None = None,
) -> PcbCurveOut:
    """The curve from ``from_year`` to ``to_year`` (figures of years after ``today`` are
    today's: the history holds no future change)."""
    thresholds, _ = await load_thresholds(session, schedule)
    densities = await load_densities(session)
    items = _latest_copies(department, sectors)
    removals, change_years = await _removals(session, items, thresholds, densities)
    years = []
    by_year: dict[int, dict[str, rules.Series]] = {}
    yearly = await _yearly_rows(session, items, from_year, to_year, thresholds, densities)
    for year in range(from_year, to_year + 1):
        as_of = date(year, 12, 31)
        series = rules.series_of_year(yearly[year])
        by_year[year] = series
        years.append(
            {
                "year": year,
                "as_of": as_of,
                **_series_out(series),
                "removals_in_year": {
                    c: removals.get(year, {}).get(c, 0) for c in rules.CURVE_CLASSES
                },
            }
        )
    deadlines = {}
    for name, deadline in (("use", thresholds.use_deadline), ("esm", thresholds.esm_deadline)):
        reached = deadline <= today
        state = None
        if reached:
            state = rules.series_of_year(
                await _state_rows(session, items, deadline, thresholds, densities)
            )
        deadlines[name] = {
            "deadline": deadline,
            "reached": reached,
            "items_in_use": state["in_use"].total().items if state else None,
            "p1_p2_items_in_use": state["in_use"].items_of(rules.P1_P2) if state else None,
            "items_not_eliminated": (
                state["in_use"].total().items
                + state["removed_from_use"].total().items
                - state["eliminated_cumulative"].total().items
                if state
                else None
            ),
        }
    base = min(to_year, today.year)
    base_series = by_year.get(base) or rules.series_of_year(
        await _state_rows(session, items, date(base, 12, 31), thresholds, densities)
    )

    def projection(classes: Sequence[str]) -> dict[str, Any]:
        done = rules.project(
            classes,
            base_year=base,
            in_use_at_base=base_series["in_use"].items_of(classes),
            removals_by_year={y: sum(r.get(c, 0) for c in classes) for y, r in removals.items()},
            years_with_changes=change_years,
        )
        return done.out(thresholds.use_deadline.year)

    sources = await session.execute(
        select(Submission.id, Submission.org_code, Submission.year, Submission.revision)
        .where(Submission.id.in_(select(PcbItem.submission_id).where(PcbItem.id.in_(items))))
        .order_by(Submission.year, Submission.id)
    )
    return PcbCurveOut(
        schedule=schedule.value,
        from_year=from_year,
        to_year=to_year,
        department=department,
        sector_filter=list(sectors) if sectors is not None else None,
        basis=BASIS,
        years=years,
        deadlines=deadlines,
        projection=projection(rules.P1_P2),
        projection_all_pcb=projection(sorted(rules.TOTAL_CLASSES)),
        sources=[
            {"submission_id": i, "org_code": o, "year": y, "revision": r}
            for i, o, y, r in sources.all()
        ],
    )


CSV_COLUMNS = (
    "year",
    "series",
    "metric",
    "pcb_class",
    "items",
    "total_mass_t",
    "estimated_total_mass_t",
    "items_not_weighed",
)


def csv_rows(curve: PcbCurveOut) -> list[list[Any]]:
    """One row per year, series and class (``total``: the PCB classes), in a fixed order
    (``CSV_COLUMNS``)."""
    rows = []
    for y in curve.years:
        for name in rules.SERIES:
            series = getattr(y, name)
            for cls, t in [*series.by_class.items(), ("total", series.total)]:
                rows.append(
                    [
                        y.year,
                        name,
                        series.metric,
                        cls,
                        t.items,
                        t.total_mass_t,
                        t.estimated_total_mass_t,
                        t.items_not_weighed,
                    ]
                )
    return rows
