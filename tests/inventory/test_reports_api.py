"""Reports through the gateway: national summary, by department and holder, time series,
CSV, published aggregates for anonymous callers; only validated data counts."""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

import pytest
from fastapi import FastAPI

from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.reports import cells, queries
from services.inventory.reports.queries import Scope
from tests.inventory.conftest import Caller, assert_problem, validate

D = Decimal

EVIDENCE = {
    "disposal_facility": "Demo ESM plant",
    "country": "FR",
    "disposed_on": "2024-05-01",
    "certificate_ref": "CERT-9",
    "mass_kg": "1200",
}


@pytest.fixture
async def inventory_2024(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    cusco = await minem.site(holder["id"], ubigeo="080101")
    lima = await minem.site(holder["id"], ubigeo="150101")
    pcb = await minem.submission(2024, "pcb")
    sid = pcb["id"]

    async def analysed(site: dict[str, Any], mg_per_kg: str, **fields: Any) -> Any:
        item = await minem.item(sid, holder["id"], site["id"], **fields)
        await minem.analysis(
            item["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg=mg_per_kg
        )
        return item

    await analysed(
        cusco,
        "300000",
        fluid_volume_l="850",
        total_mass_kg="4000",
        labelled=False,
        fluid_kind="askarel",
        fluid_mass_kg=None,
    )
    p2 = await analysed(
        cusco, "1200", fluid_volume_l="300", total_mass_kg="1200", fluid_mass_kg="264"
    )
    for to in ("out_of_service_stored", "shipped_for_disposal"):
        await minem.ok(
            "POST",
            f"/pcb-items/{p2['id']}/status-events",
            {"to_status": to, "changed_on": "2024-03-01"},
            etag_of=f"/pcb-items/{p2['id']}",
        )
    await minem.ok(
        "POST",
        f"/pcb-items/{p2['id']}/status-events",
        {"to_status": "eliminated", "changed_on": "2024-05-01", "elimination": EVIDENCE},
        etag_of=f"/pcb-items/{p2['id']}",
    )
    await analysed(lima, "3", year_manufactured=1999, total_mass_kg="800")
    await minem.item(
        sid,
        holder["id"],
        lima["id"],
        year_manufactured=1975,
        total_mass_kg="1000",
        in_food_feed_area=True,
    )
    await validate(minem, minam, sid)
    # A draft of another organisation: never in national figures.
    other_holder = await produce.holder()
    other_site = await produce.site(other_holder["id"])
    draft = await produce.submission(2024, "pcb")
    await produce.item(draft["id"], other_holder["id"], other_site["id"], total_mass_kg="99999")
    # UP-POPs and mercury, validated.
    for vector, value in (("air", "40"), ("land", "1"), ("residue", "ND")):
        await minam.post(
            "/emission-factors",
            {
                "source_group": "6",
                "category": "6b",
                "category_name": "Waste burning",
                "class_no": 2,
                "class_name": "Open burning of domestic waste",
                "vector": vector,
                "value": value,
                "activity_unit": "t",
                "provenance": "test",
            },
        )
    upops = await produce.submission(2024, "upops")
    await produce.post(
        f"/submissions/{upops['id']}/upops-estimates",
        {
            "category": "6b",
            "class_no": 2,
            "activity_rate": "10000",
            "activity_unit": "t",
            "department_code": "15",
            "holder_id": other_holder["id"],
        },
    )
    await validate(produce, minam, upops["id"])
    mercury = await minem.submission(2024, "mercury")
    await minem.post(
        f"/submissions/{mercury['id']}/mercury-estimates",
        {
            "category": "asgm",
            "activity_rate": "1000",
            "activity_unit": "kg gold",
            "input_factor_kg_per_unit": "3",
            "input_factor_unit": "kg gold",
            "factor_provenance": "test",
            "distribution": {"air": "0.25", "water": "0.3", "land": "0.45"},
            "department_code": "17",
        },
    )
    await validate(minem, minam, mercury["id"])
    return {
        "holder": holder,
        "other_holder": other_holder,
        "pcb": pcb,
        "draft": draft,
        "cusco": cusco,
    }


@pytest.mark.usefixtures("inventory_2024")
async def test_national_summary_counts_validated_data_only(oefa: Caller) -> None:
    response = await oefa.get(
        "/reports/national-summary", params={"year": 2024, "as_of": "2025-06-30"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "national"
    pcb = body["pcb"]
    assert pcb["items"] == 4
    assert Decimal(pcb["total_mass_t"]) == Decimal("7.000")
    assert {k: v["items"] for k, v in pcb["by_class"].items()} == {
        "P1": 1,
        "P2": 1,
        "non_pcb": 1,
        "presumed": 1,
    }
    # Fluid mass: 850 L of askarel x 1.5 kg/L (no mass recorded) + 264 kg recorded.
    assert Decimal(pcb["by_class"]["P1"]["fluid_mass_t"]) == Decimal("1.275")
    assert Decimal(pcb["by_class"]["P2"]["fluid_mass_t"]) == Decimal("0.264")
    assert pcb["pcb_items"] == 3
    assert pcb["pcb_items_eliminated"] == 1
    assert Decimal(pcb["share_eliminated"]) == Decimal("0.3333")
    assert pcb["deadlines"]["use"] == {"deadline": "2025-12-31", "items_due": 2, "items_overdue": 0}
    assert pcb["deadlines"]["esm"] == {"deadline": "2028-12-31", "items_due": 2, "items_overdue": 0}
    assert pcb["flags"] == {
        "label_missing": 1,
        "prohibited_location": 1,
        "needs_gc_confirmation": 0,
    }
    assert {
        "pcb_class": "P2",
        "status": "eliminated",
        "items": 1,
        "total_mass_t": "1.200",
        "fluid_mass_t": "0.264",
        "items_not_weighed": 0,
        "fluid_items_not_weighed": 0,
        "estimated_total_mass_t": "0.000",
        "estimated_fluid_mass_t": "0.000",
    } in pcb["by_class_and_status"]
    # The two Lima items have 300 L of a fluid of unknown kind: not weighed, not 0 t.
    assert pcb["fluid_items_not_weighed"] == 2
    assert pcb["weighing"]["fluid_mass_not_weighed"] == {"no_density_for_fluid_kind": 2}
    (estimate,) = pcb["weighing"]["fluid_mass_estimates"]
    assert D(estimate.pop("density_kg_per_l")) == D("1.5")
    assert estimate == {
        "fluid_kind": "askarel",
        "method": "volume_x_density",
        "items": 1,
        "fluid_mass_t": "1.275",
    }
    upops = body["upops"]
    air = upops["by_source_group"]["6"]["air"]
    assert Decimal(air["release_g_teq_per_year"]) == Decimal("0.4")
    assert upops["by_source_group"]["6"]["residue"]["status"] == "not_determined"
    assert upops["by_source_group"]["6"]["residue"]["release_g_teq_per_year"] is None
    assert upops["complete"] is False
    assert Decimal(upops["determined_g_teq_per_year"]) == Decimal("0.41")
    mercury = body["mercury"]
    assert Decimal(mercury["by_category"]["asgm"]["air"]) == 750
    assert Decimal(mercury["total_kg_per_year"]) == 3000
    later = (
        await oefa.get("/reports/national-summary", params={"year": 2024, "as_of": "2029-01-01"})
    ).json()
    assert later["pcb"]["deadlines"]["use"]["items_overdue"] == 2
    assert later["pcb"]["deadlines"]["esm"]["items_overdue"] == 2
    default_year = (await oefa.get("/reports/national-summary")).json()
    assert default_year["year"] == 2024
    empty = (await oefa.get("/reports/national-summary", params={"year": 2019})).json()
    assert empty["pcb"]["items"] == 0
    assert empty["pcb"]["share_eliminated"] is None


async def test_submission_preview_respects_visibility(
    produce: Caller, oefa: Caller, minam: Caller, inventory_2024: dict[str, Any]
) -> None:
    draft_id = inventory_2024["draft"]["id"]
    preview = await produce.get("/reports/national-summary", params={"submission_id": draft_id})
    assert preview.status_code == 200
    assert preview.json()["scope"] == "submission"
    assert preview.json()["pcb"]["items"] == 1
    assert_problem(
        await oefa.get("/reports/national-summary", params={"submission_id": draft_id}), 404
    )
    assert_problem(
        await minam.get("/reports/national-summary", params={"submission_id": draft_id}), 404
    )


async def test_by_department_holder_and_time_series(
    minem: Caller, minam: Caller, oefa: Caller, inventory_2024: dict[str, Any]
) -> None:
    body = (await oefa.get("/reports/by-department", params={"year": 2024})).json()
    departments = {d["department_code"]: d for d in body["departments"]}
    assert set(departments) == {"08", "15", "17"}
    assert departments["08"]["department_name"] == "Cusco"
    assert departments["08"]["pcb"]["items"] == 2
    assert departments["15"]["pcb"]["items"] == 2
    assert departments["15"]["upops"]["by_source_group"]["6"]["air"]["status"] == "determined"
    assert Decimal(departments["17"]["mercury"]["total_kg_per_year"]) == 3000
    holders = (await oefa.get("/reports/by-holder", params={"year": 2024, "limit": 1})).json()
    assert [h["holder_id"] for h in holders["holders"]] == [inventory_2024["holder"]["id"]]
    assert holders["holders"][0]["pcb"]["items"] == 4
    rest = (
        await oefa.get(
            "/reports/by-holder", params={"year": 2024, "cursor": holders["next_cursor"]}
        )
    ).json()
    assert [h["holder_id"] for h in rest["holders"]] == [inventory_2024["other_holder"]["id"]]
    assert rest["holders"][0]["pcb"]["items"] == 0  # its PCB data is a draft
    assert Decimal(rest["holders"][0]["upops"]["determined_g_teq_per_year"]) == Decimal("0.41")
    assert_problem(await oefa.get("/reports/by-holder", params={"cursor": "bad"}), 400)
    # A second year for the series.
    old = await minem.submission(2023, "pcb")
    await minem.item(old["id"], inventory_2024["holder"]["id"], inventory_2024["cusco"]["id"])
    await validate(minem, minam, old["id"])
    series = (await oefa.get("/reports/time-series")).json()
    assert [(y["year"], y["pcb"]["items"]) for y in series["years"]] == [(2023, 1), (2024, 4)]
    bounded = (await oefa.get("/reports/time-series", params={"from_year": 2024})).json()
    assert [y["year"] for y in bounded["years"]] == [2024]


@pytest.mark.usefixtures("inventory_2024")
async def test_csv_exports(oefa: Caller) -> None:
    pcb = await oefa.get("/reports/national-summary", params={"year": 2024, "format": "csv"})
    assert pcb.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(pcb.text)))
    assert list(rows[0]) == [
        "year",
        "pcb_class",
        "status",
        "items",
        "total_mass_t",
        "fluid_mass_t",
        "items_not_weighed",
        "fluid_items_not_weighed",
        "estimated_total_mass_t",
        "estimated_fluid_mass_t",
    ]
    assert sum(int(r["items"]) for r in rows) == 4
    upops = await oefa.get(
        "/reports/national-summary", params={"year": 2024, "format": "csv", "section": "upops"}
    )
    rows = list(csv.DictReader(io.StringIO(upops.text)))
    residue = next(r for r in rows if r["vector"] == "residue")
    assert residue["status"] == "not_determined"
    assert residue["release_g_teq_per_year"] == ""
    by_dept = await oefa.get(
        "/reports/by-department",
        params={"year": 2024, "section": "mercury"},
        headers={"Accept": "text/csv"},
    )
    rows = list(csv.DictReader(io.StringIO(by_dept.text)))
    assert {(r["department_code"], r["pathway"]) for r in rows} >= {("17", "air")}
    assert_problem(
        await oefa.get("/reports/national-summary", params={"section": "dioxins", "format": "csv"}),
        422,
    )


@pytest.mark.usefixtures("inventory_2024")
async def test_report_csv_numbers_are_not_escaped(oefa: Caller) -> None:
    exported = await oefa.get("/reports/by-holder", params={"year": 2024, "format": "csv"})
    assert exported.status_code == 200, exported.text
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert rows
    assert all(not v.startswith("'") for r in rows for v in r.values())
    assert all(int(r["items"]) >= 0 for r in rows)


async def test_anonymous_callers_see_published_aggregates_only(
    anonymous: Caller, minem: Caller, minam: Caller, inventory_2024: dict[str, Any]
) -> None:
    public = await anonymous.get("/public/national-summary", params={"year": 2024})
    assert public.status_code == 200, public.text
    assert public.json()["pcb"]["items"] == 4
    assert public.headers["cache-control"] == "public, max-age=60"
    tag = public.headers["etag"]
    again = await anonymous.get(
        "/public/national-summary", params={"year": 2024}, headers={"If-None-Match": tag}
    )
    assert again.status_code == 304
    assert (await anonymous.get("/public/by-department", params={"year": 2024})).status_code == 200
    assert (await anonymous.get("/public/time-series")).status_code == 200
    vocab = (await anonymous.get("/public/vocabularies")).json()
    assert {
        "code": "asgm",
        "es": vocab["mercury_category"][2]["es"],
        "en": vocab["mercury_category"][2]["en"],
    } in vocab["mercury_category"]
    for path in (
        "/reports/national-summary",
        "/pcb-items",
        "/holders",
        "/submissions",
        "/reports/by-holder",
        "/emission-factors",
    ):
        assert_problem(await anonymous.get(path), 401)
    assert_problem(await anonymous.post("/public/national-summary", {}), 401)
    # A new validation changes the published figures and their ETag.
    correction = await minem.ok(
        "POST",
        f"/submissions/{inventory_2024['pcb']['id']}/corrections",
        {"reason": "fix"},
        etag_of=f"/submissions/{inventory_2024['pcb']['id']}",
    )
    items = (
        await minem.get(
            "/pcb-items", params={"submission_id": correction["id"], "pcb_class": "non_pcb"}
        )
    ).json()["items"]
    await minem.ok("DELETE", f"/pcb-items/{items[0]['id']}")
    await validate(minem, minam, correction["id"])
    changed = await anonymous.get(
        "/public/national-summary", params={"year": 2024}, headers={"If-None-Match": tag}
    )
    assert changed.status_code == 200
    assert changed.json()["pcb"]["items"] == 3


async def test_summary_cells_agree_with_the_items_and_follow_the_thresholds(
    inventory_app: FastAPI, minam: Caller, oefa: Caller, inventory_2024: dict[str, Any]
) -> None:
    scope = Scope(year=2024)

    async def both(schedule: Schedule = Schedule.CONVENTION) -> tuple[list[Any], list[Any]]:
        async with inventory_app.state.db.sessions() as session:
            thresholds, _ = await load_thresholds(session, schedule)
            densities = await load_densities(session)
            fast = await queries.pcb_groups(
                session, scope, thresholds, densities, by=["department"]
            )
            slow = await queries.pcb_groups(
                session, scope, thresholds, densities, by=["department"], use_cells=False
            )
            fresh = await cells.fresh_submissions(
                session, [inventory_2024["pcb"]["id"]], cells.basis(thresholds, densities)
            )
        assert fresh == {inventory_2024["pcb"]["id"]}
        key = lambda g: (g.keys, g.pcb_class, g.status, g.labelled, g.in_food_feed_area)  # noqa: E731
        return sorted(fast, key=key), sorted(slow, key=key)

    fast, slow = await both()
    assert fast == slow
    assert sum(g.items for g in fast) == 4
    # A national plan with other limits: the validated data is counted again on its
    # basis too, and the Convention's figures stay as they were.
    national = "/pcb-thresholds?schedule=national"
    current = (await minam.get(national)).json()
    plan = {k: v for k, v in current.items() if k not in ("version", "updated_at", "schedule")}
    await minam.ok("PUT", national, plan | {"p2_mg_per_kg": "2000"})
    fast, slow = await both(Schedule.NATIONAL)
    assert fast == slow
    fast, slow = await both()
    assert fast == slow
    summary = (
        await oefa.get("/reports/national-summary", params={"year": 2024, "schedule": "national"})
    ).json()
    assert summary["schedule"] == "national"
    assert {k: v["items"] for k, v in summary["pcb"]["by_class"].items()} == {
        "P1": 1,
        "P3": 1,
        "non_pcb": 1,
        "presumed": 1,
    }
    summary = (await oefa.get("/reports/national-summary", params={"year": 2024})).json()
    assert {k: v["items"] for k, v in summary["pcb"]["by_class"].items()} == {
        "P1": 1,
        "P2": 1,
        "non_pcb": 1,
        "presumed": 1,
    }


@pytest.mark.usefixtures("inventory_2024")
async def test_estimates_by_sector_follow_their_holder(oefa: Caller) -> None:
    # The UP-POPs estimate names a holder (an electricity distributor); the mercury one
    # names none: it falls under a null sector, as estimates with no department do.
    report = (await oefa.get("/reports/by-sector", params={"year": 2024})).json()
    by_sector = {s["sector"]: s for s in report["sectors"]}
    assert list(by_sector) == ["electricity_distribution", None]
    distribution = by_sector["electricity_distribution"]
    assert distribution["pcb"]["items"] == 4
    assert [t["pollutant"] for t in distribution["upops"]["totals"]] == ["pcdd_pcdf"]
    assert distribution["mercury"]["by_category"] == {}
    unnamed = by_sector[None]
    assert (unnamed["pcb"]["items"], unnamed["upops"]["totals"]) == (0, [])
    assert list(unnamed["mercury"]["by_category"]) == ["asgm"]
    # Only the mines: nothing of either.
    mining = {"year": 2024, "sector": "mining"}
    summary = (await oefa.get("/reports/national-summary", params=mining)).json()
    assert (summary["pcb"]["items"], summary["upops"]["totals"]) == (0, [])
    assert summary["mercury"]["by_category"] == {}
