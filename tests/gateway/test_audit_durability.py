"""No answered request without its audit entry (issue 9, item 12): a response starts only
once its entry is committed; one INSERT per batch; a spool while the database is down,
drained in order and exactly once, also by the next process; two writers on one database;
what verification says after a crash."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import event, func, select, text
from sqlalchemy.engine import make_url
from starlette.types import Message

from services.gateway import audit_spool
from services.gateway.audit import AuditLog
from services.gateway.audit_chain import SessionInfo, normalised
from services.gateway.audit_verify import crash_report, verify_chain
from services.gateway.models import AuditEntry, AuditSession
from services.gateway.settings import GatewaySettings
from shared.db import Database
from tests.conftest import Tokens, migrate, on_postgres
from tests.gateway.support import (
    T0,
    TcpRelay,
    asgi_transport,
    bearer,
    raw_request,
    rec,
    running_gateway,
)

HOLDERS = "/inventory/v1/holders"


async def eventually(condition: Callable[[], bool], what: str, timeout_s: float = 60) -> None:
    """Wait until ``condition()`` holds (background work: a drain), generously bounded."""
    for _ in range(int(timeout_s / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"not yet after {timeout_s} s: {what}")


async def request_ids(db: Database) -> list[str]:
    async with db.sessions() as session:
        return list(await session.scalars(select(AuditEntry.request_id).order_by(AuditEntry.id)))


# -- a response starts only once its entry is committed ----------------------------------------


async def audited_at_start(
    app: FastAPI, db: Database, method: str, target: str, **kwargs: Any
) -> tuple[int, bool]:
    """Send one request to ``app``; at the moment its response starts, look its request id
    up in the audit table through another engine. (status, whether the entry was there)"""
    request_id = uuid.uuid4().hex
    seen: dict[str, bool] = {}

    async def on_start(_: Message) -> None:
        async with db.sessions() as session:
            found = await session.scalar(
                select(func.count())
                .select_from(AuditEntry)
                .where(AuditEntry.request_id == request_id)
            )
        seen["audited"] = found == 1

    headers = {"X-Request-ID": request_id, **kwargs.pop("headers", {})}
    response = await raw_request(
        app, target.encode(), method=method, headers=headers, on_start=on_start, **kwargs
    )
    return response.status, seen["audited"]


async def test_every_kind_of_answer_starts_only_after_its_entry_is_committed(
    gateway_app: FastAPI, tokens: Tokens, db: Database
) -> None:
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    writer = await tokens.headers("writer-test", "MINAM", "inventory:write")
    body = b'{"name": "x"}'
    cases: list[tuple[str, str, dict[str, Any]]] = [
        ("GET", HOLDERS, {"headers": reader}),  # proxied
        ("POST", HOLDERS, {"headers": writer | {"content-length": str(len(body))}, "body": body}),
        ("GET", HOLDERS, {}),  # refused by the gateway: no token
        ("GET", "/health/live", {}),
        ("GET", "/nowhere", {}),
        ("POST", "/oauth/token", {"headers": {"authorization": "Basic bm86bm8="}}),
        ("GET", "/admin/clients", {"headers": reader}),  # 403
        ("POST", HOLDERS, {"headers": writer | {"content-length": str(10**9)}}),  # 413
        ("GET", "/health/live", {"headers": {f"x-h{i}": "1" for i in range(101)}}),  # 431
    ]
    statuses = []
    for method, target, kwargs in cases:
        status, audited = await audited_at_start(gateway_app, db, method, target, **kwargs)
        assert audited, (method, target, status)
        statuses.append(status)
    assert statuses[2:] == [401, 200, 404, 400, 403, 413, 431]
    async with db.sessions() as session:
        digest = await session.scalar(
            select(AuditEntry.body_sha256)
            .where(AuditEntry.method == "POST", AuditEntry.path == HOLDERS)
            .order_by(AuditEntry.id)
            .limit(1)
        )
    assert digest == hashlib.sha256(body).hexdigest()


# -- one statement per batch -------------------------------------------------------------------


def statements_of(log: AuditLog) -> list[str]:
    """The SQL the audit log's writes send from now on, as the driver itself executes it on
    each connection the write engine opens (both write through the driver: asyncpg's query
    logger, sqlite3's trace callback). sqlite3 traces each row an ``executemany`` steps its
    one prepared statement through, with the row's values: a run of rows of the same
    statement (the same text before ``VALUES``) is one statement here."""
    seen: list[str] = []
    if on_postgres():

        def on_connect(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.driver_connection.add_query_logger(lambda q: seen.append(q.query))

    else:

        def traced(sql: str) -> None:
            statement = sql.partition(" VALUES ")[0]
            if not seen or seen[-1] != statement:
                seen.append(statement)

        def on_connect(dbapi_connection: Any, _: Any) -> None:
            dbapi_connection.set_trace_callback(traced)

    event.listen(log.write_engine, "connect", on_connect)
    return seen


async def test_a_flush_of_1000_rows_with_mixed_nulls_is_one_insert_statement(db: Database) -> None:
    log = AuditLog(db, max_batch=1000)
    seen = statements_of(log)
    records = [
        rec(
            i,
            client_id=None if i % 3 == 0 else f"client-{i}",
            org=None if i % 5 == 0 else "GIZ",
            ip=None if i % 7 == 0 else "192.0.2.9",
            outcome="rate_limited" if i % 11 == 0 else None,
        )
        for i in range(1, 1001)
    ]
    log.record(rec(0))
    await log.flush()  # the chain's first flush also looks for rows left without a head
    seen.clear()
    for r in records:
        log.record(r)
    assert await log.flush() == 1000
    statements = [s for s in seen if "audit_" in s]
    inserts = [s for s in statements if "INSERT INTO audit_entries" in s]
    assert len(inserts) == 1
    # The head lock, the batch, and (on SQLite) the head update: the lock is held that long.
    assert len(statements) <= 3, statements
    assert (await verify_chain(db)).checked == 1001
    async with db.sessions() as session:
        nulls = await session.get(AuditEntry, 106)  # i = 105
        values = await session.get(AuditEntry, 12)  # i = 11
    assert nulls is not None
    assert values is not None
    assert (nulls.client_id, nulls.org, nulls.ip, nulls.outcome) == (None, None, None, None)
    assert (values.client_id, values.org, values.ip, values.outcome) == (
        "client-11",
        "GIZ",
        "192.0.2.9",
        "rate_limited",
    )


# -- the database down: the spool ----------------------------------------------------------------


@dataclass
class Outage:
    """A gateway database that is down until ``up()``; ``down()`` (PostgreSQL only) cuts
    it again, open connections included."""

    url: str
    up: Callable[[], Awaitable[None]]
    down: Callable[[], Awaitable[None]] | None


@pytest.fixture
async def outage(clean_databases: dict[str, str], tmp_path: Path) -> AsyncIterator[Outage]:
    if on_postgres():
        target = make_url(clean_databases["gateway"])
        relay = TcpRelay(target.host or "127.0.0.1", target.port or 5432)
        url = target.set(host="127.0.0.1", port=relay.port).render_as_string(False)
        yield Outage(url, relay.start, relay.stop)
        await relay.stop()
        return
    path = tmp_path / "not-yet" / "gateway.db"
    url = f"sqlite+aiosqlite:///{path}"

    async def up() -> None:
        path.parent.mkdir()
        migrate("gateway", url)

    yield Outage(url, up, None)


async def test_entries_spooled_while_the_database_is_down_join_the_chain_in_order_once(
    outage: Outage, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    db = Database(outage.url)
    log = AuditLog(db, spool_dir=spool_dir, write_timeout_s=2)
    await log.start()
    try:
        # Each future done = the entry is durable: in the spool, the database being down.
        await asyncio.gather(*(log.record(rec(i)) for i in range(30)))
        assert log.spooling
        assert audit_spool.waiting(spool_dir) == 30
        await asyncio.gather(*(log.record(rec(i)) for i in range(30, 50)))
        await outage.up()
        await eventually(lambda: not log.spooling, "the spool was drained")
        await log.record(rec(50))  # the database again, after the spooled entries
    finally:
        await log.close()
    assert await request_ids(db) == [f"req-{i}" for i in range(51)]
    report = await verify_chain(db, full=True)
    assert (report.ok, report.checked) == (True, 51)
    assert audit_spool.segments(spool_dir) == []
    await db.close()


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="cuts the connection to a database server")
async def test_an_outage_in_the_middle_of_the_traffic_loses_and_reorders_nothing(
    outage: Outage, tmp_path: Path
) -> None:
    assert outage.down is not None
    await outage.up()
    db = Database(outage.url)
    log = AuditLog(db, spool_dir=tmp_path / "spool", write_timeout_s=2)
    await log.start()
    try:
        for phase in range(3):  # up, down, up again
            if phase == 1:
                await outage.down()
            if phase == 2:
                await outage.up()
            await asyncio.gather(*(log.record(rec(100 * phase + i)) for i in range(40)))
            if phase == 1:
                assert log.spooling
        await eventually(lambda: not log.spooling, "the spool was drained")
    finally:
        await log.close()
    expected = [f"req-{100 * phase + i}" for phase in range(3) for i in range(40)]
    assert await request_ids(db) == expected
    assert (await verify_chain(db, full=True)).ok
    await db.close()


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="cuts the connection to a database server")
async def test_a_database_restart_between_flushes_is_not_an_outage(
    outage: Outage, tmp_path: Path
) -> None:
    """The flusher's own connection dies with the restart; it reconnects instead of
    spooling."""
    assert outage.down is not None
    await outage.up()
    db = Database(outage.url)
    log = AuditLog(db, spool_dir=tmp_path / "spool")
    await log.start()
    try:
        await log.record(rec(0))
        await outage.down()
        await outage.up()
        await log.record(rec(1))
        assert not log.spooling
        assert audit_spool.segments(tmp_path / "spool") == []
    finally:
        await log.close()
    assert await request_ids(db) == ["req-0", "req-1"]
    await db.close()


async def test_a_process_stopped_while_the_database_is_down_is_drained_by_the_next(
    outage: Outage, tmp_path: Path
) -> None:
    spool_dir = tmp_path / "spool"
    down = Database(outage.url)
    first = AuditLog(down, spool_dir=spool_dir, write_timeout_s=2)
    await first.start()
    await asyncio.gather(*(first.record(rec(i)) for i in range(10)))
    await first.close()  # still down: its clean stop goes to the spool as well
    await down.close()
    assert len(audit_spool.segments(spool_dir)) == 1
    await outage.up()
    db = Database(outage.url)
    second = AuditLog(db, spool_dir=spool_dir)
    await second.start()
    await eventually(lambda: not audit_spool.segments(spool_dir), "the old spool was drained")
    await second.record(rec(10))
    await second.close()
    assert await request_ids(db) == [f"req-{i}" for i in range(11)]
    async with db.sessions() as session:
        row = await session.get(AuditSession, first.session.id)
    assert row is not None
    assert row.stopped_at is not None
    assert row.spool_drained == 10
    report = await crash_report(db, True, own_session=None, heartbeat_s=0.001, spool_dir=spool_dir)
    assert report.crashed_sessions == []
    await db.close()


async def test_a_crashed_process_spool_is_drained_exactly_once(
    db: Database, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """What a process killed during an outage leaves: entries (the first batch perhaps
    committed after all, its write having failed at an unknown point), a line torn by the
    kill, no stop. Drained at the next start, again after a crash before the file went.
    An unreadable line does not stop the drain."""
    spool_dir = tmp_path / "spool"
    dead = SessionInfo("dead" * 8, "host-x", 4242, T0)
    earlier = AuditLog(db)
    for i in range(5):
        earlier.record(rec(i))
    await earlier.flush()  # the "failed" batch did commit
    lines = [audit_spool.entry_line(i, normalised(rec(i)), ambiguous=True) for i in range(5)]
    lines += [audit_spool.entry_line(i, normalised(rec(i)), ambiguous=False) for i in range(5, 9)]
    lines.insert(7, '{"n": 99, "record": {"torn": \n')  # a failed write: skipped, logged

    def leave_spool() -> None:
        segment = audit_spool.SpoolWriter.create(spool_dir, dead, 0)
        segment.append([*lines, lines[0][:40]])  # the kill tore the last line
        segment.close(unlink=False)

    for _ in range(2):  # the second time: as if the drainer crashed before removing it
        leave_spool()
        log = AuditLog(db, spool_dir=spool_dir)
        await log.start()
        await eventually(lambda: not audit_spool.segments(spool_dir), "the spool was drained")
        await log.close()
    assert await request_ids(db) == [f"req-{i}" for i in range(9)]
    assert "unreadable line skipped" in caplog.text
    assert (await verify_chain(db, full=True)).ok
    report = await crash_report(db, True, own_session=None, heartbeat_s=1, spool_dir=spool_dir)
    assert [(s["session"], s["pid"], s["spool_drained"]) for s in report.crashed_sessions] == [
        (dead.id, 4242, 9)
    ]
    assert report.unanswered_may_be_missing
    assert not report.answered_may_be_missing


# -- several processes, crashes ----------------------------------------------------------------


async def test_two_gateway_processes_on_one_database_keep_one_verifiable_chain(
    clean_databases: dict[str, str],
) -> None:
    dbs = [Database(clean_databases["gateway"]) for _ in range(2)]
    logs = [AuditLog(d, flush_s=0.001, max_batch=25) for d in dbs]
    for log in logs:
        await log.start()
    try:
        for wave in range(4):
            await asyncio.gather(
                *(
                    log.record(rec(10_000 * w + 100 * wave + i))
                    for i in range(60)
                    for w, log in enumerate(logs)
                )
            )
    finally:
        for log in logs:
            await log.close()
    report = await verify_chain(dbs[0], full=True)
    assert (report.ok, report.checked) == (True, 480)
    crashes = await crash_report(dbs[0], True, own_session=None, heartbeat_s=0.001, spool_dir=None)
    assert crashes.crashed_sessions == []
    async with dbs[0].sessions() as session:
        stopped = await session.scalar(
            select(func.count()).where(AuditSession.stopped_at.is_not(None))
        )
    assert stopped == 2
    for d in dbs:
        await d.close()


async def test_verify_names_a_process_that_stopped_reaching_the_database_without_stopping(
    db: Database,
) -> None:
    clean = AuditLog(db)
    await clean.start()
    await clean.record(rec(0))
    await clean.close()
    gone = AuditLog(db)
    await gone.start()
    try:
        await gone.record(rec(1))
        # Its last heartbeat an hour ago, no clean stop: it crashed.
        async with db.engine.begin() as conn:
            await conn.execute(
                text("UPDATE audit_sessions SET seen_at = :t WHERE id = :id"),
                {"t": T0, "id": gone.session.id},
            )
        report = await crash_report(db, True, own_session=None, heartbeat_s=10, spool_dir=None)
        assert [s["session"] for s in report.crashed_sessions] == [gone.session.id]
        assert report.unanswered_may_be_missing
        assert not report.answered_may_be_missing
        # A process never reports itself.
        mine = await crash_report(
            db, True, own_session=gone.session.id, heartbeat_s=10, spool_dir=None
        )
        assert mine.crashed_sessions == []
    finally:
        await gone.close()
    report = await crash_report(db, True, own_session=None, heartbeat_s=10, spool_dir=None)
    assert report.crashed_sessions == []


# -- incremental verification ------------------------------------------------------------------


async def test_verification_starts_at_the_last_verified_entry_in_chunks(db: Database) -> None:
    log = AuditLog(db)
    for i in range(10):
        log.record(rec(i))
    await log.flush()
    first = await verify_chain(db, chunk_rows=100)
    assert (first.ok, first.checked, first.verified_from) == (True, 10, 0)
    for i in range(10, 25):
        log.record(rec(i))
    await log.flush()
    chunks: list[str] = []

    def seen(*args: Any) -> None:
        if "FROM audit_entries" in args[2] and "ORDER BY audit_entries.id" in args[2]:
            chunks.append(args[2])

    event.listen(db.engine.sync_engine, "before_cursor_execute", seen)
    try:
        second = await verify_chain(db, chunk_rows=4)
    finally:
        event.remove(db.engine.sync_engine, "before_cursor_execute", seen)
    assert (second.ok, second.checked, second.verified_from) == (True, 25, 10)
    assert len(chunks) == 4  # entries 11-14, 15-18, 19-22, 23-25
    # The trade-off: an entry edited before the checkpoint is found by a full verification.
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entries SET status = 599 WHERE id = 3"))
    assert (await verify_chain(db)).ok
    full = await verify_chain(db, full=True)
    assert (full.ok, full.first_broken_id, full.reason) == (False, 3, "hash mismatch")
    # The checkpoint entry itself is checked every time.
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE audit_entries SET status = 599 WHERE id = 25"))
    quick = await verify_chain(db)
    assert (quick.ok, quick.first_broken_id) == (False, 25)
    assert "verify with full=true" in (quick.reason or "")


async def test_the_admin_verify_route_reports_chain_checkpoint_and_crashes(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.headers("admin-test", "MINAM", "admin")
    for _ in range(3):
        await gateway.get("/health/live")
    first = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    again = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    full = (await gateway.get("/admin/audit/verify?full=true", headers=admin)).json()
    assert [first["ok"], again["ok"], full["ok"]] == [True, True, True]
    assert first["verified_from"] == 0
    assert again["verified_from"] == first["checked"] > 0
    assert full["verified_from"] == 0
    assert full["checked"] >= again["checked"]
    assert full["crashed_sessions"] == []
    assert full["spooled"] == 0
    assert full["answered_may_be_missing"] is False
    assert full["unanswered_may_be_missing"] is False


# -- the gateway while its database is down ----------------------------------------------------


@pytest.fixture
async def relayed_settings(
    gateway_settings: GatewaySettings,
) -> AsyncIterator[tuple[GatewaySettings, TcpRelay]]:
    target = make_url(gateway_settings.database_url)
    relay = TcpRelay(target.host or "127.0.0.1", target.port or 5432)
    await relay.start()
    url = target.set(host="127.0.0.1", port=relay.port).render_as_string(False)
    settings = gateway_settings.model_copy(
        update={"database_url": url, "db_timeout_s": 2.0, "retry_after_s": 1}
    )
    yield settings, relay
    await relay.stop()


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="cuts the connection to a database server")
async def test_the_gateway_keeps_answering_while_its_database_is_down(
    relayed_settings: tuple[GatewaySettings, TcpRelay],
    inventory_app: FastAPI,
    cooperation_app: FastAPI,
    db: Database,
) -> None:
    settings, relay = relayed_settings
    transports = {
        "inventory": asgi_transport(inventory_app),
        "cooperation": asgi_transport(cooperation_app),
    }
    async with running_gateway(settings, transports) as (app, gateway):
        token = await Tokens(app, gateway).get("reader-test", "MINAM", "inventory:read")
        await relay.stop()
        answered = []
        for _ in range(5):
            response = await gateway.get(HOLDERS, headers=bearer(token))
            assert response.status_code == 200
            answered.append(response.headers["x-request-id"])
        assert app.state.audit.spooling
        await relay.start()
        await eventually(lambda: not app.state.audit.spooling, "the spool was drained")
    assert set(answered) <= set(await request_ids(db))
    assert (await verify_chain(db, full=True)).ok


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="cuts the connection to a database server")
async def test_with_neither_database_nor_spool_the_gateway_answers_503_not_unaudited(
    relayed_settings: tuple[GatewaySettings, TcpRelay],
) -> None:
    settings, relay = relayed_settings
    settings = settings.model_copy(update={"audit_spool_dir": ""})
    async with running_gateway(settings) as (_, gateway):
        assert (await gateway.get("/health/live")).status_code == 200
        await relay.stop()
        for _ in range(2):  # the one whose entry failed, then one refused before any work
            response = await gateway.get("/health/live")
            assert response.status_code == 503
            assert response.json()["type"].endswith("/audit-unavailable")
            assert response.headers["retry-after"] == "1"
        await relay.start()
        await asyncio.sleep(1.1)  # the refusal lasts Retry-After
        assert (await gateway.get("/health/live")).status_code == 200
