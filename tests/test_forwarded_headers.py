"""Forwarding headers are believed only from configured proxies: by default a caller cannot
choose the address its rate limits and audit entries are keyed on, nor the host, scheme and
prefix of the URLs it is sent (links, Location, redirects, problem instance)."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI, Request
from pydantic import ValidationError

from services.gateway.settings import GatewaySettings
from services.inventory.settings import InventorySettings
from shared.app import uvicorn_options
from shared.forwarded import ForwardedHeaders
from tests.support import closed_port

FORWARDED = {
    "X-Forwarded-For": "203.0.113.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "api.example.org",
    "X-Forwarded-Prefix": "/inventory",
}


def echo_app(trusted_proxies: str) -> ForwardedHeaders:
    """What a service's request looks like to its routes, behind the services' middleware."""
    app = FastAPI()

    @app.get("/who")
    async def who(request: Request) -> dict[str, str | None]:
        return {
            "client": request.client.host if request.client else None,
            "url": str(request.url),
            "link": str(request.url_for("who")),
        }

    return ForwardedHeaders(app, trusted_proxies=trusted_proxies)


@contextmanager
def running(trusted_proxies: str) -> Iterator[str]:
    """A real uvicorn server with the options ``serve`` uses; its base URL."""
    settings = InventorySettings(
        database_url="sqlite+aiosqlite://", port=closed_port(), trusted_proxies=trusted_proxies
    )
    options = uvicorn_options(settings) | {"loop": "asyncio", "http": "h11"}
    server = uvicorn.Server(uvicorn.Config(echo_app(trusted_proxies), **options))
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


async def seen_at(base: str, headers: dict[str, str]) -> dict[str, str]:
    async with httpx.AsyncClient(base_url=base, trust_env=False) as client:
        response = await client.get("/who", headers=headers)
    assert response.status_code == 200, response.text
    seen: dict[str, str] = response.json()
    return seen


@pytest.mark.parametrize("trusted", ["", "10.0.0.1", "127.0.0.1", "127.0.0.0/8"])
async def test_forwarding_headers_count_only_from_a_trusted_proxy(trusted: str) -> None:
    with running(trusted) as base:
        seen = await asyncio.wait_for(seen_at(base, FORWARDED), 10)
    if trusted.startswith("127."):
        assert seen == {
            "client": "203.0.113.9",
            "url": "https://api.example.org/inventory/who",
            "link": "https://api.example.org/inventory/who",
        }
    else:
        assert seen == {"client": "127.0.0.1", "url": f"{base}/who", "link": f"{base}/who"}


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("X-Forwarded-Prefix", "inventory"),
        ("X-Forwarded-Prefix", "/inventory/"),
        ("X-Forwarded-Prefix", "//evil.example"),
        ("X-Forwarded-Prefix", "/a/../b"),
        ("X-Forwarded-Prefix", "/a,/b"),
        ("X-Forwarded-Prefix", "/a?b=1"),
        ("X-Forwarded-Prefix", "/" + "a" * 300),
        ("X-Forwarded-Host", "evil.example/path"),
        ("X-Forwarded-Host", "user@evil.example"),
        ("X-Forwarded-Host", "a b"),
        ("X-Forwarded-Host", "a.example, b.example"),
    ],
)
async def test_a_trusted_proxy_value_that_is_not_plain_is_ignored(name: str, value: str) -> None:
    transport = httpx.ASGITransport(app=echo_app("10.0.0.1"), client=("10.0.0.1", 4711))
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        url = (await client.get("/who", headers={name: value})).json()["url"]
    assert url == "http://svc/who"


async def test_a_repeated_forwarding_header_is_ignored() -> None:
    transport = httpx.ASGITransport(app=echo_app("10.0.0.1"), client=("10.0.0.1", 4711))
    twice = [("X-Forwarded-Prefix", "/a"), ("X-Forwarded-Prefix", "/b")]
    async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
        assert (await client.get("/who", headers=twice)).json()["url"] == "http://svc/who"


@pytest.mark.parametrize(
    "url",
    [
        "ftp://a.example",
        "https://a.example/base",
        "https://u:p@a.example",
        "https://a.example?x",
        "a.example",
    ],
)
def test_the_gateway_public_url_must_be_an_origin(url: str) -> None:
    with pytest.raises(ValidationError, match="not an origin"):
        GatewaySettings(public_url=url)


def test_the_gateway_public_url_defaults_to_the_local_process() -> None:
    assert GatewaySettings(port=8123).public_origin == "http://127.0.0.1:8123"
    assert GatewaySettings(public_url="https://a.example/").public_origin == "https://a.example"
