"""The curve and the Convention reports over the demo inventory agree with the national
summary, which is computed by the existing report SQL."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import FastAPI

from services.inventory.seed import DEMO, load_demo
from tests.inventory.conftest import Caller


async def test_the_demo_reports_agree_with_the_national_summary(
    inventory_app: FastAPI, oefa: Caller
) -> None:
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text(encoding="utf-8")))
        await session.commit()
    summary = (await oefa.get("/reports/national-summary", params={"year": 2024})).json()
    pcb = summary["pcb"]

    stockholm = (await oefa.get("/reports/stockholm-article-15", params={"year": 2024})).json()
    assert stockholm["status"] == "validated"
    figures = {
        (f["figure"], f["dimensions"].get("category")): f
        for s in stockholm["sections"]
        for f in s["figures"]
    }
    assert figures[("pcb.identified.equipment_items", "all_pcb")]["value"] == pcb["pcb_items"]
    assert figures[("pcb.esm.equipment_items", "all_pcb")]["value"] == pcb["pcb_items_eliminated"]

    minamata = (await oefa.get("/reports/minamata-article-21", params={"year": 2024})).json()
    assert minamata["status"] == "validated"
    (releases,) = [s for s in minamata["sections"] if s["section"] == "releases"]
    all_air = [
        f for f in releases["figures"] if f["dimensions"] == {"category": "all", "pathway": "air"}
    ]
    assert Decimal(all_air[0]["value"]) == Decimal(summary["mercury"]["by_pathway"]["air"])

    # Today's state: the items in service are those the summary finds overdue after 2025.
    today = (await oefa.get("/reports/pcb-curve")).json()
    in_use = today["years"][-1]["in_use"]["total"]["items"]
    assert in_use == pcb["deadlines"]["use"]["items_overdue"]
    assert today["deadlines"]["use"]["items_in_use"] is not None
