"""The activity matrix: counts and money by priority area and status, coverage gaps, per
organisation and per year, over what the caller may see."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import httpx
import pytest

from tests.cooperation.conftest import PROGRAM, READ, As, read_data

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
DEMO = read_data("demo_activities.json")["activities"]


def expected(activities: list[dict[str, Any]]) -> dict[str, Any]:
    """The figures the matrix must show, computed here from the demo data directly."""
    by_area: dict[tuple[str, int], int] = {}
    budget: dict[str, Decimal] = {}
    covered = set()
    for a in activities:
        for area in a["priority_areas"]:
            by_area[(area, a["status"])] = by_area.get((area, a["status"]), 0) + 1
            total = sum(Decimal(b["value"]) for b in a["budgets"])
            budget[area] = budget.get(area, Decimal(0)) + total
        covered |= {f"{c}.{n}" for c, n in a["action_areas"]}
    return {"by_area": by_area, "budget": budget, "covered": covered}


async def matrix(
    gateway: httpx.AsyncClient, headers: dict[str, str] | None = None
) -> dict[str, Any]:
    path = f"{API}/matrix" if headers else f"{API}/public/matrix"
    response = await gateway.get(path, params={"program": PROGRAM}, headers=headers or {})
    assert response.status_code == 200, response.text
    return dict(response.json())


def check(body: dict[str, Any], activities: list[dict[str, Any]]) -> None:
    want = expected(activities)
    got = {
        (row["code"], int(status)): cell["activities"]
        for row in body["priority_areas"]
        for status, cell in row["by_status"].items()
    }
    assert got == want["by_area"]
    for row in body["priority_areas"]:
        assert Decimal(row["total"]["budget"].get("USD", "0")) == want["budget"].get(
            row["code"], Decimal(0)
        )
    program = read_data("work_program_2015_2018.json")["priority_areas"]
    action_areas = {
        f"{area['code']}.{n['number']}": (n["text_en"], n["text_es"])
        for area in program
        for n in area["action_areas"]
    }
    gaps = {g["action_area"]: (g["text_en"], g["text_es"]) for g in body["coverage_gaps"]}
    assert set(gaps) == set(action_areas) - want["covered"]
    assert all(gaps[code] == action_areas[code] for code in gaps)  # in English and Spanish
    titles = {row["code"]: (row["title_en"], row["title_es"]) for row in body["priority_areas"]}
    assert titles == {area["code"]: (area["title_en"], area["title_es"]) for area in program}
    assert body["total"]["activities"] == len(activities)


async def test_the_matrix_of_what_a_donor_may_see(gateway: httpx.AsyncClient, as_org: As) -> None:
    body = await matrix(gateway, await as_org("USAID", READ))
    visible = [a for a in DEMO if a["visibility"] != "participants"]
    check(body, visible)
    assert body["statuses"]["2"] == "Implementation"
    assert [r["code"] for r in body["priority_areas"]] == list("ABCDE")
    usaid = next(o for o in body["organisations"] if o["org"] == "USAID")
    assert usaid["roles"] == {"funding": 2}
    assert usaid["activities"] == 2
    epa = next(o for o in body["organisations"] if o["org"] == "EPA")
    assert epa["lead"] == 2
    years = {y["year"]: y for y in body["years"]}
    assert years[2017]["active"] >= 1
    assert Decimal(years[2017]["disbursed"]["USD"]) > 0


async def test_participants_see_their_activities_in_the_matrix(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    check(await matrix(gateway, await as_org("NOAA", READ)), DEMO)


async def test_the_public_matrix(gateway: httpx.AsyncClient) -> None:
    body = await matrix(gateway)
    check(body, [a for a in DEMO if a["visibility"] == "public"])


async def test_matrix_etag_unknown_program_and_bad_input(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    first = await gateway.get(f"{API}/matrix", params={"program": PROGRAM}, headers=usaid)
    tag = first.headers["etag"]
    again = await gateway.get(
        f"{API}/matrix", params={"program": PROGRAM}, headers=usaid | {"If-None-Match": tag}
    )
    assert again.status_code == 304
    assert json.loads(first.text)["program"] == PROGRAM
    missing = await gateway.get(f"{API}/matrix", params={"program": "NOPE"}, headers=usaid)
    assert missing.status_code == 404
    assert (await gateway.get(f"{API}/matrix", headers=usaid)).status_code == 422
    long = await gateway.get(f"{API}/matrix", params={"program": "x" * 5000}, headers=usaid)
    assert long.status_code == 422
