"""What every test module checks the same way: problem answers and a port nobody listens on."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import FastAPI

PROBLEM = "application/problem+json"
PROBLEMS = "https://enlace.example/problems/"


def assert_problem(response: httpx.Response, status: int, slug: str | None = None) -> None:
    """``response`` is an RFC 9457 problem with ``status`` (and the type ``slug``)."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith(PROBLEM), response.headers
    body = response.json()
    assert body["status"] == status, body
    if slug is not None:
        assert body["type"] == PROBLEMS + slug, body


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
