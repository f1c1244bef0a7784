"""Issue 12 items 3-6 through the API: classes and flags derived from Annex A Part II
(strict "greater than"; P1 > 100 000 mg/kg and > 5 L, P2 > 500 and > 5 L, P3 > 50 and
> 0.05 L; ESM of liquids and equipment > 0.005 % by 2028 with no volume condition) and
DOMAIN.md §1 (masses from volumes with per-fluid densities; status "with dates")."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.inventory.conftest import Caller


@pytest.fixture
async def place(minem: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    submission = await minem.submission(2024)
    return {"holder": holder["id"], "site": site["id"], "submission": submission["id"]}


async def _gc_item(minem: Caller, place: dict[str, Any], mg_per_kg: str, **fields: Any) -> Any:
    item = await minem.item(place["submission"], place["holder"], place["site"], **fields)
    return await minem.analysis(
        item["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg=mg_per_kg
    )


# -- item 3: an unknown volume is not a small volume ---------------------------------------


async def test_gc_measured_with_mass_and_no_volume_is_classed_by_concentration(
    minem: Caller, place: dict[str, Any]
) -> None:
    no_volume = {"fluid_volume_l": None, "fluid_mass_kg": "1500", "year_manufactured": 1999}
    unknown_kind = await _gc_item(minem, place, "300000", **no_volume)
    assert unknown_kind["pcb_class"] == "P1"
    assert "volume_unknown" in unknown_kind["compliance_flags"]
    assert unknown_kind["fluid_volume"]["method"] == "unknown"
    askarel = await _gc_item(minem, place, "300000", **no_volume, fluid_kind="askarel")
    assert askarel["pcb_class"] == "P1"
    assert "volume_unknown" not in askarel["compliance_flags"]
    assert askarel["fluid_volume"]["litres"] == "1000.000"  # 1 500 kg / 1.5 kg/L
    assert askarel["fluid_volume"]["method"] == "mass_over_density"
    listed = await minem.get("/pcb-items", params={"flag": "volume_unknown"})
    assert [i["id"] for i in listed.json()["items"]] == [unknown_kind["id"]]
    p1 = await minem.get("/pcb-items", params={"pcb_class": "P1"})
    assert {i["id"] for i in p1.json()["items"]} == {unknown_kind["id"], askarel["id"]}


@pytest.mark.parametrize(
    ("mg_per_kg", "mass_kg", "expected"),
    [
        ("60", "0.044", "non_pcb"),  # 0.044 kg / 0.88 kg/L = 0.05 L: not > 0.05 L
        ("60", "0.045", "P3"),  # 0.0511 L
        ("600", "4.4", "P3"),  # exactly 5 L: not > 5 L
        ("600", "4.401", "P2"),
    ],
)
async def test_volume_derived_from_mineral_oil_mass_keeps_strict_limits(
    minem: Caller, place: dict[str, Any], mg_per_kg: str, mass_kg: str, expected: str
) -> None:
    item = await _gc_item(
        minem,
        place,
        mg_per_kg,
        fluid_volume_l=None,
        fluid_mass_kg=mass_kg,
        fluid_kind="mineral_oil",
        total_mass_kg=None,
    )
    assert item["pcb_class"] == expected
    listed = await minem.get("/pcb-items", params={"pcb_class": expected})
    assert item["id"] in [i["id"] for i in listed.json()["items"]]


# -- item 4: ESM of contaminated liquids and equipment has no volume condition -----------


@pytest.mark.parametrize(
    ("mg_per_kg", "as_of", "overdue"),
    [
        ("60", "2029-01-01", True),
        ("60", "2028-12-31", False),  # "no later than 2028": due, not yet overdue
        ("50", "2029-01-01", False),  # exactly 0.005 % is not above it
        ("50.001", "2029-01-01", True),
    ],
)
async def test_small_contaminated_items_are_esm_overdue_after_2028(
    minem: Caller, place: dict[str, Any], mg_per_kg: str, as_of: str, overdue: bool
) -> None:
    item = await _gc_item(minem, place, mg_per_kg, fluid_volume_l="0.04", year_manufactured=1999)
    assert item["pcb_class"] == "non_pcb"  # the identification priorities need > 0.05 L
    seen = (await minem.get(f"/pcb-items/{item['id']}", params={"as_of": as_of})).json()
    assert ("esm_overdue" in seen["compliance_flags"]) is overdue
    assert "non_compliant_use" not in seen["compliance_flags"]
    listed = await minem.get("/pcb-items", params={"flag": "esm_overdue", "as_of": as_of})
    assert (item["id"] in [i["id"] for i in listed.json()["items"]]) is overdue
    summary = await minem.get(
        "/reports/national-summary",
        params={"submission_id": place["submission"], "as_of": as_of},
    )
    esm = summary.json()["pcb"]["deadlines"]["esm"]
    assert esm["items_overdue"] == (1 if overdue else 0)


# -- item 5: "decontaminated" needs proof -----------------------------------------------


async def _move(minem: Caller, item_id: int, to: str, on: str) -> Any:
    path = f"/pcb-items/{item_id}"
    return await minem.write(
        "POST", f"{path}/status-events", {"to_status": to, "changed_on": on}, etag_of=path
    )


async def test_decontaminated_awaits_a_clean_gc_dated_after_it(
    minem: Caller, place: dict[str, Any]
) -> None:
    item = await _gc_item(minem, place, "1200", fluid_volume_l="300", year_manufactured=1999)
    iid = item["id"]
    for to, on in (("out_of_service_stored", "2024-02-01"), ("decontaminated", "2024-03-01")):
        assert (await _move(minem, iid, to, on)).status_code == 201
    late = {"as_of": "2029-01-01"}
    seen = (await minem.get(f"/pcb-items/{iid}", params=late)).json()
    assert {"awaiting_verification", "esm_overdue"} <= set(seen["compliance_flags"])
    listed = await minem.get("/pcb-items", params={"flag": "awaiting_verification"})
    assert [i["id"] for i in listed.json()["items"]] == [iid]
    # A clean GC on the day of decontamination is not "after" it; one later is.
    same_day = await minem.analysis(
        iid, method="gc", analysed_on="2024-03-01", value_mg_per_kg="40", sample_ref="a"
    )
    assert "awaiting_verification" in same_day["compliance_flags"]
    dirty = await minem.analysis(iid, method="gc", analysed_on="2024-04-01", value_mg_per_kg="51")
    assert "awaiting_verification" in dirty["compliance_flags"]  # above 50 mg/kg
    clean = await minem.analysis(iid, method="gc", analysed_on="2024-05-01", value_mg_per_kg="50")
    assert clean["pcb_class"] == "non_pcb"
    after = (await minem.get(f"/pcb-items/{iid}", params=late)).json()
    assert after["compliance_flags"] == []
    listed = await minem.get("/pcb-items", params={"flag": "awaiting_verification"})
    assert listed.json()["items"] == []


async def test_an_item_created_decontaminated_needs_its_date_and_awaits_verification(
    minem: Caller, place: dict[str, Any]
) -> None:
    body = {
        "holder_id": place["holder"],
        "site_id": place["site"],
        "equipment_type": "transformer",
        "manufacturer": "ACME",
        "serial_number": "DECON-1",
        "fluid_volume_l": "300",
        "year_manufactured": 1975,
        "status": "decontaminated",
    }
    path = f"/submissions/{place['submission']}/pcb-items"
    refused = await minem.post(path, body)
    assert refused.status_code == 422
    assert "status_since" in refused.text
    created = await minem.post(path, body | {"status_since": "2023-06-01"})
    assert created.status_code == 201, created.text
    item = created.json()
    assert item["pcb_class"] == "presumed"
    assert "awaiting_verification" in item["compliance_flags"]
    late = await minem.get(f"/pcb-items/{item['id']}", params={"as_of": "2029-01-01"})
    assert "esm_overdue" in late.json()["compliance_flags"]


# -- item 6: flags on a date use the status in force on that date ------------------------


async def test_as_of_uses_the_dated_status_history(minem: Caller, place: dict[str, Any]) -> None:
    item = await minem.item(
        place["submission"],
        place["holder"],
        place["site"],
        year_manufactured=1975,
        status_since="2020-01-01",
    )
    iid = item["id"]
    assert (await _move(minem, iid, "out_of_service_stored", "2026-03-01")).status_code == 201
    path = f"/pcb-items/{iid}"

    async def on(day: str) -> dict[str, Any]:
        return dict((await minem.get(path, params={"as_of": day})).json())

    february = await on("2026-02-01")
    assert february["status_as_of"] == {"status": "in_use", "since": "2020-01-01"}
    assert "non_compliant_use" in february["compliance_flags"]
    assert february["status"] == "out_of_service_stored"  # the record itself is current
    assert "remove_by_deadline" in (await on("2025-12-31"))["compliance_flags"]
    assert (await on("2019-06-01"))["status_as_of"]["status"] == "in_use"  # earliest known
    march = await on("2026-03-01")  # in force from that day
    assert march["status_as_of"] == {"status": "out_of_service_stored", "since": "2026-03-01"}
    assert "non_compliant_use" not in march["compliance_flags"]

    async def flagged(day: str) -> list[int]:
        params = {"flag": "non_compliant_use", "as_of": day}
        return [i["id"] for i in (await minem.get("/pcb-items", params=params)).json()["items"]]

    assert await flagged("2026-02-01") == [iid]
    assert await flagged("2026-03-01") == []
    listed = await minem.get("/pcb-items", params={"as_of": "2026-02-01"})
    assert listed.json()["items"][0]["compliance_flags"] == february["compliance_flags"]
    exported = await minem.get("/pcb-items", params={"as_of": "2026-02-01", "format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows[0]["status_as_of"] == "in_use"
    assert "non_compliant_use" in rows[0]["compliance_flags"]
