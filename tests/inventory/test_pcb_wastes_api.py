"""Stored PCB waste lots through the API: what is recorded and read back, who sees
which lots (the submission rules: an organisation its own drafts, reviewers what was
submitted, everyone validated data), and every bad write refused with a 422 naming the
field, writing nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.db import utcnow
from tests.inventory.conftest import Caller, validate
from tests.support import assert_problem


@pytest.fixture
async def place(minem: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    site = await minem.site(holder["id"], ubigeo="070106")
    submission = await minem.submission(2024)
    item = await minem.item(submission["id"], holder["id"], site["id"])
    return {
        "holder": holder["id"],
        "site": site["id"],
        "submission": submission["id"],
        "item": item["id"],
    }


async def _lots(caller: Caller, **params: Any) -> list[dict[str, Any]]:
    response = await caller.get("/pcb-wastes", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def test_a_lot_is_recorded_at_a_site_and_read_back(
    minem: Caller, place: dict[str, Any]
) -> None:
    lot = await minem.lot(
        place["submission"],
        place["holder"],
        place["site"],
        kind="liquid",
        mass_kg="150.5",
        pcb_mg_per_kg="250000",
        concentration_basis="gc_analysis",
        source_item_ids=[place["item"]],
    )
    response = await minem.get(f"/pcb-wastes/{lot['id']}")
    assert response.status_code == 200
    got = response.json()
    assert got == lot
    assert got["kind"] == "liquid"
    assert got["mass_kg"] == "150.500"
    assert got["pcb_mg_per_kg"] == "250000.000"
    # The site's UBIGEO 070106 (Ventanilla, Callao): department 07.
    assert (got["ubigeo"], got["department_code"]) == ("070106", "07")
    assert got["status"] == "stored"
    assert got["shipment_id"] is None
    assert got["source_item_ids"] == [place["item"]]
    assert got["org_code"] == "MINEM"
    again = await minem.get(
        f"/pcb-wastes/{lot['id']}", headers={"If-None-Match": response.headers["etag"]}
    )
    assert again.status_code == 304
    # An item a lot came from cannot be removed while the lot names it.
    removed = await minem.write("DELETE", f"/pcb-items/{place['item']}")
    assert_problem(removed, 409, "item-in-lot")


async def test_a_lot_at_an_address_takes_the_department_of_its_ubigeo(
    minem: Caller, place: dict[str, Any]
) -> None:
    lot = await minem.lot(
        place["submission"],
        place["holder"],
        None,
        storage_address="Jr. Demo 45, Cusco",
        ubigeo="080101",
    )
    assert (lot["site_id"], lot["storage_address"]) == (None, "Jr. Demo 45, Cusco")
    assert (lot["ubigeo"], lot["department_code"]) == ("080101", "08")


async def test_who_sees_a_lot_follows_its_submission(
    minem: Caller,
    produce: Caller,
    minam: Caller,
    oefa: Caller,
    anonymous: Caller,
    place: dict[str, Any],
) -> None:
    lot = await minem.lot(place["submission"], place["holder"], place["site"])
    path = f"/pcb-wastes/{lot['id']}"
    assert [x["id"] for x in await _lots(minem)] == [lot["id"]]
    # A draft: its organisation only.
    for other in (produce, minam, oefa):
        assert_problem(await other.get(path), 404)
        assert await _lots(other) == []
    assert (await anonymous.get("/pcb-wastes")).status_code == 401
    assert (await minem.move(place["submission"], "submit")).status_code == 200
    # Submitted: the reviewer too.
    assert (await minam.get(path)).status_code == 200
    assert [x["id"] for x in await _lots(minam)] == [lot["id"]]
    assert_problem(await oefa.get(path), 404)
    for action in ("start-review", "validate"):
        assert (await minam.move(place["submission"], action)).status_code == 200
    # Validated: every reader.
    assert (await oefa.get(path)).status_code == 200
    assert [x["id"] for x in await _lots(produce)] == [lot["id"]]


async def test_list_filters_combine(minem: Caller, place: dict[str, Any]) -> None:
    sub, holder, site = place["submission"], place["holder"], place["site"]
    liquid = await minem.lot(sub, holder, site, kind="liquid")
    await minem.lot(sub, holder, None, storage_address="Av. X", ubigeo="080101")
    assert [x["id"] for x in await _lots(minem, kind="liquid")] == [liquid["id"]]
    assert len(await _lots(minem, department="08")) == 1
    assert len(await _lots(minem, department="07", kind="contaminated_material")) == 0
    assert len(await _lots(minem, submission_id=sub, status="stored")) == 2
    page = await minem.get("/pcb-wastes", params={"limit": 1})
    assert page.json()["next_cursor"]
    assert 'rel="next"' in page.headers["link"]


def _future() -> str:
    return str(utcnow().date() + timedelta(days=1))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"mass_kg": "0"}, "mass_kg"),
        ({"mass_kg": "-5"}, "mass_kg"),
        ({"mass_kg": None}, "mass_kg"),
        ({"kind": "sludge"}, "kind"),
        ({"stored_since": "future"}, "stored_since"),
        ({"pcb_mg_per_kg": "500"}, "concentration_basis"),
        ({"concentration_basis": "gc_analysis"}, "concentration_basis"),
        ({"pcb_mg_per_kg": "1000001", "concentration_basis": "estimated"}, "pcb_mg_per_kg"),
        ({"site_id": None}, "storage_address"),
        ({"site_id": None, "storage_address": "Av. X", "ubigeo": "990101"}, "ubigeo"),
        ({"ubigeo": "150101"}, "ubigeo"),
        ({"site_id": "other holder"}, "site_id"),
        ({"holder_id": "other org"}, "holder_id"),
        ({"source_item_ids": "other submission"}, "source_item_ids"),
        ({"description": ""}, "description"),
        ({"status": "disposed"}, "status"),
    ],
)
async def test_a_bad_lot_is_refused_naming_the_field_and_nothing_is_written(
    minem: Caller,
    produce: Caller,
    place: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    body: dict[str, Any] = {
        "holder_id": place["holder"],
        "lot_ref": "LOT-BAD",
        "kind": "liquid",
        "description": "Drained askarel",
        "mass_kg": "10",
        "site_id": place["site"],
        "stored_since": "2024-03-01",
    }
    if change.get("stored_since") == "future":
        change = {"stored_since": _future()}
    if change.get("site_id") == "other holder":
        other = await minem.holder()
        change = {"site_id": (await minem.site(other["id"]))["id"]}
    if change.get("holder_id") == "other org":
        change = {"holder_id": (await produce.holder())["id"]}
    if change.get("source_item_ids") == "other submission":
        other_sub = await minem.submission(2023)
        item = await minem.item(other_sub["id"], place["holder"], place["site"])
        change = {"source_item_ids": [item["id"]]}
    body = {k: v for k, v in (body | change).items() if v is not None or k != "mass_kg"}
    response = await minem.post(f"/submissions/{place['submission']}/pcb-wastes", body)
    assert_problem(response, 422)
    assert field in response.text, response.text
    assert await _lots(minem) == []


async def test_only_the_owner_writes_and_only_while_editable(
    minem: Caller, produce: Caller, minam: Caller, place: dict[str, Any]
) -> None:
    body = {
        "holder_id": place["holder"],
        "lot_ref": "L-1",
        "kind": "other",
        "description": "Contaminated concrete",
        "mass_kg": "20",
        "site_id": place["site"],
        "stored_since": "2024-01-01",
    }
    path = f"/submissions/{place['submission']}/pcb-wastes"
    assert_problem(await produce.post(path, body), 404)  # a draft of another organisation
    assert_problem(await minam.post(path, body), 403)  # no write scope
    await validate(minem, minam, place["submission"])
    assert_problem(await minem.post(path, body), 409, "submission-not-editable")
    assert await _lots(minem) == []


async def test_a_lot_ref_is_unique_per_holder_and_submission(
    minem: Caller, place: dict[str, Any]
) -> None:
    await minem.lot(place["submission"], place["holder"], place["site"], lot_ref="L-9")
    again = {
        "holder_id": place["holder"],
        "lot_ref": "L-9",
        "kind": "liquid",
        "description": "d",
        "mass_kg": "1",
        "site_id": place["site"],
        "stored_since": "2024-01-01",
    }
    response = await minem.post(f"/submissions/{place['submission']}/pcb-wastes", again)
    assert_problem(response, 409, "duplicate")
    assert len(await _lots(minem)) == 1


async def test_an_idempotent_retry_records_one_lot(minem: Caller, place: dict[str, Any]) -> None:
    body = {
        "holder_id": place["holder"],
        "lot_ref": "L-IDEM",
        "kind": "liquid",
        "description": "d",
        "mass_kg": "3",
        "site_id": place["site"],
        "stored_since": "2024-01-01",
    }
    path = f"/submissions/{place['submission']}/pcb-wastes"
    headers = {"Idempotency-Key": "lot-once-1"}
    first = await minem.post(path, body, headers=headers)
    second = await minem.post(path, body, headers=headers)
    assert first.status_code == second.status_code == 201
    assert first.json()["id"] == second.json()["id"]
    assert len(await _lots(minem)) == 1


async def test_a_lot_changes_with_if_match_and_is_checked_again(
    minem: Caller, place: dict[str, Any]
) -> None:
    lot = await minem.lot(place["submission"], place["holder"], place["site"])
    path = f"/pcb-wastes/{lot['id']}"
    no_tag = await minem.gateway.patch(
        "/inventory/v1" + path, json={"mass_kg": "7"}, headers=minem.headers
    )
    assert_problem(no_tag, 428)
    stale = await minem.gateway.patch(
        "/inventory/v1" + path,
        json={"mass_kg": "7"},
        headers=minem.headers | {"If-Match": '"stale"'},
    )
    assert_problem(stale, 412)
    changed = await minem.ok(
        "PATCH", path, {"mass_kg": "99.25", "source_item_ids": [place["item"]]}
    )
    assert changed["mass_kg"] == "99.250"
    assert changed["source_item_ids"] == [place["item"]]
    assert changed["version"] > lot["version"]
    for bad, field in (
        ({"mass_kg": "0"}, "mass_kg"),
        ({"mass_kg": None}, "mass_kg"),
        ({"stored_since": _future()}, "stored_since"),
        ({"pcb_mg_per_kg": "70"}, "concentration_basis"),
        ({"storage_address": "Av. Y"}, "site_id"),
    ):
        response = await minem.write("PATCH", path, bad)
        assert_problem(response, 422)
        assert field in response.text, (bad, response.text)
    assert (await minem.get(path)).json() == changed
    moved = await minem.ok(
        "PATCH", path, {"site_id": None, "storage_address": "Av. Y 1", "ubigeo": "120801"}
    )
    assert (moved["department_code"], moved["site_id"]) == ("12", None)
    assert (await minem.write("DELETE", path)).status_code == 204
    assert_problem(await minem.get(path), 404)
