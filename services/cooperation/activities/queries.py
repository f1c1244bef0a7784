"""Reading activities: visibility, keyset pages in (updated_at, id) order, the
change feed and the history."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path
from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.filters import ActivityFilters, filter_clauses
from services.cooperation.activities.models import (
    IDENTIFIER_LENGTH,
    Activity,
    ActivityChange,
    ActivityHistory,
)
from services.cooperation.activities.state import FULL_LOAD, load_refs
from services.cooperation.activities.state_rows import ACTIVITY_COLUMNS, Exported, load_states
from services.cooperation.activities.sync import audience_clause, public_clause, visible_clause
from services.cooperation.activities.views import (
    ChangeOut,
    ChangePage,
    HistoryEntryOut,
    HistoryPage,
)
from services.cooperation.programs.models import Organisation, WorkProgram
from shared.conditional import etag
from shared.pagination import check_cursor, decode_cursor, encode_cursor
from shared.security import Principal

ORDER = (Activity.updated_at, Activity.id)

IdentifierPath = Annotated[
    str,
    Path(
        min_length=3,
        max_length=IDENTIFIER_LENGTH,  # an import may bring identifiers longer than ours
        pattern=r"^[^\s/&|?#%\\]+$",
        description="The activity's IATI identifier.",
        examples=["US-GOV-32-OEFA-ENF-01"],
    ),
]


async def org_id(session: AsyncSession, principal: Principal | None) -> int | None:
    """The caller's registered organisation (None: anonymous or not registered)."""
    if principal is None or not principal.org:
        return None
    found: int | None = await session.scalar(
        select(Organisation.id).where(Organisation.code == principal.org)
    )
    return found


async def visibility(
    session: AsyncSession, principal: Principal | None, *, public_only: bool
) -> ColumnElement[bool]:
    """What the caller may read: the public views get published public activities only."""
    if public_only:
        return public_clause()
    return visible_clause(principal, await org_id(session, principal))


@dataclass(frozen=True)
class View:
    """What a caller may read (``seen``) and the name of that set in ETags (``audience``):
    two callers who may see different sets never share a cached answer."""

    seen: ColumnElement[bool]
    audience: str


async def view_of(session: AsyncSession, principal: Principal) -> View:
    """The signed-in caller's view."""
    seen = await visibility(session, principal, public_only=False)
    return View(seen, audience_key(principal, False))


def public_view() -> View:
    """Published public activities, for anyone."""
    return View(public_clause(), "public")


def activities_stmt(seen: ColumnElement[bool], filters: ActivityFilters) -> Any:
    """The activity rows (``ACTIVITY_COLUMNS``) ``seen`` and ``filters`` select."""
    return select(*ACTIVITY_COLUMNS).where(seen, *filter_clauses(filters))


