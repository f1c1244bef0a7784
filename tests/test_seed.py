"""Demo data loads completely and loading it twice adds nothing."""

from __future__ import annotations

import json

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.cooperation.programs.models import ActionArea, Objective, Organisation
from services.cooperation.seed import DATA, load_organisations, load_program
from services.inventory.pcb.models import PcbItem
from services.inventory.registry.models import Holder, Site
from services.inventory.seed import DEMO, load_demo

PROGRAM = "US-PE-ECWP-2015-2018"


async def test_inventory_demo_is_idempotent(inventory_app: FastAPI) -> None:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    async with inventory_app.state.db.sessions() as session:
        first = await load_demo(session, data)
        await session.commit()
        second = await load_demo(session, data)
        await session.commit()
        counts = [
            await session.scalar(select(func.count()).select_from(m))
            for m in (Holder, Site, PcbItem)
        ]
    assert first == len(data["holders"]) + len(data["sites"]) + len(data["pcb_items"])
    assert second == 0
    assert counts == [len(data["holders"]), len(data["sites"]), len(data["pcb_items"])]


async def test_work_program_loads_complete_and_once(
    cooperation_app: FastAPI, cooperation: httpx.AsyncClient
) -> None:
    program = json.loads((DATA / "work_program_2015_2018.json").read_text(encoding="utf-8"))
    orgs = json.loads((DATA / "organisations.json").read_text(encoding="utf-8"))
    async with cooperation_app.state.db.sessions() as session:
        assert await load_organisations(session, orgs) == len(orgs)
        assert await load_program(session, program) is True
        await session.commit()
        assert await load_organisations(session, orgs) == 0
        assert await load_program(session, program) is False
        await session.commit()
        assert await session.scalar(select(func.count()).select_from(Organisation)) == len(orgs)
        assert await session.scalar(select(func.count()).select_from(Objective)) == 19
        assert await session.scalar(select(func.count()).select_from(ActionArea)) == 20

    response = await cooperation.get(f"/v1/programs/{PROGRAM}")
    assert response.status_code == 200
    body = response.json()
    assert [g["code"] for g in body["goals"]] == ["A", "B", "C", "D", "E"]
    assert [p["code"] for p in body["priority_areas"]] == ["A", "B", "C", "D", "E"]
    counts = [(len(p["objectives"]), len(p["action_areas"])) for p in body["priority_areas"]]
    assert counts == [(4, 4), (6, 5), (3, 3), (5, 5), (1, 3)]
    assert body["agreement_signed_on"] == "2006-07-24"
    assert body["priority_areas"][0]["action_areas"][3]["text_en"].startswith(
        "Development and implementation of a national action plan to reduce mercury"
    )
