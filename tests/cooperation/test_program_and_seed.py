"""The 2015-2018 work program is served complete, and the demo activities load once."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select

from services.cooperation.activities.models import Activity, ActivityChange
from services.cooperation.seed import load_demo_activities
from tests.cooperation.conftest import PROGRAM, READ, As, read_data, seed

API = "/cooperation/v1"


async def test_the_program_is_served_word_for_word(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, as_org: As
) -> None:
    await seed(cooperation_app, activities=False)
    data = read_data("work_program_2015_2018.json")
    response = await gateway.get(f"{API}/programs/{PROGRAM}", headers=await as_org("USAID", READ))
    assert response.status_code == 200
    body = response.json()
    for key in (
        "title_en",
        "title_es",
        "agreement",
        "agreement_signed_on",
        "agreement_in_force_on",
        "commission",
        "period_start",
        "period_end",
        "preamble_en",
        "background_en",
        "goals_intro_en",
        "activities_en",
        "benchmarks_en",
        "source",
    ):
        assert body[key] == data[key], key
    assert body["reporting_org"] == "MINAM"
    assert body["iati_identifier"] == f"PE-RUC-20492966658-{PROGRAM}"
    assert [(g["code"], g["text_en"]) for g in body["goals"]] == [
        (g["code"], g["text_en"]) for g in data["goals"]
    ]
    for served, source in zip(body["priority_areas"], data["priority_areas"], strict=True):
        assert served["code"] == source["code"]
        assert served["title_en"] == source["title_en"]
        assert served["objectives_en"] == source["objectives_en"]
        assert served["objectives"] == [
            {"number": o["number"], "text_en": o["text_en"]} for o in source["objectives"]
        ]
        assert served["action_areas"] == [
            {"number": a["number"], "text_en": a["text_en"]} for a in source["action_areas"]
        ]


async def test_demo_activities_load_once_and_completely(cooperation_app: FastAPI) -> None:
    await seed(cooperation_app, activities=False)
    data = read_data("demo_activities.json")
    async with cooperation_app.state.db.sessions() as session:
        assert await load_demo_activities(session, data) == len(data["activities"])
        await session.commit()
        assert await load_demo_activities(session, data) == 0
        await session.commit()
        count = await session.scalar(select(func.count()).select_from(Activity))
        changes = await session.scalar(select(func.count()).select_from(ActivityChange))
        identifiers = set(await session.scalars(select(Activity.identifier)))
    assert count == changes == len(data["activities"])
    refs = {o["code"]: o["iati_ref"] for o in read_data("organisations.json")}
    assert identifiers == {f"{refs[a['lead_org']]}-{a['own_id']}" for a in data["activities"]}
