"""Behaviour every service shares: health, problem responses, request ids, access logs."""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import ValidationError

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.settings import CooperationSettings
from services.gateway.keys import KeyStore
from services.gateway.settings import GatewaySettings
from services.inventory.app import create_app as create_inventory
from services.inventory.registry.models import Holder
from services.inventory.settings import InventorySettings
from shared.db import SessionDep
from shared.logging import configure_logging
from shared.settings import ServiceSettings
from tests.conftest import asgi_client, direct_client, running
from tests.support import PROBLEM, PROBLEMS, assert_problem


@pytest.fixture(params=["inventory", "cooperation"])
async def service(
    request: pytest.FixtureRequest,
    inventory_settings: InventorySettings,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
    direct_headers: dict[str, str],
) -> AsyncIterator[httpx.AsyncClient]:
    """Each service in turn, called directly with a valid token."""
    keys = KeyStore(keys_dir)
    app = (
        create_inventory(inventory_settings, key_source=keys)
        if request.param == "inventory"
        else create_cooperation(cooperation_settings, key_source=keys)
    )
    async with running(app), direct_client(app, "http://svc", direct_headers) as client:
        yield client


async def test_health_live_and_ready(service: httpx.AsyncClient) -> None:
    client = service
    live = await client.get("/health/live")
    ready = await client.get("/health/ready")
    assert live.status_code == 200
    assert ready.status_code == 200
    assert ready.json()["database"] == "ok"


@pytest.mark.parametrize(
    ("factory", "settings_cls"),
    [(create_inventory, InventorySettings), (create_cooperation, CooperationSettings)],
)
async def test_ready_is_503_when_database_unreachable(factory, settings_cls, keys_dir) -> None:  # type: ignore[no-untyped-def]
    # Port 1 on loopback: nothing listens, so every connection is refused.
    settings = settings_cls(
        database_url="postgresql+asyncpg://nobody@127.0.0.1:1/none", db_timeout_s=2
    )
    app: FastAPI = factory(settings, key_source=KeyStore(keys_dir))
    async with app.router.lifespan_context(app), asgi_client(app, "http://svc") as client:
        response = await client.get("/health/ready")
        live = await client.get("/health/live")
    assert_problem(response, 503)
    assert response.headers["content-type"] == PROBLEM
    assert response.headers["retry-after"]
    assert "127.0.0.1" not in response.text  # no connection details leak
    assert live.status_code == 200


async def test_unknown_route_is_a_404_problem(service: httpx.AsyncClient) -> None:
    response = await service.get("/v1/no-such-thing")
    assert_problem(response, 404, "not-found")
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["type"] == PROBLEMS + "not-found"
    assert body["instance"] == "/v1/no-such-thing"
    assert body["request_id"] == response.headers["x-request-id"]


async def test_wrong_method_is_a_405_problem(inventory: httpx.AsyncClient) -> None:
    response = await inventory.delete("/v1/holders")
    assert_problem(response, 405)
    assert response.headers["content-type"] == PROBLEM
    assert "GET" in response.headers["allow"]


@pytest.mark.parametrize(
    "query", ["limit=0", "limit=abc", "limit=1000000", "limit=-5", "limit=1001"]
)
async def test_bad_paging_values_are_field_level_problems(
    cooperation: httpx.AsyncClient, query: str
) -> None:
    response = await cooperation.get(f"/v1/programs?{query}")
    assert_problem(response, 422)
    assert response.headers["content-type"] == PROBLEM
    body = response.json()
    assert body["errors"][0]["loc"] == ["query", "limit"]
    assert {"loc", "msg", "type"} == set(body["errors"][0])


@pytest.mark.parametrize(
    ("path", "declared"),
    [("/v1/holders", {"cursor", "limit"}), ("/health/live", set())],
)
async def test_an_unknown_query_parameter_is_a_400_naming_it(
    inventory: httpx.AsyncClient, path: str, declared: set[str]
) -> None:
    response = await inventory.get(path, params={"limt": "5", "x": "1"})
    assert_problem(response, 400, "unknown-query-parameter")
    body = response.json()
    assert body["unknown"] == ["limt", "x"]
    assert declared <= set(body["accepted"])
    assert "limt" in body["detail"]
    if declared:
        known = await inventory.get(path, params=dict.fromkeys(declared & {"limit"}, "5"))
        assert known.status_code == 200, known.text


