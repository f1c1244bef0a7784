"""Action plans and their targets through the gateway: MINAM writes them, readers follow
each target's status against its trajectory, computed from validated data; a newly
validated inventory moves a target; bad input is a 422 naming the field."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi import FastAPI

from services.inventory.plans.service import target_statuses
from services.inventory.seed import DEMO, load_demo
from tests.inventory.conftest import Caller, assert_problem, validate
from tests.inventory.inventory_data import build_2024, gc_item

PLAN = {
    "title_en": "PCB and UP-POPs action plan 2026-2030",
    "title_es": "Plan de acción PCB y COP-NI 2026-2030",
    "convention": "stockholm",
    "start_year": 2026,
    "end_year": 2030,
    "description": "Test plan.",
    "objectives": [
        {"code": "O1", "text_en": "Eliminate PCB in use", "text_es": "Eliminar PCB en uso"},
        {"code": "O2", "text_en": "Complete the inventory", "text_es": "Completar el inventario"},
    ],
    "agencies": ["MINAM", "MINEM", "OEFA"],
}


def target(baseline: str, first: str, **fields: Any) -> dict[str, Any]:
    """A decrease target on PCB in use: baseline 2023, ``first`` in 2026, 0 in 2028."""
    return {
        "objective": "O1",
        "indicator_en": "PCB equipment in use",
        "indicator_es": "Equipos con PCB en uso",
        "unit": "t",
        "metric_id": "pcb_in_use",
        "schedule": "convention",
        "baseline": {"year": 2023, "value": baseline},
        "target_values": [{"year": 2026, "value": first}, {"year": 2028, "value": "0"}],
        "direction": "decrease",
    } | fields


# The targets of the test plan, one landing on each status over the 2024 inventory.
PLAN_TARGETS: dict[str, dict[str, Any]] = {
    # 2024 on the trajectory: 6 + (3 - 6) / 3 = 5.0 t, the actual: at it.
    "on_track": target("6", "3"),
    # 5.5 - 3 / 3 = 4.5 t; 0.5 t behind, within 10 % of 5.5 t.
    "at_risk": target("5.5", "2.5"),
    # 5.2 - 5 / 3 = 3.53 t; 1.47 t behind, more than 0.52 t.
    "off_track": target("5.2", "0.2"),
    # 40 + 30 / 3 = 50 %: the actual 50 % (A and B of A, B, C, D).
    "share": target(
        "40",
        "70",
        objective="O2",
        unit="%",
        metric_id="holders_validated_share",
        direction="increase",
        target_values=[{"year": 2026, "value": "70"}, {"year": 2030, "value": "100"}],
    ),
    "no_data": target("1", "0.5", sector="health"),
}


async def make_plan(
    minem: Caller, produce: Caller, minam: Caller, bodies: dict[str, dict[str, Any]]
) -> dict[str, Any]:
    """The 2024 inventory (5 t of PCB equipment in use, 2 of 4 holders validated) and a
    plan with the targets ``bodies``."""
    data = await build_2024(minem, produce, minam)
    created = await minam.post("/plans", PLAN)
    assert created.status_code == 201, created.text
    plan_id = created.json()["id"]
    ids = {}
    for name, body in bodies.items():
        response = await minam.post(f"/plans/{plan_id}/targets", body)
        assert response.status_code == 201, response.text
        ids[name] = response.json()["id"]
    return {"id": plan_id, "targets": ids, **data}


@pytest.fixture
async def plan(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    """The 2024 inventory and a plan whose targets land on each status."""
    return await make_plan(minem, produce, minam, PLAN_TARGETS)


async def test_target_statuses_follow_the_rule(oefa: Caller, plan: dict[str, Any]) -> None:
    body = (await oefa.get(f"/plans/{plan['id']}")).json()
    assert body["title_es"] == PLAN["title_es"]
    assert body["agencies"] == ["MINAM", "MINEM", "OEFA"]
    statuses = {t["id"]: t["status"] for t in body["targets"]}
    assert statuses == {
        plan["targets"]["on_track"]: "on_track",
        plan["targets"]["at_risk"]: "at_risk",
        plan["targets"]["off_track"]: "off_track",
        plan["targets"]["share"]: "on_track",
        plan["targets"]["no_data"]: "no_data",
    }
    by_id = {t["id"]: t for t in body["targets"]}
    at_risk = by_id[plan["targets"]["at_risk"]]
    assert at_risk["actual"] == {
        "year": 2024,
        "value": 5.0,
        "expected": 4.5,
        "submissions": [plan["pcb"]],
    }
    assert by_id[plan["targets"]["no_data"]]["actual"] is None
    assert by_id[plan["targets"]["share"]]["actual"]["value"] == 50.0


async def test_trajectory_year_by_year(oefa: Caller, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['id']}/targets/{plan['targets']['on_track']}"
    body = (await oefa.get(path)).json()
    assert body["status"] == "on_track"
    rows = [
        (y["year"], y["target_value"], y["actual_value"], y["status"]) for y in body["trajectory"]
    ]
    assert rows == [
        (2023, 6.0, None, "no_data"),
        (2024, 5.0, 5.0, "on_track"),
        (2025, 4.0, None, "no_data"),
        (2026, 3.0, None, "no_data"),
        (2027, 1.5, None, "no_data"),
        (2028, 0.0, None, "no_data"),
    ]
    assert body["trajectory"][1]["submissions"] == [plan["pcb"]]
    again = await oefa.get(path, headers={"If-None-Match": oefa.etags[path]})
    assert again.status_code == 304


async def test_a_validation_moves_a_target(
    minem: Caller, minam: Caller, oefa: Caller, plan: dict[str, Any], inventory_app: FastAPI
) -> None:
    path = f"/plans/{plan['id']}/targets/{plan['targets']['at_risk']}"
    async with inventory_app.state.db.sessions() as session:
        before = await target_statuses(session)
    assert before[plan["targets"]["at_risk"]] == "at_risk"
    # 2025: one P1 item of 2 t still in use (the others gone from use).
    site = plan["site_a_cusco"]
    draft = (await minem.submission(2025, "pcb"))["id"]
    await gc_item(minem, draft, plan["holder_a"], site, "300000", total_mass_kg="2000")
    assert (await oefa.get(path)).json()["status"] == "at_risk"  # a draft never counts
    await validate(minem, minam, draft)
    body = (await oefa.get(path)).json()
    # 2025 on the trajectory: 5.5 - 3 x 2/3 = 3.5 t; the actual, 2 t, is better.
    assert body["status"] == "on_track"
    assert body["actual"] == {"year": 2025, "value": 2.0, "expected": 3.5, "submissions": [draft]}
    async with inventory_app.state.db.sessions() as session:
        after = await target_statuses(session)
    changed = {t: after[t] for t in after if after[t] != before[t]}
    assert changed == {
        plan["targets"]["at_risk"]: "on_track",
        # 5.2 - 5 x 2/3 = 1.87 t: 2 t is 0.13 t behind, within 10 % of 5.2 t.
        plan["targets"]["off_track"]: "at_risk",
        # 2025 names only holder A of four: 25 % against 40 + 30 x 2/3 = 60 %.
        plan["targets"]["share"]: "off_track",
    }


async def test_only_reviewers_write_plans(
    minem: Caller, oefa: Caller, anonymous: Caller, minam: Caller
) -> None:
    assert_problem(await minem.post("/plans", PLAN), 403)
    assert_problem(await oefa.post("/plans", PLAN), 403)
    assert_problem(await anonymous.get("/plans"), 401)
    key = {"Idempotency-Key": "plan-2026"}
    created = (await minam.post("/plans", PLAN, headers=key)).json()
    assert (await minam.post("/plans", PLAN, headers=key)).json()["id"] == created["id"]
    path = f"/plans/{created['id']}"
    assert_problem(await minem.post(f"{path}/targets", target("6", "3")), 403)
    assert_problem(await minem.write("PUT", path, PLAN | {"title_en": "Mine"}), 403)
    assert_problem(await minem.write("DELETE", path), 403)
    listed = (await oefa.get("/plans")).json()
    assert [p["id"] for p in listed["items"]] == [created["id"]]
    assert (await oefa.get(path)).json()["title_en"] == PLAN["title_en"]
    history = (await minam.get("/changes", params={"entity": "action_plan"})).json()["items"]
    assert [(c["entity_id"], c["action"], c["org_code"]) for c in history] == [
        (created["id"], "create", "MINAM")
    ]


async def test_writes_need_if_match(minam: Caller, plan: dict[str, Any]) -> None:
    path = f"/plans/{plan['id']}"
    changed = PLAN | {"title_en": "PCB and UP-POPs plan (revised)"}
    url = "/inventory/v1" + path
    assert_problem(await minam.gateway.put(url, json=changed, headers=minam.headers), 428)
    stale = minam.headers | {"If-Match": '"stale"'}
    assert_problem(await minam.gateway.put(url, json=changed, headers=stale), 412)
    assert (await minam.ok("PUT", path, changed))["title_en"] == changed["title_en"]
    tpath = f"{path}/targets/{plan['targets']['no_data']}"
    updated = await minam.ok("PUT", tpath, target("1", "0.5", sector="mining"))
    assert (updated["scope"]["sector"], updated["status"]) == ("mining", "on_track")
    assert (await minam.write("DELETE", tpath)).status_code == 204
    assert_problem(await minam.get(tpath), 404)
    assert (await minam.write("DELETE", path)).status_code == 204
    assert_problem(await minam.get(path), 404)


BAD_TARGETS = [
    ({"metric_id": "made_up"}, ["metric_id"]),
    ({"unit": "kg"}, ["unit"]),
    ({"objective": "O9"}, ["objective"]),
    ({"schedule": "eu"}, ["schedule"]),
    ({"direction": "sideways"}, ["direction"]),
    ({"direction": "increase"}, ["direction"]),  # the final target (0) is below 6
    ({"department": "99"}, ["department"]),
    ({"metric_id": "asgm_mercury_releases", "unit": "kg/a", "sector": "mining"}, ["sector"]),
    ({"target_values": [{"year": 2031, "value": "1"}]}, ["target_values", "0", "year"]),
    ({"target_values": [{"year": 2026, "value": "-1"}]}, ["target_values", "0", "value"]),
    ({"target_values": []}, ["target_values"]),
    ({"baseline": {"year": 2026, "value": "6"}}, ["baseline", "year"]),
    (
        {"target_values": [{"year": 2026, "value": "1"}, {"year": 2026, "value": "0"}]},
        ["target_values", "1", "year"],
    ),
]


@pytest.mark.parametrize(("change", "loc"), BAD_TARGETS)
async def test_bad_targets_name_the_field(
    minam: Caller, change: dict[str, Any], loc: list[Any]
) -> None:
    plan_id = (await minam.post("/plans", PLAN)).json()["id"]
    response = await minam.post(f"/plans/{plan_id}/targets", target("6", "3") | change)
    assert_problem(response, 422)
    assert response.json()["errors"][0]["loc"][1:] == loc, response.text
    assert (await minam.get(f"/plans/{plan_id}")).json()["targets"] == []


async def test_bad_plans_name_the_field(minam: Caller, plan: dict[str, Any]) -> None:
    for change, loc in (
        ({"end_year": 2025}, ["end_year"]),
        ({"convention": "basel"}, ["convention"]),
        ({"agencies": ["MINAM", "MINAM"]}, ["agencies"]),
        ({"objectives": PLAN["objectives"][:1] * 2}, ["objectives"]),
        ({"owner_org": "MINEM"}, ["owner_org"]),
    ):
        response = await minam.post("/plans", PLAN | change)
        assert_problem(response, 422)
        assert response.json()["errors"][0]["loc"][1:] == loc, response.text
    path = f"/plans/{plan['id']}"
    # Its targets run to 2030: the period cannot end in 2028, nor lose objective O2.
    response = await minam.write("PUT", path, PLAN | {"end_year": 2028})
    assert response.json()["errors"][0]["loc"] == ["body", "end_year"]
    response = await minam.write("PUT", path, PLAN | {"objectives": PLAN["objectives"][:1]})
    assert response.json()["errors"][0]["loc"] == ["body", "objectives"]
    assert (await minam.get(path)).json()["end_year"] == 2030


async def test_the_demo_plan_tracks_seed_000s_targets(
    inventory_app: FastAPI, anonymous: Caller, oefa: Caller
) -> None:
    data = json.loads(DEMO.read_text(encoding="utf-8"))
    for _ in range(2):  # loading twice adds nothing
        async with inventory_app.state.db.sessions() as session:
            await load_demo(session, data)
            await session.commit()
    assert_problem(await anonymous.get("/plans"), 401)
    (listed,) = (await oefa.get("/plans")).json()["items"]
    assert listed["title_es"] == "Plan de acción PCB y COP-NI 2026-2030"
    body = (await oefa.get(f"/plans/{listed['id']}")).json()
    # Over the demo's 2024 inventory (2023 baselines, illustrative):
    assert [(t["metric_id"], t["status"]) for t in body["targets"]] == [
        ("pcb_in_use", "at_risk"),  # 7.15 t against 8.5 - 4.5 / 3 = 7.0 t
        ("pcb_eliminated_cumulative", "off_track"),  # 0 t against 5 / 3 = 1.67 t
        ("holders_validated_share", "on_track"),  # 100 % against 70 %
        ("pcb_unanalysed", "on_track"),  # 2 items against 3
        ("pcdd_pcdf_releases", "at_risk"),  # 2.144 against 2.133 g TEQ/a
    ]
    assert all(t["actual"]["year"] == 2024 and t["actual"]["submissions"] for t in body["targets"])
