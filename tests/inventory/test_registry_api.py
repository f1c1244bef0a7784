"""Holders and sites through the gateway: validation, ownership, visibility, GeoJSON."""

from __future__ import annotations

import csv
import io

import pytest

from tests.inventory.conftest import Caller, ruc, validate
from tests.support import assert_problem


async def test_holder_is_created_for_the_callers_organisation(minem: Caller) -> None:
    holder = await minem.holder(1, contact_email="a@b.example")
    assert holder["org_code"] == "MINEM"
    assert holder["ruc"] == ruc(1)
    assert holder["version"] == 1
    response = await minem.get(f"/holders/{holder['id']}")
    assert response.json() == holder
    again = await minem.get(
        f"/holders/{holder['id']}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("ruc", "20100326797"),  # wrong check digit
        ("ruc", "30100326796"),  # unknown prefix
        ("ruc", "2010032679"),
        ("ruc", "٢٠١٠٠٣٢٦٧٩٦"),
        ("sector", "bakery"),
        ("is_public", "perhaps"),
        ("contact_email", "not-an-email"),
        ("name", ""),
        ("name", "x" * 301),
    ],
)
async def test_holder_fields_are_validated(minem: Caller, field: str, value: str) -> None:
    body = {"ruc": ruc(2), "name": "H", "sector": "mining", "is_public": False, field: value}
    response = await minem.post("/holders", body)
    assert_problem(response, 422, "validation-error")
    assert ["body", field] == response.json()["errors"][0]["loc"][:2]


@pytest.mark.parametrize(
    "extra",
    [
        {"org_code": "MINAM"},
        {"owner_org": "MINAM"},
        {"id": 7},
        {"version": 9},
        {"created_at": "2020-01-01T00:00:00Z"},
    ],
)
async def test_fields_the_caller_may_not_set_are_rejected(minem: Caller, extra: dict) -> None:
    body = {"ruc": ruc(3), "name": "H", "sector": "mining", "is_public": False} | extra
    assert_problem(await minem.post("/holders", body), 422, "validation-error")
    assert (await minem.get("/holders")).json()["items"] == []


async def test_duplicate_ruc_is_a_conflict(minem: Caller, produce: Caller) -> None:
    await minem.holder(4)
    response = await produce.post(
        "/holders", {"ruc": ruc(4), "name": "Again", "sector": "mining", "is_public": True}
    )
    assert_problem(response, 409, "duplicate")


async def test_holder_update_needs_if_match_and_the_owner(
    minem: Caller, produce: Caller, minam: Caller
) -> None:
    holder = await minem.holder(5)
    path = f"/holders/{holder['id']}"
    no_match = await minem.gateway.patch(
        "/inventory/v1" + path, json={"name": "N"}, headers=minem.headers
    )
    assert_problem(no_match, 428, "precondition-required")
    stale = await minem.gateway.patch(
        "/inventory/v1" + path, json={"name": "N"}, headers=minem.headers | {"If-Match": '"old"'}
    )
    assert_problem(stale, 412, "precondition-failed")
    updated = await minem.ok("PATCH", path, {"name": "Nuevo nombre", "contact_phone": "01-555"})
    assert updated["name"] == "Nuevo nombre"
    assert updated["version"] == 2
    assert_problem(await minem.write("PATCH", path, {"name": None}), 422)
    assert_problem(await minem.write("PATCH", path, {"ruc": ruc(6)}), 422)
    assert_problem(await minem.write("PATCH", path, {}), 422)
    # Another organisation does not even see an unpublished holder; MINAM sees but cannot edit.
    assert_problem(await produce.get(path), 404, "not-found")
    assert_problem(await minam.write("PATCH", path, {"name": "X"}), 403, "insufficient-scope")


async def test_sites_check_ubigeo_and_coordinates(minem: Caller, produce: Caller) -> None:
    holder = await minem.holder(7)
    site = await minem.site(holder["id"], ubigeo="070106")
    assert site["department_code"] == "07"
    bad = [
        {"ubigeo": "260101"},  # no department 26
        {"ubigeo": "150012"},
        {"ubigeo": "15011"},
        {"latitude": "40.4", "longitude": "-3.7"},  # Madrid
        {"latitude": "-77.05", "longitude": "-12.0"},  # swapped
        {"latitude": "-12.0", "longitude": None},
        {"latitude": "NaN", "longitude": "-77"},
        {"latitude": "-12.0000001", "longitude": "-77"},
        {"site_type": "lunar"},
        {"holder_id": 2**40},
    ]
    for fields in bad:
        body = {
            "holder_id": holder["id"],
            "name": "S",
            "address": "A",
            "ubigeo": "150101",
            "latitude": "-12",
            "longitude": "-77",
            "site_type": "rural",
        } | fields
        assert_problem(await minem.post("/sites", body), 422, "validation-error")
    other = await produce.holder(8)
    body = {
        "holder_id": other["id"],
        "name": "S",
        "address": "A",
        "ubigeo": "150101",
        "site_type": "rural",
    }
    assert_problem(await minem.post("/sites", body), 422, "validation-error")
    moved = await minem.ok("PATCH", f"/sites/{site['id']}", {"ubigeo": "080101"})
    assert moved["department_code"] == "08"
    assert_problem(await minem.write("PATCH", f"/sites/{site['id']}", {"latitude": "-13.5"}), 422)


