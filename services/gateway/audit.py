"""The gateway's tamper-evident audit log: records, the hash chain, its writer and verifier.

Each entry stores ``hash = SHA-256(prev_hash + canonical(record))`` and the ``prev_hash`` of
the entry before it; ``audit_head`` holds the id and hash of the newest entry. Editing a row
breaks its hash, deleting one breaks the id sequence and the link of its successor, and
deleting the newest rows leaves the head pointing past the end (SECURITY.md, case 27).
Someone able to rewrite every row *and* the head goes unnoticed: catching that needs an
anchor outside the database (e.g. the head hash copied periodically elsewhere).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
import math
from collections import deque
from dataclasses import asdict, dataclass, fields, replace
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Row, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import AuditEntry, AuditHead
from shared.db import Database
from shared.pagination import keyset_page

logger = logging.getLogger("enlace.audit")

GENESIS_HASH = "0" * 64
HEAD_ID = 1
MAX_QUEUE = 100_000
# Longest pause between retries while the database is unreachable.
MAX_BACKOFF_S = 5.0
_STREAM_BATCH = 1000


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


def _column_length(name: str) -> int | None:
    return getattr(AuditEntry.__table__.c[name].type, "length", None)


def _clean(value: str | None, name: str) -> str | None:
    """A string PostgreSQL will accept into column ``name``: a hostile path may carry NUL or
    undecodable bytes, and one rejected row would block every flush after it."""
    if value is None:
        return None
    value = value.encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\x00")
    length = _column_length(name)
    return value[:length] if length else value


def normalised(rec: AuditRecord) -> AuditRecord:
    """``rec`` exactly as the database will give it back, so its hash survives the trip."""
    texts: dict[str, Any] = {
        f.name: _clean(getattr(rec, f.name), f.name)
        for f in fields(rec)
        if f.name not in ("at", "status", "duration_ms")
    }
    return replace(rec, at=rec.at.astimezone(UTC), duration_ms=round(rec.duration_ms, 3), **texts)


def _canonical(rec: AuditRecord) -> str:
    values: dict[str, Any] = asdict(rec)
    values["at"] = rec.at.astimezone(UTC).isoformat(timespec="microseconds")
    # Fixed decimals: the float read back from either database prints the same way.
    values["duration_ms"] = f"{rec.duration_ms:.3f}"
    return json.dumps(values, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def entry_hash(prev_hash: str, rec: AuditRecord) -> str:
    """The chain hash of ``rec`` following an entry whose hash is ``prev_hash``."""
    return hashlib.sha256((prev_hash + _canonical(rec)).encode()).hexdigest()


def _record_of(row: Any) -> AuditRecord:
    return AuditRecord(**{f.name: getattr(row, f.name) for f in fields(AuditRecord)})


async def _lock_head(session: AsyncSession) -> tuple[int, str]:
    """Create the head if missing (``ON CONFLICT`` settles the race between first writers),
    then lock it. On SQLite that first write also takes the database's write lock before
    anything is read, so concurrent writers queue on ``busy_timeout`` instead of failing."""
    dialect = session.get_bind().dialect.name
    upsert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    await session.execute(
        upsert(AuditHead)
        .values(id=HEAD_ID, last_id=0, last_hash=GENESIS_HASH)
        .on_conflict_do_nothing(index_elements=["id"])
    )
    head = (
        await session.execute(
            select(AuditHead.last_id, AuditHead.last_hash)
            .where(AuditHead.id == HEAD_ID)
            .with_for_update()
        )
    ).one()
    if head.last_id == 0:
        # A fresh head over existing rows means it was deleted: carry on from the newest row
        # rather than collide with its ids; verification can no longer vouch for the tail.
        last = (
            await session.execute(
                select(AuditEntry.id, AuditEntry.hash).order_by(AuditEntry.id.desc()).limit(1)
            )
        ).first()
        if last is not None:
            logger.error("audit head was missing; continuing the chain after entry %d", last.id)
            return last.id, last.hash
    return head.last_id, head.last_hash


class AuditLog:
    """Buffers audit records in memory and appends them to the chain in the background, so
    a request never waits for the audit write."""

    def __init__(
        self,
        db: Database,
        *,
        flush_interval_s: float = 0.2,
        max_batch: int = 500,
        max_queue: int = MAX_QUEUE,
    ) -> None:
        self._db = db
        self._interval = flush_interval_s
        # Reaching max_batch wakes the flusher early; it is also the size of each INSERT.
        self._max_batch = max_batch
        self._max_queue = max_queue
        self._queue: deque[AuditRecord] = deque()
        self._dropped = 0
        self._failures = 0
        self._flushing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        """Records waiting to be written."""
        return len(self._queue)

    def record(self, rec: AuditRecord) -> None:
        """Queue ``rec`` for the next flush (never blocks, never touches the database)."""
        self._queue.append(normalised(rec))
        self._trim()
        if len(self._queue) >= self._max_batch:
            self._wake.set()

    def _trim(self) -> None:
        # Bounded memory while the database is down: the oldest records go first.
        while len(self._queue) > self._max_queue:
            self._queue.popleft()
            self._dropped += 1

    async def start(self) -> None:
        """Start the background flusher."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="audit-flusher")

    async def _run(self) -> None:
        while not self._stopping:
            # Back off while flushes fail, so an outage is not hammered five times a second.
            delay = min(self._interval * 2 ** min(self._failures, 10), MAX_BACKOFF_S)
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(delay):
                    await self._wake.wait()
            self._wake.clear()
            await self.flush()

    async def flush(self) -> int:
        """Append everything queued to the chain in one transaction; the number written.

        On failure the records go back to the front of the queue (logged) for the next try.
        """
        async with self._flushing:
            if self._dropped:
                logger.error("audit queue full: dropped %d oldest records", self._dropped)
                self._dropped = 0
            if not self._queue:
                return 0
            batch = list(self._queue)
            self._queue.clear()
            try:
                await self._write(batch)
            except BaseException as exc:
                self._queue.extendleft(reversed(batch))
                self._trim()
                if not isinstance(exc, Exception):
                    raise  # cancellation: the records are safe, let it through
                self._failures += 1
                logger.error(
                    "audit flush failed; %d records kept for retry",
                    len(batch),
                    exc_info=True,
                )
                return 0
            self._failures = 0
            return len(batch)

    async def _write(self, batch: list[AuditRecord]) -> None:
        async with self._db.sessions() as session, session.begin():
            last_id, last_hash = await _lock_head(session)
            rows: list[dict[str, Any]] = []
            for rec in batch:
                # Ids come from the locked head, not a sequence: a rolled-back flush would
                # burn sequence values and leave gaps indistinguishable from deletions.
                last_id += 1
                prev, last_hash = last_hash, entry_hash(last_hash, rec)
                rows.append({"id": last_id, **asdict(rec), "prev_hash": prev, "hash": last_hash})
            for start in range(0, len(rows), self._max_batch):
                await session.execute(insert(AuditEntry), rows[start : start + self._max_batch])
            await session.execute(
                update(AuditHead)
                .where(AuditHead.id == HEAD_ID)
                .values(last_id=last_id, last_hash=last_hash)
            )

    async def close(self) -> None:
        """Stop the flusher and write what is left."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        # A transient failure (a locked SQLite file, a PostgreSQL failover) must not lose the
        # last records at shutdown: try a few times before giving up loudly.
        for attempt in range(5):
            await self.flush()
            if not self._queue:
                break
            await asyncio.sleep(0.1 * 2**attempt)
        if self._queue:
            logger.error("audit log closed with %d records unwritten", len(self._queue))


@dataclass
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``first_broken_id`` is the oldest entry the chain can no longer vouch for: an edited
    row; the row whose hash its successor does not link to (rewritten with a fresh hash);
    the first surviving row after deleted ones; or, when the newest rows were deleted, the
    first missing id. ``None`` when ok, or when the head itself is missing. ``checked``
    counts the entries that passed before the first break.
    """

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None


