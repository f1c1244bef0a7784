"""A small validated 2024 inventory built through the API (holders, PCB items, UP-POPs
and mercury estimates, each section validated by MINAM), with the figures its metrics
must show, derived by hand; and a PRODUCE draft that must never count."""

from __future__ import annotations

from typing import Any

from tests.inventory.conftest import Caller, validate

EVIDENCE = {
    "disposal_facility": "Demo ESM plant",
    "country": "FR",
    "disposed_on": "2024-05-01",
    "certificate_ref": "CERT-9",
    "mass_kg": "1200",
}
FACTOR = {
    "source_group": "6",
    "category": "6b",
    "category_name": "Waste burning and accidental fires",
    "class_no": 2,
    "class_name": "Open burning of domestic waste",
    "activity_unit": "t",
    "provenance": "DOMAIN.md §2 example (UNEP Toolkit 2013), to verify",
}
ASGM = {
    "category": "asgm",
    "subcategory": "Whole-ore amalgamation",
    "activity_unit": "kg gold",
    "input_factor_kg_per_unit": "3",
    "input_factor_unit": "kg gold",
    "factor_provenance": "test figures",
    "distribution": {"air": "0.25", "water": "0.3", "land": "0.45"},
}


async def eliminate(owner: Caller, item_id: int, evidence: dict[str, Any] = EVIDENCE) -> None:
    """Take an item out of use, ship it and record its elimination with evidence."""
    for to in ("out_of_service_stored", "shipped_for_disposal", "eliminated"):
        body: dict[str, Any] = {"to_status": to, "changed_on": "2024-03-01"}
        if to == "eliminated":
            body["elimination"] = evidence
        await owner.ok(
            "POST", f"/pcb-items/{item_id}/status-events", body, etag_of=f"/pcb-items/{item_id}"
        )


async def gc_item(owner: Caller, sid: int, holder: int, site: int, mg: str, **fields: Any) -> Any:
    """An item with a GC result of ``mg`` mg/kg."""
    item = await owner.item(sid, holder, site, **fields)
    await owner.analysis(item["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg=mg)
    return item


async def build_2024(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    """The inventory; returns the ids of what it made.

    PCB (MINEM, validated): holder A (electricity distribution) in Cusco (08) and Lima
    (15), holder B (mining) in Lima, holder C (health) with no data.
    - A/Cusco P1 in use, 4 000 kg; A/Cusco P2 eliminated, 1 200 kg;
    - A/Lima non-PCB (3 mg/kg) in use; A/Lima presumed (1975, no analysis) in use, 1 000 kg;
    - B/Lima unknown (1995, no analysis) on standby, 500 kg.
    UP-POPs (MINEM, validated): 10 000 t open burning in Lima under WHO-2005 (air 40, land
    1 µg/t: 0.4 + 0.01 g TEQ/a), 10 000 t in Cusco under I-TEQ (air 30: 0.3 g TEQ/a).
    Mercury (MINEM, validated): ASGM 1 000 kg gold in Madre de Dios (17), 100 kg in Puno (21).
    PRODUCE's draft: holder D with a P1 item in use of 9 999 kg.
    """
    a = await minem.holder(sector="electricity_distribution")
    b = await minem.holder(sector="mining")
    c = await minem.holder(sector="health")
    await minem.site(c["id"], ubigeo="130101")
    cusco = await minem.site(a["id"], ubigeo="080101")
    lima = await minem.site(a["id"], ubigeo="150101")
    lima_b = await minem.site(b["id"], ubigeo="150101")
    pcb = (await minem.submission(2024, "pcb"))["id"]
    await gc_item(
        minem, pcb, a["id"], cusco["id"], "300000", fluid_volume_l="850", total_mass_kg="4000"
    )
    p2 = await gc_item(minem, pcb, a["id"], cusco["id"], "1200", total_mass_kg="1200")
    await eliminate(minem, p2["id"])
    await gc_item(minem, pcb, a["id"], lima["id"], "3", year_manufactured=1999, total_mass_kg="800")
    await minem.item(pcb, a["id"], lima["id"], year_manufactured=1975, total_mass_kg="1000")
    await minem.item(
        pcb, b["id"], lima_b["id"], year_manufactured=1995, total_mass_kg="500", status="standby"
    )
    await validate(minem, minam, pcb)

    for vector, value, scheme in (
        ("air", "40", "WHO-2005"),
        ("land", "1", "WHO-2005"),
        ("air", "30", "I-TEQ"),
    ):
        response = await minam.post(
            "/emission-factors", FACTOR | {"vector": vector, "value": value, "teq_scheme": scheme}
        )
        assert response.status_code == 201, response.text
    upops = (await minem.submission(2024, "upops"))["id"]
    for scheme, department in (("WHO-2005", "15"), ("I-TEQ", "08")):
        response = await minem.post(
            f"/submissions/{upops}/upops-estimates",
            {
                "category": "6b",
                "class_no": 2,
                "teq_scheme": scheme,
                "activity_rate": "10000",
                "activity_unit": "t",
                "department_code": department,
            },
        )
        assert response.status_code == 201, response.text
    await validate(minem, minam, upops)

    mercury = (await minem.submission(2024, "mercury"))["id"]
    for rate, department in (("1000", "17"), ("100", "21")):
        response = await minem.post(
            f"/submissions/{mercury}/mercury-estimates",
            ASGM | {"activity_rate": rate, "department_code": department},
        )
        assert response.status_code == 201, response.text
    await validate(minem, minam, mercury)

    d = await produce.holder(sector="electricity_distribution")
    d_site = await produce.site(d["id"], ubigeo="080101")
    draft = (await produce.submission(2024, "pcb"))["id"]
    await gc_item(produce, draft, d["id"], d_site["id"], "300000", total_mass_kg="9999")
    return {
        "pcb": pcb,
        "upops": upops,
        "mercury": mercury,
        "draft": draft,
        "site_a_cusco": cusco["id"],
        "holder_a": a["id"],
    }
