"""The hash-chained audit log: group commit, verification (SECURITY.md case 27: rows edited
or deleted in the database), listing, and stable hashes."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import threading
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import select, text

from services.gateway.audit import AuditLog, AuditUnavailable
from services.gateway.audit_chain import AuditRecord, entry_hash, normalised
from services.gateway.audit_verify import list_entries, verify_chain, verify_command
from services.gateway.models import AuditEntry, AuditHead
from shared.db import Database
from shared.pagination import encode_cursor
from shared.problems import Problem
from tests.conftest import on_postgres
from tests.gateway.support import T0, rec


async def write(db: Database, n: int, start: int = 0) -> None:
    log = AuditLog(db)
    for i in range(start, start + n):
        log.record(rec(i))
    assert await log.flush() == n


async def verify(db: Database, *, full: bool = False) -> tuple[bool, int, int | None, str | None]:
    r = await verify_chain(db, full=full)
    return r.ok, r.checked, r.first_broken_id, r.reason


async def sql(db: Database, statement: str) -> None:
    async with db.engine.begin() as conn:
        await conn.execute(text(statement))


async def test_flushed_entries_form_a_valid_chain(db: Database) -> None:
    await write(db, 5)
    await write(db, 3, start=5)
    assert await verify(db) == (True, 8, None, None)
    async with db.sessions() as session:
        ids = list(await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))
        head = await session.get(AuditHead, 1)
    assert ids == list(range(1, 9))
    assert head is not None
    assert head.last_id == 8


async def test_empty_log_verifies(db: Database) -> None:
    assert await verify(db) == (True, 0, None, None)
    assert await AuditLog(db).flush() == 0


async def test_hashes_are_stable_after_read_back(db: Database) -> None:
    lima = timezone(timedelta(hours=-5))
    awkward = [
        rec(0, duration_ms=0.1 + 0.2, at=datetime(2026, 3, 1, 7, 0, 0, 1, tzinfo=lima)),
        rec(1, duration_ms=123456.78949999, path="/cooperación/actividades?q=ñandú"),
        rec(2, duration_ms=1e-7, path="/a\x00b/" + "x" * 3000, ip=None, client_id=None),
        rec(3, path="/bad-\udcff-bytes", outcome="invalid_token"),
    ]
    log = AuditLog(db)
    for r in awkward:
        log.record(r)
    await log.flush()
    async with db.sessions() as session:
        rows = list(await session.scalars(select(AuditEntry).order_by(AuditEntry.id)))
    prev = "0" * 64
    for original, row in zip(awkward, rows, strict=True):
        back = AuditRecord(**{k: getattr(row, k) for k in AuditRecord.__dataclass_fields__})
        assert back == normalised(original)
        assert entry_hash(row.prev_hash, back) == row.hash == entry_hash(prev, normalised(original))
        prev = row.hash
    assert len(rows[2].path) == 2048
    assert await verify(db) == (True, 4, None, None)


async def test_naive_datetime_is_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        rec(0, at=datetime(2026, 1, 1))  # noqa: DTZ001 - naive on purpose: it is refused


@pytest.mark.parametrize(
    "change", ["status = 200", "path = '/inventory/v1/pcb/other'", "duration_ms = 0.5"]
)
async def test_case_27_edited_row_is_named(db: Database, change: str) -> None:
    """Case 27: a row edited in the database is named by the verification."""
    await write(db, 6)
    await sql(db, f"UPDATE audit_entries SET {change} WHERE id = 3")  # noqa: S608
    assert await verify(db) == (False, 2, 3, "hash mismatch")


async def test_case_27_edited_row_with_recomputed_hash_is_named(db: Database) -> None:
    """Case 27: rewriting a row and its hash breaks the link from the next row."""
    await write(db, 6)
    forged = normalised(rec(2, status=200))
    async with db.sessions() as session, session.begin():
        row = await session.get(AuditEntry, 3)
        assert row is not None
        row.status, row.hash = 200, entry_hash(row.prev_hash, forged)
    assert await verify(db) == (False, 3, 3, "entry 4 does not link to entry 3")


async def test_case_27_deleted_middle_row_names_the_gap(db: Database) -> None:
    """Case 27: a deleted row shows as a gap, naming the first entry after it."""
    await write(db, 6)
    await sql(db, "DELETE FROM audit_entries WHERE id = 3")
    assert await verify(db) == (False, 2, 4, "entry 3 is missing")
    await sql(db, "DELETE FROM audit_entries WHERE id = 4")
    assert await verify(db) == (False, 2, 5, "entries 3 to 4 are missing")


async def test_case_27_deleted_newest_rows_are_caught_by_the_head(db: Database) -> None:
    """Case 27: deleting the newest rows leaves the head pointing past the end."""
    await write(db, 6)
    await sql(db, "DELETE FROM audit_entries WHERE id >= 5")
    ok, checked, first, reason = await verify(db)
    assert (ok, checked, first) == (False, 4, 5)
    assert reason == "newest entries deleted after id 4 (the head records entry 6)"
    # Later writes continue after the head, so the deletion stays visible as a gap.
    await write(db, 2, start=6)
    assert await verify(db) == (False, 4, 7, "entries 5 to 6 are missing")


async def test_case_27_deleted_head_is_reported(
    db: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """Case 27: without its head the chain's end cannot be vouched for."""
    await write(db, 3)
    await sql(db, "DELETE FROM audit_head")
    assert await verify(db) == (False, 3, None, "the chain head (audit_head) is missing")
    # The writer carries on after the newest row rather than failing every flush.
    with caplog.at_level(logging.ERROR, logger="enlace.audit"):
        await write(db, 2, start=3)
    assert "audit head was missing" in caplog.text
    assert await verify(db) == (True, 5, None, None)


