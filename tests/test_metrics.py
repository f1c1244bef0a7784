"""``GET /metrics``: Prometheus metrics of each process, for its operators only."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from services.inventory.settings import InventorySettings
from tests.conftest import Tokens
from tests.support import assert_problem


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample of an exposition, keyed by name and labels."""
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def client_at(app: FastAPI, ip: str, base_url: str) -> httpx.AsyncClient:
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False, client=(ip, 4711))
    return httpx.AsyncClient(transport=transport, base_url=base_url)


async def test_service_counts_requests_by_route_template_and_status(
    inventory: httpx.AsyncClient,
) -> None:
    assert (await inventory.get("/v1/holders")).status_code == 200
    assert (await inventory.get("/v1/holders")).status_code == 200
    assert (await inventory.get("/v1/holders/999999")).status_code == 404
    assert (await inventory.get("/v1/no-such-route")).status_code == 404
    response = await inventory.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    got = samples(response.text)
    ok = frozenset({("method", "GET"), ("route", "/v1/holders"), ("status", "200")})
    assert got[("enlace_http_requests_total", ok)] == 2
    # The template, never the raw path (bounded series); no route at all is "unmatched".
    missing = frozenset(
        {("method", "GET"), ("route", "/v1/holders/{holder_id}"), ("status", "404")}
    )
    assert got[("enlace_http_requests_total", missing)] == 1
    unmatched = frozenset({("method", "GET"), ("route", "unmatched"), ("status", "404")})
    assert got[("enlace_http_requests_total", unmatched)] == 1
    assert "999999" not in response.text
    count = frozenset({("method", "GET"), ("route", "/v1/holders")})
    assert got[("enlace_http_request_duration_seconds_count", count)] == 2
    assert got[("enlace_db_pool_size", frozenset())] >= 1
    assert got[("enlace_db_pool_overflow", frozenset())] == 0
    in_use = got[("enlace_db_pool_connections", frozenset({("state", "in_use")}))]
    idle = got[("enlace_db_pool_connections", frozenset({("state", "idle")}))]
    assert in_use >= 0
    assert in_use + idle >= 1


async def test_service_metrics_are_refused_to_callers_outside_the_allowed_networks(
    inventory_app: FastAPI,
) -> None:
    async with client_at(inventory_app, "203.0.113.7", "http://inventory") as outsider:
        response = await outsider.get("/metrics")
    assert_problem(response, 404)
    assert "enlace_http" not in response.text


async def test_allowed_networks_are_a_setting(inventory_settings: InventorySettings) -> None:
    with pytest.raises(ValueError, match="metrics_allow"):
        InventorySettings(database_url=inventory_settings.database_url, metrics_allow="10.0.0.0/33")


async def test_gateway_metrics_label_forwarded_requests_by_backend(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = await tokens.headers("metrics-test", "MINEM", "inventory:read")
    assert (await gateway.get("/inventory/v1/holders", headers=headers)).status_code == 200
    assert (await gateway.get("/inventory/v1/holders/1", headers=headers)).status_code == 404
    response = await gateway.get("/metrics")
    assert response.status_code == 200
    got = samples(response.text)
    ok = frozenset({("method", "GET"), ("route", "/inventory/*"), ("status", "200")})
    assert got[("enlace_http_requests_total", ok)] == 1
    assert got[("enlace_audit_pending_entries", frozenset())] >= 0
    closed = frozenset({("backend", "inventory"), ("state", "closed")})
    assert got[("enlace_breaker_state", closed)] == 1
    opened = frozenset({("backend", "inventory"), ("state", "open")})
    assert got[("enlace_breaker_state", opened)] == 0


@pytest.mark.parametrize(
    "path", ["/inventory/metrics", "/cooperation/metrics", "/inventory/metrics?x=1"]
)
async def test_the_gateway_never_forwards_a_services_metrics(
    gateway: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    headers = await tokens.headers("metrics-test", "MINAM", "inventory:read cooperation:read")
    response = await gateway.get(path, headers=headers)
    assert_problem(response, 404)
    assert "enlace_http" not in response.text


async def test_gateway_metrics_are_not_public(gateway_app: FastAPI) -> None:
    async with client_at(gateway_app, "198.51.100.20", "http://gateway") as outsider:
        response = await outsider.get("/metrics")
    assert_problem(response, 404)
