"""Which PCB items a listing selects (the caller's visibility and the filters, in SQL),
and the status each was in on a date."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.access import submission_visible
from services.inventory.pcb.classes import flag_sql, item_class_sql, status_on_sql
from services.inventory.pcb.models import PcbInspection, PcbItem, PcbStatusEvent
from services.inventory.pcb.rules import (
    DEFAULT_INSPECTION_INTERVAL_MONTHS,
    ComplianceFlag,
    OperatingStatus,
    PcbClass,
    Thresholds,
)
from services.inventory.pcb.status import StatusChange, StatusInForce, status_on
from services.inventory.submissions.models import Submission
from services.inventory.submissions.service import counts_nationally
from shared.db import utcnow
from shared.security import Principal


@dataclass(frozen=True)
class ItemFilters:
    """The filters of ``GET /pcb-items``; each one given narrows the list."""

    submission_id: int | None = None
    org: str | None = None
    year: int | None = None
    current: bool | None = None
    holder_id: int | None = None
    site_id: int | None = None
    department: str | None = None
    pcb_class: PcbClass | None = None
    status: OperatingStatus | None = None
    flag: ComplianceFlag | None = None


# Filters that are one column's equality.
_EQUAL: dict[str, Any] = {
    "submission_id": PcbItem.submission_id,
    "org": PcbItem.org_code,
    "year": Submission.year,
    "holder_id": PcbItem.holder_id,
    "site_id": PcbItem.site_id,
    "department": PcbItem.department_code,
    "status": PcbItem.status,
}


def items_query(
    principal: Principal,
    filters: ItemFilters,
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
    inspection_months: int = DEFAULT_INSPECTION_INTERVAL_MONTHS,
) -> Select[PcbItem]:
    """The items the caller may see that match ``filters`` (classes and flags as of
    ``as_of`` under ``thresholds``; inspections due every ``inspection_months``)."""
    stmt = (
        select(PcbItem)
        .join(Submission, Submission.id == PcbItem.submission_id)
        .where(submission_visible(principal))
    )
    for f in fields(filters):
        value = getattr(filters, f.name)
        if value is not None and f.name in _EQUAL:
            stmt = stmt.where(_EQUAL[f.name] == getattr(value, "value", value))
    if filters.current is not None:
        stmt = stmt.where(counts_nationally() if filters.current else ~counts_nationally())
    cls = item_class_sql(thresholds, densities)
    if filters.pcb_class is not None:
        stmt = stmt.where(cls == filters.pcb_class.value)
    if filters.flag is not None:
        # On a past date, the flags are judged in the status then in force.
        state = status_on_sql(as_of) if as_of < utcnow().date() else None
        flag = flag_sql(filters.flag, thresholds, densities, as_of, cls, state, inspection_months)
        stmt = stmt.where(flag)
    return stmt


async def states_on(
    session: AsyncSession, item_ids: Sequence[int], as_of: date
) -> dict[int, StatusInForce]:
    """The status in force on ``as_of`` of each item, from its dated history; empty when
    ``as_of`` is today or later (no change can be dated in the future: the current status
    is in force)."""
    if as_of >= utcnow().date() or not item_ids:
        return {}
    rows = await session.execute(
        select(PcbStatusEvent.item_id, PcbStatusEvent.to_status, PcbStatusEvent.changed_on)
        .where(PcbStatusEvent.item_id.in_(list(item_ids)))
        .order_by(PcbStatusEvent.item_id, PcbStatusEvent.id)
    )
    history: dict[int, list[StatusChange]] = {}
    for item_id, to_status, changed_on in rows.all():
        history.setdefault(item_id, []).append(StatusChange(to_status, changed_on))
    states = {item_id: status_on(changes, as_of) for item_id, changes in history.items()}
    return {item_id: state for item_id, state in states.items() if state is not None}


async def last_inspections(
    session: AsyncSession, item_ids: Sequence[int], as_of: date
) -> dict[int, date]:
    """The date of each item's latest inspection on or before ``as_of`` (items without
    one are left out)."""
    if not item_ids:
        return {}
    rows = await session.execute(
        select(PcbInspection.item_id, func.max(PcbInspection.inspected_on))
        .where(PcbInspection.item_id.in_(list(item_ids)), PcbInspection.inspected_on <= as_of)
        .group_by(PcbInspection.item_id)
    )
    return {row[0]: row[1] for row in rows}