async def test_path_parameter_of_wrong_type_is_a_422(inventory: httpx.AsyncClient) -> None:
    response = await inventory.get("/v1/holders/not-a-number")
    assert response.status_code == 422
    assert response.json()["errors"][0]["loc"] == ["path", "holder_id"]


async def test_forged_cursor_is_a_400_problem(inventory: httpx.AsyncClient) -> None:
    for cursor in ["garbage", "e30", "W10", "' OR 1=1--"]:
        response = await inventory.get("/v1/holders", params={"cursor": cursor})
        assert response.status_code == 400, cursor
        assert response.json()["type"].endswith("/invalid-cursor")


async def test_unhandled_exception_is_a_500_problem_without_internals(
    inventory_settings: InventorySettings, keys_dir: Path
) -> None:
    app = create_inventory(inventory_settings, key_source=KeyStore(keys_dir))

    @app.get("/boom")
    async def boom() -> None:
        raise RuntimeError("secret-password=hunter2 at /srv/app.py line 3")

    async with app.router.lifespan_context(app), asgi_client(app, "http://svc") as client:
        response = await client.get("/boom")
    assert_problem(response, 500)
    assert response.headers["content-type"] == PROBLEM
    assert "hunter2" not in response.text
    assert "Traceback" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


async def test_request_id_is_taken_from_the_caller(inventory: httpx.AsyncClient) -> None:
    response = await inventory.get("/health/live", headers={"X-Request-ID": "abc-123"})
    assert response.headers["x-request-id"] == "abc-123"


async def test_request_id_is_generated_when_missing_or_unsafe(
    inventory: httpx.AsyncClient,
) -> None:
    first = await inventory.get("/health/live")
    second = await inventory.get("/health/live", headers={"X-Request-ID": "bad id\tinjected"})
    assert len(first.headers["x-request-id"]) == 32
    assert second.headers["x-request-id"] != "bad id\tinjected"
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_one_json_access_log_line_per_request_with_request_id(
    inventory_settings: InventorySettings,
    capsys: pytest.CaptureFixture[str],
    keys_dir: Path,
    direct_headers: dict[str, str],
) -> None:
    settings = inventory_settings.model_copy(update={"access_log": True})
    app = create_inventory(settings, key_source=KeyStore(keys_dir))
    configure_logging("inventory")
    try:
        async with app.router.lifespan_context(app), asgi_client(app, "http://svc") as client:
            await client.get("/v1/holders", headers={"X-Request-ID": "log-me-1", **direct_headers})
    finally:
        logging.getLogger().handlers[:] = []
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
    access = [line for line in lines if line.get("logger") == "enlace.access"]
    assert len(access) == 1
    assert access[0]["request_id"] == "log-me-1"
    assert access[0]["status"] == 200
    assert access[0]["path"] == "/v1/holders"
    assert access[0]["service"] == "inventory"
    assert access[0]["duration_ms"] >= 0
    assert access[0]["client_id"] == "direct-test"
    assert access[0]["org"] == "MINAM"


async def test_a_failed_commit_never_answers_2xx(
    inventory_settings: InventorySettings, keys_dir: Path, direct_headers: dict[str, str]
) -> None:
    """The session commits before the response goes out: a write that fails at commit time
    is a 409 problem, not a 201 followed by a silent rollback."""
    app = create_inventory(inventory_settings, key_source=KeyStore(keys_dir))

    @app.post("/dup", status_code=201)
    async def dup(session: SessionDep) -> dict[str, str]:
        for _ in range(2):  # the same RUC twice: the unique constraint fails at commit
            session.add(
                Holder(ruc="20131368829", name="x", sector="mining", is_public=False, org_code="X")
            )
        return {"status": "created"}

    async with app.router.lifespan_context(app), asgi_client(app, "http://svc") as client:
        response = await client.post("/dup", headers=direct_headers)
    assert_problem(response, 409)
    assert response.headers["content-type"] == PROBLEM
    assert "INSERT" not in response.text


@pytest.mark.parametrize("settings_cls", [InventorySettings, CooperationSettings, GatewaySettings])
def test_production_refuses_a_sqlite_database(settings_cls: type[ServiceSettings]) -> None:
    with pytest.raises(ValidationError, match="production needs PostgreSQL"):
        settings_cls(environment="production", database_url="sqlite+aiosqlite:///var/x.db")
    settings = settings_cls(
        environment="production", database_url="postgresql+asyncpg://enlace@db/enlace"
    )
    assert settings.production
    assert not settings_cls(database_url="sqlite+aiosqlite:///var/x.db").production
