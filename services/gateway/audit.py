"""The gateway's audit log writer: no answered request without its entry, by group commit.

``record()`` queues an entry and returns a future that is resolved once the entry is
durable; the gateway sends a response (its status line and headers) only after that
(edge.py). A flusher commits what is queued every ``flush_s`` (sooner when ``max_batch``
entries wait): many requests share one transaction, one INSERT.

When the database cannot take a batch, it goes to a local spool (audit_spool.py), fsync'ed
before the requests are answered, and every later batch follows it there until a background
drain has moved the spool into the chain, in order, exactly once; then writes go to the
database again. At start, spools left by processes that crashed (or stopped while the
database was down) are drained the same way. When neither the database nor the spool can
take an entry, the request is answered 503 with Retry-After instead, and for ``refuse_s``
new requests are refused before any work (``refusing()``).

Each process is an audit *session* (table ``audit_sessions``): registered and refreshed
every ``heartbeat_s``, and marked stopped at a clean shutdown. Verification
(audit_verify.py) reports sessions that ended without one: crashed processes, whose
requests not yet answered have no entry, while every answered one has.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections import deque
from collections.abc import Callable
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncConnection

from services.gateway import audit_chain as chain
from services.gateway import audit_spool as spool
from services.gateway.audit_chain import AuditRecord, SessionInfo, canonical, normalised
from shared.db import Database, sqlite_sync_twin

logger = logging.getLogger("enlace.audit")

T = TypeVar("T")
# Longest pause between attempts to drain a spool while the database is unreachable.
MAX_BACKOFF_S = 5.0


class AuditUnavailable(Exception):
    """Neither the database nor the spool could take an entry: its request is not answered."""


class AuditLog:
    """Group commit of audit entries, with a local spool while the database is down."""

    def __init__(
        self,
        db: Database,
        *,
        flush_s: float = 0.002,
        max_batch: int = 500,
        spool_dir: str | Path | None = None,
        heartbeat_s: float = 10.0,
        write_timeout_s: float = 5.0,
        refuse_s: float = 5.0,
    ) -> None:
        self._db = db
        self._sync = sqlite_sync_twin(db.engine, timeout_s=write_timeout_s)
        self._held: AsyncConnection | None = None  # the flusher's own, on PostgreSQL
        # On SQLite, the flusher's own connection in the event loop.
        self._now = chain.LoopWriter(self._sync) if self._sync is not None else None
        self._flush_s = flush_s
        self._max_batch = max_batch
        self._spool_dir = Path(spool_dir) if spool_dir else None
        self.heartbeat_s = heartbeat_s
        self._write_timeout_s = write_timeout_s
        self._refuse_s = refuse_s
        self.session = SessionInfo(
            uuid.uuid4().hex, socket.gethostname()[:255], os.getpid(), datetime.now(UTC)
        )
        self._queue: deque[tuple[AuditRecord, asyncio.Future[None]]] = deque()
        self._flushing = asyncio.Lock()
        self._wake = asyncio.Event()
        self._full = asyncio.Event()
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        self._beat_task: asyncio.Task[None] | None = None
        self._drain_task: asyncio.Task[None] | None = None
        # While a spool segment is open, every batch goes there (order is kept).
        self._spool: spool.SpoolWriter | None = None
        self._spool_offset = 0  # how far the drain has read the open segment
        self._spooled = 0  # the next entry number of this session's spool
        self._refuse_until = 0.0

    async def _transaction(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(connection, *args)`` in one transaction: whole in a worker thread on SQLite
        (bounded by its busy timeout: a thread cannot be stopped, so it is never given up
        while it may still commit), through the async driver within the write timeout
        otherwise (a commit cut short there is handled as ambiguous by the spool)."""
        if self._sync is not None:
            return await asyncio.to_thread(self._sync_transaction, self._sync, fn, *args)
        async with asyncio.timeout(self._write_timeout_s), self._db.engine.begin() as conn:
            return await conn.run_sync(fn, *args)

    async def _append(self, records: list[tuple[AuditRecord, str]]) -> None:
        if self._sync is not None and self._now is not None:
            # In the event loop when the write lock is free at once: a batch of a few rows is
            # a few hundred µs of CPU either way, and the hop to a worker thread and back
            # (and the GIL handed over twice) cost as much again. Another writer holding the
            # lock: in a worker thread, waiting for it up to the busy timeout.
            if not self._now.append(records):
                await asyncio.to_thread(chain.append_pooled, self._sync, records)
            return
        if self._db.engine.dialect.name != "postgresql":
            await self._transaction(chain.append, records)
            return
        async with asyncio.timeout(self._write_timeout_s):
            driver, transaction = await self._begin()
            try:
                await chain.append_asyncpg(driver, records)
                await transaction.commit()
            except BaseException:
                await self._drop_connection()
                raise
            if self._task is None:  # no flusher running (a one-off flush): give it back
                await self._release_connection()

    async def _begin(self) -> tuple[Any, Any]:
        """PostgreSQL: a transaction on the flusher's own connection (a pool checkout, with
        its ping, cost more than the flush itself). A held connection found dead at BEGIN
        (the server restarted meanwhile) is replaced once; nothing was sent on it yet."""
        for attempt in range(2):
            held = self._held is not None
            if self._held is None:
                self._held = await self._db.engine.connect()
            try:
                driver: Any = (await self._held.get_raw_connection()).driver_connection
                transaction = driver.transaction()
                await transaction.start()
                return driver, transaction
            except Exception:
                await self._drop_connection()
                if attempt or not held:
                    raise
        raise AssertionError("unreachable")

    async def _drop_connection(self) -> None:
        """Discard the held connection (after an error: its state is unknown)."""
        if self._held is not None:
            with contextlib.suppress(Exception):
                await self._held.invalidate()
        await self._release_connection()

    async def _release_connection(self) -> None:
        conn, self._held = self._held, None
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    @staticmethod
    def _sync_transaction(engine: Engine, fn: Callable[..., T], *args: Any) -> T:
        with engine.begin() as conn:
            return fn(conn, *args)

    @property
    def write_engine(self) -> Engine:
        """The engine whose connections write the chain."""
        return self._sync if self._sync is not None else self._db.engine.sync_engine

    @property
    def spool_dir(self) -> Path | None:
        """Where entries go while the database cannot take them (None: nowhere)."""
        return self._spool_dir

    @property
    def pending(self) -> int:
        """Entries waiting to be written."""
        return len(self._queue)

    @property
    def spooling(self) -> bool:
        """True while entries go to the spool instead of the database."""
        return self._spool is not None

    def refusing(self) -> bool:
        """True for a while after an entry could be stored nowhere: requests are refused."""
        return time.monotonic() < self._refuse_until

    def record(self, rec: AuditRecord) -> asyncio.Future[None]:
        """Queue ``rec``; the future is done once it is durable (or fails with
        ``AuditUnavailable``). Never blocks."""
        done = asyncio.get_running_loop().create_future()
        self._queue.append((normalised(rec), done))
        self._wake.set()
        if len(self._queue) >= self._max_batch:
            self._full.set()
        return done

    async def start(self) -> None:
        """Start the flusher, and drain spools that earlier processes left."""
        if self._task is None:
            self._stopping = False
            self._task = asyncio.create_task(self._run(), name="audit-flusher")
            self._beat_task = asyncio.create_task(self._beat(), name="audit-heartbeat")
            if spool.segments(self._spool_dir):
                self._start_drain()

    async def _run(self) -> None:
        while not self._stopping:
            await self._wake.wait()
            if self._queue and len(self._queue) < self._max_batch and self._flush_s > 0:
                # Let a few more requests join this transaction.
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(self._flush_s):
                        await self._full.wait()
            self._wake.clear()
            self._full.clear()
            try:
                async with self._flushing:
                    await self._flush_batch()
            except Exception:  # never expected (_store handles failures): keep flushing
                logger.exception("audit flusher error")
                await asyncio.sleep(0.1)
            if self._queue:
                self._wake.set()

    async def flush(self) -> int:
        """Write everything queued now; how many entries became durable."""
        written = 0
        async with self._flushing:
            while self._queue:
                written += await self._flush_batch()
        return written

    async def _flush_batch(self) -> int:
        n = min(len(self._queue), self._max_batch)
        if not n:
            return 0
        items = [self._queue.popleft() for _ in range(n)]
        records = [rec for rec, _ in items]
        try:
            stored = await self._store(records)
        except BaseException:
            # Cancelled (shutdown): the entries are not lost, the next flush writes them.
            self._queue.extendleft(reversed(items))
            raise
        for _, done in items:
            if done.done():  # its request was cancelled while waiting
                continue
            if stored:
                done.set_result(None)
            else:
                done.set_exception(AuditUnavailable())
        return n if stored else 0

    async def _store(self, records: list[AuditRecord]) -> bool:
        """Make ``records`` durable in the database, else in the spool; False if neither."""
        if self._spool is None:
            texts = [canonical(rec) for rec in records]  # before the head is locked
            try:
                await self._append(list(zip(records, texts, strict=True)))
                return True
            except Exception:
                logger.error(
                    "audit database write failed; %d entries go to the spool",
                    len(records),
                    exc_info=True,
                )
            ambiguous = True
        else:
            ambiguous = False
        try:
            await asyncio.to_thread(self._append_to_spool, records, ambiguous)
        except Exception:
            logger.critical(
                "audit entries stored nowhere (database and spool failed): %d requests get "
                "503, new requests are refused for %s s",
                len(records),
                self._refuse_s,
                exc_info=True,
            )
            self._refuse_until = time.monotonic() + self._refuse_s
            return False
        self._start_drain()
        return True

    def _append_to_spool(self, records: list[AuditRecord], ambiguous: bool) -> None:
        # In a worker thread; only one batch at a time (the flush lock is held).
        if self._spool_dir is None:
            raise OSError("no audit spool directory is set (GATEWAY_AUDIT_SPOOL_DIR)")
        if self._spool is None:
            self._spool = spool.SpoolWriter.create(self._spool_dir, self.session, self._spooled)
            self._spool_offset = 0
        first = self._spooled
        self._spool.append(
            [spool.entry_line(first + i, rec, ambiguous=ambiguous) for i, rec in enumerate(records)]
        )
        self._spooled += len(records)

    async def _touch(self, *, stopped: bool = False) -> None:
        await self._transaction(
            partial(chain.touch_session, stopped=stopped), self.session, datetime.now(UTC)
        )

    async def _beat(self) -> None:
        """Register the session, then refresh it every ``heartbeat_s`` (not while spooling:
        the database is down then, and the spool names the session)."""
        while True:
            if self._spool is None:
                try:
                    await self._touch()
                except Exception:
                    logger.warning("audit session heartbeat failed", exc_info=True)
            await asyncio.sleep(self.heartbeat_s)

    # -- draining spools into the chain ------------------------------------------------------

    def _start_drain(self) -> None:
        if self._drain_task is None or self._drain_task.done():
            self._drain_task = asyncio.create_task(self._drain_loop(), name="audit-drain")

    async def _drain_loop(self) -> None:
        attempt = 0
        while True:
            try:
                await self._drain_others()
                await self._drain_own()
                return
            except Exception:
                logger.warning(
                    "audit spool not drained yet (attempt %d)", attempt + 1, exc_info=attempt == 0
                )
            if self._stopping:
                return
            await asyncio.sleep(min(0.25 * 2**attempt, MAX_BACKOFF_S))
            attempt += 1

    async def _store_spooled(self, contents: spool.SpoolContents, info: SessionInfo) -> int:
        """Move ``contents`` into the chain, ``max_batch`` entries per transaction."""
        entries, appended = contents.entries, 0
        for start in range(0, max(len(entries), 1), self._max_batch):
            part = entries[start : start + self._max_batch]
            last = start + self._max_batch >= len(entries)
            appended += await self._transaction(
                chain.append_spooled, info, part, contents.stopped_at if last else None
            )
        return appended

    async def _drain_others(self) -> None:
        """Segments of other processes whose writer is gone (crashed, or stopped while the
        database was down)."""
        for path in spool.segments(self._spool_dir):
            if self._spool is not None and path == self._spool.path:
                continue
            fd = await asyncio.to_thread(spool.lock_segment, path)
            if fd is None:
                continue  # its writer is alive
            try:
                contents = await asyncio.to_thread(spool.read_segment, path)
                if contents.session is not None:
                    appended = await self._store_spooled(contents, contents.session)
                    logger.warning("audit spool %s drained: %d entries", path.name, appended)
                path.unlink(missing_ok=True)
            finally:
                os.close(fd)

    async def _drain_own(self) -> None:
        """This process's open segment; the last part under the flush lock, so that no batch
        is spooled meanwhile and the next one goes to the database, after it."""
        while (segment := self._spool) is not None:
            contents = await asyncio.to_thread(spool.read_segment, segment.path, self._spool_offset)
            if len(contents.entries) > self._max_batch:  # catch up while requests go on
                await self._store_spooled(contents, self.session)
                self._spool_offset = contents.offset
                continue
            async with self._flushing:
                contents = await asyncio.to_thread(
                    spool.read_segment, segment.path, self._spool_offset
                )
                await self._store_spooled(contents, self.session)
                self._spool, self._spool_offset = None, 0
                await asyncio.to_thread(segment.close, unlink=True)
            logger.warning("audit database reachable again: the spool is in the chain")

    # -- shutdown -----------------------------------------------------------------------------

    async def close(self) -> None:
        """Stop the flusher, write what is left, and mark the session stopped cleanly (in the
        spool if the database is down: the next start drains it)."""
        self._stopping = True
        self._wake.set()
        if self._task is not None:
            await self._task
            self._task = None
        if self._beat_task is not None:
            self._beat_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._beat_task
            self._beat_task = None
        # A transient failure (a locked SQLite file, a PostgreSQL failover) must not lose the
        # last entries at shutdown: try a few times before giving up loudly.
        for attempt in range(5):
            await self.flush()
            if not self._queue:
                break
            await asyncio.sleep(0.1 * 2**attempt)
        if self._queue:
            logger.error("audit log closed with %d entries unwritten", len(self._queue))
        if self._drain_task is not None:
            self._drain_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._drain_task
        with contextlib.suppress(Exception):
            async with asyncio.timeout(self._write_timeout_s):
                await self._drain_own()
        await self._mark_stopped()
        await self._release_connection()
        if self._now is not None:
            self._now.close()
        if self._sync is not None:
            self._sync.dispose()

    async def _mark_stopped(self) -> None:
        if self._spool is None:
            try:
                await self._touch(stopped=True)
                return
            except Exception:
                logger.warning("audit session stop goes to the spool", exc_info=True)
        try:
            await asyncio.to_thread(self._spool_stop)
        except Exception:
            logger.error(
                "audit session %s could not be marked stopped: it will be reported as crashed",
                self.session.id,
                exc_info=True,
            )

    def _spool_stop(self) -> None:
        if self._spool_dir is None:
            raise OSError("no audit spool directory is set")
        if self._spool is None:
            self._spool = spool.SpoolWriter.create(self._spool_dir, self.session, self._spooled)
        self._spool.append([spool.stop_line(datetime.now(UTC))])
        self._spool.close(unlink=False)
        self._spool = None