@dataclass
class _Walk:
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    checked: int = 0
    broken: ChainReport | None = None


def _check(walk: _Walk, row: Row[Any]) -> ChainReport | None:
    if row.id != walk.last_id + 1:
        first, last = walk.last_id + 1, row.id - 1
        missing = f"entry {first} is" if first == last else f"entries {first} to {last} are"
        return ChainReport(False, walk.checked, row.id, f"{missing} missing")
    if entry_hash(row.prev_hash, _record_of(row)) != row.hash:
        return ChainReport(False, walk.checked, row.id, "hash mismatch")
    if row.prev_hash != walk.last_hash:
        if walk.last_id == 0:
            return ChainReport(False, 0, row.id, f"entry {row.id} does not start the chain")
        # This row is intact, so the one before was rewritten with a recomputed hash.
        reason = f"entry {row.id} does not link to entry {walk.last_id}"
        return ChainReport(False, walk.checked, walk.last_id, reason)
    return None


async def _walk_from(session: AsyncSession, walk: _Walk) -> int:
    """Check the rows after ``walk.last_id`` in id order, streamed; how many were seen."""
    table = AuditEntry.__table__
    result = await session.stream(
        select(table)
        .where(table.c.id > walk.last_id)
        .order_by(table.c.id)
        .execution_options(yield_per=_STREAM_BATCH)
    )
    seen = 0
    async for row in result:
        seen += 1
        walk.broken = _check(walk, row)
        if walk.broken is not None:
            await result.close()
            break
        walk.last_id, walk.last_hash, walk.checked = row.id, row.hash, walk.checked + 1
    return seen


