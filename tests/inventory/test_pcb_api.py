"""PCB items through the gateway: computed class and flags, analyses, status history,
filters, exports, conditional requests and hostile input."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from tests.inventory.conftest import Caller, validate
from tests.support import assert_problem


@pytest.fixture
async def setup(minem: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    site = await minem.site(holder["id"], ubigeo="080101")
    submission = await minem.submission(2024)
    return {"holder": holder, "site": site, "submission": submission}


async def _item(minem: Caller, setup: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return dict(
        await minem.item(
            setup["submission"]["id"], setup["holder"]["id"], setup["site"]["id"], **fields
        )
    )


async def test_untested_old_item_is_presumed_pcb_with_deadline_flags(
    minem: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup, year_manufactured=1980, fluid_volume_l="300", labelled=False)
    assert item["pcb_class"] == "presumed"
    assert item["effective_concentration"] == {
        "kind": "unknown",
        "value_mg_per_kg": None,
        "source": None,
    }
    assert item["department_code"] == "08"
    path = f"/pcb-items/{item['id']}"
    before = (await minem.get(path, params={"as_of": "2025-12-31"})).json()
    after = (await minem.get(path, params={"as_of": "2026-01-01"})).json()
    late = (await minem.get(path, params={"as_of": "2029-01-01"})).json()
    assert before["compliance_flags"] == ["remove_by_deadline"]
    assert after["compliance_flags"] == ["non_compliant_use"]
    assert late["compliance_flags"] == ["esm_overdue", "non_compliant_use"]
    newer = await _item(minem, setup, year_manufactured=1987, fluid_volume_l="300")
    assert newer["pcb_class"] == "unknown"


async def test_gc_overrides_screening_and_class_follows_the_analyses(
    minem: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup, fluid_volume_l="300", year_manufactured=1995)
    iid = item["id"]
    screened = await minem.analysis(
        iid,
        method="screening",
        analysed_on="2024-02-01",
        screening_cutoff_mg_per_kg="50",
        screening_positive=True,
        technique="Clor-N-Oil 50",
    )
    assert screened["pcb_class"] == "P3"
    assert screened["effective_concentration"]["kind"] == "above"
    assert "needs_gc_confirmation" in screened["compliance_flags"]
    gc = await minem.analysis(iid, method="gc", analysed_on="2024-01-15", value_mg_per_kg="1200")
    assert gc["pcb_class"] == "P2"  # GC wins even though it is older
    assert gc["effective_concentration"] == {
        "kind": "measured",
        "value_mg_per_kg": "1200.000",
        "source": "gc",
    }
    assert "needs_gc_confirmation" not in gc["compliance_flags"]
    assert "label_missing" in gc["compliance_flags"]
    later_screen = await minem.analysis(
        iid,
        method="screening",
        analysed_on="2024-05-01",
        screening_cutoff_mg_per_kg="20",
        screening_positive=False,
    )
    assert later_screen["pcb_class"] == "P2"
    analyses = (await minem.get(f"/pcb-items/{iid}/analyses")).json()
    assert [a["method"] for a in analyses] == ["gc", "screening", "screening"]
    gc_id = analyses[0]["id"]
    removed = await minem.ok(
        "DELETE", f"/pcb-items/{iid}/analyses/{gc_id}", etag_of=f"/pcb-items/{iid}"
    )
    assert removed["pcb_class"] == "non_pcb"  # latest screening: below 20 mg/kg
    duplicate = await minem.write(
        "POST",
        f"/pcb-items/{iid}/analyses",
        {
            "method": "screening",
            "analysed_on": "2024-05-01",
            "screening_cutoff_mg_per_kg": "20",
            "screening_positive": True,
        },
        etag_of=f"/pcb-items/{iid}",
    )
    assert_problem(duplicate, 409, "duplicate")


@pytest.mark.parametrize(
    ("value", "volume", "expected"),
    [
        ("50", "300", "non_pcb"),
        ("50.001", "300", "P3"),
        ("500", "300", "P3"),
        ("500.001", "300", "P2"),
        ("100000", "300", "P2"),
        ("100000.001", "300", "P1"),
        ("200000", "5", "P3"),
        ("200000", "5.001", "P1"),
        ("60", "0.05", "non_pcb"),
        ("60", "0.051", "P3"),
    ],
)
async def test_strict_thresholds_through_the_api(
    minem: Caller, setup: dict[str, Any], value: str, volume: str, expected: str
) -> None:
    item = await _item(minem, setup, fluid_volume_l=volume)
    result = await minem.analysis(
        item["id"], method="gc", analysed_on="2024-01-01", value_mg_per_kg=value
    )
    assert result["pcb_class"] == expected


@pytest.mark.parametrize(
    "body",
    [
        {"method": "gc", "analysed_on": "2024-01-01"},
        {
            "method": "gc",
            "analysed_on": "2024-01-01",
            "value_mg_per_kg": "10",
            "screening_positive": True,
        },
        {"method": "screening", "analysed_on": "2024-01-01", "value_mg_per_kg": "10"},
        {"method": "screening", "analysed_on": "2024-01-01", "screening_cutoff_mg_per_kg": "50"},
        {"method": "gc", "analysed_on": "2999-01-01", "value_mg_per_kg": "10"},
        {"method": "gc", "analysed_on": "2024-01-01", "value_mg_per_kg": "-1"},
        {"method": "gc", "analysed_on": "2024-01-01", "value_mg_per_kg": "1000001"},
        {"method": "gc", "analysed_on": "2024-01-01", "value_mg_per_kg": "NaN"},
        {"method": "gc", "analysed_on": "2024-13-01", "value_mg_per_kg": "1"},
        {"method": "nmr", "analysed_on": "2024-01-01", "value_mg_per_kg": "1"},
    ],
)
async def test_bad_analyses_are_422(
    minem: Caller, setup: dict[str, Any], body: dict[str, Any]
) -> None:
    item = await _item(minem, setup)
    path = f"/pcb-items/{item['id']}"
    response = await minem.write("POST", f"{path}/analyses", body, etag_of=path)
    assert_problem(response, 422)


async def test_status_history_allows_only_workflow_moves_and_evidence(
    minem: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup)
    path = f"/pcb-items/{item['id']}"

    async def move(to: str, **extra: Any) -> Any:
        body = {"to_status": to, "changed_on": "2024-06-01"} | extra
        return await minem.write("POST", f"{path}/status-events", body, etag_of=path)

    assert_problem(await move("eliminated"), 409, "invalid-transition")
    assert_problem(await move("in_use"), 409, "invalid-transition")
    assert_problem(await move("decontaminated"), 409)
    assert (await move("out_of_service_stored")).status_code == 201
    assert (await move("shipped_for_disposal")).status_code == 201
    assert_problem(await move("eliminated"), 422)
    evidence = {
        "disposal_facility": "Demo ESM facility",
        "country": "FR",
        "disposed_on": "2024-06-01",
        "certificate_ref": "CERT-1",
        "mass_kg": "1200",
    }
    assert_problem(await move("eliminated", elimination=evidence | {"country": "France"}), 422)
    assert_problem(await move("eliminated", elimination=evidence | {"mass_kg": "0"}), 422)
    assert_problem(await move("eliminated", elimination=evidence | {"certificate_ref": ""}), 422)
    assert_problem(
        await move("eliminated", elimination={k: v for k, v in evidence.items() if k != "country"}),
        422,
    )
    assert_problem(await move("eliminated", changed_on="2999-01-01", elimination=evidence), 422)
    done = await move("eliminated", elimination=evidence)
    assert done.status_code == 201, done.text
    assert done.json()["status"] == "eliminated"
    assert done.json()["compliance_flags"] == []
    assert_problem(await move("in_use"), 409, "invalid-transition")
    history = (await minem.get(f"{path}/status-events")).json()
    assert [(h["from_status"], h["to_status"]) for h in history] == [
        (None, "in_use"),
        ("in_use", "out_of_service_stored"),
        ("out_of_service_stored", "shipped_for_disposal"),
        ("shipped_for_disposal", "eliminated"),
    ]
    assert history[-1]["certificate_ref"] == "CERT-1"
    assert history[-1]["disposal_country"] == "FR"
    # No way to edit or remove history, nor to set the status directly.
    assert (
        await minem.gateway.delete(f"/inventory/v1{path}/status-events", headers=minem.headers)
    ).status_code == 405
    assert_problem(await minem.write("PATCH", path, {"status": "in_use"}), 422)


async def test_item_created_as_eliminated_needs_evidence(
    minem: Caller, setup: dict[str, Any]
) -> None:
    base = {
        "holder_id": setup["holder"]["id"],
        "site_id": setup["site"]["id"],
        "equipment_type": "capacitor",
        "manufacturer": "GE",
        "serial_number": "GONE-1",
        "status": "eliminated",
    }
    sid = setup["submission"]["id"]
    assert_problem(await minem.post(f"/submissions/{sid}/pcb-items", base), 422)
    evidence = {
        "disposal_facility": "F",
        "country": "DE",
        "disposed_on": "2020-01-01",
        "certificate_ref": "C",
        "mass_kg": "45",
    }
    created = await minem.post(f"/submissions/{sid}/pcb-items", base | {"elimination": evidence})
    assert created.status_code == 201, created.text


async def test_items_reference_the_submitters_holders_and_sites(
    minem: Caller, produce: Caller, setup: dict[str, Any]
) -> None:
    other_holder = await produce.holder()
    other_site = await produce.site(other_holder["id"])
    own_site2 = await minem.site(setup["holder"]["id"])
    sid = setup["submission"]["id"]
    body = {"equipment_type": "transformer", "manufacturer": "A", "serial_number": "X"}
    for ids in (
        {"holder_id": other_holder["id"], "site_id": other_site["id"]},
        {"holder_id": setup["holder"]["id"], "site_id": other_site["id"]},
    ):
        assert_problem(await minem.post(f"/submissions/{sid}/pcb-items", body | ids), 422)
    ok = body | {"holder_id": setup["holder"]["id"], "site_id": own_site2["id"]}
    assert (await minem.post(f"/submissions/{sid}/pcb-items", ok)).status_code == 201
    assert_problem(await minem.post(f"/submissions/{sid}/pcb-items", ok), 409, "duplicate")
    # Not into another organisation's submission, nor into a non-PCB one.
    their = await produce.submission(2024)
    assert_problem(await minem.post(f"/submissions/{their['id']}/pcb-items", ok), 404)
    mercury = await minem.submission(2024, "mercury")
    assert_problem(
        await minem.post(f"/submissions/{mercury['id']}/pcb-items", ok), 422, "wrong-section"
    )


async def test_filters_and_csv(minem: Caller, setup: dict[str, Any]) -> None:
    p1 = await _item(minem, setup, fluid_volume_l="850", labelled=False, in_food_feed_area=True)
    await minem.analysis(p1["id"], method="gc", analysed_on="2024-01-01", value_mg_per_kg="300000")
    clean = await _item(minem, setup, fluid_volume_l="100", year_manufactured=1999)
    await minem.analysis(clean["id"], method="gc", analysed_on="2024-01-01", value_mg_per_kg="2")
    lima = await minem.site(setup["holder"]["id"], ubigeo="150101")
    presumed = await minem.item(
        setup["submission"]["id"], setup["holder"]["id"], lima["id"], labelled=True
    )

    async def ids(**params: Any) -> list[int]:
        response = await minem.get("/pcb-items", params=params)
        assert response.status_code == 200, response.text
        return [i["id"] for i in response.json()["items"]]

    assert await ids(pcb_class="P1") == [p1["id"]]
    assert await ids(pcb_class="non_pcb") == [clean["id"]]
    assert await ids(pcb_class="presumed") == [presumed["id"]]
    assert await ids(flag="label_missing") == [p1["id"]]
    assert await ids(flag="prohibited_location") == [p1["id"]]
    assert await ids(flag="remove_by_deadline", as_of="2025-06-30") == [p1["id"], presumed["id"]]
    assert await ids(flag="non_compliant_use", as_of="2025-06-30") == []
    assert await ids(flag="non_compliant_use", as_of="2026-06-30") == [p1["id"], presumed["id"]]
    assert await ids(department="15") == [presumed["id"]]
    assert await ids(status="in_use", holder_id=setup["holder"]["id"]) == [
        p1["id"],
        clean["id"],
        presumed["id"],
    ]
    assert await ids(year=2023) == []
    for bad in (
        {"pcb_class": "P9"},
        {"department": "26"},
        {"department": "' OR 1=1--"},
        {"flag": "x"},
        {"status": "1 OR 1=1"},
        {"as_of": "yesterday"},
        {"holder_id": "99999999999999999999"},
        {"org": "' OR 1=1--"},
    ):
        assert_problem(await minem.get("/pcb-items", params=bad), 422)
    exported = await minem.get("/pcb-items", params={"format": "csv", "as_of": "2025-01-01"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [r["pcb_class"] for r in rows] == ["P1", "non_pcb", "presumed"]
    assert rows[0]["compliance_flags"] == "label_missing;prohibited_location;remove_by_deadline"
    assert rows[0]["concentration_mg_per_kg"] == "300000.000"
    by_accept = await minem.get("/pcb-items", headers={"Accept": "text/csv"})
    assert by_accept.text.splitlines()[0] == exported.text.splitlines()[0]


async def test_conditional_requests_on_items(minem: Caller, setup: dict[str, Any]) -> None:
    item = await _item(minem, setup)
    path = f"/pcb-items/{item['id']}"
    first = await minem.get(path)
    tag = first.headers["etag"]
    assert (await minem.get(path, headers={"If-None-Match": tag})).status_code == 304
    assert (
        await minem.get(path, params={"as_of": "2030-01-01"}, headers={"If-None-Match": tag})
    ).status_code == 200
    changed = await minem.ok("PATCH", path, {"labelled": True, "fluid_trade_name": "Pyralene"})
    assert changed["fluid_kind"] == "askarel"
    assert changed["version"] == 2
    stale = await minem.gateway.patch(
        "/inventory/v1" + path, json={"leaking": True}, headers=minem.headers | {"If-Match": tag}
    )
    assert_problem(stale, 412)
    assert (await minem.get(path, headers={"If-None-Match": tag})).status_code == 200


async def test_thresholds_are_data_reviewers_change(
    minem: Caller, minam: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup, fluid_volume_l="300")
    await minem.analysis(item["id"], method="gc", analysed_on="2024-01-01", value_mg_per_kg="450")
    assert (await minem.get(f"/pcb-items/{item['id']}")).json()["pcb_class"] == "P3"
    current = (await minam.get("/pcb-thresholds")).json()
    assert current["p2_mg_per_kg"] == "500.000"
    assert current["use_deadline"] == "2025-12-31"
    plan = {
        k: current[k]
        for k in (
            "p1_mg_per_kg",
            "p3_mg_per_kg",
            "large_volume_l",
            "small_volume_l",
            "presumed_before_year",
            "presumed_min_volume_l",
        )
    } | {
        "p2_mg_per_kg": "400",
        "use_deadline": "2030-12-31",
        "esm_deadline": "2030-12-31",
        "provenance": "Plan nacional (demo)",
    }
    national = "/pcb-thresholds?schedule=national"
    assert_problem(await minem.write("PUT", national, plan), 403, "insufficient-scope")
    assert_problem(await minam.write("PUT", national, plan | {"p3_mg_per_kg": "450"}), 422)
    assert_problem(await minam.write("PUT", national, plan | {"extra": 1}), 422)
    updated = await minam.ok("PUT", national, plan)
    assert (updated["schedule"], updated["p2_mg_per_kg"]) == ("national", "400.000")
    path = f"/pcb-items/{item['id']}"
    # The national plan's schedule reclassifies; the Convention's stays the default.
    asked = {"as_of": "2027-01-01", "schedule": "national"}
    reclassified = (await minem.get(path, params=asked)).json()
    assert reclassified["pcb_class"] == "P2"
    assert "remove_by_deadline" in reclassified["compliance_flags"]
    convention = (await minem.get(path, params={"as_of": "2027-01-01"})).json()
    assert convention["pcb_class"] == "P3"
    assert "non_compliant_use" in convention["compliance_flags"]
    densities = (await minem.get("/fluid-densities")).json()
    assert {d["fluid_kind"] for d in densities} >= {"askarel", "mineral_oil"}


HOSTILE = {
    "malformed": b'{"equipment_type": "transformer",',
    "deep": b"[" * 10000 + b"]" * 10000,
    "invalid-utf8": b'{"manufacturer": "\xff\xfe"}',
    "wrong-types": b'{"holder_id": "one", "site_id": [1], "labelled": "maybe"}',
    "huge-number": b'{"fluid_volume_l": 1' + b"0" * 5000 + b"}",
    "big-decimal": b'{"fluid_volume_l": "1e30"}',
    "nan": b'{"fluid_volume_l": NaN}',
    "huge-id": b'{"holder_id": 99999999999999999999999, "site_id": 1}',
    "not-object": b'"just a string"',
}


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_bodies_are_4xx(minem: Caller, setup: dict[str, Any], kind: str) -> None:
    sid = setup["submission"]["id"]
    for path in (f"/submissions/{sid}/pcb-items", "/holders", "/sites", "/submissions"):
        response = await minem.post(
            path, content=HOSTILE[kind], headers={"Content-Type": "application/json"}
        )
        assert 400 <= response.status_code < 500, (path, response.status_code, response.text)
        assert response.headers["content-type"] == "application/problem+json"


async def test_wrong_content_type_is_refused(minem: Caller) -> None:
    response = await minem.post(
        "/submissions",
        content=b'{"year": 2024, "section": "pcb"}',
        headers={"Content-Type": "text/plain"},
    )
    assert 400 <= response.status_code < 500


async def test_validated_items_are_visible_to_readers_with_computed_fields(
    minem: Caller, minam: Caller, oefa: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup)
    await validate(minem, minam, setup["submission"]["id"])
    seen = (await oefa.get(f"/pcb-items/{item['id']}")).json()
    assert seen["pcb_class"] == "presumed"
    assert (await oefa.get("/pcb-items", params={"current": "true"})).json()["items"][0][
        "id"
    ] == item["id"]


async def test_owner_asset_id_is_written_read_exported_and_bounded(
    minem: Caller, setup: dict[str, Any]
) -> None:
    item = await _item(minem, setup, owner_asset_id="ACT-0042")
    assert item["owner_asset_id"] == "ACT-0042"
    path = f"/pcb-items/{item['id']}"
    assert (await minem.get(path)).json()["owner_asset_id"] == "ACT-0042"
    changed = await minem.ok("PATCH", path, {"owner_asset_id": "A" * 40})
    assert changed["owner_asset_id"] == "A" * 40
    cleared = await minem.ok("PATCH", path, {"owner_asset_id": None})
    assert cleared["owner_asset_id"] is None
    plain = await _item(minem, setup)
    assert plain["owner_asset_id"] is None
    await minem.ok("PATCH", path, {"owner_asset_id": "ACT-0042"})
    exported = await minem.get("/pcb-items", params={"format": "csv"})
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    header = exported.text.splitlines()[0].split(",")
    assert header.index("owner_asset_id") == header.index("serial_number") + 1
    assert {r["id"]: r["owner_asset_id"] for r in rows} == {
        str(item["id"]): "ACT-0042",
        str(plain["id"]): "",
    }
    sid, ids = setup["submission"]["id"], {"holder_id": setup["holder"]["id"]}
    too_long = {
        **ids,
        "site_id": setup["site"]["id"],
        "equipment_type": "transformer",
        "manufacturer": "ACME",
        "serial_number": "SN-long-asset",
        "owner_asset_id": "A" * 41,
    }
    assert_problem(await minem.post(f"/submissions/{sid}/pcb-items", too_long), 422)
    assert_problem(await minem.write("PATCH", path, {"owner_asset_id": "A" * 41}), 422)
    assert (await minem.get(path)).json()["owner_asset_id"] == "ACT-0042"
