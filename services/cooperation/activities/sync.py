"""Ordering writes so that donors who sync incrementally miss nothing.

The problem: a reader that pages by ``(updated_at, id)`` or follows the change feed by
``seq`` assumes that once it has seen a value, nothing smaller will appear later. With
timestamps or sequence numbers taken *during* a transaction that is not true: transaction A
takes seq 5, transaction B takes seq 6 and commits first, a reader sees 6 and moves its
cursor past 5; then A commits and 5 is never read.

The fix: every writing transaction ends by updating the single row of ``sync_clock``,
taking from it the next sequence numbers and timestamps, and commits right after. On
PostgreSQL the row lock is held until commit, so a second writer waits at that row until
the first has committed: values are handed out in commit order. On SQLite the same update
takes the database's write lock, which also lasts until commit. A reader therefore never
sees a value while a smaller one is still in flight, and neither the keyset pagination nor
the change feed needs a safety lag.

Deadlock avoidance (PostgreSQL): a writer locks the activity rows it changes (SELECT ... FOR
UPDATE, ``for_update=True`` in the loaders) *before* it reaches the clock, and holds the
clock only for its last statements, which touch rows it has already locked or new rows. So
the clock holder never waits for another lock.

Timestamps are also made strictly increasing (``max(now, last + 1 µs)``), so
``updated_at`` is unique and a clock that steps backwards cannot reorder anything.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import ColumnElement, Table, and_, exists, false, func, insert, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.models import (
    Activity,
    ActivityChange,
    ActivityHistory,
    Participant,
    SyncClock,
)
from services.cooperation.activities.state import State, participant_codes
from services.cooperation.events import emit_activity_events
from shared.db import utcnow
from shared.security import Principal

CLOCK_ID = 1
CLOCK = cast(Table, SyncClock.__table__)
EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
TICK = timedelta(microseconds=1)


@dataclass(frozen=True)
class Actor:
    """Who makes a change (recorded in the history)."""

    client_id: str
    org: str | None

    @classmethod
    def of(cls, principal: Principal) -> Actor:
        return cls(principal.client_id, principal.org)


SEED_ACTOR = Actor("seed", None)


@dataclass
class Pending:
    """A change to record for one activity in the current transaction."""

    activity: Activity
    action: str
    changes: dict[str, dict[str, Any]]
    audience_before: str | None
    deleted: bool = False
    # An unpublished activity's old identifier: readers get a tombstone for it.
    renamed_from: str | None = None


# --- who may see what ---------------------------------------------------------------------


def audience(activity: Activity) -> str:
    """Who can see the activity: ``public``, ``partners`` or ``,ORG,ORG,`` (participants only;
    also every unpublished activity). The lead organisation always sees its activities,
    even one imported from an IATI file that does not list it as a participant."""
    if activity.published_at is not None and activity.visibility in ("public", "partners"):
        return activity.visibility
    codes = participant_codes(activity) | {activity.lead_org.code}
    return "," + ",".join(sorted(codes)) + ","


def can_see(activity: Activity, principal: Principal | None) -> bool:
    """Object-level read rule (participants must be loaded)."""
    seen = audience(activity)
    if seen == "public":
        return True
    if principal is None:
        return False
    return seen == "partners" or f",{principal.org}," in seen


def visible_clause(principal: Principal | None, org_id: int | None) -> ColumnElement[bool]:
    """SQL form of :func:`can_see` on ``activities``; ``org_id`` is the caller's organisation."""
    published = Activity.published_at.is_not(None)
    if principal is None:
        return and_(published, Activity.visibility == "public")
    clauses = [and_(published, Activity.visibility.in_(("public", "partners")))]
    if org_id is not None:
        clauses.append(Activity.lead_org_id == org_id)
        clauses.append(
            exists().where(
                Participant.activity_id == Activity.id, Participant.organisation_id == org_id
            )
        )
    return or_(*clauses)


def public_clause() -> ColumnElement[bool]:
    """Published and public: what anonymous callers and the public views get."""
    return and_(Activity.published_at.is_not(None), Activity.visibility == "public")


def audience_clause(column: Any, principal: Principal | None) -> ColumnElement[bool]:
    """SQL: the caller is in the audience stored in ``column`` (None: public only)."""
    if principal is None:
        return column == "public"  # type: ignore[no-any-return]
    org = principal.org or ""
    if not org or any(c in org for c in ",%_\\"):
        member: ColumnElement[bool] = false()
    else:
        member = column.like(f"%,{org},%")
    return or_(column.in_(("public", "partners")), member)