async def test_case_27_rows_appended_behind_the_heads_back(db: Database) -> None:
    """Case 27: a row inserted without the head is noticed."""
    await write(db, 2)
    await sql(db, "UPDATE audit_head SET last_id = 1")
    assert await verify(db) == (False, 2, 2, "entries after id 1 are not in the head")


async def test_concurrent_writers_keep_one_valid_chain(clean_databases: dict[str, str]) -> None:
    """Two gateway processes (two pools) flushing at once append to one chain in turn."""
    dbs = [Database(clean_databases["gateway"]) for _ in range(2)]
    logs = [AuditLog(d) for d in dbs]
    try:
        for round_ in range(5):
            for w, log in enumerate(logs):
                for i in range(20):
                    log.record(rec(1000 * w + 100 * round_ + i))
            assert await asyncio.gather(*(log.flush() for log in logs)) == [20, 20]
        assert await verify(dbs[0]) == (True, 200, None, None)
    finally:
        for d in dbs:
            await d.close()


def matches(r: AuditRecord, filters: dict[str, object]) -> bool:
    """What list_entries should select, computed the plain way."""
    for key, value in filters.items():
        if key == "since":
            ok = r.at >= value  # type: ignore[operator]
        elif key == "until":
            ok = r.at < value  # type: ignore[operator]
        else:
            ok = getattr(r, key) == value
        if not ok:
            return False
    return True


async def test_list_entries_filters_and_pages_without_gaps_or_duplicates(db: Database) -> None:
    log = AuditLog(db)
    records = [rec(i) for i in range(40)]
    for r in records:
        log.record(r)
    await log.flush()
    cases: list[dict[str, object]] = [
        {},
        {"client_id": "client-1"},
        {"org": "GIZ", "status": 201},
        {"since": T0 + timedelta(seconds=10), "until": T0 + timedelta(seconds=30)},
    ]
    for filters in cases:
        expected = [i + 1 for i, r in enumerate(records) if matches(r, filters)][::-1]
        seen: list[int] = []
        cursor: str | None = None
        async with db.sessions() as session:
            while True:
                page, cursor = await list_entries(session, cursor=cursor, limit=7, **filters)  # type: ignore[arg-type]
                seen.extend(e.id for e in page)
                if cursor is None:
                    break
        assert seen == expected, filters
        assert expected