async def test_readers_see_holders_once_validated_data_names_them(
    minem: Caller, minam: Caller, oefa: Caller
) -> None:
    holder = await minem.holder(9)
    site = await minem.site(holder["id"])
    submission = await minem.submission()
    await minem.item(submission["id"], holder["id"], site["id"])
    assert (await oefa.get("/holders")).json()["items"] == []
    assert_problem(await oefa.get(f"/sites/{site['id']}"), 404)
    assert [h["id"] for h in (await minam.get("/holders")).json()["items"]] == [holder["id"]]
    await validate(minem, minam, submission["id"])
    assert [h["id"] for h in (await oefa.get("/holders")).json()["items"]] == [holder["id"]]
    assert (await oefa.get(f"/sites/{site['id']}")).status_code == 200


async def test_lists_page_by_cursor_and_sync_by_updated_since(minem: Caller) -> None:
    ids = [(await minem.holder(20 + i))["id"] for i in range(5)]
    first = await minem.get("/holders", params={"limit": 2})
    assert [h["id"] for h in first.json()["items"]] == ids[:2]
    assert 'rel="next"' in first.headers["link"]
    second = await minem.get("/holders", params={"limit": 2, "cursor": first.json()["next_cursor"]})
    assert [h["id"] for h in second.json()["items"]] == ids[2:4]
    since = first.json()["items"][1]["updated_at"]
    await minem.ok("PATCH", f"/holders/{ids[0]}", {"name": "Changed"})
    changed = await minem.get("/holders", params={"updated_since": since})
    assert [h["id"] for h in changed.json()["items"]] == [*ids[1:], ids[0]]
    naive = await minem.get("/holders", params={"updated_since": "2024-01-01T00:00:00"})
    assert_problem(naive, 422)
    by_ruc = await minem.get("/holders", params={"ruc": ruc(22)})
    assert [h["id"] for h in by_ruc.json()["items"]] == [ids[2]]


async def test_sites_as_geojson_with_pcb_status_and_as_csv(minem: Caller, minam: Caller) -> None:
    holder = await minem.holder(30)
    lima = await minem.site(holder["id"], latitude="-12.05", longitude="-77.04")
    nowhere = await minem.site(holder["id"], latitude=None, longitude=None, ubigeo="080101")
    submission = await minem.submission()
    item = await minem.item(submission["id"], holder["id"], lima["id"], fluid_volume_l="850")
    await minem.analysis(
        item["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg="200000"
    )
    await minem.item(submission["id"], holder["id"], lima["id"], year_manufactured=1995)
    draft = await minem.get(
        "/sites", params={"format": "geojson", "submission_id": submission["id"]}
    )
    assert draft.status_code == 200
    assert draft.headers["content-type"].startswith("application/geo+json")
    features = {f["id"]: f for f in draft.json()["features"]}
    assert draft.json()["type"] == "FeatureCollection"
    assert features[lima["id"]]["geometry"] == {"type": "Point", "coordinates": [-77.04, -12.05]}
    props = features[lima["id"]]["properties"]
    assert props["pcb_items_by_class"] == {"P1": 1, "unknown": 1}
    assert props["worst_pcb_class"] == "P1"
    assert props["pcb_items_in_service"] == 1
    assert features[nowhere["id"]]["geometry"] is None
    assert features[nowhere["id"]]["properties"]["pcb_items"] == 0
    # National view: nothing validated yet, then the validated data.
    national = await minem.get("/sites", params={"format": "geojson"})
    assert all(f["properties"]["pcb_items"] == 0 for f in national.json()["features"])
    await validate(minem, minam, submission["id"])
    national = await minem.get("/sites", params={"format": "geojson", "year": 2024})
    counts = {f["id"]: f["properties"]["pcb_items"] for f in national.json()["features"]}
    assert counts == {lima["id"]: 2, nowhere["id"]: 0}
    exported = await minem.get("/sites", params={"format": "csv"})
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.text)))
    assert [int(r["id"]) for r in rows] == [lima["id"], nowhere["id"]]
    assert rows[1]["department_code"] == "08"
