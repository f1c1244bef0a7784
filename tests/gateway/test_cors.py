"""CORS: configured origins may read the public read-only routes, and nothing else."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from tests.conftest import Tokens
from tests.gateway.support import asgi_transport, running_gateway
from tests.support import assert_problem

ORIGIN = "https://datos.minam.gob.pe"
PUBLIC = "/inventory/v1/public/national-summary"


@pytest.fixture
async def cors_gateway(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient]]:
    settings = gateway_settings.model_copy(update={"cors_origins": f"{ORIGIN}, https://otro.pe/"})
    transports = {
        "inventory": asgi_transport(inventory_app),
        "cooperation": asgi_transport(cooperation_app),
    }
    async with running_gateway(settings, transports) as pair:
        yield pair


async def test_a_configured_origin_reads_public_data(
    cors_gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, gateway = cors_gateway
    response = await gateway.get(PUBLIC, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "etag" in response.headers["access-control-expose-headers"].lower()
    assert "access-control-allow-credentials" not in response.headers
    assert "origin" in response.headers["vary"].lower()
    # The trailing slash of a configured origin does not matter.
    other = await gateway.get(PUBLIC, headers={"Origin": "https://otro.pe"})
    assert other.headers["access-control-allow-origin"] == "https://otro.pe"


async def test_a_preflight_for_public_data_is_answered(
    cors_gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, gateway = cors_gateway
    response = await gateway.options(
        "/cooperation/v1/public/activities",
        headers={
            "Origin": ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "accept-language, if-none-match",
        },
    )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert set(response.headers["access-control-allow-methods"].replace(" ", "").split(",")) == {
        "GET",
        "HEAD",
    }


async def test_writes_are_never_allowed_across_origins(
    cors_gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, gateway = cors_gateway
    response = await gateway.options(
        PUBLIC, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "POST"}
    )
    assert_problem(response, 400)
    assert "access-control-allow-origin" not in response.headers


async def test_an_unknown_origin_gets_no_cors_headers(
    cors_gateway: tuple[FastAPI, httpx.AsyncClient],
) -> None:
    _, gateway = cors_gateway
    response = await gateway.get(PUBLIC, headers={"Origin": "https://evil.example"})
    assert response.status_code == 200  # same-origin readers are unaffected
    assert "access-control-allow-origin" not in response.headers


@pytest.mark.parametrize("path", ["/inventory/v1/holders", "/oauth/token", "/admin/clients"])
async def test_guarded_routes_never_answer_cross_origin(
    cors_gateway: tuple[FastAPI, httpx.AsyncClient], path: str
) -> None:
    app, gateway = cors_gateway
    headers = await Tokens(app, gateway).headers("cors-test", "MINAM", "inventory:read")
    response = await gateway.get(path, headers=headers | {"Origin": ORIGIN})
    assert "access-control-allow-origin" not in response.headers
    preflight = await gateway.options(
        path, headers={"Origin": ORIGIN, "Access-Control-Request-Method": "GET"}
    )
    assert "access-control-allow-origin" not in preflight.headers


async def test_without_configured_origins_nothing_changes(
    gateway: httpx.AsyncClient,
) -> None:
    response = await gateway.get(PUBLIC, headers={"Origin": ORIGIN})
    assert response.status_code == 200
    assert "access-control-allow-origin" not in response.headers
