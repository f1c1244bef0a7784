"""The 2015-2018 work program is served complete, in English and Spanish, and the demo
activities load once."""

from __future__ import annotations

from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import func, select, update

from services.cooperation.activities.models import Activity, ActivityChange
from services.cooperation.programs.models import (
    ActionArea,
    Goal,
    Objective,
    PriorityArea,
    WorkProgram,
)
from services.cooperation.programs.schemas import PROGRAM_TEXTS
from services.cooperation.seed import load_demo_activities, load_program
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
        "preamble_es",
        "background_es",
        "goals_intro_es",
        "activities_es",
        "benchmarks_es",
        "translation_es",
        "source",
    ):
        assert body[key] == data[key], key
    assert body["reporting_org"] == "MINAM"
    assert body["iati_identifier"] == f"PE-RUC-20492966658-{PROGRAM}"
    assert body["goals"] == data["goals"]
    for served, source in zip(body["priority_areas"], data["priority_areas"], strict=True):
        for key in ("code", "title_en", "title_es", "objectives_en", "objectives_es"):
            assert served[key] == source[key], key
        assert served["objectives"] == source["objectives"]
        assert served["action_areas"] == source["action_areas"]


def _texts(body: dict[str, Any]) -> list[tuple[str, str, str | None]]:
    """(where, English, Spanish) of every goal, priority area, objective and action area."""
    texts = [(f"goal {g['code']}", g["text_en"], g["text_es"]) for g in body["goals"]]
    for area in body["priority_areas"]:
        code = area["code"]
        texts.append((f"area {code}", area["title_en"], area["title_es"]))
        texts.append((f"area {code} objectives", area["objectives_en"], area["objectives_es"]))
        for o in area["objectives"]:
            texts.append((f"{code}({o['number']})", o["text_en"], o["text_es"]))
        for a in area["action_areas"]:
            texts.append((f"{code}.{a['number']}", a["text_en"], a["text_es"]))
    return texts


async def test_the_program_is_served_in_spanish_too(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, as_org: As
) -> None:
    await seed(cooperation_app, activities=False)
    response = await gateway.get(f"{API}/programs/{PROGRAM}", headers=await as_org("MINAM", READ))
    assert response.status_code == 200
    body = response.json()
    texts = _texts(body)
    assert len(texts) == 5 + 5 * 2 + 19 + 20
    for name in ("preamble", "background", "goals_intro", "activities", "benchmarks"):
        texts.append((name, body[f"{name}_en"], body[f"{name}_es"]))
    for where, english, spanish in texts:
        assert spanish, where
        assert spanish.strip(), where
        assert spanish != english, where
    assert "no oficial" in body["translation_es"]

    goals = {g["code"]: g["text_es"] for g in body["goals"]}
    assert "Capítulo Ambiental" in goals["A"]
    area_a = body["priority_areas"][0]
    assert (
        "Convención sobre el Comercio Internacional de Especies Amenazadas de Fauna y Flora "
        "Silvestres (CITES)" in area_a["objectives"][1]["text_es"]
    )
    assert "pesca ilegal, no declarada y no reglamentada" in area_a["action_areas"][2]["text_es"]
    assert "Acuerdo de Promoción Comercial Perú-Estados Unidos (APC)" in body["background_es"]
    assert "Comisión de Cooperación Ambiental" in body["preamble_es"]
    assert "Acuerdo de Cooperación Ambiental" in body["preamble_es"]


async def test_a_program_seeded_before_its_spanish_gets_it_on_the_next_seed(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, as_org: As
) -> None:
    """A database seeded with the English only: the next seed fills in the Spanish where
    it is missing, keeps a Spanish text edited since, and adds no row."""
    await seed(cooperation_app, activities=False)
    tables = (WorkProgram, Goal, PriorityArea, Objective, ActionArea)
    async with cooperation_app.state.db.sessions() as session:
        await session.execute(
            update(WorkProgram).values(
                **{name: None for name in PROGRAM_TEXTS if name.endswith("_es")}
            )
        )
        await session.execute(update(Goal).where(Goal.code != "B").values(text_es=None))
        await session.execute(update(Goal).where(Goal.code == "B").values(text_es="Editada."))
        await session.execute(update(PriorityArea).values(title_es=None, objectives_es=None))
        await session.execute(update(Objective).values(text_es=None))
        await session.execute(update(ActionArea).values(text_es=None))
        await session.commit()
        before = [await session.scalar(select(func.count()).select_from(t)) for t in tables]
    headers = await as_org("MINAM", READ)
    emptied = (await gateway.get(f"{API}/programs/{PROGRAM}", headers=headers)).json()
    assert [where for where, _, spanish in _texts(emptied) if spanish] == ["goal B"]

    async with cooperation_app.state.db.sessions() as session:
        assert await load_program(session, read_data("work_program_2015_2018.json")) is False
        await session.commit()
        after = [await session.scalar(select(func.count()).select_from(t)) for t in tables]
    assert after == before

    body = (await gateway.get(f"{API}/programs/{PROGRAM}", headers=headers)).json()
    data = read_data("work_program_2015_2018.json")
    assert all(spanish for _, _, spanish in _texts(body))
    assert [g["text_es"] for g in body["goals"]] == [
        "Editada." if g["code"] == "B" else g["text_es"] for g in data["goals"]
    ]
    assert body["priority_areas"][3]["objectives"] == data["priority_areas"][3]["objectives"]
    assert body["background_es"] == data["background_es"]
    assert body["translation_es"] == data["translation_es"]


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
