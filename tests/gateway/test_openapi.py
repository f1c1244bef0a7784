"""The gateway serves one OpenAPI 3.1 document for the whole suite."""

from __future__ import annotations

from typing import Any

import httpx
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from tests.conftest import Tokens


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
    # Each service's schemas keep their prefix; the one Problem schema is shared.
    assert "inventory.PcbItemOut" in schemas
    assert "cooperation.ActivityOut" in schemas
    assert not {n for n in schemas if n.endswith(("ValidationError", ".Problem"))}
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


METHODS = {"get", "put", "post", "delete", "patch"}


def _operations(doc: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (path, method, op)
        for path, item in doc["paths"].items()
        for method, op in item.items()
        if method in METHODS
    ]


async def test_every_error_is_declared_as_the_problem_the_servers_send(
    gateway: httpx.AsyncClient,
) -> None:
    """Issue 14 item 2: one Problem schema for every 4xx and 5xx; 401/403 where a token is
    needed, 404 where the path names a record, 429 and 503 everywhere."""
    doc = (await gateway.get("/openapi.json")).json()
    assert "HTTPValidationError" not in str(doc)
    for path, method, op in _operations(doc):
        responses = op["responses"]
        where = f"{method.upper()} {path}"
        for code, response in responses.items():
            if code[0] in "45":
                assert response["content"] == {
                    "application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}
                }, (where, code)
        assert {"429", "503"} <= set(responses), where
        if op.get("security"):
            assert {"401", "403"} <= set(responses), where
        if "{" in path:
            assert "404" in responses, where