# --- the clock ----------------------------------------------------------------------------


async def _ensure_clock(session: AsyncSession) -> None:
    """Create the clock row if missing, continuing from what the tables already hold."""
    last_seq = await session.scalar(select(func.max(ActivityChange.seq))) or 0
    last_stamp = await session.scalar(select(func.max(Activity.updated_at))) or EPOCH
    values = {"id": CLOCK_ID, "seq": last_seq, "stamp": last_stamp}
    table = CLOCK
    if session.get_bind().dialect.name == "postgresql":
        stmt: Any = postgresql.insert(table).values(values).on_conflict_do_nothing()
    elif session.get_bind().dialect.name == "sqlite":
        stmt = sqlite.insert(table).values(values).on_conflict_do_nothing()
    else:  # pragma: no cover - the two supported backends are handled above
        stmt = insert(table).values(values)
    await session.execute(stmt)


async def advance_clock(session: AsyncSession, count: int) -> tuple[int, datetime]:
    """Take ``count`` sequence numbers and timestamps: (first seq, first stamp).

    Locks the clock until the transaction ends; call it last, right before committing.
    """
    table = CLOCK
    with session.no_autoflush:
        bump = (
            update(table)
            .where(table.c.id == CLOCK_ID)
            .values(seq=table.c.seq + count)
            .returning(table.c.seq, table.c.stamp)
        )
        row = (await session.execute(bump)).one_or_none()
        if row is None:
            await _ensure_clock(session)
            row = (await session.execute(bump)).one()
        last_seq, last_stamp = int(row[0]), row[1]
        first = max(utcnow(), last_stamp + TICK)
        await session.execute(
            update(table).where(table.c.id == CLOCK_ID).values(stamp=first + TICK * (count - 1))
        )
    return last_seq - count + 1, first


async def record(session: AsyncSession, actor: Actor, pending: Sequence[Pending]) -> None:
    """Stamp the activities, append the change feed entries and the history, and flush.

    The last step of every write; the caller commits right after.
    """
    if not pending:
        return
    first_seq, first_stamp = await advance_clock(session, len(pending))
    stamps = [first_stamp + TICK * offset for offset in range(len(pending))]
    for item, stamp in zip(pending, stamps, strict=True):
        if not item.deleted:
            item.activity.updated_at = stamp
    await session.flush()  # new activities get their ids; versions move on
    entries: list[ActivityChange] = []
    seen_after: list[str | None] = []
    for item, stamp in zip(pending, stamps, strict=True):
        activity = item.activity
        common = {"activity_id": activity.id, "program_id": activity.program_id, "at": stamp}
        if item.renamed_from is not None:
            entries.append(
                ActivityChange(
                    identifier=item.renamed_from,
                    kind="delete",
                    audience_before=item.audience_before,
                    audience_after=None,
                    **common,
                )
            )
        seen_after.append(None if item.deleted else audience(activity))
        entries.append(
            ActivityChange(
                identifier=activity.identifier,
                kind="delete" if item.deleted else "upsert",
                audience_before=None if item.renamed_from else item.audience_before,
                audience_after=seen_after[-1],
                **common,
            )
        )
        session.add(
            ActivityHistory(
                activity_id=activity.id,
                identifier=activity.identifier,
                at=stamp,
                version=None if item.deleted else activity.version,
                client_id=actor.client_id,
                org=actor.org,
                action=item.action,
                changes_json=json.dumps(item.changes, ensure_ascii=False, default=str),
            )
        )
    # A rename adds an entry: sequence numbers beyond the first ``len(pending)`` are taken
    # now (the clock is still held by this transaction).
    extra = len(entries) - len(pending)
    more_seq = (await advance_clock(session, extra))[0] if extra else 0
    seqs = [*range(first_seq, first_seq + len(pending)), *range(more_seq, more_seq + extra)]
    for entry, seq in zip(entries, sorted(seqs), strict=True):
        entry.seq = seq
        session.add(entry)
    await emit_activity_events(session, pending, stamps, seen_after)
    await session.flush()


def diff(before: State | None, after: State, keys: Sequence[str] | None = None) -> dict[str, Any]:
    """``{field: {"before": ..., "after": ...}}`` for the fields that differ."""
    names = keys if keys is not None else list(after)
    old = before or {}
    return {
        k: {"before": old.get(k), "after": after.get(k)}
        for k in names
        if old.get(k) != after.get(k)
    }
