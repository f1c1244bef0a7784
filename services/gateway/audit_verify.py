"""Verifying the audit chain, and saying whether a crash may have cost entries; listing.

The walk reads the entries in id order, ``chunk_rows`` per query (each its own short
transaction, no lock taken), and hashes each chunk in a worker thread, so other requests
keep being served. It remembers the newest entry it found intact (``audit_checkpoint``) and
the next verification starts there: it checks that this entry is still present and
unchanged (its hash recomputed), that its successor links to it, and everything after.
The trade-off: a row edited *before* the checkpoint is found only by a full verification
(``full=True``, from the first entry), so run one now and then (e.g. nightly) besides the
quick ones.
"""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway import audit_spool
from services.gateway.audit_chain import GENESIS_HASH, HEAD_ID, entry_hash, record_of, upsert
from services.gateway.models import AuditCheckpoint, AuditEntry, AuditHead, AuditSession
from shared.db import Database
from shared.pagination import keyset_page

# Rows per query: the rows are read on the event loop (~10 ms per 1,000 here), then hashed
# in a worker thread that hands the GIL back every YIELD_ROWS rows.
CHUNK_ROWS = 2000
YIELD_ROWS = 100
CHECKPOINT_ID = 1
# A session not stopped and not seen for this many heartbeats has crashed.
LOST_HEARTBEATS = 3
MAX_CRASHED_LISTED = 20


@dataclass
class ChainReport:
    """The outcome of :func:`verify_chain`.

    ``first_broken_id`` is the oldest entry the chain can no longer vouch for: an edited
    row; the row whose hash its successor does not link to (rewritten with a fresh hash);
    the first surviving row after deleted ones; or, when the newest rows were deleted, the
    first missing id. ``None`` when ok, or when the head itself is missing. ``checked``
    counts the entries that passed before the first break (those before the checkpoint
    included). ``verified_from``: the walk started after this entry, found intact earlier
    (0: from the first entry).
    """

    ok: bool
    checked: int
    first_broken_id: int | None = None
    reason: str | None = None
    verified_from: int = 0


@dataclass
class _Walk:
    last_id: int = 0
    last_hash: str = GENESIS_HASH
    checked: int = 0


def _check(walk: _Walk, row: Row[Any]) -> ChainReport | None:
    if row.id != walk.last_id + 1:
        first, last = walk.last_id + 1, row.id - 1
        missing = f"entry {first} is" if first == last else f"entries {first} to {last} are"
        return ChainReport(False, walk.checked, row.id, f"{missing} missing")
    if entry_hash(row.prev_hash, record_of(row)) != row.hash:
        return ChainReport(False, walk.checked, row.id, "hash mismatch")
    if row.prev_hash != walk.last_hash:
        if walk.last_id == 0:
            return ChainReport(False, 0, row.id, f"entry {row.id} does not start the chain")
        # This row is intact, so the one before was rewritten with a recomputed hash.
        reason = f"entry {row.id} does not link to entry {walk.last_id}"
        return ChainReport(False, walk.checked, walk.last_id, reason)
    return None


def _check_rows(walk: _Walk, rows: list[Row[Any]]) -> ChainReport | None:
    """Check ``rows`` after ``walk``, advancing it (CPU only: run in a worker thread)."""
    for n, row in enumerate(rows, 1):
        if n % YIELD_ROWS == 0:
            time.sleep(0)  # let the event loop's thread have the GIL now and then
        broken = _check(walk, row)
        if broken is not None:
            return broken
        walk.last_id, walk.last_hash, walk.checked = row.id, row.hash, walk.checked + 1
    return None


async def _resume(db: Database, walk: _Walk) -> ChainReport | None:
    """Start ``walk`` at the checkpoint, if its entry is unchanged; else the report."""
    async with db.sessions() as session:
        point = await session.get(AuditCheckpoint, CHECKPOINT_ID)
        if point is None:
            return None
        row = (
            await session.execute(
                select(AuditEntry.__table__).where(AuditEntry.id == point.last_id)
            )
        ).first()
    if (
        row is None
        or row.hash != point.last_hash
        or entry_hash(row.prev_hash, record_of(row)) != row.hash
    ):
        when = point.verified_at.strftime("%Y-%m-%d %H:%M UTC")
        reason = (
            f"entry {point.last_id}, found intact by the verification of {when}, is missing "
            "or was changed (verify with full=true)"
        )
        return ChainReport(False, point.last_id - 1, point.last_id, reason, point.last_id)
    walk.last_id = walk.checked = point.last_id
    walk.last_hash = point.last_hash
    return None


