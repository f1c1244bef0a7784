"""The PCB elimination curve through the gateway: items changing status on known dates,
validated through the real workflow; figures derived by hand; drafts excluded; the
projection; CSV; bad parameters."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest

from tests.inventory.conftest import Caller, assert_problem, validate

D = Decimal
EVIDENCE = {
    "disposal_facility": "Demo ESM plant",
    "country": "FR",
    "disposed_on": "2023-09-01",
    "certificate_ref": "CERT-1",
    "mass_kg": "4000",
}


async def _move(owner: Caller, item: dict[str, Any], to: str, on: str, **extra: Any) -> None:
    await owner.ok(
        "POST",
        f"/pcb-items/{item['id']}/status-events",
        {"to_status": to, "changed_on": on, **extra},
        etag_of=f"/pcb-items/{item['id']}",
    )


@pytest.fixture
async def history(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    """MINEM's 2024 inventory (validated):

    - A, P1, Cusco (08), 4000 kg: in use since 2019-01-01, out of service 2022-06-01,
      shipped 2023-02-01, eliminated 2023-09-01;
    - B, P2, Lima, 1200 kg: in use (undated), out of service 2023-03-01;
    - C, P2, Lima, not weighed: in use (undated), out of service 2024-05-01;
    - D, P1, Lima, 500 kg: in use (undated), also listed in MINEM's validated 2023
      inventory (counted once);
    - E, P3, Lima, 50 kg: in use (undated), stand-by 2021-04-01 (still in service);
    - F, non-PCB, Lima: in use (not on the curve).
    PRODUCE's draft with a P1 item in use: never counted.
    """
    holder = await minem.holder()
    cusco = await minem.site(holder["id"], ubigeo="080101")
    lima = await minem.site(holder["id"], ubigeo="150101")
    sid = (await minem.submission(2024, "pcb"))["id"]

    async def item(site: dict[str, Any], mg: str, sid: int = sid, **fields: Any) -> Any:
        made = await minem.item(sid, holder["id"], site["id"], **fields)
        await minem.analysis(made["id"], method="gc", analysed_on="2018-01-10", value_mg_per_kg=mg)
        return made

    a = await item(
        cusco, "300000", fluid_volume_l="850", total_mass_kg="4000", status_since="2019-01-01"
    )
    await _move(minem, a, "out_of_service_stored", "2022-06-01")
    await _move(minem, a, "shipped_for_disposal", "2023-02-01")
    await _move(minem, a, "eliminated", "2023-09-01", elimination=EVIDENCE)
    b = await item(lima, "1200", total_mass_kg="1200")
    await _move(minem, b, "out_of_service_stored", "2023-03-01")
    c = await item(lima, "2000", total_mass_kg=None)
    await _move(minem, c, "out_of_service_stored", "2024-05-01")
    await item(lima, "200000", fluid_volume_l="100", total_mass_kg="500", serial_number="D-1")
    e = await item(lima, "100", fluid_volume_l="1", total_mass_kg="50")
    await _move(minem, e, "standby", "2021-04-01")
    await item(lima, "3", total_mass_kg="700")
    await validate(minem, minam, sid)
    # The same item D in MINEM's 2023 inventory: the 2024 copy is the one counted.
    earlier = (await minem.submission(2023, "pcb"))["id"]
    await item(
        lima, "200000", earlier, fluid_volume_l="100", total_mass_kg="500", serial_number="D-1"
    )
    await validate(minem, minam, earlier)
    other = await produce.holder()
    other_site = await produce.site(other["id"])
    draft = (await produce.submission(2024, "pcb"))["id"]
    made = await produce.item(draft, other["id"], other_site["id"], total_mass_kg="99999")
    await produce.analysis(
        made["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg="900000"
    )
    return {"submission_id": sid, "earlier_id": earlier}


def _tally(t: dict[str, Any]) -> tuple[int, Decimal, int]:
    return t["items"], D(t["total_mass_t"]), t["items_not_weighed"]


async def test_curve_by_year_from_the_dated_history(oefa: Caller, history: dict[str, Any]) -> None:
    response = await oefa.get("/reports/pcb-curve", params={"from": 2018, "to": 2024})
    assert response.status_code == 200, response.text
    body = response.json()
    years = {y["year"]: y for y in body["years"]}
    assert sorted(years) == list(range(2018, 2025))
    # 2018: A is not in the inventory before its first dated status (2019-01-01).
    y2018 = years[2018]
    assert y2018["as_of"] == "2018-12-31"
    assert y2018["in_use"]["by_class"]["P1"]["items"] == 1  # D only
    assert _tally(y2018["in_use"]["total"]) == (4, D("1.750"), 1)
    # 2021: A, B, C, D, E in service (E on stand-by counts as in use).
    y2021 = years[2021]
    assert _tally(y2021["in_use"]["total"]) == (5, D("5.750"), 1)
    assert _tally(y2021["in_use"]["by_class"]["P1"]) == (2, D("4.500"), 0)
    assert _tally(y2021["in_use"]["by_class"]["P2"]) == (2, D("1.200"), 1)
    assert _tally(y2021["in_use"]["by_class"]["P3"]) == (1, D("0.050"), 0)
    assert y2021["removed_from_use"]["total"]["items"] == 0
    # 2022: A out of service.
    y2022 = years[2022]
    assert _tally(y2022["in_use"]["total"]) == (4, D("1.750"), 1)
    assert _tally(y2022["removed_from_use"]["total"]) == (1, D("4.000"), 0)
    assert y2022["eliminated_cumulative"]["total"]["items"] == 0
    assert y2022["removals_in_year"]["P1"] == 1
    # 2023: A eliminated, B out of service.
    y2023 = years[2023]
    assert _tally(y2023["in_use"]["total"]) == (3, D("0.550"), 1)
    assert _tally(y2023["removed_from_use"]["total"]) == (2, D("5.200"), 0)
    assert _tally(y2023["eliminated_cumulative"]["total"]) == (1, D("4.000"), 0)
    assert y2023["eliminated_cumulative"]["by_class"]["P1"]["items"] == 1
    # 2024: C out of service (not weighed: counted, not 0 t).
    y2024 = years[2024]
    assert _tally(y2024["in_use"]["total"]) == (2, D("0.550"), 0)
    assert _tally(y2024["removed_from_use"]["total"]) == (3, D("5.200"), 1)
    assert _tally(y2024["eliminated_cumulative"]["total"]) == (1, D("4.000"), 0)
    assert y2024["removals_in_year"] == {"P1": 0, "P2": 1, "P3": 0, "presumed": 0, "unknown": 0}
    # Each series names its metric.
    assert y2024["in_use"]["metric"] == "pcb_in_use"
    assert y2024["eliminated_cumulative"]["metric"] == "pcb_eliminated_cumulative"
    assert y2024["removed_from_use"]["metric"] is None
    # D appears in two validated inventories: counted once, from the 2024 one; the draft
    # (PRODUCE's 99.999 t P1 item) never.
    assert [s["submission_id"] for s in body["sources"]] == [history["submission_id"]]
    again = await oefa.get(
        "/reports/pcb-curve",
        params={"from": 2018, "to": 2024},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


@pytest.mark.usefixtures("history")
async def test_projection_and_deadlines(oefa: Caller) -> None:
    body = (await oefa.get("/reports/pcb-curve", params={"from": 2021, "to": 2024})).json()
    # Dated changes in 2019 (A's first status), 2021, 2022, 2023, 2024: the window is the
    # last three, with one P1/P2 removal each: 1 item a year; D is left, so 2025.
    projection = body["projection"]
    assert projection["classes"] == ["P1", "P2"]
    assert projection["window_years"] == [2022, 2023, 2024]
    assert projection["removals_in_window"] == 3
    assert D(projection["rate_items_per_year"]) == D(1)
    assert projection["items_in_use_at_base"] == 1
    assert projection["projected_year_last_removed"] == 2025
    assert projection["status"] == "projected"
    assert projection["meets_use_deadline"] is True
    # Every PCB class: D and E left at 1 a year: 2026, after the 2025 deadline.
    every = body["projection_all_pcb"]
    assert every["items_in_use_at_base"] == 2
    assert every["projected_year_last_removed"] == 2026
    assert every["meets_use_deadline"] is False
    use, esm = body["deadlines"]["use"], body["deadlines"]["esm"]
    assert use["deadline"] == "2025-12-31"
    assert use["reached"] is True
    assert (use["items_in_use"], use["p1_p2_items_in_use"]) == (2, 1)
    assert use["items_not_eliminated"] == 4  # B, C, D, E
    assert esm["deadline"] == "2028-12-31"
    assert esm["reached"] is False
    assert esm["items_in_use"] is None


@pytest.mark.usefixtures("history")
async def test_rate_zero_is_never_and_filters(oefa: Caller) -> None:
    # Lima up to 2022: one dated change (E to stand-by, 2021), no removal: never.
    body = (
        await oefa.get("/reports/pcb-curve", params={"from": 2021, "to": 2022, "department": "15"})
    ).json()
    assert body["department"] == "15"
    projection = body["projection"]
    assert projection["window_years"] == [2021]
    assert D(projection["rate_items_per_year"]) == D(0)
    assert projection["projected_year_last_removed"] is None
    assert projection["status"] == "never_at_this_rate"
    assert body["years"][-1]["in_use"]["total"]["items"] == 4  # B, C, D, E
    # Cusco: A alone.
    body = (
        await oefa.get("/reports/pcb-curve", params={"from": 2022, "to": 2023, "department": "08"})
    ).json()
    assert [y["removed_from_use"]["total"]["items"] for y in body["years"]] == [1, 1]
    assert body["projection"]["status"] == "none_in_use"
    # By sector: the holder is in electricity distribution, none in mining.
    mining = (
        await oefa.get("/reports/pcb-curve", params={"from": 2024, "to": 2024, "sector": "mining"})
    ).json()
    assert mining["sector_filter"] == ["mining"]
    assert mining["years"][0]["in_use"]["total"]["items"] == 0
    assert mining["sources"] == []


@pytest.mark.usefixtures("history")
async def test_curve_as_csv(oefa: Caller) -> None:
    response = await oefa.get(
        "/reports/pcb-curve", params={"from": 2023, "to": 2024, "format": "csv"}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert rows[0] == [
        "year",
        "series",
        "metric",
        "pcb_class",
        "items",
        "total_mass_t",
        "estimated_total_mass_t",
        "items_not_weighed",
    ]
    # 2 years x 3 series x (5 classes + total).
    assert len(rows) == 1 + 2 * 3 * 6
    assert ["2024", "in_use", "pcb_in_use", "total", "2", "0.550", "0.000", "0"] in rows
    assert ["2024", "removed_from_use", "", "P2", "2", "1.200", "0.000", "1"] in rows
    by_accept = await oefa.get(
        "/reports/pcb-curve", params={"from": 2023, "to": 2024}, headers={"Accept": "text/csv"}
    )
    assert by_accept.text == response.text


async def test_bad_parameters_name_the_parameter(oefa: Caller) -> None:
    cases = [
        ({"from": 2025, "to": 2020}, "from"),
        ({"from": "abc"}, "from"),
        ({"to": 1800}, "to"),
        ({"department": "99"}, "department"),
        ({"schedule": "mine"}, "schedule"),
        ({"format": "pdf"}, "format"),
        ({"from": 1950, "to": 2100}, "to"),
    ]
    for params, name in cases:
        response = await oefa.get("/reports/pcb-curve", params=params)
        assert_problem(response, 422)
        assert [e["loc"] for e in response.json()["errors"]] == [["query", name]], params


async def test_curve_needs_a_token(anonymous: Caller) -> None:
    assert (await anonymous.get("/reports/pcb-curve")).status_code == 401


@pytest.mark.usefixtures("history")
async def test_the_national_schedule_moves_classes_and_deadlines(
    oefa: Caller, minam: Caller
) -> None:
    plan = {
        "p1_mg_per_kg": "100000",
        "p2_mg_per_kg": "500",
        "p3_mg_per_kg": "150",  # E (100 mg/kg) is no PCB item under this plan
        "large_volume_l": "5",
        "small_volume_l": "0.05",
        "use_deadline": "2030-12-31",
        "esm_deadline": "2030-12-31",
        "presumed_before_year": 1987,
        "presumed_min_volume_l": "5",
        "provenance": "test plan",
    }
    await minam.ok("PUT", "/pcb-thresholds?schedule=national", plan)
    params = {"from": 2024, "to": 2024}
    national = await oefa.get("/reports/pcb-curve", params=params | {"schedule": "national"})
    body = national.json()
    assert body["schedule"] == "national"
    assert body["years"][0]["in_use"]["total"]["items"] == 1  # D
    use = body["deadlines"]["use"]
    assert (use["deadline"], use["reached"], use["items_in_use"]) == ("2030-12-31", False, None)
    assert body["projection_all_pcb"]["projected_year_last_removed"] == 2025
    assert body["projection_all_pcb"]["meets_use_deadline"] is True
    convention = (await oefa.get("/reports/pcb-curve", params=params)).json()
    assert convention["years"][0]["in_use"]["total"]["items"] == 2
