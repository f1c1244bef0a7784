"""The import's bulk statements, by dialect: PostgreSQL looks items up by ``unnest`` arrays
and writes them by binary COPY; SQLite (and PostgreSQL where COPY does not pay) uses
``INSERT ... ON CONFLICT DO UPDATE`` with many rows a statement."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from operator import itemgetter
from typing import Any, cast

import asyncpg  # type: ignore[import-untyped]
from sqlalchemy import Table, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.imports.records import (
    ANALYSIS_KEY,
    ANALYSIS_UPDATED,
    ITEM_KEY,
    UPDATED_ON_CONFLICT,
    ItemKey,
)
from services.inventory.pcb.models import PcbAnalysis, PcbItem, PcbStatusEvent


def table(model: Any) -> Table:
    """Core tables, not ORM entities: bulk statements then skip the ORM's per-row work."""
    return cast(Table, model.__table__)


def is_postgres(session: AsyncSession) -> bool:
    return bool(session.get_bind().dialect.name == "postgresql")


def insert(session: AsyncSession, target: Table) -> Any:
    """INSERT with the dialect's ON CONFLICT support (PostgreSQL or SQLite)."""
    return (postgresql if is_postgres(session) else sqlite).insert(target)


async def driver(session: AsyncSession) -> Any:
    """The asyncpg connection under the session, in the session's transaction."""
    connection = await session.connection()
    raw = await connection.get_raw_connection()
    return raw.driver_connection


@asynccontextmanager
async def translated(statement: str) -> AsyncIterator[None]:
    """Statements run on the asyncpg connection itself bypass SQLAlchemy, and so its
    translation of the driver's errors: a constraint violation (a concurrent import of the
    same new items) is made the ``IntegrityError`` the services answer 409 to."""
    try:
        yield
    except asyncpg.IntegrityConstraintViolationError as exc:
        raise IntegrityError(statement, None, exc) from exc


async def existing_items(
    session: AsyncSession, submission_id: int, keys: set[ItemKey]
) -> dict[ItemKey, tuple[int, str, date | None]]:
    """The id, status and status date of each stored item of ``keys`` in the
    submission."""
    if is_postgres(session):
        # Exact keys as arrays: index lookups, one bound parameter per column.
        holders, makers, serials = (list(c) for c in zip(*keys, strict=True))
        records = await (await driver(session)).fetch(
            "SELECT p.holder_id, p.manufacturer, p.serial_number, p.id, p.status, "
            "p.status_since "
            "FROM unnest($2::int[], $3::text[], $4::text[]) AS k(h, m, s) "
            "JOIN pcb_items p ON p.submission_id = $1 AND p.holder_id = k.h "
            "AND p.manufacturer = k.m AND p.serial_number = k.s",
            submission_id,
            holders,
            makers,
            serials,
        )
        return {(r[0], r[1], r[2]): (r[3], r[4], r[5]) for r in records}
    found = await session.execute(
        select(
            PcbItem.holder_id,
            PcbItem.manufacturer,
            PcbItem.serial_number,
            PcbItem.id,
            PcbItem.status,
            PcbItem.status_since,
        ).where(
            PcbItem.submission_id == submission_id,
            PcbItem.holder_id.in_({k[0] for k in keys}),
            PcbItem.serial_number.in_({k[2] for k in keys}),
        )
    )
    return {(h, m, s): (i, st, since) for h, m, s, i, st, since in found.all() if (h, m, s) in keys}


async def upsert_items(
    session: AsyncSession, items: dict[ItemKey, dict[str, Any]]
) -> dict[ItemKey, int]:
    """INSERT ... ON CONFLICT DO UPDATE, many rows per statement; the ids by key."""
    target = table(PcbItem)
    statement = insert(session, target)
    upsert = statement.on_conflict_do_update(
        index_elements=list(ITEM_KEY),
        set_={
            **{c: statement.excluded[c] for c in UPDATED_ON_CONFLICT},
            "updated_at": statement.excluded.updated_at,
            "version": target.c.version + 1,
        },
    ).returning(target.c.holder_id, target.c.manufacturer, target.c.serial_number, target.c.id)
    result = await session.execute(upsert, list(items.values()))
    return {(h, m, s): i for h, m, s, i in result.all()}