async def _save_checkpoint(db: Database, walk: _Walk) -> None:
    async with db.sessions() as session, session.begin():
        stmt = upsert(session)(AuditCheckpoint).values(
            id=CHECKPOINT_ID,
            last_id=walk.last_id,
            last_hash=walk.last_hash,
            verified_at=datetime.now(UTC),
        )
        # Forward only: a slower verification running beside this one never moves it back.
        await session.execute(
            stmt.on_conflict_do_update(
                index_elements=["id"],
                set_={c: stmt.excluded[c] for c in ("last_id", "last_hash", "verified_at")},
                where=AuditCheckpoint.last_id < stmt.excluded.last_id,
            )
        )


async def _head(db: Database) -> Row[int, str] | None:
    async with db.sessions() as session:
        head = (
            await session.execute(
                select(AuditHead.last_id, AuditHead.last_hash).where(AuditHead.id == HEAD_ID)
            )
        ).first()
    return head


def _against_head(walk: _Walk, head: Row[int, str] | None) -> ChainReport:
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


async def verify_chain(
    db: Database, *, full: bool = False, chunk_rows: int = CHUNK_ROWS
) -> ChainReport:
    """Recompute the chain from the checkpoint (``full``: from the first entry), in chunks
    off the event loop, and compare its end with the head."""
    walk = _Walk()
    if not full and (broken := await _resume(db, walk)) is not None:
        return broken
    start = walk.last_id
    table = AuditEntry.__table__
    seen = 0
    while True:
        async with db.sessions() as session:
            rows = list(
                await session.execute(
                    select(table)
                    .where(table.c.id > walk.last_id)
                    .order_by(table.c.id)
                    .limit(chunk_rows)
                )
            )
        if rows:
            broken = await asyncio.to_thread(_check_rows, walk, rows)
            if broken is not None:
                broken.verified_from = start
                return broken
            await _save_checkpoint(db, walk)
            seen += len(rows)
            if len(rows) == chunk_rows:
                continue
        # The head is read after the rows and is written with them, so it can only be
        # ahead because of entries committed meanwhile: read on until none appear.
        head = await _head(db)
        if head is None or head.last_id <= walk.last_id or seen == 0:
            break
        seen = 0
    report = _against_head(walk, head)
    report.verified_from = start
    return report


@dataclass
class CrashReport:
    """Whether entries may be missing beyond what the chain shows.

    Every request is answered only once its entry is durable (in the chain, or in a spool
    that is drained into it), so an answered request lacks an entry only if the chain was
    tampered with or entries still wait in a spool. A process that crashed (its session has
    no clean stop) lost the entries of requests it had not answered yet: their callers got
    no answer.
    """

    crashed_sessions: list[dict[str, Any]] = field(default_factory=list)
    spooled: int = 0
    answered_may_be_missing: bool = False
    unanswered_may_be_missing: bool = False


async def crash_report(
    db: Database,
    chain_ok: bool,
    *,
    own_session: str | None,
    heartbeat_s: float,
    spool_dir: Path | None,
) -> CrashReport:
    """Sessions that ended without a clean stop (newest first), and entries still spooled
    in ``spool_dir`` (this host's)."""
    cutoff = datetime.now(UTC) - timedelta(seconds=LOST_HEARTBEATS * heartbeat_s)
    async with db.sessions() as session:
        rows = list(
            await session.scalars(
                select(AuditSession)
                .where(
                    AuditSession.stopped_at.is_(None),
                    AuditSession.id != (own_session or ""),
                    AuditSession.seen_at < cutoff,
                )
                .order_by(AuditSession.started_at.desc())
                .limit(MAX_CRASHED_LISTED)
            )
        )
    spooled = await asyncio.to_thread(audit_spool.waiting, spool_dir)
    crashed = [
        {
            "session": r.id,
            "host": r.host,
            "pid": r.pid,
            "started_at": r.started_at.isoformat(),
            "last_seen_at": r.seen_at.isoformat(),
            "spool_drained": r.spool_drained,
        }
        for r in rows
    ]
    return CrashReport(
        crashed_sessions=crashed,
        spooled=spooled,
        answered_may_be_missing=not chain_ok or spooled > 0,
        unanswered_may_be_missing=bool(crashed),
    )


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


async def verify_command(
    database_url: str, *, full: bool = False, spool_dir: str = "", heartbeat_s: float = 10.0
) -> int:
    """Verify the chain at ``database_url``; print the report as one JSON line; exit code."""
    db = Database(database_url)
    try:
        report = await verify_chain(db, full=full)
        crashes = await crash_report(
            db,
            report.ok,
            own_session=None,
            heartbeat_s=heartbeat_s,
            spool_dir=Path(spool_dir) if spool_dir else None,
        )
    finally:
        await db.close()
    print(json.dumps(asdict(report) | asdict(crashes), separators=(",", ":")))
    return 0 if report.ok else 1
