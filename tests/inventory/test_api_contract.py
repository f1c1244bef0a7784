"""API-wide promises of the inventory: exact scopes per route in the merged OpenAPI
document, anonymous access to /public only, a change feed with deletions, and no 500 for
any hostile query parameter."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.inventory.conftest import Caller, assert_problem

READ, WRITE, REVIEW = "inventory:read", "inventory:write", "inventory:review"
EXPECTED = {
    ("get", "/inventory/v1/holders"): READ,
    ("post", "/inventory/v1/holders"): WRITE,
    ("patch", "/inventory/v1/sites/{site_id}"): WRITE,
    ("post", "/inventory/v1/submissions"): WRITE,
    ("post", "/inventory/v1/submissions/{submission_id}/submit"): WRITE,
    ("post", "/inventory/v1/submissions/{submission_id}/start-review"): REVIEW,
    ("post", "/inventory/v1/submissions/{submission_id}/validate"): REVIEW,
    ("post", "/inventory/v1/submissions/{submission_id}/return"): REVIEW,
    ("post", "/inventory/v1/submissions/{submission_id}/corrections"): WRITE,
    ("post", "/inventory/v1/submissions/{submission_id}/pcb-items"): WRITE,
    ("post", "/inventory/v1/submissions/{submission_id}/imports"): WRITE,
    ("post", "/inventory/v1/pcb-items/{item_id}/status-events"): WRITE,
    ("put", "/inventory/v1/pcb-thresholds"): REVIEW,
    ("post", "/inventory/v1/emission-factors"): REVIEW,
    ("patch", "/inventory/v1/emission-factors/{factor_id}"): REVIEW,
    ("post", "/inventory/v1/submissions/{submission_id}/upops-estimates"): WRITE,
    ("post", "/inventory/v1/submissions/{submission_id}/mercury-estimates"): WRITE,
    ("get", "/inventory/v1/reports/national-summary"): READ,
    ("get", "/inventory/v1/changes"): REVIEW,
}


async def test_every_route_declares_its_exact_scope(gateway: httpx.AsyncClient) -> None:
    doc = (await gateway.get("/openapi.json")).json()
    operations = {
        (method, path): op
        for path, item in doc["paths"].items()
        if path.startswith("/inventory/v1/")
        for method, op in item.items()
    }
    for key, scope in EXPECTED.items():
        assert operations[key]["security"] == [{"OAuth2": [scope]}], key
    for (method, path), op in operations.items():
        if path.startswith("/inventory/v1/public/"):
            assert "security" not in op, path
            assert method == "get"
        else:
            assert len(op["security"]) == 1, path
            (scopes,) = op["security"][0].values()
            if path.startswith("/inventory/v1/subscriptions"):
                # An event subscription needs both: it sends what the reader may read.
                assert sorted(scopes) == ["inventory:read", "subscriptions"], path
            else:
                assert len(scopes) == 1, path
            assert op.get("summary"), path
            assert op.get("description"), path
    assert (
        "requestBody" in operations[("post", "/inventory/v1/submissions/{submission_id}/imports")]
    )


async def test_change_feed_shows_deletions(minem: Caller, minam: Caller, oefa: Caller) -> None:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    submission = await minem.submission()
    item = await minem.item(submission["id"], holder["id"], site["id"])
    assert (await minem.write("DELETE", f"/pcb-items/{item['id']}")).status_code == 204
    assert_problem(await oefa.get("/changes"), 403)
    changes = (await minam.get("/changes", params={"entity": "pcb_item"})).json()["items"]
    assert [c["action"] for c in changes] == ["create", "delete"]
    tombstone = changes[-1]
    assert tombstone["before"]["serial_number"] == item["serial_number"]
    assert tombstone["after"] is None
    assert tombstone["client_id"] == "minem-test"
    assert tombstone["org_code"] == "MINEM"
    page = await minam.get("/changes", params={"limit": 2})
    nxt = await minam.get("/changes", params={"limit": 2, "cursor": page.json()["next_cursor"]})
    assert nxt.json()["items"][0]["id"] > page.json()["items"][-1]["id"]


GETS = [
    "/holders",
    "/sites",
    "/submissions",
    "/pcb-items",
    "/emission-factors",
    "/upops-estimates",
    "/mercury-estimates",
    "/reports/national-summary",
    "/reports/by-department",
    "/reports/by-holder",
    "/reports/time-series",
    "/changes",
    "/pcb-thresholds",
    "/fluid-densities",
    "/public/national-summary",
    "/public/by-department",
    "/public/time-series",
]
HOSTILE: list[dict[str, Any]] = [
    {"limit": "1000000"},
    {"limit": "-1"},
    {"cursor": "' OR 1=1--"},
    {"cursor": "W3siYSI6MX1d"},
    {"updated_since": "yesterday"},
    {"year": "2024; DROP TABLE pcb_items"},
    {"year": "99999999999999999999"},
    {"as_of": "0000-00-00"},
    {"format": "xml"},
    {"section": "' OR 1=1--"},
    {"department": "1' OR '1'='1"},
    {"holder_id": "-5"},
    {"submission_id": str(2**40)},
    {"org": "x" * 100},
]


@pytest.mark.parametrize(
    "params", HOSTILE, ids=[next(iter(p)) + str(i) for i, p in enumerate(HOSTILE)]
)
async def test_hostile_query_parameters_are_never_500(
    minam: Caller, params: dict[str, Any]
) -> None:
    for path in GETS:
        response = await minam.get(path, params=params)
        assert response.status_code < 500, (path, params, response.text)
        if response.status_code >= 400:
            assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/pcb-items/99999999999999999999",
        "/holders/0",
        "/submissions/-1",
        "/sites/abc",
        "/upops-estimates/" + "9" * 500,
        "/emission-factors/1.5",
    ],
)
async def test_bad_ids_are_4xx(minam: Caller, path: str) -> None:
    response = await minam.get(path)
    assert 400 <= response.status_code < 500, response.text
