"""SECURITY.md hostile cases 17-27: bodies, inputs, paths, paging, authorization of fields,
floods, failing backends and the audit log, through the real gateway in front of the real
services. Also: no token or client secret ever reaches the audit log or a log line."""

from __future__ import annotations

import asyncio
import json
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.responses import HTMLResponse, JSONResponse
from httpx_aiohttp import AiohttpTransport
from sqlalchemy import select, text

from services.gateway.models import AuditEntry
from services.gateway.settings import GatewaySettings
from services.inventory.seed import DEMO, load_demo
from shared.pagination import encode_cursor
from tests.conftest import TEST_SECRET, Tokens, mint
from tests.gateway.support import (
    PROBLEM,
    Recorder,
    TcpServer,
    asgi_transport,
    assert_problem,
    bearer,
    client_from,
    raw_request,
    running_gateway,
)
from tests.support import closed_port

HOLDERS = "/inventory/v1/holders"
PROGRAMS = "/cooperation/v1/programs"
WRITER = ("writer-test", "MINAM", "inventory:read inventory:write")
ADMIN = ("admin-test", "MINAM", "admin")


async def with_demo_inventory(inventory_app: FastAPI) -> int:
    """Load the demo inventory; the number of holders."""
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text()))
        await session.commit()
    return len(json.loads(DEMO.read_text())["holders"])


# -- 17. Body over the size limit ---------------------------------------------------------------

LIMIT = 1024


@pytest.fixture
async def small_bodies(
    gateway_settings: GatewaySettings, inventory_app: FastAPI, cooperation_app: FastAPI
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Recorder]]:
    """A gateway accepting bodies of at most LIMIT bytes, in front of the real services."""
    recorder = Recorder(asgi_transport(inventory_app))
    settings = gateway_settings.model_copy(update={"max_body_bytes": LIMIT})
    transports = {"inventory": recorder, "cooperation": asgi_transport(cooperation_app)}
    async with running_gateway(settings, transports) as (app, client):
        yield app, client, recorder


def oversized(path: str) -> tuple[bytes, str]:
    """A body twice the limit, in the form ``path`` reads, and its content type."""
    if path == "/oauth/token":
        form = b"grant_type=client_credentials&scope=" + b"x" * (2 * LIMIT)
        return form, "application/x-www-form-urlencoded"
    return json.dumps({"name": "x" * (2 * LIMIT)}).encode(), "application/json"


async def chunked(body: bytes, size: int = 256) -> AsyncIterator[bytes]:
    """``body`` as a stream, so that httpx sends it without Content-Length."""
    for start in range(0, len(body), size):
        yield body[start : start + size]


async def post_oversized(
    app: FastAPI, gateway: httpx.AsyncClient, *, streamed: bool
) -> list[httpx.Response]:
    """An oversized body to the inventory, the admin API and the token endpoint, with a
    Content-Length or (``streamed``) without one."""
    tokens = Tokens(app, gateway)
    writer = await tokens.headers(*WRITER)
    admin = await tokens.headers(*ADMIN)
    responses = []
    for path, headers in ((HOLDERS, writer), ("/admin/clients", admin), ("/oauth/token", {})):
        body, content_type = oversized(path)
        content = chunked(body) if streamed else body
        responses.append(
            await gateway.post(
                path, content=content, headers=headers | {"Content-Type": content_type}
            )
        )
        sent = {k.lower() for k in responses[-1].request.headers}
        assert ("content-length" in sent) is not streamed
    return responses


