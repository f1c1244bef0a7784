"""What validating or correcting a submission does to the rest of the inventory.

- Validation of PCB data: its items are immutable from then on, so the reports count them
  once (``reports.cells``).
- New PCB thresholds: the counts of every validated submission move to the new basis.
- A correction starts as a copy of the validated data of its section (items with their
  analyses and history, or estimates with their releases).

The submissions service only moves statuses; the workflow routes call these.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

from sqlalchemy import CursorResult, Table, and_, insert, literal, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.mercury.service import copy_mercury
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.models import PcbAnalysis, PcbInspection, PcbItem, PcbStatusEvent
from services.inventory.pcb.schedules import load_schedules
from services.inventory.reports import cells
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section, SubmissionStatus
from services.inventory.upops.service import copy_upops
from services.inventory.wastes.copy import copy_wastes
from shared.db import UTCDateTime, utcnow


async def validated(session: AsyncSession, submission: Submission) -> None:
    """After a move: when PCB data was just validated, count its items for the reports."""
    if submission.status != SubmissionStatus.VALIDATED or submission.section != Section.PCB:
        return
    schedules = await load_schedules(session)
    await cells.refresh(session, [submission.id], schedules, await load_densities(session))


async def corrected(session: AsyncSession, validated: Submission, correction: Submission) -> int:
    """Copy the validated data into its new correction; the number of records copied."""
    copier = COPIERS.get(Section(validated.section))
    if copier is None:
        return 0
    return await copier(session, from_id=validated.id, to_id=correction.id)


# Columns a copy gets anew: its identity, its submission, and the record's own history.
_RENEWED = {"id", "submission_id", "created_at", "updated_at", "version"}
# Every other column of the items table is copied as it is (a new column too).
_ITEM_COPY = [c.key for c in PcbItem.__table__.columns if c.key not in _RENEWED]

_ANALYSIS_COPY = [c.key for c in PcbAnalysis.__table__.columns if c.key not in {"id", "item_id"}]
_EVENT_COPY = [c.key for c in PcbStatusEvent.__table__.columns if c.key not in {"id", "item_id"}]
_INSPECTION_COPY = [
    c.key for c in PcbInspection.__table__.columns if c.key not in {"id", "item_id"}
]


async def copy_items(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy every item of one submission (with analyses, history and inspections) into
    another, in SQL (a correction of a large inventory must not load it into memory)."""
    now = utcnow()
    items_table = cast(Table, PcbItem.__table__)
    old = items_table.alias("old")
    items = select(
        *(old.c[k] for k in _ITEM_COPY),
        literal(to_id).label("submission_id"),
        # Copies are new records: new timestamps, first version.
        literal(now, UTCDateTime()).label("created_at"),
        literal(now, UTCDateTime()).label("updated_at"),
        literal(1).label("version"),
    ).where(old.c.submission_id == from_id)
    names = [*_ITEM_COPY, "submission_id", "created_at", "updated_at", "version"]
    result = cast(
        CursorResult[Any], await session.execute(insert(items_table).from_select(names, items))
    )
    new = items_table.alias("new")
    same_item = and_(
        new.c.submission_id == to_id,
        new.c.holder_id == old.c.holder_id,
        new.c.manufacturer == old.c.manufacturer,
        new.c.serial_number == old.c.serial_number,
    )
    children = (
        (PcbAnalysis, _ANALYSIS_COPY),
        (PcbStatusEvent, _EVENT_COPY),
        (PcbInspection, _INSPECTION_COPY),
    )
    for model, columns in children:
        table = cast(Table, model.__table__)
        rows = (
            select(new.c.id, *(table.c[k] for k in columns))
            .select_from(table)
            .join(old, old.c.id == table.c.item_id)
            .join(new, same_item)
            .where(old.c.submission_id == from_id)
        )
        await session.execute(insert(table).from_select(["item_id", *columns], rows))
    return int(result.rowcount or 0)


async def copy_pcb(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy the items, then the waste lots and shipments that refer to them."""
    copied = await copy_items(session, from_id=from_id, to_id=to_id)
    return copied + await copy_wastes(session, from_id=from_id, to_id=to_id)


# Copies a section's data from a validated submission into its correction.
COPIERS: dict[Section, Callable[..., Awaitable[int]]] = {
    Section.PCB: copy_pcb,
    Section.UPOPS: copy_upops,
    Section.MERCURY: copy_mercury,
}