async def copy_items(
    session: AsyncSession,
    items: dict[ItemKey, dict[str, Any]],
    existing: dict[ItemKey, int],
    *,
    staging: bool,
) -> dict[ItemKey, int]:
    """PostgreSQL: new items by COPY with ids drawn from the sequence, existing ones by
    one UPDATE from a COPYed temporary table (made when ``staging`` is false). Binary COPY
    costs a fraction of bound parameters; a concurrent insert of the same key fails the
    import (``IntegrityError``, so 409), it never duplicates. ``items`` are the records by
    key, each with the same columns (a new one gets its ``id``)."""
    async with translated("COPY pcb_items"):
        return await _copy_items(session, items, existing, staging=staging)


_UPDATED = itemgetter(*UPDATED_ON_CONFLICT, "updated_at")


async def _copy_items(
    session: AsyncSession,
    items: dict[ItemKey, dict[str, Any]],
    existing: dict[ItemKey, int],
    *,
    staging: bool,
) -> dict[ItemKey, int]:
    connection = await driver(session)
    columns = list(next(iter(items.values())))
    ids: dict[ItemKey, int] = {}
    new = [key for key in items if key not in existing]
    if new:
        drawn = await connection.fetch(
            "SELECT nextval(pg_get_serial_sequence('pcb_items', 'id')) FROM generate_series(1, $1)",
            len(new),
        )
        values = itemgetter("id", *columns)
        records = []
        for key, (item_id,) in zip(new, drawn, strict=True):
            ids[key] = item_id
            record = items[key]
            record["id"] = item_id
            records.append(values(record))
        await connection.copy_records_to_table(
            "pcb_items", columns=["id", *columns], records=records
        )
    if len(new) < len(items):
        names = ", ".join(UPDATED_ON_CONFLICT)
        if not staging:
            await connection.execute(
                f"CREATE TEMP TABLE import_items ON COMMIT DROP AS SELECT id, {names}, "  # noqa: S608
                "updated_at FROM pcb_items WITH NO DATA"
            )
        else:
            await connection.execute("TRUNCATE import_items")
        updated = []
        for key, record in items.items():
            item_id = existing.get(key)
            if item_id is not None:
                ids[key] = item_id
                updated.append((item_id, *_UPDATED(record)))
        await connection.copy_records_to_table(
            "import_items", columns=["id", *UPDATED_ON_CONFLICT, "updated_at"], records=updated
        )
        updates = ", ".join(f"{c} = t.{c}" for c in UPDATED_ON_CONFLICT)
        await connection.execute(
            f"UPDATE pcb_items p SET {updates}, updated_at = t.updated_at, "  # noqa: S608
            "version = p.version + 1 FROM import_items t WHERE p.id = t.id"
        )
    return ids


async def insert_events(session: AsyncSession, history: list[dict[str, Any]]) -> None:
    """Append status events (COPY on PostgreSQL)."""
    if is_postgres(session):
        columns = list(history[0])
        values = itemgetter(*columns)
        async with translated("COPY pcb_status_events"):
            await (await driver(session)).copy_records_to_table(
                "pcb_status_events", columns=columns, records=[values(h) for h in history]
            )
    else:
        await session.execute(insert(session, table(PcbStatusEvent)), history)


async def upsert_analyses(session: AsyncSession, records: list[dict[str, Any]]) -> None:
    """Analyses by item, method, date and sample: new ones added, known ones updated."""
    statement = insert(session, table(PcbAnalysis))
    upsert = statement.on_conflict_do_update(
        index_elements=list(ANALYSIS_KEY),
        set_={c: statement.excluded[c] for c in ANALYSIS_UPDATED},
    )
    await session.execute(upsert, records)
