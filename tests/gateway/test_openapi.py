"""The gateway serves one OpenAPI 3.1 document for the whole suite."""

from __future__ import annotations

from typing import Any

import httpx
from openapi_spec_validator import validate


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


async def test_merged_document_is_valid_openapi_31(gateway: httpx.AsyncClient) -> None:
    response = await gateway.get("/openapi.json")
    assert response.status_code == 200
    doc = response.json()
    assert doc["openapi"].startswith("3.1")
    validate(doc)  # raises on an invalid document
    paths = doc["paths"]
    for path in (
        "/oauth/token",
        "/.well-known/jwks.json",
        "/admin/clients",
        "/health",
        "/inventory/v1/holders",
        "/inventory/v1/pcb-items/{item_id}",
        "/cooperation/v1/programs/{code}",
    ):
        assert path in paths, path
    assert "/openapi.json" not in paths  # the docs routes themselves are not documented


async def test_components_do_not_collide_and_every_ref_resolves(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    schemas = doc["components"]["schemas"]
    # Both services define HTTPValidationError: each keeps its own under its prefix.
    assert "inventory.HTTPValidationError" in schemas
    assert "cooperation.HTTPValidationError" in schemas
    for ref in _refs(doc):
        assert ref.startswith("#/components/schemas/")
        assert ref.removeprefix("#/components/schemas/") in schemas, ref
    operation_ids = [
        op["operationId"]
        for item in doc["paths"].values()
        for op in item.values()
        if "operationId" in op
    ]
    assert len(operation_ids) == len(set(operation_ids))


async def test_client_credentials_scheme_and_per_route_scopes(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    scheme = doc["components"]["securitySchemes"]["OAuth2"]
    flow = scheme["flows"]["clientCredentials"]
    assert flow["tokenUrl"] == "/oauth/token"
    assert {"inventory:read", "inventory:review", "cooperation:write", "admin"} <= set(
        flow["scopes"]
    )
    holders = doc["paths"]["/inventory/v1/holders"]["get"]
    assert holders["security"] == [{"OAuth2": ["inventory:read"]}]
    programs = doc["paths"]["/cooperation/v1/programs"]["get"]
    assert programs["security"] == [{"OAuth2": ["cooperation:read"]}]
    assert doc["paths"]["/admin/clients"]["post"]["security"] == [{"OAuth2": ["admin"]}]


async def test_docs_pages_are_served(gateway: httpx.AsyncClient) -> None:
    docs = await gateway.get("/docs")
    redoc = await gateway.get("/redoc")
    assert docs.status_code == 200
    assert "swagger-ui" in docs.text.lower()
    assert "/openapi.json" in docs.text
    assert redoc.status_code == 200
