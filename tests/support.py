"""What every test module checks the same way: problem answers and a port nobody listens on."""

from __future__ import annotations

import asyncio
import http.server
import socket
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PROBLEM = "application/problem+json"
PROBLEMS = "https://enlace.example/problems/"
# The tests' gateway: its public origin (not the address the test clients call it at), and
# the address the services see it connect from (their one trusted proxy; direct test
# clients come from 127.0.0.1, which they do not trust).
PUBLIC_URL = "https://enlace.test"
GATEWAY_PEER = "192.0.2.10"


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> None:
    """``response`` is an RFC 9457 problem with ``status`` (and the type ``slug``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status, body
    if slug is not None:
        assert body["type"] == PROBLEMS + slug, body


def asgi_transport(app: FastAPI) -> httpx.ASGITransport:
    """The gateway's transport into a service ``app``: errors answered as a server would,
    the connection coming from the gateway's address."""
    return httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(GATEWAY_PEER, 4711))


def closed_port() -> int:
    """A local TCP port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def limit(app: FastAPI, **settings: int) -> None:
    """Lower some of a running app's limits for this test (its settings are read per request)."""
    app.state.settings = app.state.settings.model_copy(update=settings)


@asynccontextmanager
async def sqlite_connects_settled() -> AsyncIterator[None]:
    """Wait, at the end, for the threads of aiosqlite connections opened meanwhile: one that
    failed to open is stopped without being awaited, and its thread then calls back into
    the event loop, which must still be running."""
    before = set(threading.enumerate())
    try:
        yield
    finally:
        for thread in set(threading.enumerate()) - before:
            if "_connection_worker_thread" in thread.name:
                await asyncio.to_thread(thread.join, 30)


# -- database outages --------------------------------------------------------------------------


def postgres_only(test: Callable[..., Awaitable[None]]) -> Callable[..., Awaitable[None]]:
    """Run ``test`` only in the PostgreSQL run of the suite."""
    from tests.conftest import on_postgres  # here: the fixtures' module imports every app

    skip = pytest.mark.skipif(not on_postgres(), reason="needs the PostgreSQL server")
    return pytest.mark.postgres_only(skip(test))


DB_SECRET = "s3cret-db-password"


def unreachable_database(kind: str) -> str:
    """A database URL nothing answers: a closed port, or a file that cannot be opened."""
    if kind == "postgresql":
        return f"postgresql+asyncpg://nobody:{DB_SECRET}@127.0.0.1:{closed_port()}/none"
    return "sqlite+aiosqlite:////nonexistent-enlace-dir/enlace.db"


def assert_unavailable(response: httpx.Response, retry_after: str = "5") -> None:
    """A 503 ``database-unavailable`` problem with ``Retry-After``, naming nothing inside."""
    assert_problem(response, 503, "database-unavailable")
    assert response.headers["retry-after"] == retry_after
    for secret in (DB_SECRET, "nobody", "127.0.0.1", "nonexistent-enlace-dir"):
        assert secret not in response.text


async def postgres_admin(server_url: str, sql: str, **params: object) -> object:
    """Run one statement as the server's administrator, on the database ``server_url``
    names; its first value, if it returns rows."""
    engine = create_async_engine(server_url, isolation_level="AUTOCOMMIT")
    try:
        async with engine.connect() as conn:
            result = await conn.execute(text(sql), params)
            return result.scalar() if result.returns_rows else None
    finally:
        await engine.dispose()


async def terminate_backends(server_url: str, database: str) -> int:
    """What a PostgreSQL restart does to pooled connections: every session on ``database``
    (but this one) is ended by the server. The server itself keeps running."""
    ended = await postgres_admin(
        f"{server_url}/postgres",
        "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
        "WHERE datname = :db AND pid <> pg_backend_pid()",
        db=database,
    )
    return int(str(ended or 0))


# -- webhook receivers -------------------------------------------------------------------------


class Receiver:
    """A real HTTP server on 127.0.0.1 (in a thread) that records every POST it gets and
    answers with the statuses given in ``answers`` first, then 200."""

    def __init__(self, answers: list[int] | None = None) -> None:
        self.answers = list(answers or [])
        self.received: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = receiver.answers.pop(0) if receiver.answers else 200
                receiver.received.append(({k.lower(): v for k, v in self.headers.items()}, body))
                receiver.statuses.append(status)
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *_args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/hook"

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


async def wait_until(
    check: Callable[[], Awaitable[bool]], *, timeout_s: float = 15, what: str = "condition"
) -> None:
    """Poll ``check`` until it is true (a background worker's effect), or fail."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while not await check():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


# Delivery settings of the webhook tests: a receiver on 127.0.0.1 over plain HTTP, quick
# polling and tiny backoff (so three attempts take a fraction of a second).
WEBHOOK_TEST_SETTINGS: dict[str, object] = {
    "webhook_worker": True,
    "webhook_allow_http": True,
    "webhook_allowed_hosts": "127.0.0.1",
    "webhook_poll_s": 0.05,
    "webhook_backoff_base_s": 0.05,
    "webhook_backoff_cap_s": 0.2,
    "webhook_max_attempts": 3,
    "webhook_timeout_s": 2.0,
}
