"""The audit log's hash chain: records, their hashes, and appending them to the database.

Each entry stores ``hash = SHA-256(prev_hash + canonical(record))`` and the ``prev_hash`` of
the entry before it; ``audit_head`` holds the id and hash of the newest entry. Editing a row
breaks its hash, deleting one breaks the id sequence and the link of its successor, and
deleting the newest rows leaves the head pointing past the end (SECURITY.md, case 27).
Someone able to rewrite every row *and* the head goes unnoticed: catching that needs an
anchor outside the database (e.g. the head hash copied periodically elsewhere).

Appending locks the head row, so writers (several gateway processes on one database
included) take turns; each batch is one INSERT statement, so the lock is held for a few
round trips only. The functions that write are synchronous, on a ``Connection``: the writer
runs them whole in one worker thread on SQLite, and through ``AsyncConnection.run_sync`` on
asyncpg (audit.py).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Row, String, Table, bindparam, insert, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import AuditEntry, AuditHead, AuditSession

if TYPE_CHECKING:
    from services.gateway.audit_spool import SpoolEntry

logger = logging.getLogger("enlace.audit")

GENESIS_HASH = "0" * 64
HEAD_ID = 1


@dataclass(frozen=True)
class SessionInfo:
    """One gateway process as the audit log knows it (its audit session)."""

    id: str
    host: str
    pid: int
    started_at: datetime


@dataclass(frozen=True)
class AuditRecord:
    """What the gateway knows about one request, before it joins the chain."""

    at: datetime
    client_id: str | None
    org: str | None
    method: str
    path: str
    status: int
    request_id: str
    duration_ms: float
    ip: str | None
    body_sha256: str | None
    outcome: str | None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None:
            raise ValueError("AuditRecord.at must be timezone-aware")
        if not math.isfinite(self.duration_ms):
            raise ValueError("AuditRecord.duration_ms must be finite")


_TEXT_FIELDS = {
    f.name: getattr(AuditEntry.__table__.c[f.name].type, "length", None)
    for f in fields(AuditRecord)
    if f.name not in ("at", "status", "duration_ms")
}


def _clean(value: str | None, length: int | None) -> str | None:
    """A string PostgreSQL will accept into a column of ``length``: a hostile path may carry NUL or
    undecodable bytes, and one rejected row would block every flush after it."""
    if value is None:
        return None
    if not value.isascii() or "\x00" in value:
        value = value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    return value[:length] if length else value


def normalised(rec: AuditRecord) -> AuditRecord:
    """``rec`` exactly as the database will give it back, so its hash survives the trip
    (``rec`` itself when it is already: the gateway's own records usually are)."""
    texts: dict[str, Any] = {}
    for name, length in _TEXT_FIELDS.items():
        value = getattr(rec, name)
        cleaned = _clean(value, length)
        if cleaned is not value:
            texts[name] = cleaned
    duration = round(rec.duration_ms, 3)
    if not texts and rec.at.tzinfo is UTC and duration == rec.duration_ms:
        return rec
    return replace(rec, at=rec.at.astimezone(UTC), duration_ms=duration, **texts)


def canonical(rec: AuditRecord) -> str:
    """The text of ``rec`` that its hash covers."""
    values: dict[str, Any] = dict(vars(rec))
    values["at"] = rec.at.astimezone(UTC).isoformat(timespec="microseconds")
    # Fixed decimals: the float read back from either database prints the same way.
    values["duration_ms"] = f"{rec.duration_ms:.3f}"
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def link(prev_hash: str, canonical_text: str) -> str:
    """The chain hash of an entry whose canonical text is given, after ``prev_hash``."""
    return hashlib.sha256((prev_hash + canonical_text).encode()).hexdigest()


def entry_hash(prev_hash: str, rec: AuditRecord) -> str:
    """The chain hash of ``rec`` following an entry whose hash is ``prev_hash``."""
    return link(prev_hash, canonical(rec))


def record_of(row: Row[Any] | AuditEntry) -> AuditRecord:
    """The record an entry row holds."""
    return AuditRecord(**{f.name: getattr(row, f.name) for f in fields(AuditRecord)})


def upsert(conn: Connection | AsyncSession) -> Any:
    """``insert`` of the connection's dialect, with ``on_conflict_do_*``."""
    dialect = conn.get_bind().dialect if isinstance(conn, AsyncSession) else conn.dialect
    return postgresql.insert if dialect.name == "postgresql" else sqlite.insert


_TABLE: Table = AuditEntry.metadata.tables[AuditEntry.__tablename__]
_COLUMNS = [c.name for c in _TABLE.c]


def _pg_batch(placeholder: Callable[[int, str], str]) -> str:
    """PostgreSQL: the whole batch and the head in one statement, one array parameter per
    column whatever the number of rows (no bound-parameter limit), one round trip.
    ``placeholder(position, name)`` writes a parameter (SQLAlchemy's or asyncpg's style)."""
    pg = postgresql.dialect()  # type: ignore[no-untyped-call]
    arrays = ", ".join(
        f"CAST({placeholder(i, c.name)} AS "
        f"{'TEXT' if isinstance(c.type, String) else c.type.compile(pg)}[])"
        for i, c in enumerate(_TABLE.c, start=3)
    )
    return (
        f"WITH head AS (UPDATE audit_head SET last_id = {placeholder(1, 'head_last_id')}, "  # noqa: S608 - names from the model
        f"last_hash = {placeholder(2, 'head_last_hash')} WHERE id = {HEAD_ID}) "
        f"INSERT INTO audit_entries ({', '.join(_COLUMNS)}) SELECT * FROM unnest({arrays})"
    )


_PG_LOCK = (
    "INSERT INTO audit_head (id, last_id, last_hash) VALUES ($1, 0, $2) "
    "ON CONFLICT (id) DO UPDATE SET id = excluded.id RETURNING last_id, last_hash"
)
_PG_BATCH = _pg_batch(lambda i, _: f"${i}")
_NEWEST = select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)