async def test_case_17_body_over_limit_with_content_length_is_413(
    small_bodies: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, recorder = small_bodies
    for response in await post_oversized(app, gateway, streamed=False):
        assert_problem(response, 413, "payload-too-large")
        assert response.json()["source"] == "gateway"
    assert recorder.seen == [], "an oversized body was forwarded"


async def test_case_17_body_over_limit_without_content_length_is_413(
    small_bodies: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, _ = small_bodies
    for response in await post_oversized(app, gateway, streamed=True):
        assert_problem(response, 413, "payload-too-large")


async def test_case_17_body_within_limit_passes(
    small_bodies: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, _ = small_bodies
    admin = await Tokens(app, gateway).headers(*ADMIN)
    body = {"client_id": "small-test", "name": "S", "org_code": "MINAM", "scopes": ["admin"]}
    response = await gateway.post(
        "/admin/clients",
        content=chunked(json.dumps(body).encode()),
        headers=admin | {"Content-Type": "application/json"},
    )
    assert response.status_code == 201, response.text


# -- 18. Deep JSON, invalid UTF-8, wrong Content-Type --------------------------------------------

DEEP = 10_000
HOSTILE_BODIES: dict[str, tuple[str, bytes]] = {
    "deep-array": ("application/json", b"[" * DEEP + b"]" * DEEP),
    "deep-object": ("application/json", b'{"a":' * DEEP + b"1" + b"}" * DEEP),
    "deep-in-field": (
        "application/json",
        b'{"client_id":"deep-test","name":' + b"[" * DEEP + b"]" * DEEP + b"}",
    ),
    "invalid-utf8": ("application/json", b'{"client_id": "\xff\xfe\xfd", "name": "\xc3\x28"}'),
    "invalid-utf8-form": (
        "application/x-www-form-urlencoded",
        b"grant_type=client_credentials&client_id=\xff\xfe&client_secret=%ff%fe",
    ),
    "wrong-content-type": ("text/plain", b'{"client_id": "plain-test"}'),
    "xml": ("application/xml", b"<!DOCTYPE x [<!ENTITY a 'a'>]><x>&a;</x>"),
    "broken-multipart": ("multipart/form-data; boundary=zz", b"--zz\r\ngarbage"),
    "many-form-fields": (
        "application/x-www-form-urlencoded",
        "&".join(f"f{i}=1" for i in range(5000)).encode(),
    ),
    "huge-number": ("application/json", b'{"rate_limit_per_minute": 1' + b"0" * 5000 + b"}"),
    "nan": ("application/json", b'{"rate_limit_per_minute": NaN}'),
    "wrong-types": ("application/json", b'{"client_id": {"$ne": 1}, "scopes": "admin"}'),
}


@pytest.mark.parametrize("kind", list(HOSTILE_BODIES))
async def test_case_18_hostile_bodies_are_4xx_never_500(
    gateway: httpx.AsyncClient, tokens: Tokens, kind: str
) -> None:
    content_type, body = HOSTILE_BODIES[kind]
    admin = await tokens.headers(*ADMIN)
    writer = await tokens.headers(*WRITER)
    for path, headers in (("/oauth/token", {}), ("/admin/clients", admin), (HOLDERS, writer)):
        response = await gateway.post(
            path, content=body, headers=headers | {"Content-Type": content_type}
        )
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert response.headers["content-type"].startswith(("application/json", PROBLEM)), (
            response.headers
        )


async def test_case_18_token_endpoint_needs_a_form(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Credentials sent as JSON are not read as a form."""
    await tokens.register("reader-test", "MINAM", "inventory:read")
    response = await gateway.post(
        "/oauth/token",
        json={
            "grant_type": "client_credentials",
            "client_id": "reader-test",
            "client_secret": TEST_SECRET,
        },
    )
    # No form fields: grant_type is missing (RFC 6749 5.2 invalid_request).
    assert response.status_code == 400
    assert response.json()["error"] == "invalid_request"
    assert "access_token" not in response.json()


# -- 19. SQL metacharacters in filters and sort -------------------------------------------------

SQL = ["' OR 1=1--", "x'; DROP TABLE audit_entries;--", '" OR ""="', "1) OR (1=1", "%", "_", "\\"]


async def test_case_19_sql_in_admin_audit_filters_is_an_empty_result(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    admin = await tokens.headers(*ADMIN)
    assert (await gateway.get(HOLDERS, headers=admin)).status_code == 403  # an entry to find
    await gateway_app.state.audit.flush()
    for value in SQL:
        for name in ("client_id", "org"):
            response = await gateway.get("/admin/audit", params={name: value}, headers=admin)
            assert response.status_code == 200, response.text
            assert response.json()["items"] == [], (name, value)
    everything = await gateway.get("/admin/audit", headers=admin)
    assert everything.json()["items"], "the audit table is intact and has entries"
    verify = await gateway.get("/admin/audit/verify", headers=admin)
    assert verify.json()["ok"] is True


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("status", "200 OR 1=1"),
        ("status", "200; DROP TABLE clients"),
        ("since", "2020-01-01' OR '1'='1"),
        ("until", "now()"),
        ("limit", "1; DROP TABLE clients"),
        ("client_id", "x" * 65),
    ],
)
async def test_case_19_sql_in_typed_admin_filters_is_422(
    gateway: httpx.AsyncClient, tokens: Tokens, name: str, value: str
) -> None:
    admin = await tokens.headers(*ADMIN)
    response = await gateway.get("/admin/audit", params={name: value}, headers=admin)
    assert_problem(response, 422, "validation-error")


@pytest.mark.parametrize(
    ("params", "status"),
    [
        # Unknown query parameters are a 400; typed ones are checked; cursors are verified.
        ({"sort": "id; DROP TABLE holders"}, 400),
        ({"sort": "name' OR 1=1--", "order": "desc;--"}, 400),
        ({"updated_since": "' OR 1=1--"}, 422),
        ({"ruc": "' OR 1=1--"}, 422),
        ({"cursor": encode_cursor(["1 OR 1=1"])}, 400),
        ({"cursor": encode_cursor(["0) OR (1=1"])}, 400),
    ],
)
async def test_case_19_sql_in_service_filters_and_sort_is_refused_or_changes_nothing(
    gateway: httpx.AsyncClient,
    inventory_app: FastAPI,
    tokens: Tokens,
    params: dict[str, str],
    status: int,
) -> None:
    holders = await with_demo_inventory(inventory_app)
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    response = await gateway.get(HOLDERS, params=params | {"limit": "1000"}, headers=reader)
    assert response.status_code == status, response.text
    if response.status_code == 200:
        # Ignored, or matched nothing: never more rows than exist, never a different table.
        assert len(response.json()["items"]) in (0, holders)
    else:
        assert response.headers["content-type"] == PROBLEM
    after = await gateway.get(HOLDERS, params={"limit": "1000"}, headers=reader)
    assert len(after.json()["items"]) == holders


@asynccontextmanager
async def behind_tcp_backend(
    settings: GatewaySettings, transport: str, reply: bytes
) -> AsyncIterator[tuple[TcpServer, FastAPI, httpx.AsyncClient, str]]:
    """A gateway whose inventory is a TCP server answering ``reply`` to every connection:
    the server, the gateway app, a client to it, and a reader's token."""
    async with TcpServer(reply) as backend:
        update = {"inventory_url": backend.url, "transport": transport}
        async with running_gateway(settings.model_copy(update=update)) as (app, gateway):
            token = await Tokens(app, gateway).get("reader-test", "MINAM", "inventory:read")
            yield backend, app, gateway, token


# -- 20. Traversal, encoded slashes, NUL, long ids ----------------------------------------------

CROSSING = [
    b"/inventory/../cooperation/v1/programs",
    b"/inventory/v1/../../cooperation/v1/programs",
    b"/inventory/v1/%2e%2e/%2e%2e/cooperation/v1/programs",
    b"/inventory/v1/%2E%2E/%2E%2E/cooperation/v1/programs",
    b"/inventory/v1/holders%2F..%2F..%2Fcooperation%2Fv1%2Fprograms",
    b"/inventory%2F..%2Fcooperation/v1/programs",
    b"/inventory/%2Fcooperation/v1/programs",
    b"/inventory//cooperation/v1/programs",
    b"/inventory/v1/holders/..%2f..%2fcooperation",
    b"/inventory/v1/holders/%00",
    b"/inventory/v1/holders/%00/../../cooperation/v1/programs",
    b"/inventory/v1/holders/" + b"9" * 5000,
    b"/inventory/v1/holders/" + b"a" * 5000,
    b"/inventory/v1/holders%2F..%2F..%2Fcooperation",
    b"/inventory/" + b"a" * 5000,
]


@pytest.mark.parametrize("raw", CROSSING, ids=lambda raw: raw.decode()[:60])
async def test_case_20_hostile_paths_are_400_and_never_reach_another_service(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]], raw: bytes
) -> None:
    app, gateway, recorders = recorded
    token = await Tokens(app, gateway).get(
        "reader-test", "MINAM", "inventory:read cooperation:read"
    )
    response = await raw_request(app, raw, headers=bearer(token))
    assert response.status == 400, (response.status, response.body[:300])
    assert response.headers["content-type"] == PROBLEM
    assert recorders["cooperation"].seen == [], "routed to the cooperation service"
    assert b"items" not in response.body


async def test_case_20_unsafe_paths_are_refused_by_the_gateway_before_forwarding(
    recorded: tuple[FastAPI, httpx.AsyncClient, dict[str, Recorder]],
) -> None:
    app, gateway, recorders = recorded
    token = await Tokens(app, gateway).get(
        "reader-test", "MINAM", "inventory:read cooperation:read"
    )
    for raw in CROSSING:
        response = await raw_request(app, raw, headers=bearer(token))
        assert response.status == 400, raw
        assert response.json()["source"] == "gateway"
    assert recorders["inventory"].seen == []
    assert recorders["cooperation"].seen == []


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    ("raw", "forwarded"),
    [
        (b"/inventory/v1/holders%3Flimit=1", b"/v1/holders%3Flimit=1"),
        (b"/inventory/v1/holders%23fragment", b"/v1/holders%23fragment"),
        (b"/inventory/v1/programs/A%2520B", b"/v1/programs/A%2520B"),
        (b"/inventory/v1/holders?limit=1", b"/v1/holders?limit=1"),
    ],
)
async def test_case_20_encoded_characters_keep_their_meaning_behind_the_gateway(
    gateway_settings: GatewaySettings, raw: bytes, forwarded: bytes, transport: str
) -> None:
    """A path means the same to the service as to the gateway: an encoded ``?`` or ``#`` is
    not turned into a query or a fragment, and nothing is decoded twice."""
    reply = b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    async with behind_tcp_backend(gateway_settings, transport, reply) as (backend, app, _, token):
        await raw_request(app, raw, headers=bearer(token))
    (request,) = backend.received
    request_line = request.split(b"\r\n", 1)[0]
    assert request_line == b"GET " + forwarded + b" HTTP/1.1"


@pytest.mark.parametrize(
    "path",
    [
        "/inventory/v1/holders/99999999999999999999",
        "/inventory/v1/holders/" + "9" * 1500,
        "/inventory/v1/holders/-99999999999999999999",
        "/inventory/v1/pcb-items/99999999999999999999",
    ],
    ids=["int64-overflow", "1500-digits", "negative-overflow", "pcb-item-overflow"],
)
async def test_case_20_numeric_id_beyond_the_database_range_is_422_not_500(
    gateway: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    response = await gateway.get(path, headers=reader)
    assert response.status_code == 422, response.text[:300]
    assert response.headers["content-type"] == PROBLEM


# -- 21. Paging values --------------------------------------------------------------------------


@pytest.mark.parametrize(
    "limit", ["1000000", "1001", "-1", "0", "abc", "1.5", "1e3", "", "0x10", "9" * 400]
)
async def test_case_21_out_of_range_or_non_numeric_limit_is_refused(
    gateway: httpx.AsyncClient, tokens: Tokens, limit: str
) -> None:
    """The documented maximum is 1000; anything else is a client error, never a clamp that
    silently returns fewer rows than asked for."""
    headers = await tokens.headers("reader-test", "MINAM", "inventory:read cooperation:read admin")
    for path in (HOLDERS, PROGRAMS, "/admin/audit"):
        response = await gateway.get(path, params={"limit": limit}, headers=headers)
        assert response.status_code == 422, (path, response.text)
        assert response.headers["content-type"] == PROBLEM


async def test_case_21_maximum_limit_is_accepted(
    gateway: httpx.AsyncClient, inventory_app: FastAPI, tokens: Tokens
) -> None:
    holders = await with_demo_inventory(inventory_app)
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    response = await gateway.get(HOLDERS, params={"limit": "1000"}, headers=reader)
    assert response.status_code == 200
    assert len(response.json()["items"]) == min(holders, 1000)


async def test_case_21_repeated_limit_is_refused(
    gateway: httpx.AsyncClient, inventory_app: FastAPI, tokens: Tokens
) -> None:
    await with_demo_inventory(inventory_app)
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    response = await gateway.get(f"{HOLDERS}?limit=1&limit=2&limit=1000000", headers=reader)
    # The last value is the one read, and it is over the maximum.
    assert_problem(response, 422, "validation-error")


FORGED_CURSORS = {
    "not-base64": "!!!",
    "not-json": "not-a-cursor",
    "empty": encode_cursor([]),
    "wrong-arity": encode_cursor([1, 2]),
    "string-id": encode_cursor(["x"]),
    "sql-id": encode_cursor(["1 OR 1=1"]),
    "object-id": encode_cursor([{"id": 1}]),
    "list-id": encode_cursor([[1]]),
    "null-id": encode_cursor([None]),
    "bool-id": encode_cursor([True]),
    "float-id": encode_cursor([1.5]),
    "huge-id": encode_cursor([10**30]),
    "huge-negative-id": encode_cursor([-(10**30)]),
    "too-long": "x" * 600,
}


@pytest.mark.parametrize("path", [HOLDERS, PROGRAMS, "/admin/audit"])
async def test_case_21_forged_cursors_are_400_never_500(
    gateway: httpx.AsyncClient, inventory_app: FastAPI, tokens: Tokens, path: str
) -> None:
    """A cursor this API did not issue is a 400 (422 when longer than the parameter allows);
    never a 500, never silently read as some other position."""
    await with_demo_inventory(inventory_app)
    headers = await tokens.headers("reader-test", "MINAM", "inventory:read cooperation:read admin")
    wrong = {}
    for name, cursor in FORGED_CURSORS.items():
        response = await gateway.get(path, params={"cursor": cursor}, headers=headers)
        expected = 422 if name == "too-long" else 400
        if response.status_code != expected or response.headers["content-type"] != PROBLEM:
            wrong[name] = response.status_code
    assert wrong == {}, "forged cursors not refused (cursor: status)"


# -- 22 and 23. Partners and fields they may not set ---------------------------------------------


async def test_case_22_partner_cannot_read_what_is_not_theirs(
    gateway: httpx.AsyncClient, inventory_app: FastAPI, tokens: Tokens
) -> None:
    """A partner (donor) token on the inventory and on the admin API.

    To be extended when issue 4 (inventory submission workflow) lands: a partner reading
    another organisation's draft submission must get 404, exactly as for a missing one.
    """
    await with_demo_inventory(inventory_app)
    donor = await tokens.headers("donor-test", "USAID", "cooperation:read")
    response = await gateway.get(HOLDERS, headers=donor)
    assert_problem(response, 403, "insufficient-scope")
    for path in ("/admin/clients", "/admin/audit", "/admin/audit/verify"):
        response = await gateway.get(path, headers=donor)
        assert_problem(response, 403, "insufficient-scope")
    # A record that does not exist and one the caller may not see must look the same.
    reader = await tokens.headers("partner-test", "GIZ", "inventory:read")
    missing = await gateway.get(f"{HOLDERS}/987654321", headers=reader)
    assert_problem(missing, 404, "not-found")


async def test_case_23_partner_cannot_set_fields_it_may_not_set(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    """A partner writing where it may not, and fields nobody may set on the admin API.

    To be extended when issue 4 (inventory submission workflow) lands: a partner setting
    ``status: validated`` or ``owner_org`` on a submission must get 403/422.
    """
    partner = await tokens.headers("partner-test", "GIZ", "inventory:read cooperation:write")
    new_client = {
        "client_id": "sneaky-test",
        "name": "Sneaky",
        "org_code": "MINAM",
        "scopes": ["admin"],
    }
    response = await gateway.post("/admin/clients", json=new_client, headers=partner)
    assert_problem(response, 403, "insufficient-scope")
    response = await gateway.post(HOLDERS, json={"owner_org": "MINAM"}, headers=partner)
    assert_problem(response, 403, "insufficient-scope")

    admin = await tokens.headers(*ADMIN)
    for extra in (
        {"disabled": True},
        {"secret_hash": "$argon2id$..."},
        {"client_secret": "chosen-by-caller"},
        {"created_at": "2000-01-01T00:00:00Z"},
        {"id": 1},
    ):
        response = await gateway.post("/admin/clients", json=new_client | extra, headers=admin)
        assert_problem(response, 422, "validation-error")
    clients = (await gateway.get("/admin/clients", headers=admin)).json()
    assert "sneaky-test" not in {c["client_id"] for c in clients}


async def test_case_23_unknown_scope_cannot_be_granted(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    admin = await tokens.headers(*ADMIN)
    body = {"client_id": "odd-test", "name": "O", "org_code": "MINAM", "scopes": ["root"]}
    response = await gateway.post("/admin/clients", json=body, headers=admin)
    assert_problem(response, 422)


# -- 24. Flood from one client ------------------------------------------------------------------


async def test_case_24_flood_from_one_client_is_429_with_rate_limit_headers(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    token = await tokens.get("flood-test", "GIZ", "inventory:read", rate_limit_per_minute=3)
    responses = [await gateway.get(HOLDERS, headers=bearer(token)) for _ in range(4)]
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["ratelimit-remaining"] for r in responses[:3]] == ["2", "1", "0"]
    refused = responses[-1]
    assert_problem(refused, 429, "too-many-requests")
    assert refused.json()["source"] == "gateway"
    assert refused.headers["ratelimit-limit"] == "3"
    assert refused.headers["ratelimit-remaining"] == "0"
    assert 0 < int(refused.headers["ratelimit-reset"]) <= 60
    assert 0 < int(refused.headers["retry-after"]) <= 60


async def test_case_24_other_clients_are_unaffected_by_a_flood(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    flooder = await tokens.get("flood-test", "GIZ", "inventory:read", rate_limit_per_minute=3)
    other = await tokens.get("calm-test", "MINAM", "inventory:read", rate_limit_per_minute=3)
    for _ in range(5):
        await gateway.get(HOLDERS, headers=bearer(flooder))
    assert (await gateway.get(HOLDERS, headers=bearer(flooder))).status_code == 429
    response = await gateway.get(HOLDERS, headers=bearer(other))
    assert response.status_code == 200
    assert response.headers["ratelimit-remaining"] == "2"


async def test_case_24_token_endpoint_is_limited_per_ip(
    gateway_settings: GatewaySettings,
) -> None:
    settings = gateway_settings.model_copy(update={"token_rate_limit_per_minute": 3})
    async with running_gateway(settings, client_ip="192.0.2.10") as (app, gateway):
        await Tokens(app, gateway).register("reader-test", "MINAM", "inventory:read")
        form = {"grant_type": "client_credentials"}
        auth = ("reader-test", TEST_SECRET)
        statuses = [
            (await gateway.post("/oauth/token", data=form, auth=auth)).status_code for _ in range(4)
        ]
        refused = await gateway.post("/oauth/token", data=form, auth=auth)
        async with client_from(app, "192.0.2.11") as elsewhere:
            other_ip = await elsewhere.post("/oauth/token", data=form, auth=auth)
    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert refused.json()["error"] == "slow_down"
    assert int(refused.headers["retry-after"]) > 0
    assert refused.headers["ratelimit-limit"] == "3"
    assert other_ip.status_code == 200


REDIS_URL = os.environ.get("ENLACE_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def require_redis(url: str) -> None:
    """Fail (not skip) when Redis is unreachable: CI always runs one."""
    parsed = httpx.URL(url.replace("redis://", "http://", 1))
    try:
        with socket.create_connection((parsed.host, parsed.port or 6379), timeout=2):
            pass
    except OSError as exc:
        pytest.fail(f"Redis is not reachable at {url} (set ENLACE_TEST_REDIS_URL): {exc}")


async def test_case_24_gateways_sharing_redis_share_the_counters(
    gateway_settings: GatewaySettings,
    inventory_app: FastAPI,
    cooperation_app: FastAPI,
    keys_dir: Path,
) -> None:
    require_redis(REDIS_URL)
    # Counters outlive the test in Redis for up to a minute: a fresh client id every run.
    client_id = f"shared-{uuid.uuid4().hex[:12]}"
    settings = gateway_settings.model_copy(update={"redis_url": REDIS_URL})

    def transports() -> dict[str, httpx.AsyncBaseTransport]:
        return {
            "inventory": asgi_transport(inventory_app),
            "cooperation": asgi_transport(cooperation_app),
        }

    async with (
        running_gateway(settings, transports()) as (app_a, gateway_a),
        running_gateway(settings, transports()) as (app_b, gateway_b),
    ):
        await Tokens(app_a, gateway_a).register(
            client_id, "MINAM", "inventory:read", rate_limit_per_minute=3
        )
        await app_b.state.access.load()
        auth = bearer(mint(keys_dir, scopes="inventory:read", client_id=client_id))
        try:
            statuses = [
                (await gateway_a.get(HOLDERS, headers=auth)).status_code,
                (await gateway_b.get(HOLDERS, headers=auth)).status_code,
                (await gateway_a.get(HOLDERS, headers=auth)).status_code,
                (await gateway_b.get(HOLDERS, headers=auth)).status_code,
            ]
        finally:
            # The gateway's lifespan does not close its limiter (yet): close it here, or the
            # Redis connections are left to the garbage collector (ResourceWarning).
            for app in (app_a, app_b):
                await app.state.limiter.aclose()
    assert statuses == [200, 200, 200, 429]


# -- 25. Backend down or slow -------------------------------------------------------------------


def network_transport(kind: str) -> httpx.AsyncBaseTransport:
    """The real network transport the gateway would build itself."""
    if kind == "aiohttp":
        return AiohttpTransport(trust_env=False)
    return httpx.AsyncHTTPTransport(trust_env=False)


@pytest.fixture(params=["aiohttp", "httpx"])
async def down_backend(
    request: pytest.FixtureRequest, gateway_settings: GatewaySettings
) -> AsyncIterator[tuple[FastAPI, httpx.AsyncClient, Recorder]]:
    """A gateway whose inventory refuses connections; the recorder counts every attempt."""
    recorder = Recorder(network_transport(request.param))
    settings = gateway_settings.model_copy(
        update={"inventory_url": f"http://127.0.0.1:{closed_port()}", "breaker_failures": 100}
    )
    async with running_gateway(settings, {"inventory": recorder}) as (app, client):
        yield app, client, recorder


async def test_case_25_backend_down_is_503_with_retry_after_get_retried_once(
    down_backend: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, recorder = down_backend
    reader = await Tokens(app, gateway).headers(*WRITER)
    response = await gateway.get(HOLDERS, headers=reader)
    assert_problem(response, 503, "backend-unavailable")
    assert response.headers["content-type"] == PROBLEM
    assert response.json()["source"] == "gateway"
    assert response.headers["retry-after"] == str(app.state.settings.retry_after_s)
    assert len(recorder.seen) == 2, "a GET is retried exactly once"
    health = await gateway.get("/health")
    assert health.status_code == 503
    assert health.json()["components"]["inventory"] == "unreachable"


async def test_case_25_backend_down_post_is_never_retried(
    down_backend: tuple[FastAPI, httpx.AsyncClient, Recorder],
) -> None:
    app, gateway, recorder = down_backend
    writer = await Tokens(app, gateway).headers(*WRITER)
    for body in ({"name": "x"}, None):
        recorder.seen.clear()
        response = await gateway.post(HOLDERS, json=body, headers=writer)
        assert_problem(response, 503, "backend-unavailable")
        assert int(response.headers["retry-after"]) > 0
        assert len(recorder.seen) == 1, "a POST is never retried"


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_case_25_backend_slower_than_timeout_is_504_and_not_retried(
    gateway_settings: GatewaySettings, transport: str, method: str
) -> None:
    async with TcpServer(reply=None) as silent:
        settings = gateway_settings.model_copy(
            update={"inventory_url": silent.url, "read_timeout_s": 0.3, "transport": transport}
        )
        async with running_gateway(settings) as (app, gateway):
            writer = await Tokens(app, gateway).headers(*WRITER)
            response = await gateway.request(method, HOLDERS, json={"a": 1}, headers=writer)
        assert_problem(response, 504, "backend-timeout")
        assert response.headers["content-type"] == PROBLEM
        assert int(response.headers["retry-after"]) > 0
        assert response.json()["source"] == "gateway"
        assert silent.connections == 1


async def test_case_25_circuit_breaker_opens_then_half_opens(
    gateway_settings: GatewaySettings, inventory_app: FastAPI
) -> None:
    recorder = Recorder(network_transport("httpx"))
    settings = gateway_settings.model_copy(
        update={
            "inventory_url": f"http://127.0.0.1:{closed_port()}",
            "breaker_failures": 2,
            "breaker_reset_s": 0.5,
        }
    )
    async with running_gateway(settings, {"inventory": recorder}) as (app, gateway):
        reader = await Tokens(app, gateway).headers("reader-test", "MINAM", "inventory:read")
        for _ in range(2):  # two failing requests (each tried twice) open the circuit
            assert (await gateway.get(HOLDERS, headers=reader)).status_code == 503
        assert len(recorder.seen) == 4

        paused = await gateway.get(HOLDERS, headers=reader)
        assert_problem(paused, 503, "backend-unavailable")
        assert "paused" in paused.json()["detail"]
        assert 0 < int(paused.headers["retry-after"]) <= 1
        assert len(recorder.seen) == 4, "an open circuit does not contact the backend"

        await asyncio.sleep(0.6)  # half-open: one probe goes through, fails, opens again
        assert (await gateway.get(HOLDERS, headers=reader)).status_code == 503
        assert len(recorder.seen) > 4
        probed = len(recorder.seen)
        assert (await gateway.get(HOLDERS, headers=reader)).status_code == 503
        assert len(recorder.seen) == probed

        recorder.inner = asgi_transport(inventory_app)  # the service is back
        await asyncio.sleep(0.6)
        assert (await gateway.get(HOLDERS, headers=reader)).status_code == 200  # the probe
        assert (await gateway.get(HOLDERS, headers=reader)).status_code == 200  # closed again
        assert len(recorder.seen) == probed + 2


# -- 26. Garbage or internals from a backend ------------------------------------------------------

TRACEBACK = (
    "<html><body><h1>Internal Server Error</h1><pre>Traceback (most recent call last):\n"
    '  File "/srv/enlace/services/inventory/app.py", line 42, in handler\n'
    "    conn = connect('postgresql://inventory:hunter2@db-internal:5432/inventory')\n"
    "sqlalchemy.exc.OperationalError: SELECT * FROM holders WHERE ruc = '20131370998'"
    "</pre></body></html>"
)
INTERNALS = ("Traceback", "hunter2", "db-internal", "/srv/enlace", "SELECT", "HELLO")


def assert_sanitized(response: httpx.Response) -> None:
    assert_problem(response, 502, "bad-gateway")
    assert response.json()["source"] == "gateway"
    for secret in INTERNALS:
        assert secret not in response.text, secret


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
@pytest.mark.parametrize(
    "reply",
    [
        b"HELLO\r\n\r\n",
        b"\x00\xff" * 100,
        b"HTTP/1.1 500 Internal Server Error\r\nContent-Type: text/html\r\nContent-Length: "
        + str(len(TRACEBACK)).encode()
        + b"\r\nConnection: close\r\n\r\n"
        + TRACEBACK.encode(),
    ],
    ids=["garbage", "binary", "html-traceback"],
)
async def test_case_26_backend_garbage_or_internals_become_a_sanitized_502(
    gateway_settings: GatewaySettings, transport: str, reply: bytes
) -> None:
    async with behind_tcp_backend(gateway_settings, transport, reply) as (_, _, gateway, token):
        response = await gateway.get(HOLDERS, headers=bearer(token))
    assert_sanitized(response)


@pytest.mark.parametrize("transport", ["aiohttp", "httpx"])
async def test_case_26_backend_body_cut_short_is_not_completed_by_the_gateway(
    gateway_settings: GatewaySettings, transport: str
) -> None:
    """Once the headers are relayed the status cannot change: the response is left
    incomplete (the server then closes the connection), never padded or passed as whole."""
    reply = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"
    async with behind_tcp_backend(gateway_settings, transport, reply) as (_, app, _, token):
        response = await raw_request(app, HOLDERS.encode(), headers=bearer(token))
    assert response.status == 200
    # What arrived before the cut, or nothing: aiohttp drops the bytes it buffered once it
    # has seen the connection close before the first read (as when the answer waits for its
    # audit entry to be committed).
    assert response.body in (b"{", b"")
    assert not response.complete


def failing_app() -> FastAPI:
    """A backend whose errors leak internals in several ways."""
    app = FastAPI()

    @app.get("/v1/html")
    async def html() -> HTMLResponse:
        return HTMLResponse(TRACEBACK, status_code=500)

    @app.get("/v1/plain")
    async def plain() -> HTMLResponse:
        return HTMLResponse(TRACEBACK, status_code=503, media_type="text/plain")

    @app.get("/v1/problem-with-stack")
    async def problem_with_stack() -> JSONResponse:
        body = {
            "type": "https://enlace.example/problems/internal-error",
            "title": "Internal Server Error",
            "status": 500,
            "detail": "boom",
            "stack": TRACEBACK,
        }
        return JSONResponse(body, status_code=500, media_type=PROBLEM)

    @app.get("/v1/problem-with-internals-in-detail")
    async def problem_with_detail() -> JSONResponse:
        body = {
            "type": "https://enlace.example/problems/internal-error",
            "title": "Internal Server Error",
            "status": 500,
            "detail": TRACEBACK,
        }
        return JSONResponse(body, status_code=500, media_type=PROBLEM)

    @app.get("/v1/json-500")
    async def json_500() -> JSONResponse:
        return JSONResponse({"error": TRACEBACK}, status_code=500)

    @app.get("/v1/huge-500")
    async def huge() -> HTMLResponse:
        return HTMLResponse("x" * 200_000 + TRACEBACK, status_code=500)

    @app.get("/v1/clean")
    async def clean() -> JSONResponse:
        body = {
            "type": "https://enlace.example/problems/backend-busy",
            "title": "Service Unavailable",
            "status": 503,
            "detail": "Try again later.",
        }
        return JSONResponse(body, status_code=503, media_type=PROBLEM)

    return app


@pytest.mark.parametrize(
    "path",
    [
        "/v1/html",
        "/v1/plain",
        "/v1/problem-with-stack",
        "/v1/problem-with-internals-in-detail",
        "/v1/json-500",
        "/v1/huge-500",
    ],
)
async def test_case_26_backend_500_with_internals_becomes_a_sanitized_502(
    gateway_settings: GatewaySettings, path: str
) -> None:
    transports = {"inventory": asgi_transport(failing_app())}
    async with running_gateway(gateway_settings, transports) as (app, gateway):
        reader = await Tokens(app, gateway).headers("reader-test", "MINAM", "inventory:read")
        response = await gateway.get("/inventory" + path, headers=reader)
    assert_sanitized(response)


async def test_case_26_clean_service_problem_is_relayed_as_the_service_sent_it(
    gateway_settings: GatewaySettings,
) -> None:
    transports = {"inventory": asgi_transport(failing_app())}
    async with running_gateway(gateway_settings, transports) as (app, gateway):
        reader = await Tokens(app, gateway).headers("reader-test", "MINAM", "inventory:read")
        response = await gateway.get("/inventory/v1/clean", headers=reader)
    assert_problem(response, 503, "backend-busy")
    assert "source" not in response.json()


# -- 27. Audit rows edited or deleted -----------------------------------------------------------


async def audit_ids(app: FastAPI) -> list[int]:
    await app.state.audit.flush()
    async with app.state.db.sessions() as session:
        return list(await session.scalars(select(AuditEntry.id).order_by(AuditEntry.id)))


async def sql(app: FastAPI, statement: str, **params: Any) -> None:
    async with app.state.db.engine.begin() as conn:
        await conn.execute(text(statement), params)


async def some_traffic(gateway: httpx.AsyncClient, tokens: Tokens) -> dict[str, str]:
    admin = await tokens.headers(*ADMIN)
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    for headers in (reader, reader, {}, admin, reader):
        await gateway.get(HOLDERS, headers=headers)
    return admin


async def test_case_27_intact_audit_chain_verifies(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    admin = await some_traffic(gateway, tokens)
    ids = await audit_ids(gateway_app)
    assert len(ids) >= 7
    report = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    assert report["ok"] is True
    assert report["first_broken_id"] is None
    assert report["checked"] >= len(ids)


@pytest.mark.parametrize(
    "change",
    [
        "status = status + 1",
        "client_id = 'someone-else'",
        "path = '/inventory/v1/other'",
        "outcome = 'tampered'",
    ],
)
async def test_case_27_edited_audit_row_is_named_by_verification(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens, change: str
) -> None:
    admin = await some_traffic(gateway, tokens)
    ids = await audit_ids(gateway_app)
    target = ids[len(ids) // 2]
    await sql(gateway_app, f"UPDATE audit_entries SET {change} WHERE id = :id", id=target)  # noqa: S608
    report = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    assert report["ok"] is False
    assert report["first_broken_id"] == target


async def test_case_27_deleted_audit_row_is_named_by_verification(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    admin = await some_traffic(gateway, tokens)
    ids = await audit_ids(gateway_app)
    target = ids[2]
    await sql(gateway_app, "DELETE FROM audit_entries WHERE id = :id", id=target)
    report = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    assert report["ok"] is False
    assert report["first_broken_id"] == target + 1
    assert str(target) in report["reason"]


async def test_case_27_deleted_newest_audit_rows_are_named_by_verification(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    admin = await some_traffic(gateway, tokens)
    ids = await audit_ids(gateway_app)
    await sql(gateway_app, "DELETE FROM audit_entries WHERE id >= :id", id=ids[-2])
    report = (await gateway.get("/admin/audit/verify", headers=admin)).json()
    assert report["ok"] is False
    assert report["first_broken_id"] == ids[-2]


async def test_case_27_verification_needs_the_admin_scope(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    reader = await tokens.headers("reader-test", "MINAM", "inventory:read")
    assert_problem(await gateway.get("/admin/audit/verify", headers=reader), 403)


# -- Secrets never in the audit log or a log line -----------------------------------------------


async def test_tokens_and_client_secrets_never_reach_the_audit_log_or_logs(
    gateway_settings: GatewaySettings,
    inventory_app: FastAPI,
    cooperation_app: FastAPI,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = gateway_settings.model_copy(update={"access_log": True})
    transports = {
        "inventory": asgi_transport(inventory_app),
        "cooperation": asgi_transport(cooperation_app),
    }
    async with running_gateway(settings, transports) as (app, gateway):
        tokens = Tokens(app, gateway)
        admin_token = await tokens.get(*ADMIN)
        token = await tokens.get("reader-test", "MINAM", "inventory:read")
        wrong_secret = "wrong-secret-" + uuid.uuid4().hex
        form = {"grant_type": "client_credentials"}
        await gateway.post("/oauth/token", data=form, auth=("reader-test", wrong_secret))
        await gateway.post(
            "/oauth/token",
            data=form | {"client_id": "reader-test", "client_secret": TEST_SECRET},
        )
        await gateway.get(HOLDERS, headers=bearer(token))
        await gateway.get(HOLDERS, params={"access_token": token})
        await gateway.get(HOLDERS, params={"access_token": token}, headers=bearer(token))
        forged = token[:-8] + "AAAAAAAA"
        await gateway.get(HOLDERS, headers=bearer(forged))
        await gateway.post(HOLDERS, json={"token": token}, headers=bearer(token))
        created = await gateway.post(
            "/admin/clients",
            json={"client_id": "new-test", "name": "N", "org_code": "GIZ", "scopes": ["admin"]},
            headers=bearer(admin_token),
        )
        new_secret = created.json()["client_secret"]
        rotated = await gateway.post(
            "/admin/clients/new-test/rotate-secret", headers=bearer(admin_token)
        )
        rotated_secret = rotated.json()["client_secret"]
        await app.state.audit.flush()
        async with app.state.db.sessions() as session:
            rows = list(await session.scalars(select(AuditEntry)))

    secrets = {
        "token": token,
        "admin token": admin_token,
        "forged token": forged,
        "token signature": token.rsplit(".", 1)[1],
        "client secret": TEST_SECRET,
        "wrong secret": wrong_secret,
        "new client secret": new_secret,
        "rotated client secret": rotated_secret,
    }
    assert len(rows) >= 10
    stored = [" ".join(str(getattr(row, c.key)) for c in AuditEntry.__table__.c) for row in rows]
    logged = [
        f"{record.getMessage()} {record.__dict__!r} {record.exc_text or ''}"
        for record in caplog.records
        # This test's own client logs the URLs it calls; the gateway's clients call backends.
        if not (record.name == "httpx" and "http://gateway/" in record.getMessage())
    ]
    assert any("request" in line for line in logged), "the access log was captured"
    for what, secret in secrets.items():
        assert not any(secret in row for row in stored), f"{what} in the audit log"
        assert not any(secret in line for line in logged), f"{what} in a log line"