async def test_every_tag_has_a_description(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    used = {t for _, _, op in _operations(doc) for t in op.get("tags", [])}
    described = {t["name"] for t in doc["tags"] if t.get("description")}
    assert used <= described, used - described


async def test_real_error_answers_match_the_declared_problem_schema(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    # The Problem schema, its $refs resolved in the document itself.
    validator = Draft202012Validator({**doc["components"]["schemas"]["Problem"], **doc})
    minem = await tokens.headers("minem-docs", "MINEM", "inventory:read inventory:write")
    answers = [
        await gateway.post("/inventory/v1/submissions", json={"year": "x"}, headers=minem),
        await gateway.get("/inventory/v1/holders", params={"limit": 0}, headers=minem),
        await gateway.get("/inventory/v1/holders"),  # no token: 401 from the gateway
        await gateway.get("/inventory/v1/pcb-items/999999", headers=minem),
        await gateway.get("/cooperation/v1/activities", params={"nope": "1"}, headers=minem),
    ]
    assert [a.status_code for a in answers] == [422, 422, 401, 404, 403]
    for answer in answers:
        assert answer.headers["content-type"].startswith("application/problem+json")
        body = answer.json()
        errors = sorted(validator.iter_errors(body), key=str)
        assert not errors, (answer.request.url, body, errors)


def _header_parameters(op: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {p["name"].lower(): p for p in op.get("parameters", []) if p.get("in") == "header"}


async def test_conditional_and_idempotency_headers_are_declared(gateway: httpx.AsyncClient) -> None:
    """Issue 14 item 2: If-None-Match and ETag on every read with a 304, a required If-Match
    on every write with 428/412, Idempotency-Key on the creating POSTs and imports."""
    doc = (await gateway.get("/openapi.json")).json()
    idempotent = set()
    for path, method, op in _operations(doc):
        where = f"{method.upper()} {path}"
        headers = _header_parameters(op)
        responses = op["responses"]
        if "304" in responses:
            assert headers["if-none-match"]["required"] is False, where
            assert "ETag" in responses["304"]["headers"], where
            assert "ETag" in responses["200"]["headers"], where
        if "428" in responses:
            assert headers["if-match"]["required"] is True, where
            assert "412" in responses, where
            assert "ETag" in responses["412"]["headers"], where
        else:
            assert "if-match" not in headers, where
        if "idempotency-key" in headers:
            idempotent.add(where)
        assert "x-enlace-idempotency-key" not in op, where
    assert {
        "POST /inventory/v1/holders",
        "POST /inventory/v1/sites",
        "POST /inventory/v1/submissions",
        "POST /inventory/v1/submissions/{submission_id}/pcb-items",
        "POST /inventory/v1/submissions/{submission_id}/imports",
        "POST /cooperation/v1/activities",
        "POST /cooperation/v1/imports/iati",
        "POST /cooperation/v1/imports/matrix",
    } <= idempotent
    # Creating an activity needs no version to match: not declared as needing If-Match.
    create = doc["paths"]["/cooperation/v1/activities"]["post"]
    assert "428" not in create["responses"]


async def test_the_declared_headers_do_what_the_document_says(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    minem = await tokens.headers("minem-headers", "MINEM", "inventory:read inventory:write")
    holder = {
        "ruc": "20100017491",
        "name": "Luz del Sur S.A.A.",
        "sector": "electricity_distribution",
        "is_public": False,
    }
    key = {"Idempotency-Key": "create-holder-1"}
    first = await gateway.post("/inventory/v1/holders", json=holder, headers=minem | key)
    again = await gateway.post("/inventory/v1/holders", json=holder, headers=minem | key)
    assert first.status_code == 201, first.text
    assert again.status_code == 201
    assert again.json()["id"] == first.json()["id"]
    url = f"/inventory/v1/holders/{first.json()['id']}"
    read = await gateway.get(url, headers=minem)
    tag = read.headers["ETag"]
    assert (await gateway.get(url, headers=minem | {"If-None-Match": tag})).status_code == 304
    change = {"name": "Luz del Sur"}
    missing = await gateway.patch(url, json=change, headers=minem)
    assert missing.status_code == 428
    stale = await gateway.patch(url, json=change, headers=minem | {"If-Match": '"stale"'})
    assert stale.status_code == 412
    assert stale.headers["ETag"] == tag
    done = await gateway.patch(url, json=change, headers=minem | {"If-Match": tag})
    assert done.status_code == 200, done.text


def _body_schema(doc: dict[str, Any], op: dict[str, Any]) -> dict[str, Any]:
    ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    schema: dict[str, Any] = doc["components"]["schemas"][ref.rsplit("/", 1)[-1]]
    return schema


def _allows_null(prop: dict[str, Any]) -> bool:
    return prop.get("type") == "null" or any(s.get("type") == "null" for s in prop.get("anyOf", []))


async def test_patch_schemas_offer_null_only_where_the_server_takes_it(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    """Issue 14 item 2: a PATCH field the server refuses as null is not nullable in the
    document; one it clears with null still is."""
    doc = (await gateway.get("/openapi.json")).json()
    holder_patch = _body_schema(doc, doc["paths"]["/inventory/v1/holders/{holder_id}"]["patch"])
    props = holder_patch["properties"]
    assert not _allows_null(props["name"])
    assert not _allows_null(props["is_public"])
    assert _allows_null(props["contact_name"])  # an optional field: null clears it
    activity_patch = _body_schema(
        doc, doc["paths"]["/cooperation/v1/activities/{identifier}"]["patch"]
    )
    props = activity_patch["properties"]
    assert not _allows_null(props["status"])
    assert not _allows_null(props["sectors"])
    assert _allows_null(props["planned_end"])
    # What the document says is what the server does.
    minem = await tokens.headers("minem-null", "MINEM", "inventory:read inventory:write")
    holder = {
        "ruc": "20100017491",
        "name": "Luz del Sur S.A.A.",
        "sector": "electricity_distribution",
        "is_public": False,
        "contact_name": "Medio Ambiente",
    }
    created = await gateway.post("/inventory/v1/holders", json=holder, headers=minem)
    url = f"/inventory/v1/holders/{created.json()['id']}"
    match = {"If-Match": created.headers["ETag"]}
    refused = await gateway.patch(url, json={"name": None}, headers=minem | match)
    assert refused.status_code == 422
    cleared = await gateway.patch(url, json={"contact_name": None}, headers=minem | match)
    assert cleared.status_code == 200, cleared.text
    assert cleared.json()["contact_name"] is None
