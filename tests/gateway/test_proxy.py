"""The gateway forwards to the real services: same answers, request ids passed on, hop-by-hop
headers dropped, bodies streamed. (Hostile paths and backends that are down or slow:
test_hostile_edge.py, cases 20 and 25.)"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse

from services.gateway.app import create_app as create_gateway
from services.gateway.ratelimit import MemoryWindows, RateLimiter
from services.gateway.settings import GatewaySettings
from services.inventory.seed import DEMO, load_demo
from tests.conftest import Tokens, asgi_client
from tests.gateway.support import TcpServer, bearer, running_gateway
from tests.support import PROBLEM, PUBLIC_URL, assert_problem


async def test_forwards_to_the_service_and_matches_direct_answer(
    gateway: httpx.AsyncClient, inventory: httpx.AsyncClient, inventory_app: FastAPI, tokens: Tokens
) -> None:
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text()))
        await session.commit()
    auth = await tokens.headers("minem-test", "MINEM", "inventory:read")
    through = await gateway.get("/inventory/v1/pcb-items?limit=3", headers=auth)
    direct = await inventory.get("/v1/pcb-items?limit=3")
    assert through.status_code == 200
    assert through.json() == direct.json()
    assert len(through.json()["items"]) == 3
    # The same link, each on the address its caller used (the gateway's is the public one).
    public = through.headers["link"].replace(f"{PUBLIC_URL}/inventory", "http://inventory")
    assert public == direct.headers["link"]


async def test_relayed_service_problem_is_not_marked_as_gateway(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    auth = await tokens.headers("usaid-test", "USAID", "cooperation:read")
    response = await gateway.get("/cooperation/v1/programs/NOPE", headers=auth)
    assert_problem(response, 404, "not-found")
    assert response.headers["content-type"] == PROBLEM
    assert "source" not in response.json()
    assert response.json()["instance"] == "/cooperation/v1/programs/NOPE"


async def test_the_subscriptions_scope_opens_the_subscription_routes_only(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    hooks_only = await tokens.headers("hooks-test", "USAID", "subscriptions")
    reader = await tokens.headers("reader-test", "USAID", "cooperation:read inventory:read")
    for service in ("inventory", "cooperation"):
        # Past the gateway: the service itself wants its read scope too.
        passed = await gateway.get(f"/{service}/v1/subscriptions", headers=hooks_only)
        assert_problem(passed, 403, "insufficient-scope")
        assert "source" not in passed.json()
        assert f"{service}:read" in passed.json()["detail"]
        posted = await gateway.post(
            f"/{service}/v1/subscriptions/1/deliveries/2/replay", headers=hooks_only
        )
        assert "source" not in posted.json()
        # The service's read scope alone does not open them, at the gateway already.
        for method in ("GET", "POST"):
            refused = await gateway.request(method, f"/{service}/v1/subscriptions", headers=reader)
            assert_problem(refused, 403, "insufficient-scope")
            assert refused.json()["source"] == "gateway"
            assert 'scope="subscriptions"' in refused.headers["www-authenticate"]
        # Nor does the subscriptions scope open anything else.
        other = await gateway.get(f"/{service}/v1/subscriptionsX", headers=hooks_only)
        assert_problem(other, 403)
        assert other.json()["source"] == "gateway"


async def test_unknown_gateway_route_is_a_problem(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/nothing/here")
    assert_problem(response, 404)
    assert response.headers["content-type"] == PROBLEM


# -- header handling, checked with a backend that reports what it received ----------------


def _echo_app() -> FastAPI:
    app = FastAPI()

    @app.api_route("/{path:path}", methods=["GET", "POST", "PUT"])
    async def echo(request: Request, path: str) -> StreamingResponse:
        body = await request.body()
        received = dict(request.headers.items())

        async def chunks() -> AsyncIterator[bytes]:
            yield json.dumps(
                {
                    "path": "/" + path,
                    "query": request.url.query,
                    "headers": received,
                    "size": len(body),
                }
            ).encode()

        return StreamingResponse(
            chunks(),
            media_type="application/json",
            headers={"Connection": "close, X-Secret-Hop", "X-Secret-Hop": "1", "Keep-Alive": "5"},
        )

    return app


@pytest.fixture
async def echo_gateway(gateway_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=_echo_app())
    app = create_gateway(gateway_settings, transports={"inventory": transport})
    async with app.router.lifespan_context(app), asgi_client(app, "http://gateway") as client:
        client.headers.update(await Tokens(app, client).headers("w", "MINEM", "inventory:write"))
        yield client


async def test_request_id_is_passed_on_and_hop_by_hop_headers_dropped(
    echo_gateway: httpx.AsyncClient,
) -> None:
    response = await echo_gateway.get(
        "/inventory/v1/things?b=2&a=1",
        headers={
            "X-Request-ID": "trace-42",
            "Connection": "keep-alive, X-Private",
            "X-Private": "hop",
            "TE": "trailers",
            "Proxy-Authorization": "Basic c2VjcmV0",
            "Accept": "application/json",
        },
    )
    seen = response.json()
    assert seen["path"] == "/v1/things"
    assert seen["query"] == "b=2&a=1"
    assert seen["headers"]["x-request-id"] == "trace-42"
    assert seen["headers"]["accept"] == "application/json"
    for hop in ("x-private", "te", "proxy-authorization"):
        assert hop not in seen["headers"]
    assert response.headers["x-request-id"] == "trace-42"
    assert "x-secret-hop" not in response.headers
    assert "keep-alive" not in response.headers


async def test_request_body_is_streamed_to_the_backend(echo_gateway: httpx.AsyncClient) -> None:
    async def body() -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b"x" * 1024

    response = await echo_gateway.post("/inventory/v1/upload", content=body())
    assert response.json()["size"] == 64 * 1024


async def test_health_reports_each_backend(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "components": {"inventory": "ok", "cooperation": "ok", "gateway_database": "ok"},
    }


async def test_rate_limit_windows_are_one_minute_from_a_keys_first_request() -> None:
    now = [1000.0]
    windows = MemoryWindows(clock=lambda: now[0])
    first = windows.hit("client:a", 2)
    assert (first.allowed, first.remaining, first.reset_s) == (True, 1, 60)
    now[0] += 30
    assert windows.hit("client:a", 2).allowed
    refused = windows.hit("client:a", 2)
    assert (refused.allowed, refused.remaining, refused.reset_s) == (False, 0, 30)
    assert refused.headers()["Retry-After"] == "30"
    assert windows.hit("client:b", 2).allowed, "each key has its own window"
    now[0] += 30  # the first window of client:a has ended
    again = windows.hit("client:a", 2)
    assert (again.allowed, again.remaining, again.reset_s) == (True, 1, 60)
    limiter = RateLimiter()
    assert (await limiter.hit("ip:192.0.2.1", 1)).allowed
    assert not (await limiter.hit("ip:192.0.2.1", 1)).allowed


async def test_a_chunked_answer_over_the_network_is_relayed_whole_with_public_urls(
    gateway_settings: GatewaySettings,
) -> None:
    """The aiohttp hot path against a real socket: the body as sent (chunked), hop-by-hop
    and gateway-owned headers dropped, a URL at the backend's own address made public."""
    async with TcpServer() as backend:
        backend.reply = (
            b"HTTP/1.1 201 Created\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: application/json\r\nKeep-Alive: timeout=5\r\n"
            b"Location: " + backend.url.encode() + b"/v1/holders/7\r\n"
            b"X-Request-ID: forged\r\nConnection: close\r\n\r\n"
            b'5\r\n{"a":\r\n3\r\n 1}\r\n0\r\n\r\n'
        )
        settings = gateway_settings.model_copy(
            update={"inventory_url": backend.url, "transport": "aiohttp"}
        )
        async with running_gateway(settings) as (app, gateway):
            token = await Tokens(app, gateway).get("reader-test", "MINAM", "inventory:read")
            response = await gateway.get("/inventory/v1/holders", headers=bearer(token))
    assert response.status_code == 201
    assert response.json() == {"a": 1}
    assert response.headers["location"] == f"{PUBLIC_URL}/inventory/v1/holders/7"
    assert "keep-alive" not in response.headers
    assert response.headers["x-request-id"] != "forged"
    (sent,) = backend.received
    assert sent.startswith(b"GET /v1/holders HTTP/1.1\r\n")
    assert b"\r\nx-forwarded-prefix: /inventory\r\n" in sent.lower()