@cache
def _statements(dialect: str) -> tuple[Any, Any, Any]:
    """Built once per dialect (SQLAlchemy then reuses their compiled form): the head lock,
    the batch insert and the head update."""
    upsert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = upsert_(AuditHead).values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH)
    # Creates the head if missing (ON CONFLICT settles the race between first writers),
    # locks it and reads it, in one statement. On SQLite it is a write, so it also takes
    # the database's write lock before anything is read: concurrent writers queue on
    # busy_timeout instead of failing on a stale read.
    lock = stmt.on_conflict_do_update(
        index_elements=["id"], set_={"id": stmt.excluded.id}
    ).returning(AuditHead.last_id, AuditHead.last_hash)
    if dialect == "postgresql":
        return lock, text(_pg_batch(lambda _, name: f":{name}")), None
    head = (
        update(AuditHead)
        .where(AuditHead.id == HEAD_ID)
        .values(last_id=bindparam("head_last_id"), last_hash=bindparam("head_last_hash"))
    )
    # Core, not the ORM's bulk insert (which splits rows by their pattern of NULLs): one
    # prepared statement, stepped once per row in-process (executemany).
    return lock, insert(_TABLE), head


def _after_fresh_head(newest: Any) -> tuple[int, str] | None:
    # A fresh head over existing rows means it was deleted: carry on from the newest row
    # rather than collide with its ids; verification can no longer vouch for the tail.
    if newest is None:
        return None
    logger.error("audit head was missing; continuing the chain after entry %d", newest[0])
    return newest[0], newest[1]


def _lock_head(conn: Connection) -> tuple[int, str]:
    """Lock the head (creating it if missing); the id and hash of the newest entry."""
    head = (conn.execute(_statements(conn.dialect.name)[0])).one()
    if head.last_id == 0 and (after := _after_fresh_head(conn.execute(_NEWEST).first())):
        return after
    return head.last_id, head.last_hash


