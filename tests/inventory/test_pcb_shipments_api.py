"""Shipments of PCB wastes for disposal through the API: what a shipment carries and how
its lots follow it, every integrity rule (Basel Annex IV codes, ISO 3166-1 countries,
dates in order and none in the future, masses consistent with the lots and items carried,
within INVENTORY_PCB_DISPOSED_MASS_TOLERANCE_KG = 0.001 kg) refused with a 422 naming the
field and writing nothing, and an item's elimination evidence pointing to its shipment.

Masses derived by hand: the drum holds 100 L of askarel and no recorded mass, so its known
mass is 100 L x 1.5 kg/L = 150 kg (DOMAIN.md §1); the lot weighs 100 kg; the shipment
carries 250 kg."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from shared.db import utcnow
from tests.inventory.conftest import Caller, validate
from tests.support import assert_problem

EVIDENCE = {
    "disposal_facility": "ESM plant",
    "country": "FR",
    "disposed_on": "2024-07-01",
    "certificate_ref": "CERT-1",
    "mass_kg": "150",
}


async def _status(minem: Caller, item_id: int, to: str, on: str = "2024-05-01") -> Any:
    path = f"/pcb-items/{item_id}"
    body = {"to_status": to, "changed_on": on}
    return await minem.write("POST", f"{path}/status-events", body, etag_of=path)


@pytest.fixture
async def place(minem: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    sub = await minem.submission(2024)
    drum = await minem.item(
        sub["id"],
        holder["id"],
        site["id"],
        equipment_type="container",
        fluid_kind="askarel",
        fluid_volume_l="100",
        total_mass_kg=None,
    )
    for to in ("out_of_service_stored", "shipped_for_disposal"):
        assert (await _status(minem, drum["id"], to)).status_code == 201
    lot = await minem.lot(sub["id"], holder["id"], site["id"], mass_kg="100")
    return {
        "holder": holder["id"],
        "site": site["id"],
        "submission": sub["id"],
        "item": drum["id"],
        "lot": lot["id"],
    }


def _body(place: dict[str, Any], **fields: Any) -> dict[str, Any]:
    return {
        "holder_id": place["holder"],
        "notification_number": "PE-2024-0001",
        "movement_document_numbers": ["PE-2024-0001-01", "PE-2024-0001-02"],
        "exporter": "Holder S.A.",
        "carrier": "Carrier S.A.C.",
        "facility_name": "ESM plant",
        "facility_country": "FR",
        "disposal_operation": "D10",
        "shipped_on": "2024-06-01",
        "received_on": "2024-06-20",
        "mass_kg": "250",
        "lines": [{"item_id": place["item"]}, {"lot_id": place["lot"]}],
    } | fields


async def _shipments(caller: Caller, **params: Any) -> list[dict[str, Any]]:
    response = await caller.get("/pcb-shipments", params=params)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def _create(caller: Caller, place: dict[str, Any], body: dict[str, Any]) -> Any:
    return await caller.post(f"/submissions/{place['submission']}/pcb-shipments", body)


async def test_a_shipment_carries_items_and_lots_and_its_lots_follow_it(
    minem: Caller, place: dict[str, Any]
) -> None:
    response = await _create(minem, place, _body(place))
    assert response.status_code == 201, response.text
    shipment = response.json()
    assert shipment["mass_kg"] == "250.000"
    assert shipment["movement_document_numbers"] == ["PE-2024-0001-01", "PE-2024-0001-02"]
    # No masses given: the item's known mass (100 L x 1.5 kg/L) and the lot's own.
    assert shipment["lines"] == [
        {"lot_id": None, "item_id": place["item"], "mass_kg": "150.000"},
        {"lot_id": place["lot"], "item_id": None, "mass_kg": "100.000"},
    ]
    got = await minem.get(f"/pcb-shipments/{shipment['id']}")
    assert got.json() == shipment
    lot = (await minem.get(f"/pcb-wastes/{place['lot']}")).json()
    assert (lot["status"], lot["shipment_id"]) == ("shipped", shipment["id"])
    for params in ({"item_id": place["item"]}, {"lot_id": place["lot"]}, {"country": "FR"}):
        assert [s["id"] for s in await _shipments(minem, **params)] == [shipment["id"]]
    assert await _shipments(minem, country="DE") == []
    # Disposal recorded: the lot is disposed.
    path = f"/pcb-shipments/{shipment['id']}"
    done = await minem.ok("PATCH", path, {"disposed_on": "2024-07-01", "certificate_ref": "C-7"})
    assert (done["disposed_on"], done["certificate_ref"]) == ("2024-07-01", "C-7")
    assert (await minem.get(f"/pcb-wastes/{place['lot']}")).json()["status"] == "disposed"
    # A lot a shipment carries does not change.
    lot_path = f"/pcb-wastes/{place['lot']}"
    assert_problem(await minem.write("PATCH", lot_path, {"mass_kg": "1"}), 409, "lot-shipped")
    assert_problem(await minem.write("DELETE", lot_path), 409, "lot-shipped")


def _future() -> str:
    return str(utcnow().date() + timedelta(days=1))


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"disposal_operation": "D16"}, "disposal_operation"),
        ({"disposal_operation": "d10"}, "disposal_operation"),
        ({"disposal_operation": "R14"}, "disposal_operation"),
        ({"facility_country": "XX"}, "facility_country"),
        ({"facility_country": "fr"}, "facility_country"),
        ({"shipped_on": "future", "received_on": None}, "shipped_on"),
        ({"received_on": "future"}, "received_on"),
        ({"received_on": "2024-05-31"}, "received_on"),
        ({"disposed_on": "2024-06-19"}, "disposed_on"),
        ({"disposed_on": "2024-07-01", "received_on": None}, "received_on"),
        ({"disposed_on": "future"}, "disposed_on"),
        ({"mass_kg": "250.002"}, "mass_kg"),
        ({"mass_kg": "249.998"}, "mass_kg"),
        ({"mass_kg": "0"}, "mass_kg"),
        ({"notification_number": ""}, "notification_number"),
        ({"movement_document_numbers": []}, "movement_document_numbers"),
        ({"carrier": ""}, "carrier"),
        ({"lines": []}, "lines"),
        ({"lines": "both"}, "lines"),
        ({"lines": "lot short"}, "lines.1.mass_kg"),
        ({"lines": "lot over"}, "lines.1.mass_kg"),
        ({"lines": "item short"}, "lines.0.mass_kg"),
        ({"lines": "twice"}, "lines.item_id"),
        ({"lines": "unknown lot"}, "lines.1.lot_id"),
        ({"lines": "item in use"}, "lines.0.item_id"),
        ({"lines": "lot of another holder"}, "lines.1.lot_id"),
        ({"shipped_on": "2024-02-01", "received_on": None}, "lines.1.lot_id"),
        ({"holder_id": "other org"}, "holder_id"),
    ],
)
async def test_a_bad_shipment_is_refused_naming_the_field_and_nothing_is_written(
    minem: Caller,
    produce: Caller,
    place: dict[str, Any],
    change: dict[str, Any],
    field: str,
) -> None:
    change = {k: _future() if v == "future" else v for k, v in change.items()}
    lines = change.get("lines")
    item, lot = {"item_id": place["item"]}, {"lot_id": place["lot"]}
    if lines == "both":
        change["lines"] = [item | lot]
    elif lines == "lot short":  # a lot travels whole: 99.998 of its 100 kg
        change |= {"lines": [item, lot | {"mass_kg": "99.998"}], "mass_kg": "249.998"}
    elif lines == "lot over":
        change |= {"lines": [item, lot | {"mass_kg": "100.002"}], "mass_kg": "250.002"}
    elif lines == "item short":  # 0.002 kg short of the drum's 150 kg
        change |= {"lines": [item | {"mass_kg": "149.998"}, lot], "mass_kg": "249.998"}
    elif lines == "twice":
        change["lines"] = [item, item]
    elif lines == "unknown lot":
        change["lines"] = [item, {"lot_id": 999}]
    elif lines == "item in use":
        used = await minem.item(place["submission"], place["holder"], place["site"])
        change |= {"lines": [{"item_id": used["id"]}, lot], "mass_kg": "1300"}
    elif lines == "lot of another holder":
        other = await minem.holder()
        other_site = await minem.site(other["id"])
        foreign = await minem.lot(place["submission"], other["id"], other_site["id"])
        change["lines"] = [item, {"lot_id": foreign["id"]}]
    if change.get("holder_id") == "other org":
        change["holder_id"] = (await produce.holder())["id"]
    body = _body(place) | change
    response = await _create(minem, place, body)
    assert_problem(response, 422)
    assert field in response.text, response.text
    assert await _shipments(minem) == []
    assert (await minem.get(f"/pcb-wastes/{place['lot']}")).json()["status"] == "stored"


@pytest.mark.parametrize("mass", ["249.999", "250", "250.001"])
async def test_a_total_within_the_tolerance_is_accepted(
    minem: Caller, place: dict[str, Any], mass: str
) -> None:
    response = await _create(minem, place, _body(place, mass_kg=mass))
    assert response.status_code == 201, response.text


async def test_a_lot_or_item_travels_once(minem: Caller, place: dict[str, Any]) -> None:
    assert (await _create(minem, place, _body(place))).status_code == 201
    again = await _create(
        minem, place, _body(place, lines=[{"lot_id": place["lot"]}], mass_kg="100")
    )
    assert_problem(again, 422)
    assert "lines.0.lot_id" in again.text
    item_again = _body(place, lines=[{"item_id": place["item"]}], mass_kg="150")
    response = await _create(minem, place, item_again)
    assert_problem(response, 422)
    assert "lines.0.item_id" in response.text
    assert len(await _shipments(minem)) == 1


async def test_a_change_is_checked_as_a_new_shipment_and_a_bad_one_changes_nothing(
    minem: Caller, place: dict[str, Any]
) -> None:
    shipment = (await _create(minem, place, _body(place))).json()
    path = f"/pcb-shipments/{shipment['id']}"
    for bad, field in (
        ({"disposed_on": "2024-06-19"}, "disposed_on"),
        ({"received_on": "2024-05-01"}, "received_on"),
        ({"received_on": None, "disposed_on": "2024-07-01"}, "received_on"),
        ({"shipped_on": _future()}, "shipped_on"),
        ({"shipped_on": "2024-02-01"}, "shipped_on"),  # before the lot was stored
        ({"mass_kg": "251"}, "mass_kg"),
        ({"disposal_operation": "X1"}, "disposal_operation"),
        ({"facility_country": "ZZ"}, "facility_country"),
        ({"carrier": None}, "carrier"),
    ):
        response = await minem.write("PATCH", path, bad)
        assert_problem(response, 422)
        assert field in response.text, (bad, response.text)
    assert (await minem.get(path)).json() == shipment
    assert (await minem.get(f"/pcb-wastes/{place['lot']}")).json()["status"] == "shipped"


async def test_removing_a_shipment_puts_its_lots_back_in_storage(
    minem: Caller, place: dict[str, Any]
) -> None:
    shipment = (await _create(minem, place, _body(place))).json()
    # An item a shipment carries cannot be removed.
    item_path = f"/pcb-items/{place['item']}"
    assert_problem(await minem.write("DELETE", item_path), 409, "item-shipped")
    assert (await minem.write("DELETE", f"/pcb-shipments/{shipment['id']}")).status_code == 204
    lot = (await minem.get(f"/pcb-wastes/{place['lot']}")).json()
    assert (lot["status"], lot["shipment_id"]) == ("stored", None)
    assert await _shipments(minem) == []


async def _eliminate(minem: Caller, item_id: int, evidence: dict[str, Any]) -> Any:
    path = f"/pcb-items/{item_id}"
    body = {"to_status": "eliminated", "changed_on": "2024-07-01", "elimination": evidence}
    return await minem.write("POST", f"{path}/status-events", body, etag_of=path)


async def _history(minem: Caller, item_id: int) -> list[Any]:
    return list((await minem.get(f"/pcb-items/{item_id}/status-events")).json())


async def test_elimination_evidence_points_to_the_shipment_that_carried_the_item(
    minem: Caller, minam: Caller, oefa: Caller, place: dict[str, Any]
) -> None:
    shipment = (await _create(minem, place, _body(place, disposed_on="2024-07-01"))).json()
    response = await _eliminate(minem, place["item"], EVIDENCE | {"shipment_id": shipment["id"]})
    assert response.status_code == 201, response.text
    assert response.json()["status"] == "eliminated"
    last = (await _history(minem, place["item"]))[-1]
    assert (last["to_status"], last["shipment_id"]) == ("eliminated", shipment["id"])
    # The shipment lists the item; it cannot be removed while the evidence cites it.
    assert [x["item_id"] for x in shipment["lines"]] == [place["item"], None]
    path = f"/pcb-shipments/{shipment['id']}"
    cited = await minem.write("DELETE", path)
    assert_problem(cited, 409, "shipment-cited")
    # Nor may it change so that the evidence no longer fits.
    for bad, field in (
        ({"facility_country": "DE"}, "facility_country"),
        (
            {"shipped_on": "2024-07-02", "received_on": "2024-07-02", "disposed_on": "2024-07-02"},
            "shipped_on",
        ),
    ):
        response = await minem.write("PATCH", path, bad)
        assert_problem(response, 422)
        assert field in response.text, response.text
    await validate(minem, minam, place["submission"])
    public = await oefa.get(f"/pcb-shipments/{shipment['id']}")
    assert public.status_code == 200
    assert public.json()["lines"][0]["item_id"] == place["item"]


@pytest.mark.parametrize(
    ("which", "field"),
    [
        ("another holder", "elimination.shipment_id"),
        ("not carrying", "elimination.shipment_id"),
        ("unknown", "elimination.shipment_id"),
        ("other country", "elimination.country"),
        ("before shipping", "elimination.disposed_on"),
    ],
)
async def test_evidence_pointing_to_a_wrong_shipment_is_refused(
    minem: Caller, place: dict[str, Any], which: str, field: str
) -> None:
    evidence = dict(EVIDENCE)
    if which == "another holder":
        other = await minem.holder()
        site = await minem.site(other["id"])
        lot = await minem.lot(place["submission"], other["id"], site["id"])
        body = _body(place, holder_id=other["id"], lines=[{"lot_id": lot["id"]}], mass_kg="100")
        shipment_id = (await _create(minem, place, body)).json()["id"]
    elif which == "not carrying":
        body = _body(place, lines=[{"lot_id": place["lot"]}], mass_kg="100")
        shipment_id = (await _create(minem, place, body)).json()["id"]
    elif which == "unknown":
        shipment_id = 4242
    else:
        shipment_id = (await _create(minem, place, _body(place))).json()["id"]
        if which == "other country":
            evidence["country"] = "DE"
        else:
            evidence["disposed_on"] = "2024-05-31"
    before = await _history(minem, place["item"])
    response = await _eliminate(minem, place["item"], evidence | {"shipment_id": shipment_id})
    assert_problem(response, 422)
    assert field in response.text, response.text
    assert await _history(minem, place["item"]) == before
    item = (await minem.get(f"/pcb-items/{place['item']}")).json()
    assert item["status"] == "shipped_for_disposal"


async def test_a_new_item_cannot_be_created_eliminated_with_a_shipment(
    minem: Caller, place: dict[str, Any]
) -> None:
    body = {
        "holder_id": place["holder"],
        "site_id": place["site"],
        "equipment_type": "capacitor",
        "manufacturer": "ACME",
        "serial_number": "NEW-1",
        "status": "eliminated",
        "status_since": "2024-07-01",
        "total_mass_kg": "40",
        "elimination": EVIDENCE | {"mass_kg": "40", "shipment_id": 1},
    }
    response = await minem.post(f"/submissions/{place['submission']}/pcb-items", body)
    assert_problem(response, 422)
    assert "elimination.shipment_id" in response.text


async def test_who_sees_a_shipment_follows_its_submission(
    minem: Caller, produce: Caller, minam: Caller, oefa: Caller, place: dict[str, Any]
) -> None:
    shipment = (await _create(minem, place, _body(place))).json()
    path = f"/pcb-shipments/{shipment['id']}"
    for other in (produce, minam, oefa):
        assert_problem(await other.get(path), 404)
        assert await _shipments(other) == []
    assert_problem(await produce.write("PATCH", path, {"carrier": "X"}), 404)
    assert (await minem.move(place["submission"], "submit")).status_code == 200
    assert (await minam.get(path)).status_code == 200
    # Submitted: no longer editable.
    assert_problem(await minem.write("PATCH", path, {"carrier": "X"}), 409)


async def test_a_correction_copies_the_lots_and_shipments_and_its_evidence_follows(
    minem: Caller, minam: Caller, place: dict[str, Any]
) -> None:
    shipment = (await _create(minem, place, _body(place, disposed_on="2024-07-01"))).json()
    response = await _eliminate(minem, place["item"], EVIDENCE | {"shipment_id": shipment["id"]})
    assert response.status_code == 201, response.text
    await minem.lot(place["submission"], place["holder"], place["site"], mass_kg="7")
    await validate(minem, minam, place["submission"])
    sid = place["submission"]
    correction = await minem.ok(
        "POST",
        f"/submissions/{sid}/corrections",
        {"reason": "Peso revisado"},
        etag_of=f"/submissions/{sid}",
    )
    cid = correction["id"]
    [copied] = await _shipments(minem, submission_id=cid)
    assert copied["id"] != shipment["id"]
    strip = ("id", "submission_id", "created_at", "updated_at", "lines")
    assert {k: v for k, v in copied.items() if k not in strip} == {
        k: v for k, v in shipment.items() if k not in strip
    }
    lots = (await minem.get("/pcb-wastes", params={"submission_id": cid})).json()["items"]
    assert sorted((lot["mass_kg"], lot["status"]) for lot in lots) == [
        ("100.000", "disposed"),
        ("7.000", "stored"),
    ]
    [moved] = [lot for lot in lots if lot["shipment_id"] == copied["id"]]
    [item] = (await minem.get("/pcb-items", params={"submission_id": cid})).json()["items"]
    assert {"lot_id": moved["id"], "item_id": None, "mass_kg": "100.000"} in copied["lines"]
    assert {"lot_id": None, "item_id": item["id"], "mass_kg": "150.000"} in copied["lines"]
    last = (await _history(minem, item["id"]))[-1]
    assert (last["to_status"], last["shipment_id"]) == ("eliminated", copied["id"])
    # The validated version keeps its own.
    old = (await _history(minem, place["item"]))[-1]
    assert old["shipment_id"] == shipment["id"]
