"""Two named schedules (issue 12 item 9): the Convention's, fixed by Annex A Part II (use
of PCB equipment eliminated by 2025, ESM no later than 2028, 0.005 % = 50 mg/kg, 0.05 L),
and the national plan's. A national plan no longer replaces the Convention's deadlines:
reports and item flags are judged against either, the Convention's by default.

Expected values come from DOMAIN.md section 1 (2025 taken as 2025-12-31, 2028 as
2028-12-31; "> 0.005 %" and "> 0.05 L" strict), not from the code.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory.conftest import Caller, assert_problem, validate

NATIONAL = "/pcb-thresholds?schedule=national"
# Peru's 2026-2030 action plan (DOMAIN.md): both deadlines at the end of 2030.
PLAN = {
    "p1_mg_per_kg": "100000",
    "p2_mg_per_kg": "500",
    "p3_mg_per_kg": "50",
    "large_volume_l": "5",
    "small_volume_l": "0.05",
    "use_deadline": "2030-12-31",
    "esm_deadline": "2030-12-31",
    "presumed_before_year": 1987,
    "presumed_min_volume_l": "5",
    "provenance": "Plan de acción nacional 2026-2030 (demo)",
}


@pytest.fixture
async def four_in_use(minem: Caller, minam: Caller) -> dict[str, Any]:
    """A validated 2024 inventory: P1, P2, P3 and a presumed item in use (300 L each), and
    one non-PCB item: four items the 2025 use deadline concerns."""
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    pcb = await minem.submission(2024, "pcb")
    items = {}
    for name, mg_per_kg in (("P1", "200000"), ("P2", "1000"), ("P3", "100"), ("non", "10")):
        item = await minem.item(pcb["id"], holder["id"], site["id"])
        await minem.analysis(
            item["id"], method="gc", analysed_on="2024-02-01", value_mg_per_kg=mg_per_kg
        )
        items[name] = item
    # No analysis, made in 1980, 300 L: presumed PCB.
    items["presumed"] = await minem.item(pcb["id"], holder["id"], site["id"])
    await validate(minem, minam, pcb["id"])
    return {"submission": pcb, "items": items}


async def test_the_convention_schedule_is_fixed_and_the_default(minam: Caller) -> None:
    convention = (await minam.get("/pcb-thresholds")).json()
    assert convention == (await minam.get("/pcb-thresholds?schedule=convention")).json()
    expected = {
        "schedule": "convention",
        "use_deadline": "2025-12-31",
        "esm_deadline": "2028-12-31",
        "p3_mg_per_kg": "50.000",
        "p2_mg_per_kg": "500.000",
        "p1_mg_per_kg": "100000.000",
        "small_volume_l": "0.050",
        "large_volume_l": "5.000",
    }
    assert {k: convention[k] for k in expected} == expected
    # No plan stored yet: the national schedule holds the Convention's values.
    national = (await minam.get(NATIONAL)).json()
    assert national["schedule"] == "national"
    assert (national["use_deadline"], national["esm_deadline"]) == ("2025-12-31", "2028-12-31")

    refused = await minam.write("PUT", "/pcb-thresholds?schedule=convention", PLAN)
    assert_problem(refused, 409, "schedule-fixed")
    assert refused.json()["errors"][0]["loc"] == ["query", "schedule"]
    missing = await minam.write("PUT", "/pcb-thresholds", PLAN)
    assert_problem(missing, 422)
    assert ["query", "schedule"] in [e["loc"] for e in missing.json()["errors"]]

    await minam.ok("PUT", NATIONAL, PLAN)
    assert (await minam.get("/pcb-thresholds")).json() == convention


@pytest.mark.parametrize(
    ("use", "esm", "accepted"),
    [("2029-01-01", "2028-12-31", False), ("2028-12-31", "2028-12-31", True)],
)
async def test_a_use_deadline_after_the_esm_deadline_is_refused(
    minam: Caller, use: str, esm: str, accepted: bool
) -> None:
    before = (await minam.get(NATIONAL)).json()
    response = await minam.write("PUT", NATIONAL, PLAN | {"use_deadline": use, "esm_deadline": esm})
    national = (await minam.get(NATIONAL)).json()
    if accepted:
        assert response.status_code == 200, response.text
        assert national["use_deadline"] == use
        assert national["version"] > before["version"]
        return
    assert_problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"] == ["body", "use_deadline"]
    assert national == before  # nothing was stored


@pytest.mark.usefixtures("four_in_use")
async def test_reports_count_overdue_items_against_either_schedule(
    minam: Caller, oefa: Caller
) -> None:
    await minam.ok("PUT", NATIONAL, PLAN)

    async def deadlines(as_of: str, schedule: str | None = None) -> dict[str, Any]:
        params = {"year": 2024, "as_of": as_of} | ({"schedule": schedule} if schedule else {})
        body = (await oefa.get("/reports/national-summary", params=params)).json()
        assert body["schedule"] == (schedule or "convention")
        return dict(body["pcb"]["deadlines"])

    # Half a year after 2025: under the Convention the four items in use are overdue; the
    # national plan gives them until the end of 2030.
    convention = await deadlines("2026-06-30")
    assert convention["use"] == {"deadline": "2025-12-31", "items_due": 0, "items_overdue": 4}
    assert convention["esm"] == {"deadline": "2028-12-31", "items_due": 4, "items_overdue": 0}
    assert convention == await deadlines("2026-06-30", "convention")
    national = await deadlines("2026-06-30", "national")
    assert national["use"] == {"deadline": "2030-12-31", "items_due": 4, "items_overdue": 0}
    # After 2028 the Convention's ESM deadline has passed for all four; not the plan's.
    assert (await deadlines("2029-01-01"))["esm"]["items_overdue"] == 4
    assert (await deadlines("2029-01-01", "national"))["esm"]["items_due"] == 4
    # The same figures by department and by year.
    params = {"year": 2024, "as_of": "2026-06-30", "schedule": "national"}
    by_department = (await oefa.get("/reports/by-department", params=params)).json()
    assert [
        d["pcb"]["deadlines"]["use"]["items_overdue"] for d in by_department["departments"]
    ] == [0]
    series = (await oefa.get("/reports/time-series", params={"as_of": "2026-06-30"})).json()
    assert series["years"][0]["pcb"]["deadlines"]["use"]["items_overdue"] == 4


async def test_item_flags_and_the_flag_filter_follow_the_schedule(
    minem: Caller, minam: Caller, four_in_use: dict[str, Any]
) -> None:
    await minam.ok("PUT", NATIONAL, PLAN)
    p1 = f"/pcb-items/{four_in_use['items']['P1']['id']}"
    on = {"as_of": "2026-06-30"}
    convention = await minem.get(p1, params=on)
    assert "non_compliant_use" in convention.json()["compliance_flags"]
    national = await minem.get(p1, params=on | {"schedule": "national"})
    flags = national.json()["compliance_flags"]
    assert "remove_by_deadline" in flags
    assert "non_compliant_use" not in flags
    assert convention.headers["etag"] != national.headers["etag"]

    async def flagged(schedule: str) -> int:
        params = on | {"flag": "non_compliant_use", "current": "true", "schedule": schedule}
        return len((await minem.get("/pcb-items", params=params)).json()["items"])

    assert (await flagged("convention"), await flagged("national")) == (4, 0)


async def test_a_write_takes_the_etag_read_under_either_schedule(minem: Caller) -> None:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    draft = await minem.submission(2025, "pcb")
    path = f"/pcb-items/{(await minem.item(draft['id'], holder['id'], site['id']))['id']}"
    read = await minem.get(path, params={"schedule": "national"})
    headers = minem.headers | {"If-Match": read.headers["etag"]}
    changed = await minem.gateway.patch(
        "/inventory/v1" + path, json={"labelled": True}, headers=headers
    )
    assert changed.status_code == 200, changed.text
    # The old ETag is stale under either schedule now.
    again = await minem.gateway.patch(
        "/inventory/v1" + path, json={"labelled": False}, headers=headers
    )
    assert_problem(again, 412)


@pytest.mark.parametrize(
    "path",
    [
        "/reports/national-summary",
        "/reports/by-department",
        "/reports/by-sector",
        "/reports/by-holder",
        "/reports/time-series",
        "/pcb-items",
        "/pcb-thresholds",
    ],
)
async def test_an_unknown_schedule_is_a_problem_naming_the_parameter(
    oefa: Caller, path: str
) -> None:
    response = await oefa.get(path, params={"schedule": "treaty"})
    assert_problem(response, 422, "validation-error")
    assert [e["loc"] for e in response.json()["errors"]] == [["query", "schedule"]]


async def test_an_unknown_schedule_on_one_item_is_a_problem(
    minem: Caller, four_in_use: dict[str, Any]
) -> None:
    path = f"/pcb-items/{four_in_use['items']['P1']['id']}"
    response = await minem.get(path, params={"schedule": "National"})
    assert_problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"] == ["query", "schedule"]


def _enum(spec: dict[str, Any], schema: dict[str, Any]) -> list[str]:
    """The enumerated values of a parameter schema (through $ref, anyOf and array items)."""
    if "$ref" in schema:
        return _enum(spec, spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[1]])
    for key in ("anyOf", "allOf"):
        for option in schema.get(key, []):
            if found := _enum(spec, option):
                return found
    if "items" in schema:
        return _enum(spec, schema["items"])
    return list(schema.get("enum", []))


def test_openapi_declares_schedule_and_sector(inventory_app: Any) -> None:
    spec = inventory_app.openapi()

    def parameter(path: str, name: str, method: str = "get") -> dict[str, Any]:
        params = spec["paths"][path][method]["parameters"]
        return next(p for p in params if p["name"] == name)

    for path in ("/v1/reports/national-summary", "/v1/public/by-sector", "/v1/pcb-items"):
        assert _enum(spec, parameter(path, "schedule")["schema"]) == ["convention", "national"]
    assert parameter("/v1/pcb-thresholds", "schedule", "put")["required"] is True
    sectors = _enum(spec, parameter("/v1/reports/by-sector", "sector")["schema"])
    assert {"electricity_distribution", "mining"} <= set(sectors)
