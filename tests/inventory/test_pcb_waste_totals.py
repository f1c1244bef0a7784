"""Totals of PCB wastes: in storage on a date and shipped per year, from validated data
only, through the signed and the public report; expected figures derived by hand below."""

from __future__ import annotations

import json
from typing import Any

from fastapi import FastAPI

from services.inventory.seed import DEMO, load_demo
from tests.inventory.conftest import Caller, validate
from tests.support import assert_problem


def _group(key: str, count: int, mass: str) -> dict[str, Any]:
    return {"key": key, "count": count, "mass_kg": mass}


async def _inventory(minem: Caller) -> dict[str, Any]:
    """One MINEM submission: holder 1 (a Lima site, department 15) and holder 2 (a lot at a
    Junín address, department 12).

    lots: L1 liquid 200 kg (from 2024-01-10), L2 contaminated material 50.5 kg (from
    2024-02-01), L3 liquid 30.25 kg of holder 2 (from 2024-03-01), L4 drained equipment
    400 kg (from 2024-09-01); a drained drum of 100 L askarel (150 kg).
    shipments: S1 L1 + drum, 350 kg, FR D10, 2024-05-10; S2 L3, 30.25 kg, DE D9,
    2025-02-01; S3 L2, 50.5 kg, FR D9, 2025-03-01.
    """
    h1 = await minem.holder()
    h2 = await minem.holder()
    s1 = await minem.site(h1["id"], ubigeo="150112")
    sub = (await minem.submission(2024))["id"]
    drum = await minem.item(
        sub, h1["id"], s1["id"], fluid_kind="askarel", fluid_volume_l="100", total_mass_kg=None
    )
    for to in ("out_of_service_stored", "shipped_for_disposal"):
        path = f"/pcb-items/{drum['id']}"
        body = {"to_status": to, "changed_on": "2024-05-01"}
        await minem.ok("POST", f"{path}/status-events", body, etag_of=path)
    l1 = await minem.lot(
        sub, h1["id"], s1["id"], kind="liquid", mass_kg="200", stored_since="2024-01-10"
    )
    l2 = await minem.lot(sub, h1["id"], s1["id"], mass_kg="50.5", stored_since="2024-02-01")
    l3 = await minem.lot(
        sub,
        h2["id"],
        None,
        kind="liquid",
        mass_kg="30.25",
        storage_address="Yauli, Junín",
        ubigeo="120801",
        stored_since="2024-03-01",
    )
    await minem.lot(
        sub, h1["id"], s1["id"], kind="drained_equipment", mass_kg="400", stored_since="2024-09-01"
    )
    await minem.shipment(
        sub,
        h1["id"],
        shipped_on="2024-05-10",
        mass_kg="350",
        lines=[{"lot_id": l1["id"]}, {"item_id": drum["id"]}],
    )
    await minem.shipment(
        sub,
        h2["id"],
        shipped_on="2025-02-01",
        facility_country="DE",
        disposal_operation="D9",
        mass_kg="30.25",
        lines=[{"lot_id": l3["id"]}],
    )
    await minem.shipment(
        sub,
        h1["id"],
        shipped_on="2025-03-01",
        disposal_operation="D9",
        mass_kg="50.5",
        lines=[{"lot_id": l2["id"]}],
    )
    return {"submission": sub}


# As of 2024-06-30: L1 has left (S1, 2024-05-10), L4 is not stored yet; L2 and L3 remain.
MID_2024 = {
    "lots": 2,
    "mass_kg": "80.750",
    "by_kind": [_group("contaminated_material", 1, "50.500"), _group("liquid", 1, "30.250")],
    "by_department": [_group("12", 1, "30.250"), _group("15", 1, "50.500")],
}
S1_2024 = {
    "year": 2024,
    "shipments": 1,
    "mass_kg": "350.000",
    "by_country": [_group("FR", 1, "350.000")],
    "by_operation": [_group("D10", 1, "350.000")],
}


