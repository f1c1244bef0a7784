"""The demo inventory: a validated MINEM PCB submission with analyses, the Toolkit factor
catalogues (data files), UP-POPs and mercury estimates; loading twice adds nothing."""

from __future__ import annotations

import json
from decimal import Decimal

from fastapi import FastAPI
from sqlalchemy import func, select

from services.inventory.factors.catalogue import read_catalogue
from services.inventory.factors.models import EmissionFactor
from services.inventory.mercury.models import MercuryEstimate
from services.inventory.seed import DEMO, load_demo
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.upops.models import UpopsEstimate
from tests.inventory.conftest import Caller


async def test_demo_shows_a_validated_inventory(inventory_app: FastAPI, anonymous: Caller) -> None:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, data)
        await session.commit()
        await load_demo(session, data)
        await session.commit()
        counts = [
            await session.scalar(select(func.count()).select_from(m))
            for m in (EmissionFactor, UpopsEstimate, MercuryEstimate)
        ]
    assert counts == [
        len(read_catalogue()),
        len(data["upops_estimates"]),
        len(data["mercury_estimates"]),
    ]
    summary = (await anonymous.get("/public/national-summary", params={"year": 2024})).json()
    pcb = summary["pcb"]
    assert pcb["items"] == len(data["pcb_items"])
    assert pcb["by_class"]["P1"]["items"] == 3  # Westinghouse, GE capacitor, drum (GC)
    assert pcb["by_class"]["non_pcb"]["items"] == 1  # ABB, negative screening
    assert pcb["flags"]["needs_gc_confirmation"] == 1  # Mitsubishi, positive screening only
    # The drum shipped for disposal has no total nor dry mass: counted as not weighed,
    # not as 0 t (issue 12 item 2); its 300 kg of fluid are counted as recorded.
    shipped = pcb["by_status"]["shipped_for_disposal"]
    assert (shipped["items"], shipped["items_not_weighed"]) == (1, 1)
    assert Decimal(shipped["fluid_mass_t"]) == Decimal("0.3")
    assert pcb["weighing"]["total_mass_not_weighed"]["no_total_or_dry_mass"] >= 1
    air = summary["upops"]["by_source_group"]["6"]["air"]
    assert Decimal(air["release_g_teq_per_year"]) == Decimal("0.4")  # 10 000 t x 40 µg/t
    assert summary["upops"]["by_source_group"]["6"]["water"]["status"] == "not_determined"
    assert "asgm" in summary["mercury"]["by_category"]
    # Figures not read on the Annex pages say so (issue 12 item 11: never unflagged).
    catalogue = [f for f in read_catalogue() if f.category == "1c"]
    assert catalogue
    assert all(f.note and "verify" in f.note and f.provenance for f in catalogue)
    # No Level 1 mercury factor could be read (mercury/data/README.md): the demo's own
    # factors are Level 2 and say so.
    levels = summary["mercury"]["level_totals_kg_per_year"]
    assert set(levels) == {"2"}
    assert Decimal(summary["mercury"]["asgm_vs_rest_kg_per_year"]["asgm"]) > 0


async def test_demo_submissions_went_through_the_workflow(inventory_app: FastAPI) -> None:
    """Issue 12 item 10: the demo's validated submissions were submitted by their owner and
    validated by MINAM through the workflow's functions, so their dates are set."""
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, data)
        await session.commit()
        submissions = list(await session.scalars(select(Submission)))
        events = list(await session.scalars(select(SubmissionEvent).order_by(SubmissionEvent.id)))
    validated = [s for s in submissions if s.status == "validated"]
    assert len(validated) == 3  # PCB, UP-POPs, mercury
    for submission in validated:
        assert submission.submitted_at is not None
        assert submission.validated_at is not None
        assert submission.validated_at >= submission.submitted_at
        moves = [(e.to_status, e.org_code) for e in events if e.submission_id == submission.id]
        owner = submission.org_code
        assert moves == [
            ("draft", owner),
            ("submitted", owner),
            ("under_review", "MINAM"),
            ("validated", "MINAM"),
        ]


async def test_demo_inspections_raise_the_condition_flags(
    inventory_app: FastAPI, oefa: Caller
) -> None:
    """Issue 12 item 7: OEFA's demo inspections. On 2026-06-30, with inspections due every
    12 months (the default): the P2 Siemens in a populated area, last inspected on
    2024-05-20, is overdue; the P1 Westinghouse, inspected on 2025-12-15, is not (it was
    on 2025-06-30, before that inspection); the presumed Delcrosa on standby, where OEFA
    saw a leak, is leaking in use."""
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text(encoding="utf-8")))
        await session.commit()

    async def flagged(flag: str, as_of: str) -> set[str]:
        params = {"flag": flag, "as_of": as_of, "current": "true"}
        page = (await oefa.get("/pcb-items", params=params)).json()
        return {i["serial_number"] for i in page["items"]}

    assert await flagged("inspection_overdue", "2026-06-30") == {"SI-84-2201"}
    assert await flagged("inspection_overdue", "2025-06-30") == {"SI-84-2201", "WH-77-10451"}
    assert await flagged("leaking_in_use", "2026-06-30") == {"DC-82-0912"}
    page = (await oefa.get("/pcb-items", params={"current": "true"})).json()
    ids = {i["serial_number"]: i["id"] for i in page["items"]}
    seen = (await oefa.get(f"/pcb-items/{ids['DC-82-0912']}/inspections")).json()
    assert [(i["inspector_org"], i["leaking_observed"]) for i in seen] == [("OEFA", True)]
