"""Issue 9 item 10: limits that hold for every process, the services reached directly too.

A request head (line and headers) larger than MAX_REQUEST_HEAD_BYTES is refused with 431 by
the HTTP server itself, under the options ``serve`` uses (uvicorn with httptools, which keeps
a head in memory without limit of its own), and the server goes on serving. A body larger
than MAX_BODY_BYTES is a 413 problem at the services as at the gateway, with or without
Content-Length; the inventory import keeps its own, larger, limit.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.app import create_app as create_gateway
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from services.inventory.app import create_app as create_inventory
from services.inventory.settings import InventorySettings
from shared.app import uvicorn_options
from shared.settings import ServiceSettings
from tests.conftest import Tokens, direct_client, mint, running
from tests.gateway.support import asgi_transport
from tests.inventory.test_import_api import row, to_csv
from tests.support import assert_problem, closed_port

MB = 1024 * 1024


@asynccontextmanager
async def served(app: FastAPI, settings: ServiceSettings) -> AsyncIterator[int]:
    """``app`` under a real uvicorn, with the options of ``serve``, on this event loop."""
    options = uvicorn_options(settings) | {"loop": "asyncio", "port": closed_port()}
    server = uvicorn.Server(uvicorn.Config(app, **options))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(500):
            if server.started or task.done():
                break
            await asyncio.sleep(0.02)
        assert server.started
        yield int(options["port"])
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 30)


async def exchange(port: int, request: bytes) -> bytes:
    """Send ``request`` on a fresh connection; what the server answers until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(request)
        await writer.drain()
        return await reader.read()  # up to EOF: the server closes after a refusal
    finally:
        writer.close()


@pytest.fixture
async def live(inventory_settings: InventorySettings, keys_dir: Path) -> AsyncIterator[int]:
    """The real inventory app behind a real server; its port."""
    app = create_inventory(inventory_settings, key_source=KeyStore(keys_dir))
    async with served(app, inventory_settings) as port:
        yield port


async def test_a_single_8MB_header_is_431_from_the_server_which_stays_responsive(
    live: int,
) -> None:
    request = b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * (8 * MB) + b"\r\n\r\n"
    answer = await asyncio.wait_for(exchange(live, request), 30)
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 431 "), answer[:200]
    assert b"content-type: application/problem+json" in head
    problem = json.loads(body)
    assert problem["status"] == 431
    assert problem["type"].endswith("/headers-too-large")
    assert str(64 * 1024) in problem["detail"]
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{live}", trust_env=False) as client:
        assert (await client.get("/health/live")).status_code == 200


async def test_heads_within_the_bound_and_large_bodies_are_served(live: int) -> None:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{live}", trust_env=False) as client:
        # On one kept-alive connection: the count starts again with each request.
        for _ in range(3):
            response = await client.get("/health/live", headers={"X-Pad": "p" * (40 * 1024)})
            assert response.status_code == 200
        # A large body is no large head (refused for the missing token, not as a head).
        response = await client.post("/v1/holders", content=b"{" + b" " * (2 * MB) + b"}")
        assert_problem(response, 401)