async def test_totals_count_storage_on_a_date_and_shipments_per_year(
    minem: Caller, minam: Caller, anonymous: Caller
) -> None:
    built = await _inventory(minem)
    empty = (await anonymous.get("/public/pcb-wastes", params={"as_of": "2024-06-30"})).json()
    # Nothing validated yet: nothing counts, and no other year's data stands in.
    assert (empty["year"], empty["submission_ids"]) == (None, [])
    assert empty["in_storage"]["lots"] == 0
    assert empty["in_storage"]["mass_kg"] == "0.000"
    assert empty["shipped_by_year"] == []
    # The owner previews its draft.
    preview = await minem.get(
        "/reports/pcb-wastes", params={"submission_id": built["submission"], "as_of": "2024-06-30"}
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["in_storage"] == MID_2024
    await validate(minem, minam, built["submission"])
    for caller, path in ((anonymous, "/public/pcb-wastes"), (minam, "/reports/pcb-wastes")):
        mid = (await caller.get(path, params={"as_of": "2024-06-30"})).json()
        assert (mid["year"], mid["submission_ids"]) == (2024, [built["submission"]])
        assert mid["in_storage"] == MID_2024
        assert mid["shipped_by_year"] == [S1_2024]
    late = (await anonymous.get("/public/pcb-wastes", params={"as_of": "2025-12-31"})).json()
    # By the end of 2025 only L4 (400 kg, drained equipment, department 15) is left.
    assert late["in_storage"] == {
        "lots": 1,
        "mass_kg": "400.000",
        "by_kind": [_group("drained_equipment", 1, "400.000")],
        "by_department": [_group("15", 1, "400.000")],
    }
    # 2025: S2 (30.25 kg to DE) and S3 (50.5 kg to FR), both D9.
    assert late["shipped_by_year"] == [
        S1_2024,
        {
            "year": 2025,
            "shipments": 2,
            "mass_kg": "80.750",
            "by_country": [_group("DE", 1, "30.250"), _group("FR", 1, "50.500")],
            "by_operation": [_group("D9", 2, "80.750")],
        },
    ]
    response = await anonymous.get("/public/pcb-wastes", params={"as_of": "2025-12-31"})
    again = await anonymous.get(
        "/public/pcb-wastes",
        params={"as_of": "2025-12-31"},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304


async def test_drafts_of_others_never_count_and_previews_follow_the_access_rules(
    minem: Caller, produce: Caller, minam: Caller, oefa: Caller, anonymous: Caller
) -> None:
    built = await _inventory(minem)
    await validate(minem, minam, built["submission"])
    holder = await produce.holder()
    site = await produce.site(holder["id"])
    draft = (await produce.submission(2024))["id"]
    await produce.lot(draft, holder["id"], site["id"], mass_kg="999")
    totals = (await oefa.get("/reports/pcb-wastes", params={"as_of": "2024-06-30"})).json()
    assert totals["in_storage"] == MID_2024
    assert_problem(await minem.get("/reports/pcb-wastes", params={"submission_id": draft}), 404)
    assert_problem(await minam.get("/reports/pcb-wastes", params={"submission_id": draft}), 404)
    mine = await produce.get("/reports/pcb-wastes", params={"submission_id": draft})
    assert mine.json()["in_storage"]["mass_kg"] == "999.000"
    upops = (await produce.submission(2024, "upops"))["id"]
    wrong = await produce.get("/reports/pcb-wastes", params={"submission_id": upops})
    assert_problem(wrong, 422)
    assert "submission_id" in wrong.text
    assert (await anonymous.get("/reports/pcb-wastes")).status_code == 401
    bad_date = await anonymous.get("/public/pcb-wastes", params={"as_of": "2024-13-01"})
    assert_problem(bad_date, 422)
    assert "as_of" in bad_date.text


async def test_the_demo_holds_stored_lots_and_the_drum_shipped_for_disposal(
    inventory_app: FastAPI, anonymous: Caller, oefa: Caller
) -> None:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, data)
        await session.commit()
        await load_demo(session, data)  # adds nothing
        await session.commit()
    totals = (await anonymous.get("/public/pcb-wastes", params={"as_of": "2024-12-31"})).json()
    # Stored: 240 kg of drained capacitors (Callao, 07) and 1,650 kg of oil (Junín, 12); the
    # 85 kg of rags left with the drum (300 kg) on 2024-10-15: 385 kg to France, D10.
    assert totals["in_storage"] == {
        "lots": 2,
        "mass_kg": "1890.000",
        "by_kind": [_group("drained_equipment", 1, "240.000"), _group("liquid", 1, "1650.000")],
        "by_department": [_group("07", 1, "240.000"), _group("12", 1, "1650.000")],
    }
    assert totals["shipped_by_year"] == [
        {
            "year": 2024,
            "shipments": 1,
            "mass_kg": "385.000",
            "by_country": [_group("FR", 1, "385.000")],
            "by_operation": [_group("D10", 1, "385.000")],
        }
    ]
    [shipment] = (await oefa.get("/pcb-shipments")).json()["items"]
    drum = (await oefa.get("/pcb-items", params={"status": "shipped_for_disposal"})).json()
    [item] = drum["items"]
    assert item["serial_number"] == "DRUM-0007"
    assert {"lot_id": None, "item_id": item["id"], "mass_kg": "300.000"} in shipment["lines"]
    assert len((await oefa.get("/pcb-wastes")).json()["items"]) == 3


async def test_the_codes_have_spanish_and_english_labels(anonymous: Caller) -> None:
    vocab = (await anonymous.get("/public/vocabularies")).json()
    codes = {kind: {e["code"]: e for e in entries} for kind, entries in vocab.items()}
    assert len(codes["disposal_operation"]) == 28  # Basel Annex IV: D1-D15, R1-R13
    assert codes["disposal_operation"]["D10"] == {
        "code": "D10",
        "es": "Incineración en la tierra",
        "en": "Incineration on land",
    }
    assert set(codes["waste_kind"]) == {
        "liquid",
        "drained_equipment",
        "contaminated_material",
        "other",
    }
    assert set(codes["waste_lot_status"]) == {"stored", "shipped", "disposed"}
