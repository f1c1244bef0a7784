"""Issue 12 items 3-6 through the API: classes and flags derived from Annex A Part II
(strict "greater than"; P1 > 100 000 mg/kg and > 5 L, P2 > 500 and > 5 L, P3 > 50 and
> 0.05 L; ESM of liquids and equipment > 0.005 % by 2028 with no volume condition) and
DOMAIN.md §1 (masses from volumes with per-fluid densities; status "with dates")."""

from __future__ import annotations

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
