"""The activity matrix of a work program: counts and money by priority area and status, the
action areas no activity covers, and the same figures per organisation and per year.

Counts are aggregated in SQL over the activities the caller may see; money is read row by
row (amount, currency and the keys only, never whole activities) and summed exactly in
Python, since SQLite has no exact decimal type to sum in. Money is summed per currency
(amounts in different currencies are never added up); a revised budget (type 2) replaces
the original of the same period; "committed" is commitment transactions (2, 11), "disbursed"
disbursements and expenditures (3, 4). An activity in two priority areas counts, with its
money, in both, so the rows of the matrix do not add up to the program total.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import ColumnElement, case, exists, extract, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from services.cooperation.activities.codes import labels
from services.cooperation.activities.models import (
    Activity,
    ActivityActionArea,
    ActivityPriorityArea,
    Budget,
    Participant,
    Transaction,
)
from services.cooperation.bindings.models import IndicatorBinding
from services.cooperation.iati import DECIMAL_CONTEXT
from services.cooperation.matrix.schemas import (
    AreaRow,
    Cell,
    Gap,
    InventoryFed,
    MatrixOut,
    Money,
    OrganisationRow,
    YearRow,
)
from services.cooperation.programs.models import ActionArea, Organisation, PriorityArea, WorkProgram

Rows = Any  # a multi-column SELECT
ROLES = {"1": "funding", "2": "accountable", "3": "extending", "4": "implementing"}


def _visible(seen: ColumnElement[bool], program_id: int) -> Any:
    return (
        select(Activity.id, Activity.status, Activity.default_currency)
        .where(seen, Activity.program_id == program_id)
        .cte("visible")
    )


def _budget_rows(visible: Any) -> Rows:
    """Budgets counted: revised ones, and originals of periods with no revised one."""
    revised = aliased(Budget)
    replaced = exists().where(
        revised.activity_id == Budget.activity_id,
        revised.type == "2",
        revised.period_start == Budget.period_start,
        revised.period_end == Budget.period_end,
    )
    currency = func.coalesce(Budget.currency, visible.c.default_currency, "")
    return (
        select(Budget.activity_id, currency.label("currency"), Budget.value, Budget.period_start)
        .join(visible, visible.c.id == Budget.activity_id)
        .where((Budget.type == "2") | ~replaced)
    )


def _transaction_rows(visible: Any, types: tuple[str, ...]) -> Rows:
    currency = func.coalesce(Transaction.currency, visible.c.default_currency, "")
    columns = (Transaction.activity_id, currency.label("currency"), Transaction.value)
    return (
        select(*columns, Transaction.date)
        .join(visible, visible.c.id == Transaction.activity_id)
        .where(Transaction.type.in_(types))
    )


async def _sums(session: AsyncSession, stmt: Any) -> dict[tuple[Any, ...], Money]:
    """Exact sums of the amounts (last column) of ``stmt`` by its other columns, the one
    before last being the currency."""
    found: dict[tuple[Any, ...], Money] = defaultdict(dict)
    with localcontext(DECIMAL_CONTEXT):
        for *key, currency, amount in await session.execute(stmt):
            money = found[tuple(key)]
            money[currency or "?"] = money.get(currency or "?", Decimal(0)) + amount
    return found


async def _money_by(
    session: AsyncSession, rows: Rows, keys: list[Any], joins: list[tuple[Any, Any]]
) -> dict[tuple[Any, ...], Money]:
    """Sums of ``rows`` grouped by ``keys`` (after ``joins``) and currency."""
    sub = rows.subquery()
    stmt = select(*keys, sub.c.currency, sub.c.value).select_from(sub)
    for target, on in joins:
        stmt = stmt.join(target, on(sub))
    return await _sums(session, stmt)


async def build_matrix(
    session: AsyncSession, program: WorkProgram, seen: ColumnElement[bool]
) -> MatrixOut:
    """The matrix of ``program`` over the activities ``seen`` selects."""
    visible = _visible(seen, program.id)
    budgets, commits = _budget_rows(visible), _transaction_rows(visible, ("2", "11"))
    spending = _transaction_rows(visible, ("3", "4"))
    in_program = PriorityArea.program_id == program.id
    areas = list(await session.scalars(select(PriorityArea).where(in_program)))
    areas.sort(key=lambda a: a.code)
    pa = ActivityPriorityArea
    by_area_status: dict[tuple[Any, ...], Cell] = defaultdict(Cell)
    count_stmt = (
        select(pa.priority_area_id, visible.c.status, func.count())
        .join(visible, visible.c.id == pa.activity_id)
        .group_by(pa.priority_area_id, visible.c.status)
    )
    for area_id, status, count in await session.execute(count_stmt):
        by_area_status[(area_id, status)].activities = count
    area_join = [(pa, lambda sub: pa.activity_id == sub.c.activity_id)]
    status_join = [(visible, lambda sub: visible.c.id == sub.c.activity_id)]
    for name, rows in (("budget", budgets), ("committed", commits), ("disbursed", spending)):
        keys = [pa.priority_area_id, visible.c.status]
        for key, money in (await _money_by(session, rows, keys, area_join + status_join)).items():
            setattr(by_area_status[key], name, money)
    area_rows = []
    for area in areas:
        cells = {str(s): c for (a, s), c in sorted(by_area_status.items()) if a == area.id}
        total_cell = _sum(cells.values())
        area_rows.append(
            AreaRow(
                code=area.code,
                title_en=area.title_en,
                title_es=area.title_es,
                by_status=cells,
                total=total_cell,
            )
        )
    total = Cell(activities=await session.scalar(select(func.count()).select_from(visible)) or 0)
    for name, rows in (("budget", budgets), ("committed", commits), ("disbursed", spending)):
        setattr(total, name, (await _money_by(session, rows, [], [])).get((), {}))
    return MatrixOut(
        program=program.code,
        statuses=labels("ActivityStatus"),
        total=total,
        priority_areas=area_rows,
        coverage_gaps=await _gaps(session, visible, areas),
        organisations=await _organisations(session, visible, budgets),
        years=await _years(session, seen, program.id, budgets, spending),
        inventory_fed=await _inventory_fed(session, visible),
    )


async def _inventory_fed(session: AsyncSession, visible: Any) -> InventoryFed:
    """The indicators of the activities counted whose actuals come from the inventory."""
    b = IndicatorBinding
    stmt = (
        select(
            func.count(func.distinct(b.activity_id)),
            func.count(),
            func.coalesce(func.sum(case((b.stale, 1), else_=0)), 0),
        )
        .select_from(b)
        .join(visible, visible.c.id == b.activity_id)
    )
    activities, indicators, stale = (await session.execute(stmt)).one()
    return InventoryFed(activities=activities, indicators=indicators, stale=int(stale))


def _sum(cells: Any) -> Cell:
    """Area total over statuses (an activity has one status, so counts add up here)."""
    total = Cell()
    for cell in cells:
        total.activities += cell.activities
        for name in ("budget", "committed", "disbursed"):
            target = getattr(total, name)
            with localcontext(DECIMAL_CONTEXT):
                for currency, amount in getattr(cell, name).items():
                    target[currency] = target.get(currency, Decimal(0)) + amount
    return total


async def _gaps(session: AsyncSession, visible: Any, areas: list[PriorityArea]) -> list[Gap]:
    codes = {a.id: a.code for a in areas}
    covered = exists().where(
        ActivityActionArea.action_area_id == ActionArea.id,
        ActivityActionArea.activity_id.in_(select(visible.c.id)),
    )
    stmt = (
        select(ActionArea)
        .where(ActionArea.priority_area_id.in_(codes), ~covered)
        .order_by(ActionArea.priority_area_id, ActionArea.number)
    )
    return [
        Gap(
            action_area=f"{codes[a.priority_area_id]}.{a.number}",
            text_en=a.text_en,
            text_es=a.text_es,
        )
        for a in await session.scalars(stmt)
    ]


async def _counts(session: AsyncSession, stmt: Rows) -> dict[Any, int]:
    return {key: int(count) for key, count in await session.execute(stmt)}


async def _organisations(
    session: AsyncSession, visible: Any, budgets: Rows
) -> list[OrganisationRow]:
    taking_part = visible.c.id == Participant.activity_id
    activities = func.count(func.distinct(Participant.activity_id))
    roles: dict[int, dict[str, int]] = defaultdict(dict)
    stmt = (
        select(Participant.organisation_id, Participant.role, activities)
        .join(visible, taking_part)
        .where(Participant.organisation_id.is_not(None))
        .group_by(Participant.organisation_id, Participant.role)
    )
    for org_id, role, count in await session.execute(stmt):
        if org_id is not None:
            roles[org_id][ROLES.get(role, role)] = count
    totals = await _counts(
        session,
        select(Participant.organisation_id, activities)
        .join(visible, taking_part)
        .group_by(Participant.organisation_id),
    )
    leads = await _counts(
        session,
        select(Activity.lead_org_id, func.count())
        .join(visible, visible.c.id == Activity.id)
        .group_by(Activity.lead_org_id),
    )
    funders = (
        select(Participant.organisation_id, Participant.activity_id)
        .where(Participant.role == "1")
        .distinct()
        .subquery()
    )
    funded = await _money_by(
        session,
        budgets,
        [funders.c.organisation_id],
        [(funders, lambda sub: funders.c.activity_id == sub.c.activity_id)],
    )
    orgs = {
        o.id: o
        for o in await session.scalars(select(Organisation).where(Organisation.id.in_(roles)))
    }
    return [
        OrganisationRow(
            org=orgs[i].code,
            name_en=orgs[i].name_en,
            activities=totals.get(i, 0),
            lead=leads.get(i, 0),
            roles=roles[i],
            budget_funded=funded.get((i,), {}),
        )
        for i in sorted(roles, key=lambda i: orgs[i].code)
    ]


async def _years(
    session: AsyncSession,
    seen: ColumnElement[bool],
    program_id: int,
    budgets: Rows,
    spending: Rows,
) -> list[YearRow]:
    start = func.coalesce(Activity.actual_start, Activity.planned_start)
    end = func.coalesce(Activity.actual_end, Activity.planned_end, start)
    spans = await session.execute(
        select(extract("year", start), extract("year", end), func.count())
        .where(seen, Activity.program_id == program_id, start.is_not(None))
        .group_by(extract("year", start), extract("year", end))
    )
    active: dict[int, int] = defaultdict(int)
    for first, last, count in spans:
        for year in range(int(first), int(max(first, last)) + 1):
            active[year] += count
    budget = await _by_year(session, budgets, "period_start")
    disbursed = await _by_year(session, spending, "date")
    years = sorted(set(active) | set(budget) | set(disbursed))
    return [
        YearRow(
            year=y,
            active=active.get(y, 0),
            budget=budget.get(y, {}),
            disbursed=disbursed.get(y, {}),
        )
        for y in years
    ]


async def _by_year(session: AsyncSession, rows: Rows, column: str) -> dict[int, Money]:
    sub = rows.subquery()
    stmt = select(extract("year", sub.c[column]), sub.c.currency, sub.c.value)
    return {int(key[0]): money for key, money in (await _sums(session, stmt)).items()}