async def test_the_head_bound_is_a_setting(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    settings = inventory_settings.model_copy(update={"max_request_head_bytes": 16 * 1024})
    app = create_inventory(settings, key_source=KeyStore(keys_dir))
    async with served(app, settings) as port:
        pad = b"X-Pad: " + b"p" * (32 * 1024) + b"\r\n"
        answer = await asyncio.wait_for(
            exchange(port, b"GET /health/live HTTP/1.1\r\nHost: x\r\n" + pad + b"\r\n"), 30
        )
    assert answer.startswith(b"HTTP/1.1 431 "), answer[:200]


async def chunks(body: bytes, size: int = 4096) -> AsyncIterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


@pytest.mark.parametrize("streamed", [False, True], ids=["content-length", "chunked"])
@pytest.mark.parametrize("service", ["inventory", "cooperation"])
async def test_a_service_reached_directly_refuses_a_body_over_its_limit(
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
    service: str,
    streamed: bool,
) -> None:
    small = {"max_body_bytes": 4096}
    app = (
        create_inventory(inventory_settings.model_copy(update=small), key_source=KeyStore(keys_dir))
        if service == "inventory"
        else create_cooperation(
            cooperation_settings.model_copy(update=small), key_source=KeyStore(keys_dir)
        )
    )
    path = "/v1/holders" if service == "inventory" else "/v1/activities"
    token = mint(keys_dir, scopes="inventory:write cooperation:write", org="MINEM")
    body = json.dumps({"name": "x" * 8192}).encode()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    async with running(app), direct_client(app, f"http://{service}", headers) as client:
        response = await client.post(path, content=chunks(body) if streamed else body)
        fits = await client.post(path, json={"name": "x"})
    assert_problem(response, 413, "payload-too-large")
    assert "4096" in response.json()["detail"]
    assert fits.status_code == 422  # within the limit: the route's own validation answers


async def test_the_inventory_import_keeps_its_own_larger_limit_when_reached_directly(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    settings = inventory_settings.model_copy(
        update={"max_body_bytes": 1024, "import_max_bytes": 64 * 1024}
    )
    app = create_inventory(settings, key_source=KeyStore(keys_dir))
    token = mint(keys_dir, scopes="inventory:read inventory:write", org="MINEM")
    async with (
        running(app),
        direct_client(app, "http://inventory", {"Authorization": f"Bearer {token}"}) as client,
    ):
        created = await client.post("/v1/submissions", json={"year": 2024, "section": "pcb"})
        assert created.status_code == 201, created.text
        imports = f"/v1/submissions/{created.json()['id']}/imports"
        csv = {"Content-Type": "text/csv"}
        fine = to_csv([row(n) for n in range(20)])
        assert 1024 < len(fine) < 64 * 1024
        accepted = await client.post(imports, content=fine, headers=csv)
        too_big = to_csv([row(n) for n in range(600)])
        assert len(too_big) > 64 * 1024
        refused = await client.post(imports, content=chunks(too_big), headers=csv)
        boundary = "b0undary"
        multipart = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="a.csv"\r\n'
                f"Content-Type: text/csv\r\n\r\n"
            ).encode()
            + too_big
            + f"\r\n--{boundary}--\r\n".encode()
        )
        form = {"Content-Type": f"multipart/form-data; boundary={boundary}"}
        refused_form = await client.post(imports, content=multipart, headers=form)
    assert accepted.status_code == 200, accepted.text
    assert_problem(refused, 413, "payload-too-large")
    assert_problem(refused_form, 413, "payload-too-large")


@pytest.mark.parametrize("process", ["gateway", "inventory"])
async def test_a_client_still_sending_an_oversized_body_reads_the_413(
    gateway_settings: GatewaySettings,
    inventory_settings: InventorySettings,
    inventory_app: FastAPI,
    keys_dir: Path,
    process: str,
) -> None:
    # The rest of the body is read and dropped rather than the connection reset under the
    # client's feet (it would never see the answer).
    settings: ServiceSettings
    if process == "gateway":
        settings = gateway_settings.model_copy(update={"max_body_bytes": 64 * 1024})
        app = create_gateway(settings, transports={"inventory": asgi_transport(inventory_app)})
        path = "/inventory/v1/holders"
    else:
        settings = inventory_settings.model_copy(update={"max_body_bytes": 64 * 1024})
        app = create_inventory(settings, key_source=KeyStore(keys_dir))
        path = "/v1/holders"
    token = mint(keys_dir, scopes="inventory:write", org="MINEM", client_id="body-test")
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    body = b"x" * (8 * MB)
    async with (
        served(app, settings) as port,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", trust_env=False) as client,
    ):
        if process == "gateway":  # a client the gateway knows, so that it reads the body
            await Tokens(app, client).register("body-test", "MINEM", "inventory:write")
        declared = await client.post(path, content=body, headers=headers)
        streamed = await client.post(path, content=chunks(body, 64 * 1024), headers=headers)
        after = await client.get("/health/live")
    assert_problem(declared, 413, "payload-too-large")
    assert_problem(streamed, 413, "payload-too-large")
    assert after.status_code == 200