def _rows_after(
    head: tuple[int, str], records: Sequence[tuple[AuditRecord, str]]
) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """The rows of ``records`` after ``head``, and the head's new values."""
    last_id, last_hash = head
    rows: list[dict[str, Any]] = []
    for rec, text_ in records:
        # Ids come from the locked head, not a sequence: a rolled-back flush would burn
        # sequence values and leave gaps indistinguishable from deletions.
        last_id += 1
        prev, last_hash = last_hash, link(last_hash, text_)
        rows.append({"id": last_id, **vars(rec), "prev_hash": prev, "hash": last_hash})
    return rows, {"head_last_id": last_id, "head_last_hash": last_hash}


def _append_after(
    conn: Connection, head: tuple[int, str], records: Sequence[tuple[AuditRecord, str]]
) -> None:
    if not records:
        return
    rows, moved = _rows_after(head, records)
    _, batch, head_update = _statements(conn.dialect.name)
    if head_update is None:  # PostgreSQL: one statement
        conn.execute(batch, {c: [r[c] for r in rows] for c in _COLUMNS} | moved)
    else:
        conn.execute(batch, rows)
        conn.execute(head_update, moved)


def append(conn: Connection, records: Sequence[tuple[AuditRecord, str]]) -> None:
    """Append ``records`` (each with its canonical text, made before the head is locked) to
    the chain, in the caller's transaction: the head is locked until it commits."""
    _append_after(conn, _lock_head(conn), records)


