"""A database that is unreachable, restarted, locked or out of connections: the services
answer 503 ``database-unavailable`` with ``Retry-After``, never 500, and recover by
themselves. Outages are real: a closed port or a directory that does not exist, backends
terminated on the PostgreSQL server (what a restart does to pooled connections), a pool
held empty, a SQLite write lock held by another connection."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import asyncpg  # type: ignore[import-untyped]
import httpx
import pytest
from fastapi import FastAPI, Request
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.keys import KeyStore
from services.inventory.app import create_app as create_inventory
from services.inventory.settings import InventorySettings
from shared.db import Database
from shared.exports import PrimedStreamingResponse
from shared.problems import database_unavailable
from tests.conftest import DB_PREFIX, POSTGRES_URL, direct_client, mint, on_postgres, running
from tests.inventory.conftest import ruc
from tests.support import (
    DB_SECRET,
    assert_problem,
    assert_unavailable,
    postgres_admin,
    postgres_only,
    sqlite_connects_settled,
    terminate_backends,
    unreachable_database,
)


def holder_body(n: int) -> dict[str, object]:
    return {"ruc": ruc(n), "name": f"H{n}", "sector": "mining", "is_public": False}


@asynccontextmanager
async def inventory_on(
    settings: InventorySettings, keys_dir: Path
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    """The inventory app on ``settings`` and a client with read and write scopes."""
    token = mint(keys_dir, scopes="inventory:read inventory:write", org="MINEM")
    app = create_inventory(settings, key_source=KeyStore(keys_dir))
    headers = {"Authorization": f"Bearer {token}"}
    async with (
        sqlite_connects_settled(),
        running(app),
        direct_client(app, "http://inventory", headers) as client,
    ):
        yield app, client


# -- unreachable ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_inventory_reads_and_writes_answer_503_while_its_database_is_unreachable(
    kind: str, keys_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    settings = InventorySettings(
        database_url=unreachable_database(kind), access_log=False, db_timeout_s=2, retry_after_s=7
    )
    caplog.set_level(logging.INFO)
    async with inventory_on(settings, keys_dir) as (_, client):
        assert_unavailable(await client.get("/v1/holders"), "7")
        assert_unavailable(await client.post("/v1/holders", json=holder_body(1)), "7")
        assert_unavailable(await client.get("/v1/sites?format=csv"), "7")
        assert (await client.get("/health/live")).status_code == 200
        assert_problem(await client.get("/health/ready"), 503, "not-ready")
    assert "database unavailable" in caplog.text
    assert DB_SECRET not in caplog.text
    assert "unhandled error" not in caplog.text


@pytest.mark.parametrize("kind", ["postgresql", "sqlite"])
async def test_cooperation_reads_and_exports_answer_503_while_its_database_is_unreachable(
    kind: str, keys_dir: Path
) -> None:
    settings = CooperationSettings(database_url=unreachable_database(kind), access_log=False)
    app = create_cooperation(settings, key_source=KeyStore(keys_dir))
    headers = {"Authorization": f"Bearer {mint(keys_dir, scopes='cooperation:read')}"}
    async with (
        sqlite_connects_settled(),
        running(app),
        direct_client(app, "http://cooperation", headers) as client,
    ):
        assert_unavailable(await client.get("/v1/programs"))
        assert_unavailable(await client.get("/v1/activities?format=csv"))
        assert_unavailable(await client.get("/v1/public/iati/activities.xml"))


def cooperation_unreachable(keys_dir: Path) -> FastAPI:
    """The cooperation app, its database unreachable (not started)."""
    settings = CooperationSettings(
        database_url=unreachable_database("postgresql"), access_log=False
    )
    return create_cooperation(settings, key_source=KeyStore(keys_dir))


async def test_a_stream_that_meets_the_outage_on_its_first_part_is_still_a_503(
    keys_dir: Path,
) -> None:
    """An export reading on a session of its own (after the route returned) meets the
    database only once the response runs: its first part is made before the status."""

    async def parts(db: Database) -> AsyncIterator[bytes]:
        async with db.sessions() as session:
            yield str(await session.scalar(text("SELECT 1"))).encode()

    async def export(request: Request) -> PrimedStreamingResponse:
        return PrimedStreamingResponse(parts(request.app.state.db), media_type="text/plain")

    app = cooperation_unreachable(keys_dir)
    app.add_api_route("/test-export", export)
    async with running(app), direct_client(app, "http://cooperation", {}) as client:
        assert_unavailable(await client.get("/test-export"))


async def test_an_outage_no_exception_handler_sees_is_still_a_503(keys_dir: Path) -> None:
    """The error raised out of a task group (an ExceptionGroup, which no handler is keyed
    on) is answered by the request-context middleware, where unhandled errors end."""

    async def fan_out(request: Request) -> dict[str, int]:
        async with asyncio.TaskGroup() as group:
            group.create_task(request.app.state.db.ping())
        return {"ok": 1}

    app = cooperation_unreachable(keys_dir)
    app.add_api_route("/test-fan-out", fan_out)
    async with running(app), direct_client(app, "http://cooperation", {}) as client:
        assert_unavailable(await client.get("/test-fan-out"))


async def test_other_errors_stay_500(inventory_settings: InventorySettings, keys_dir: Path) -> None:
    """Only the database being unavailable is a 503: a bad query or a missing file is a bug
    (500, logged with its traceback)."""

    async def bad_sql(request: Request) -> None:
        async with request.app.state.db.sessions() as session:
            await session.execute(text("SELECT * FROM no_such_table"))

    def missing_file() -> None:
        Path("/nonexistent-enlace-dir/file").read_text()

    async with inventory_on(inventory_settings, keys_dir) as (app, client):
        app.add_api_route("/test-bad-sql", bad_sql)
        app.add_api_route("/test-missing-file", missing_file)
        assert_problem(await client.get("/test-bad-sql"), 500, "internal-error")
        assert_problem(await client.get("/test-missing-file"), 500, "internal-error")


# -- the pool exhausted, SQLite locked -------------------------------------------------------


async def test_an_exhausted_pool_answers_503_then_serves_again(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    settings = inventory_settings.model_copy(
        update={"db_pool_size": 1, "db_max_overflow": 0, "db_pool_timeout_s": 0.3}
    )
    async with inventory_on(settings, keys_dir) as (app, client):
        async with app.state.db.engine.connect() as held:  # the only connection, taken
            await held.execute(text("SELECT 1"))
            assert_unavailable(await client.get("/v1/holders"))
            assert_unavailable(await client.post("/v1/holders", json=holder_body(2)))
        assert (await client.get("/v1/holders")).status_code == 200
        assert (await client.post("/v1/holders", json=holder_body(2))).status_code == 201


@pytest.mark.skipif(on_postgres(), reason="SQLite's write lock")
async def test_a_locked_sqlite_database_answers_503_then_serves_again(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    settings = inventory_settings.model_copy(update={"db_timeout_s": 0.2})
    path = make_url(settings.database_url).database
    assert path is not None
    async with inventory_on(settings, keys_dir) as (_, client):
        other = sqlite3.connect(path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # another process writing, past the busy timeout
            assert_unavailable(await client.post("/v1/holders", json=holder_body(3)))
            assert (await client.get("/v1/holders")).status_code == 200  # WAL: reads go on
        finally:
            other.execute("ROLLBACK")
            other.close()
        assert (await client.post("/v1/holders", json=holder_body(3))).status_code == 201


# -- PostgreSQL restarted ----------------------------------------------------------------------


@postgres_only
@pytest.mark.parametrize("pre_ping", [True, False])
async def test_pooled_connections_killed_by_a_restart_cost_at_most_one_503(
    pre_ping: bool, inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    settings = inventory_settings.model_copy(update={"db_pool_pre_ping": pre_ping})
    async with inventory_on(settings, keys_dir) as (_, client):
        assert (await client.post("/v1/holders", json=holder_body(4))).status_code == 201
        assert await terminate_backends(POSTGRES_URL, f"{DB_PREFIX}inventory") >= 1
        first = await client.get("/v1/holders")
        if pre_ping:  # the dead connection is noticed on checkout and replaced
            assert first.status_code == 200, first.text
        else:  # the dead connection fails its request, and the pool drops it
            assert_unavailable(first)
        # Recovery without a restart: reads and writes serve again.
        assert (await client.get("/v1/holders")).status_code == 200
        assert (await client.post("/v1/holders", json=holder_body(5))).status_code == 201


@postgres_only
async def test_restarts_under_concurrent_reads_and_writes_give_no_500(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    """Connections killed while requests are in flight, three times: every answer is a
    success or a 503 with Retry-After, whatever the timing; then everything serves."""
    settings = inventory_settings.model_copy(
        update={"db_pool_pre_ping": False, "db_pool_size": 3, "db_max_overflow": 3}
    )
    async with inventory_on(settings, keys_dir) as (_, client):

        async def worker(n: int) -> list[httpx.Response]:
            answers = []
            for i in range(12):
                if i % 3 == 0:
                    answers.append(await client.post("/v1/holders", json=holder_body(n * 100 + i)))
                else:
                    answers.append(await client.get("/v1/holders"))
            return answers

        workers = [asyncio.create_task(worker(n)) for n in range(1, 7)]
        for _ in range(3):
            await terminate_backends(POSTGRES_URL, f"{DB_PREFIX}inventory")
        answers = [a for batch in await asyncio.gather(*workers) for a in batch]
        for answer in answers:
            if answer.status_code == 503:
                assert_unavailable(answer)
            else:
                assert answer.status_code in (200, 201), answer.text
        assert (await client.get("/v1/holders")).status_code == 200


@postgres_only
async def test_a_connection_killed_in_the_middle_of_a_transaction_is_unavailable(
    inventory_settings: InventorySettings,
) -> None:
    db = Database.from_settings(inventory_settings)
    try:
        async with db.sessions() as session:
            await session.execute(text("SELECT 1"))
            await terminate_backends(POSTGRES_URL, f"{DB_PREFIX}inventory")
            with pytest.raises(DBAPIError) as raised:
                await session.execute(text("SELECT 1"))
            assert database_unavailable(raised.value) is not None
            await session.rollback()  # a session on a dead connection still rolls back
        async with db.sessions() as session:
            assert await session.scalar(text("SELECT 1")) == 1
    finally:
        await db.close()


@postgres_only
async def test_too_many_connections_answers_503(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    """A role allowed no connection gets PostgreSQL's 'too many connections' (53300)."""
    role = f"{DB_PREFIX}no_connections"
    server = f"{POSTGRES_URL}/postgres"
    await postgres_admin(server, f'DROP ROLE IF EXISTS "{role}"')
    await postgres_admin(server, f'CREATE ROLE "{role}" LOGIN CONNECTION LIMIT 0')
    try:
        url = make_url(inventory_settings.database_url).set(username=role)
        settings = inventory_settings.model_copy(
            update={"database_url": url.render_as_string(hide_password=False)}
        )
        async with inventory_on(settings, keys_dir) as (_, client):
            assert_unavailable(await client.get("/v1/holders"))
    finally:
        await postgres_admin(server, f'DROP ROLE IF EXISTS "{role}"')


# -- what counts as unavailable ------------------------------------------------------------------


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.CannotConnectNowError("the database system is shutting down"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("unable to open database file"),
    ],
    ids=repr,
)
def test_driver_errors_of_an_unavailable_database(error: Exception) -> None:
    assert database_unavailable(error) is not None
    wrapped = RuntimeError("wrapped")
    wrapped.__cause__ = error
    assert database_unavailable(wrapped) is not None


@pytest.mark.parametrize(
    "error",
    [
        asyncpg.exceptions.UniqueViolationError("duplicate key"),
        asyncpg.exceptions.UndefinedTableError('relation "x" does not exist'),
        sqlite3.OperationalError("no such table: x"),
        ConnectionRefusedError("raised outside the database stack"),
        ValueError("not a database error"),
    ],
    ids=repr,
)
def test_other_errors_are_not_an_unavailable_database(error: Exception) -> None:
    assert database_unavailable(error) is None