async def test_list_entries_refuses_a_forged_cursor(db: Database) -> None:
    async with db.sessions() as session:
        for bad in ("not-a-cursor", encode_cursor(["1; DROP TABLE x"]), encode_cursor([True])):
            with pytest.raises(Problem) as caught:
                await list_entries(session, cursor=bad)
            assert caught.value.status == 400


async def test_an_entry_stored_nowhere_fails_its_request_and_refuses_new_ones(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """No database and no spool: the requests waiting on the entries learn it (they answer
    503), and new requests are refused for a while instead of being served unaudited."""
    threads_before = set(threading.enumerate())
    broken = Database("sqlite+aiosqlite:////nonexistent-enlace-dir/audit.db")
    log = AuditLog(broken, spool_dir=None)
    try:
        with caplog.at_level(logging.ERROR, logger="enlace.audit"):
            waiting = [log.record(rec(i)) for i in range(3)]
            assert not log.refusing()
            assert await log.flush() == 0
            for done in waiting:
                with pytest.raises(AuditUnavailable):
                    await done
            assert log.pending == 0
            assert log.refusing()
            assert "audit database write failed; 3 entries go to the spool" in caplog.text
            assert "audit entries stored nowhere" in caplog.text
    finally:
        await broken.close()
        # aiosqlite ends each failed connect on its own thread, which then calls back into
        # this event loop: let those threads finish while the loop still runs.
        for _ in range(500):
            started = set(threading.enumerate()) - threads_before
            if not any("_connection_worker_thread" in t.name for t in started):
                break
            await asyncio.sleep(0.01)


async def test_background_flusher_commits_each_entry_before_its_future_is_done(
    db: Database,
) -> None:
    log = AuditLog(db, flush_s=0.001)
    await log.start()
    try:
        for i in range(3):
            await log.record(rec(i))
            async with db.sessions() as session:
                assert (
                    await session.scalar(
                        select(AuditEntry.id).where(AuditEntry.request_id == f"req-{i}")
                    )
                    == i + 1
                )
        # Many at once share a flush (here: at most max_batch per transaction).
        await asyncio.gather(*(log.record(rec(i)) for i in range(3, 103)))
    finally:
        await log.close()
    assert log.pending == 0
    assert await verify(db) == (True, 103, None, None)


async def test_verify_command_prints_one_json_line(
    clean_databases: dict[str, str], db: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    await write(db, 2)
    assert await verify_command(clean_databases["gateway"]) == 0
    assert capsys.readouterr().out == (
        '{"ok":true,"checked":2,"first_broken_id":null,"reason":null,"verified_from":0,'
        '"crashed_sessions":[],"spooled":0,"answered_may_be_missing":false,'
        '"unanswered_may_be_missing":false}\n'
    )
    await sql(db, "UPDATE audit_entries SET status = 418 WHERE id = 2")
    # The checkpoint is entry 2 itself: the quick verification sees it changed.
    assert await verify_command(clean_databases["gateway"]) == 1
    assert '"first_broken_id":2' in capsys.readouterr().out
    assert await verify_command(clean_databases["gateway"], full=True) == 1
    out = capsys.readouterr().out
    assert '"first_broken_id":2,"reason":"hash mismatch"' in out
    assert '"answered_may_be_missing":true' in out


async def test_on_sqlite_a_batch_waits_for_another_writer_and_is_answered_only_once_committed(
    db: Database,
) -> None:
    """The flusher writes in the event loop only while nobody else holds SQLite's write lock;
    with the lock taken, the batch waits for it (in a worker thread) and its requests stay
    unanswered until it is committed."""
    if on_postgres():
        pytest.skip("SQLite's write lock")
    await write(db, 1)
    path = db.engine.url.database
    assert path is not None
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another writer holds the lock
        log = AuditLog(db)
        durable = log.record(rec(1))
        flushing = asyncio.create_task(log.flush())
        await asyncio.sleep(0.2)
        assert not durable.done(), "answered while its entry could not be committed"
        other.execute("COMMIT")
    finally:
        other.close()
    assert await flushing == 1
    await durable
    assert await verify(db) == (True, 2, None, None)