_SQLITE_LOCK = _PG_LOCK.replace("$1", "?").replace("$2", "?")
_SQLITE_INSERT = (
    f"INSERT INTO audit_entries ({', '.join(_COLUMNS)}) "  # noqa: S608 - names from the model
    f"VALUES ({', '.join('?' for _ in _COLUMNS)})"
)
_LOCKED = (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
_SQLITE_HEAD = "UPDATE audit_head SET last_id = ?, last_hash = ? WHERE id = ?"


def _sqlite_value(value: Any) -> Any:
    # As SQLAlchemy's SQLite DATETIME stores it (UTCDateTime: naive UTC), so it reads back
    # equal and the hash still matches.
    if isinstance(value, datetime):
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")
    return value


def append_sqlite(dbapi: Any, records: Sequence[tuple[AuditRecord, str]]) -> None:
    """SQLite: :func:`append` on the driver's own connection (``sqlite3``), committed: the
    same statements, without SQLAlchemy's execution layer (which cost more than the
    statements themselves). Rolled back on any error."""
    cursor = dbapi.cursor()
    try:
        head = cursor.execute(_SQLITE_LOCK, (HEAD_ID, GENESIS_HASH)).fetchone()
        last = (head[0], head[1])
        if last[0] == 0:
            newest = cursor.execute(
                "SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1"
            ).fetchone()
            last = _after_fresh_head(newest) or last
        rows, moved = _rows_after(last, records)
        cursor.executemany(
            _SQLITE_INSERT, [tuple(_sqlite_value(r[c]) for c in _COLUMNS) for r in rows]
        )
        cursor.execute(_SQLITE_HEAD, (moved["head_last_id"], moved["head_last_hash"], HEAD_ID))
        dbapi.commit()
    except BaseException:
        dbapi.rollback()
        raise
    finally:
        cursor.close()


def append_pooled(engine: Engine, records: Sequence[tuple[AuditRecord, str]]) -> None:
    """SQLite: :func:`append_sqlite` on a connection of ``engine``'s pool (a worker thread:
    it may wait for the write lock up to the busy timeout)."""
    connection = engine.raw_connection()
    try:
        append_sqlite(connection.driver_connection, records)
    finally:
        connection.close()


class LoopWriter:
    """SQLite: a connection of its own for appending in the event loop, which never waits for
    the write lock: ``append`` returns False, nothing written, when another writer holds it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._conn: Any = None

    def append(self, records: Sequence[tuple[AuditRecord, str]]) -> bool:
        if self._conn is None:
            self._conn = self.engine.raw_connection()
            driver = self._conn.driver_connection
            driver.execute("PRAGMA busy_timeout=0")
            # Checkpoints (an fsync each) are left to the pool's connections, which commit in
            # worker threads (the audit heartbeat at least).
            driver.execute("PRAGMA wal_autocheckpoint=0")
        try:
            append_sqlite(self._conn.driver_connection, records)
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) in _LOCKED:
                return False
            self.close()
            raise
        except BaseException:
            self.close()
            raise
        return True

    def close(self) -> None:
        """Drop the connection (it never goes back to the pool with these pragmas)."""
        conn, self._conn = self._conn, None
        if conn is not None:
            with contextlib.suppress(Exception):
                conn.invalidate()


async def append_asyncpg(pg: Any, records: Sequence[tuple[AuditRecord, str]]) -> None:
    """PostgreSQL: :func:`append` on the driver's own connection (asyncpg), in its
    transaction. The same two statements; SQLAlchemy's execution layer around them cost
    about three times the round trips themselves."""
    head = await pg.fetchrow(_PG_LOCK, HEAD_ID, GENESIS_HASH)
    last = (head["last_id"], head["last_hash"])
    if last[0] == 0:
        newest = await pg.fetchrow("SELECT id, hash FROM audit_entries ORDER BY id DESC LIMIT 1")
        last = _after_fresh_head(newest) or last
    rows, moved = _rows_after(last, records)
    columns = ([r[c] for r in rows] for c in _COLUMNS)
    await pg.execute(_PG_BATCH, moved["head_last_id"], moved["head_last_hash"], *columns)


def _session_row(conn: Connection, info: SessionInfo, seen_at: datetime) -> Any:
    return upsert(conn)(AuditSession).values(
        id=info.id,
        host=info.host,
        pid=info.pid,
        started_at=info.started_at,
        seen_at=seen_at,
        spool_drained=0,
    )


def touch_session(
    conn: Connection, info: SessionInfo, now: datetime, *, stopped: bool = False
) -> None:
    """Register the process's audit session, or note that it is alive at ``now`` (and, with
    ``stopped``, that it stopped cleanly then)."""
    stmt = _session_row(conn, info, now)
    changes: dict[str, Any] = {"seen_at": stmt.excluded.seen_at}
    if stopped:
        stmt = stmt.values(stopped_at=now)
        changes["stopped_at"] = now
    conn.execute(stmt.on_conflict_do_update(index_elements=["id"], set_=changes))


def _already_in_chain(conn: Connection, rec: AuditRecord) -> bool:
    found = conn.scalar(
        select(AuditEntry.id)
        .where(
            AuditEntry.at == rec.at,
            AuditEntry.request_id == rec.request_id,
            AuditEntry.path == rec.path,
        )
        .limit(1)
    )
    return found is not None


def append_spooled(
    conn: Connection,
    info: SessionInfo,
    entries: Sequence[SpoolEntry],
    stopped_at: datetime | None,
) -> int:
    """Append spooled entries of session ``info`` that are not in the chain yet, and move
    the session's drain mark past them in the same transaction (so each joins the chain
    exactly once); the number appended."""
    head = _lock_head(conn)  # first: every writer takes its turn on the head
    # A process that never reached the database has no row yet: its spool names it.
    conn.execute(
        _session_row(conn, info, info.started_at).on_conflict_do_nothing(index_elements=["id"])
    )
    drained = conn.scalar(
        select(AuditSession.spool_drained).where(AuditSession.id == info.id).with_for_update()
    )
    todo = [e for e in entries if e.n >= (drained or 0)]
    # The batch whose database write failed may have been committed after all.
    if todo and todo[0].ambiguous and head[0] and _already_in_chain(conn, todo[0].record):
        todo = [e for e in todo if not e.ambiguous]
    _append_after(conn, head, [(e.record, canonical(e.record)) for e in todo])
    values: dict[str, Any] = {}
    if entries:
        values["spool_drained"] = max(drained or 0, entries[-1].n + 1)
    if stopped_at is not None:
        values["stopped_at"] = stopped_at
    if values:
        conn.execute(update(AuditSession).where(AuditSession.id == info.id).values(**values))
    return len(todo)
