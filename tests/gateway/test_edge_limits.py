"""Issue 9 at the gateway's edge: header floods (431), no cookie machinery when forwarding,
security headers, the cached /health, the last admin, the half-open circuit breaker's probe."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from services.gateway.settings import GatewaySettings
from tests.conftest import Tokens, mint
from tests.gateway.support import (
    Recorder,
    TcpServer,
    asgi_transport,
    assert_problem,
    raw_request,
    running_gateway,
)

PUBLIC = "/cooperation/v1/public/vocabularies"
HOLDERS = "/inventory/v1/holders"


def lines(count: int) -> dict[str, str]:
    return {f"x-h{i}": "v" for i in range(count)}


# -- 1. Header floods ---------------------------------------------------------------------------


async def test_99_header_lines_are_forwarded(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    app, _, recorders = recorded
    response = await raw_request(app, PUBLIC.encode(), headers=lines(99))  # + Host: 100
    assert response.status == 200
    assert len(recorders["cooperation"].seen) == 1


@pytest.mark.parametrize(
    "headers",
    [lines(100), {"x-big": "v" * (8 * 1024 - len("x-big") + 1)}, lines(2000)],
    ids=["101-lines", "one-header-8KB+1", "2000-lines"],
)
async def test_header_flood_is_431_and_never_forwarded(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]], headers: dict[str, str]
) -> None:
    app, _, recorders = recorded
    response = await raw_request(app, PUBLIC.encode(), headers=headers)
    assert response.status == 431
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["type"].endswith("/headers-too-large")
    assert response.json()["source"] == "gateway"
    assert all(not r.seen for r in recorders.values()), "refused before forwarding"


async def test_headers_over_32KB_in_all_are_431(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    app, _, recorders = recorded
    headers = {f"x-h{i}": "v" * 4000 for i in range(9)}  # each under 8 KB, 36 KB in all
    response = await raw_request(app, PUBLIC.encode(), headers=headers)
    assert response.status == 431
    assert "in all" in response.json()["detail"]
    assert all(not r.seen for r in recorders.values())


SET_COOKIE = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n"
    b"Set-Cookie: session=caller-a; Path=/\r\nConnection: close\r\n\r\n{}"
)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_forwarding_keeps_no_cookies_between_callers(
    gateway_settings: GatewaySettings, transport: str
) -> None:
    async with TcpServer(SET_COOKIE) as backend:
        update = {"cooperation_url": backend.url, "transport": transport}
        async with running_gateway(gateway_settings.model_copy(update=update)) as (app, gateway):
            first = await gateway.get(PUBLIC)
            assert first.headers["set-cookie"].startswith("session=caller-a")
            gateway.cookies.clear()
            await gateway.get(PUBLIC)
            assert not app.state.clients["cooperation"].cookies
    assert len(backend.received) == 2
    assert b"caller-a" not in backend.received[1], "no cookie jar between callers"


# -- 16. An admin cannot lock everyone out -------------------------------------------------------


async def test_admin_cannot_disable_its_own_client(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.headers("admin-one", "MINAM", "admin")
    await tokens.register("admin-two", "MINAM", "admin")
    response = await gateway.post("/admin/clients/admin-one/disable", headers=admin)
    assert_problem(response, 409, "conflict")
    assert "itself" in response.json()["detail"]
    listed = {
        c["client_id"]: c for c in (await gateway.get("/admin/clients", headers=admin)).json()
    }
    assert listed["admin-one"]["disabled"] is False


async def test_last_enabled_admin_cannot_be_disabled(
    gateway: httpx.AsyncClient, tokens: Tokens, keys_dir: Path
) -> None:
    # The caller's token has the admin scope its client no longer holds (as after a change by
    # the CLI, or a concurrent disable): the caller is not among the enabled admins.
    await tokens.register("operator", "MINAM", "inventory:read")
    caller = {"Authorization": f"Bearer {mint(keys_dir, scopes='admin', client_id='operator')}"}
    await tokens.register("admin-two", "MINAM", "admin inventory:read")
    await tokens.register("admin-three", "MINAM", "admin")
    await tokens.register("partner", "GIZ", "cooperation:read")
    for client_id in ("partner", "admin-two"):
        disabled = await gateway.post(f"/admin/clients/{client_id}/disable", headers=caller)
        assert disabled.status_code == 200, disabled.text
    response = await gateway.post("/admin/clients/admin-three/disable", headers=caller)
    assert_problem(response, 409, "conflict")
    assert "last enabled client with the admin scope" in response.json()["detail"]
    listed = {
        c["client_id"]: c for c in (await gateway.get("/admin/clients", headers=caller)).json()
    }
    assert listed["admin-three"]["disabled"] is False
    enabled = await gateway.post("/admin/clients/admin-two/enable", headers=caller)
    assert enabled.status_code == 200
    assert (
        await gateway.post("/admin/clients/admin-three/disable", headers=caller)
    ).status_code == 200


# -- 17. The half-open probe -------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_slow_half_open_probe_times_out_on_its_own_and_blocks_nobody(
    gateway_settings: GatewaySettings, transport: str
) -> None:
    async with TcpServer(reply=None) as silent:  # accepts, never answers
        settings = gateway_settings.model_copy(
            update={
                "inventory_url": silent.url,
                "transport": transport,
                "read_timeout_s": 60.0,  # an ordinary request would wait this long
                "breaker_failures": 1,
                "breaker_reset_s": 0.2,
                "breaker_probe_timeout_s": 1.0,
            }
        )
        async with running_gateway(settings) as (app, gateway):
            reader = await Tokens(app, gateway).headers("reader-test", "MINAM", "inventory:read")
            breaker = app.state.edge.breakers["inventory"]
            breaker.record_failure()  # open
            await asyncio.sleep(0.3)  # half-open
            probe = asyncio.create_task(gateway.get(HOLDERS, headers=reader))
            for _ in range(500):  # until the probe is under way (it reached the backend)
                if silent.connections:
                    break
                await asyncio.sleep(0.01)
            assert breaker.probing
            others = await asyncio.wait_for(
                asyncio.gather(*(gateway.get(HOLDERS, headers=reader) for _ in range(5))), 5
            )
            for response in others:
                assert_problem(response, 503, "backend-unavailable")
                assert int(response.headers["retry-after"]) >= 1
            probed = await asyncio.wait_for(probe, 3.0)  # the probe timeout, not the 60 s read one
            assert_problem(probed, 504, "backend-timeout")
            assert breaker.state == "open", "a failed probe opens the circuit again"
            assert not breaker.probing
        assert silent.connections == 1


# -- 10. Security headers; the cached /health ----------------------------------------------------


async def test_api_answers_through_the_gateway_are_nosniff(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    _, gateway, _ = recorded
    for response in (
        await gateway.get(PUBLIC),  # forwarded
        await gateway.get(HOLDERS),  # refused by the gateway (401)
        await gateway.get("/health/live"),  # the gateway's own
    ):
        assert response.headers["x-content-type-options"] == "nosniff", response.url


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
async def test_docs_cannot_be_framed_and_have_a_strict_csp(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]], page: str
) -> None:
    _, gateway, _ = recorded
    response = await gateway.get(page)
    assert response.status_code == 200
    assert response.headers["x-frame-options"] == "DENY"
    csp = {
        d.split()[0]: d.split()[1:] for d in response.headers["content-security-policy"].split("; ")
    }
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"]
    assert "'unsafe-eval'" not in csp["script-src"]
    # Every script, style and icon comes from the gateway itself: no CDN, no web font.
    for directive in ("script-src", "style-src", "img-src", "font-src", "connect-src"):
        assert not [s for s in csp[directive] if "://" in s or s == "https:"], directive
    assets = re.findall(r'<script src="([^"]+)"', response.text)
    assets += re.findall(r'<link[^>]*href="([^"]+)"', response.text)
    assert assets
    for src in assets:
        assert src.startswith("/docs/assets/"), src
        asset = await gateway.get(src)
        assert asset.status_code == 200, src
        assert len(asset.content) > 1000, src
    nonce = next(s for s in csp["script-src"] if s.startswith("'nonce-"))[7:-1]
    inline = re.findall(r"<script( nonce=\"[^\"]*\")?>", response.text)
    assert all(attr == f' nonce="{nonce}"' for attr in inline)
    assert "fonts.googleapis" not in response.text
    assert "'self'" in csp["connect-src"]  # openapi.json, /oauth/token


async def test_health_answers_from_a_short_cache(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    app, gateway, recorders = recorded
    assert app.state.settings.health_cache_s == 2.0
    first, second = await asyncio.gather(gateway.get("/health"), gateway.get("/health"))
    third = await gateway.get("/health")
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == third.json()
    for recorder in recorders.values():
        assert [s.raw_path for s in recorder.seen] == [b"/health/ready"], "one probe per period"


async def test_health_probes_again_once_the_cache_expires(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> None:
    recorders = {
        "inventory": Recorder(asgi_transport(inventory_app)),
        "cooperation": Recorder(asgi_transport(cooperation_app)),
    }
    settings = gateway_settings.model_copy(update={"health_cache_s": 0.05})
    async with running_gateway(settings, recorders) as (_, gateway):
        assert (await gateway.get("/health")).status_code == 200
        await asyncio.sleep(0.1)
        assert (await gateway.get("/health")).status_code == 200
    assert len(recorders["inventory"].seen) == 2
