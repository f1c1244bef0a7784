"""Forwarding headers are believed only from configured proxies: by default a caller cannot
choose the address its rate limits and audit entries are keyed on."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request

from services.inventory.settings import InventorySettings
from shared.app import uvicorn_options
from tests.support import closed_port


def echo_app() -> FastAPI:
    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> dict[str, str | None]:
        return {"client": request.client.host if request.client else None}

    return app


@contextmanager
def running(trusted_proxies: str) -> Iterator[str]:
    """A real uvicorn server with the options ``serve`` uses; its base URL."""
    settings = InventorySettings(
        database_url="sqlite+aiosqlite://", port=closed_port(), trusted_proxies=trusted_proxies
    )
    options = uvicorn_options(settings) | {"loop": "asyncio", "http": "h11"}
    server = uvicorn.Server(uvicorn.Config(echo_app(), **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        for _ in range(200):
            if server.started:
                break
            threading.Event().wait(0.02)
        yield f"http://127.0.0.1:{settings.port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


async def client_seen(base: str) -> str:
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        response = await client.get("/who", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status_code == 200
    return str(response.json()["client"])


@pytest.mark.parametrize(
    ("trusted", "seen"),
    [("", "127.0.0.1"), ("10.0.0.1", "127.0.0.1"), ("127.0.0.1", "203.0.113.9")],
)
async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(trusted: str, seen: str) -> None:
    with running(trusted) as base:
        assert await asyncio.wait_for(client_seen(base), 10) == seen
