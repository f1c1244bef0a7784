"""Reading the activity matrix through the gateway: visibility, filters, keyset pages, ETags,
the public views."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from tests.cooperation.conftest import IUU, OEFA_ENF, OEFA_PP, PROGRAM, READ, ZIS, As
from tests.support import PROBLEM, assert_problem

pytestmark = pytest.mark.usefixtures("seeded")

PUBLIC = 9
PARTNERS = 5
API = "/cooperation/v1"


async def all_pages(
    client: httpx.AsyncClient, path: str, headers: dict[str, str] | None = None, **params: Any
) -> list[dict[str, Any]]:
    """Every item of a collection, following next_cursor."""
    items: list[dict[str, Any]] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query, headers=headers or {})
        assert response.status_code == 200, response.text
        body = response.json()
        items += body["items"]
        cursor = body["next_cursor"]
        if cursor is None:
            return items
        assert response.headers["link"].endswith('rel="next"')


async def test_a_donor_sees_public_partner_and_its_own_activities(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    items = await all_pages(gateway, f"{API}/activities", usaid, limit=3)
    identifiers = [a["identifier"] for a in items]
    assert len(identifiers) == len(set(identifiers)) == PUBLIC + PARTNERS
    assert IUU not in identifiers
    keys = [(a["updated_at"], a["identifier"]) for a in items]
    assert [k[0] for k in keys] == sorted(k[0] for k in keys)


async def test_a_donor_never_sees_a_participants_only_activity_of_others(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    for org in ("USAID", "EPA", "GEF"):
        headers = await as_org(org, READ)
        response = await gateway.get(f"{API}/activities/{IUU}", headers=headers)
        assert response.status_code == 404
        assert response.headers["content-type"] == PROBLEM
        listed = await all_pages(gateway, f"{API}/activities", headers, limit=1000)
        assert IUU not in {a["identifier"] for a in listed}
    for org in ("NOAA", "PRODUCE"):  # the organisations taking part
        response = await gateway.get(f"{API}/activities/{IUU}", headers=await as_org(org, READ))
        assert response.status_code == 200
        assert response.json()["visibility"] == "participants"
    assert (await gateway.get(f"{API}/public/activities/{IUU}")).status_code == 404


async def test_anonymous_callers_get_public_activities_only(gateway: httpx.AsyncClient) -> None:
    items = await all_pages(gateway, f"{API}/public/activities", limit=4)
    assert len(items) == PUBLIC
    assert {a["visibility"] for a in items} == {"public"}
    assert (await gateway.get(f"{API}/public/activities/{OEFA_ENF}")).status_code == 200
    assert (await gateway.get(f"{API}/public/activities/{OEFA_PP}")).status_code == 404
    private = await gateway.get(f"{API}/activities")
    assert private.status_code == 401
    assert private.headers["www-authenticate"].startswith("Bearer")


async def test_the_public_view_stays_public_for_authenticated_callers(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    noaa = await as_org("NOAA", READ)
    items = await all_pages(gateway, f"{API}/public/activities", noaa)
    assert len(items) == PUBLIC


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"program": PROGRAM}, PUBLIC + PARTNERS),
        ({"program": "NO-SUCH-PROGRAM"}, 0),
        ({"priority_area": "A"}, 6),
        ({"status": 2}, 4),
        ({"organisation": "UNIDO"}, 1),
        ({"sector": "32265"}, 1),
        ({"organisation": "' OR 1=1--"}, 0),
        ({"updated_since": "2000-01-01T00:00:00Z"}, PUBLIC + PARTNERS),
        ({"updated_since": "2999-01-01T00:00:00+00:00"}, 0),
    ],
)
async def test_filters(
    gateway: httpx.AsyncClient, as_org: As, params: dict[str, Any], expected: int
) -> None:
    usaid = await as_org("USAID", READ)
    items = await all_pages(gateway, f"{API}/activities", usaid, **params)
    assert len(items) == expected, params
    if "organisation" in params and expected:
        assert all(params["organisation"] in {p["org"] for p in a["participants"]} for a in items)


VALIDATION = (422, "validation-error")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("limit=1000000", VALIDATION),
        ("limit=0", VALIDATION),
        ("limit=-1", VALIDATION),
        ("limit=abc", VALIDATION),
        ("status=7", VALIDATION),
        ("priority_area=a;DROP", VALIDATION),
        ("sector=1%27%20OR", VALIDATION),
        ("updated_since=yesterday", VALIDATION),
        ("cursor=not-a-cursor", (400, "invalid-cursor")),
        ("updated_since=2026-01-01T00:00:00", (400, "invalid-datetime")),
    ],
)
async def test_bad_parameters_are_problems_not_500s(
    gateway: httpx.AsyncClient, as_org: As, query: str, expected: tuple[int, str]
) -> None:
    usaid = await as_org("USAID", READ)
    response = await gateway.get(f"{API}/activities?{query}", headers=usaid)
    assert_problem(response, *expected)
    assert response.headers["content-type"] == PROBLEM


async def test_hostile_identifiers_in_the_path(gateway: httpx.AsyncClient, as_org: As) -> None:
    """The gateway refuses paths that are not valid (400); the service refuses identifiers
    that are not IATI identifiers (422)."""
    usaid = await as_org("USAID", READ)
    expected = {
        "x" * 5000: (400, "invalid-path"),
        "a%00b": (400, "invalid-path"),
        "..%2F..%2Fetc": (400, "invalid-path"),
        "' OR 1=1--": VALIDATION,
        "ab": VALIDATION,
    }
    for identifier, (status, slug) in expected.items():
        response = await gateway.get(f"{API}/activities/{identifier}", headers=usaid)
        assert_problem(response, status, slug)


async def read_twice(
    client: httpx.AsyncClient, path: str, headers: dict[str, str]
) -> tuple[httpx.Response, str]:
    """The answer to a second GET of ``path`` sent with the first one's ETag as
    If-None-Match, and that ETag."""
    tag = (await client.get(path, headers=headers)).headers["etag"]
    return await client.get(path, headers=headers | {"If-None-Match": tag}), tag


async def test_activity_etag_and_304(gateway: httpx.AsyncClient, as_org: As) -> None:
    usaid = await as_org("USAID", READ)
    again, tag = await read_twice(gateway, f"{API}/activities/{ZIS}", usaid)
    assert again.status_code == 304
    assert again.headers["etag"] == tag
    other = await gateway.get(f"{API}/activities/{ZIS}", headers=usaid | {"If-None-Match": '"x"'})
    assert other.status_code == 200


async def test_page_etag_and_304(gateway: httpx.AsyncClient, as_org: As) -> None:
    usaid = await as_org("USAID", READ)
    again, _ = await read_twice(gateway, f"{API}/activities?limit=5", usaid)
    assert again.status_code == 304
    public, _ = await read_twice(gateway, f"{API}/public/activities?limit=5", {})
    assert public.status_code == 304


async def test_an_activity_has_every_part(gateway: httpx.AsyncClient, as_org: As) -> None:
    body = (await gateway.get(f"{API}/activities/{OEFA_ENF}", headers=await as_org("EPA"))).json()
    assert body["reporting_org"] == body["lead_org"] == "EPA"
    assert body["published"] is True
    assert body["priority_areas"] == ["A"]
    assert body["action_areas"] == ["A.1"]
    assert {s["code"]: s["percentage"] for s in body["sectors"]} == {
        "41010": "60.00",
        "41081": "40.00",
    }
    assert body["locations"] == [
        {"department": "15", "name": "Lima"},
        {"department": "10", "name": "Huánuco"},
    ]
    assert body["funding_status"] == "disbursed"
    indicator = body["results"][0]["indicators"][0]
    assert indicator["baseline"] == {"year": 2017, "value": "0", "iso_date": None}
    assert [p["target"] for p in indicator["periods"]] == ["20", "20"]
    assert all(isinstance(p["id"], int) for p in indicator["periods"])
    assert body["transactions"][0]["provider_org"]["ref"] == "US-GOV-32"
    assert body["version"] >= 1
    assert body["updated_at"].endswith("Z")


async def test_routes_declare_their_scopes(gateway: httpx.AsyncClient) -> None:
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    assert paths[f"{API}/activities"]["get"]["security"] == [{"OAuth2": ["cooperation:read"]}]
    assert paths[f"{API}/activities"]["post"]["security"] == [{"OAuth2": ["cooperation:write"]}]
    patch = paths[f"{API}/activities/{{identifier}}"]["patch"]
    assert patch["security"] == [{"OAuth2": ["cooperation:write"]}]
    assert "security" not in paths[f"{API}/public/activities"]["get"]
    for path, item in paths.items():
        if path.startswith(API):
            for operation in item.values():
                assert operation.get("summary"), path
                assert operation.get("description"), path


async def test_direct_calls_need_a_token(cooperation_app: FastAPI) -> None:
    transport = httpx.ASGITransport(app=cooperation_app)
    async with httpx.AsyncClient(transport=transport, base_url="http://c") as client:
        assert (await client.get("/v1/activities")).status_code == 401
        assert (await client.get("/v1/public/activities")).status_code == 200


async def test_pages_show_each_activity_exactly_as_its_own_url(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    """Pages are read as rows, single activities as ORM objects: one representation."""
    noaa = await as_org("NOAA", READ)
    items = await all_pages(gateway, f"{API}/activities", noaa, limit=4)
    assert len(items) == PUBLIC + PARTNERS + 1
    for item in items:
        single = await gateway.get(f"{API}/activities/{item['identifier']}", headers=noaa)
        assert single.json() == item