async def verify_chain(session: AsyncSession) -> ChainReport:
    """Recompute the whole chain, oldest first, and compare its end with the head."""
    walk = _Walk()
    while True:
        seen = await _walk_from(session, walk)
        if walk.broken is not None:
            return walk.broken
        # The head is read after the rows and is written with them, so it can only be
        # ahead because of entries committed meanwhile: read on until none appear.
        head = (
            await session.execute(
                select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
            )
        ).first()
        if head is None or head.last_id <= walk.last_id or seen == 0:
            break
    n, last = walk.checked, walk.last_id
    if head is None:
        if n == 0:
            return ChainReport(True, 0)
        return ChainReport(False, n, None, "the chain head (audit_head) is missing")
    if head.last_id > last:
        return ChainReport(
            False,
            n,
            last + 1,
            f"newest entries deleted after id {last} (the head records entry {head.last_id})",
        )
    if head.last_id < last:
        return ChainReport(
            False, n, head.last_id + 1, f"entries after id {head.last_id} are not in the head"
        )
    if head.last_hash != walk.last_hash:
        return ChainReport(False, n, last, f"entry {last} does not match the head")
    return ChainReport(True, n)


async def list_entries(
    session: AsyncSession,
    *,
    client_id: str | None = None,
    org: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> tuple[list[AuditEntry], str | None]:
    """Entries newest first, filtered; ``since`` is inclusive, ``until`` exclusive."""
    stmt = select(AuditEntry)
    if client_id is not None:
        stmt = stmt.where(AuditEntry.client_id == client_id)
    if org is not None:
        stmt = stmt.where(AuditEntry.org == org)
    if since is not None:
        stmt = stmt.where(AuditEntry.at >= since)
    if until is not None:
        stmt = stmt.where(AuditEntry.at < until)
    if status is not None:
        stmt = stmt.where(AuditEntry.status == status)
    return await keyset_page(
        session, stmt, [AuditEntry.id], cursor=cursor, limit=limit, descending=True
    )


async def verify_command(database_url: str) -> int:
    """Verify the chain at ``database_url``; print the report as one JSON line; exit code."""
    db = Database(database_url)
    try:
        async with db.sessions() as session:
            report = await verify_chain(session)
    finally:
        await db.close()
    print(json.dumps(asdict(report), separators=(",", ":")))
    return 0 if report.ok else 1
