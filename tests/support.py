"""What every test module checks the same way: problem answers and a port nobody listens on."""

from __future__ import annotations

import socket

import httpx
from fastapi import FastAPI

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