async def activity_rows(
    session: AsyncSession,
    seen: ColumnElement[bool],
    filters: ActivityFilters,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None, str | None]:
    """A page in (updated_at, id) order: activity rows (``ACTIVITY_COLUMNS``), next cursor,
    resume cursor. Enough for the page's ETag (ids and versions); ``load_states`` reads
    the rest.

    The cursor becomes a WHERE on (updated_at, id), never an OFFSET, so a page costs the
    same at any depth. The resume cursor names the last row returned (or echoes ``cursor``
    on an empty page): rows updated later always sort after it, so a client that keeps it
    misses nothing. Rows, not ORM objects: a page is read like a small export.
    """
    check_cursor(cursor, ORDER)
    stmt = activities_stmt(seen, filters)
    if cursor is not None:
        stamp, last_id = decode_cursor(cursor, 2)
        stmt = stmt.where(tuple_(*ORDER) > tuple_(datetime.fromisoformat(stamp), last_id))
    rows = list(await session.execute(stmt.order_by(*ORDER).limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    resume = encode_cursor([rows[-1].updated_at.isoformat(), rows[-1].id]) if rows else cursor
    return rows, resume if more else None, resume


async def page_states(session: AsyncSession, rows: list[Any]) -> list[Exported]:
    """The activities of a page's rows, every part loaded (``with_ids``, as the API shows)."""
    return await load_states(session, rows, await load_refs(session), with_ids=True)


async def activity_total(
    session: AsyncSession, seen: ColumnElement[bool], filters: ActivityFilters
) -> int:
    """How many activities ``seen`` and ``filters`` select (every page)."""
    stmt = select(func.count()).select_from(Activity).where(seen, *filter_clauses(filters))
    return int(await session.scalar(stmt) or 0)


async def visible_activity(
    session: AsyncSession, identifier: str, seen: ColumnElement[bool]
) -> Activity | None:
    return await session.scalar(
        select(Activity).where(Activity.identifier == identifier, seen).options(*FULL_LOAD)
    )


# --- export versions --------------------------------------------------------------------


async def export_version(session: AsyncSession) -> list[Any]:
    """What every export depends on: the newest change and the programs' versions (for
    ETags: any change to an activity or a program changes it)."""
    newest = await session.scalar(select(func.max(ActivityChange.seq))) or 0
    rows = await session.execute(select(WorkProgram.code, WorkProgram.version))
    return [newest, *sorted((str(c), int(v)) for c, v in rows)]


def audience_key(principal: Principal | None, public_only: bool) -> str:
    """Who an export is for (part of its ETag: two callers may see different sets)."""
    if public_only or principal is None:
        return "public"
    return f"org:{principal.org}"


async def export_etag(
    session: AsyncSession, kind: str, audience: str, filters: ActivityFilters
) -> str:
    return etag(kind, audience, repr(filters), *(await export_version(session)))


# --- change feed --------------------------------------------------------------------------


async def change_page(
    session: AsyncSession, principal: Principal | None, *, after: int, limit: int
) -> ChangePage:
    """The caller's change feed after ``after``.

    An entry is an upsert when the caller can see the activity after the change, a delete
    or a withdrawal when it could before but not after, and left out otherwise. The newest
    ``seq`` is read first and the page is bounded by it: every smaller seq is committed
    (see ``sync``), so when the page is not full the caller can jump to it safely.
    """
    newest = await session.scalar(select(func.max(ActivityChange.seq))) or 0
    after_seen = audience_clause(ActivityChange.audience_after, principal)
    before_seen = audience_clause(ActivityChange.audience_before, principal)
    stmt = (
        select(ActivityChange, after_seen.label("seen_after"))
        .where(ActivityChange.seq > after, ActivityChange.seq <= newest)
        .where(after_seen | before_seen)
        .order_by(ActivityChange.seq)
        .limit(limit + 1)
    )
    rows = list((await session.execute(stmt)).all())
    full = len(rows) > limit
    rows = rows[:limit]
    items = []
    for change, seen_after in rows:
        kind = "upsert" if seen_after else ("delete" if change.kind == "delete" else "withdrawn")
        items.append(
            ChangeOut(seq=change.seq, identifier=change.identifier, kind=kind, at=change.at)
        )
    next_after = rows[-1][0].seq if full else max(newest, after)
    return ChangePage(items=items, next_after=next_after)


# --- history ------------------------------------------------------------------------------


async def history_page(
    session: AsyncSession, activity_id: int, *, cursor: str | None, limit: int
) -> HistoryPage:
    """The history of one activity, oldest first."""
    stmt = select(ActivityHistory).where(ActivityHistory.activity_id == activity_id)
    if cursor is not None:
        check_cursor(cursor, [ActivityHistory.id])
        stmt = stmt.where(ActivityHistory.id > decode_cursor(cursor, 1)[0])
    rows = list(await session.scalars(stmt.order_by(ActivityHistory.id).limit(limit + 1)))
    next_cursor = encode_cursor([rows[limit - 1].id]) if len(rows) > limit else None
    return HistoryPage(
        items=[
            HistoryEntryOut(
                id=h.id,
                at=h.at,
                version=h.version,
                client_id=h.client_id,
                org=h.org,
                action=h.action,
                changes=json.loads(h.changes_json),
            )
            for h in rows[:limit]
        ],
        next_cursor=next_cursor,
    )
