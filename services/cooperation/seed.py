"""``python -m services.cooperation.seed``: organisations, the 2015-2018 work program and
the demo activities of its matrix.

Idempotent: organisations are matched by code, the program by its code and activities by
identifier; what exists is left as it is (texts added to the program model later, such as
its Spanish, are filled in where they are still empty).
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.cooperation.activities.models import Activity
from services.cooperation.activities.normalize import normalize
from services.cooperation.activities.rows import new_activity
from services.cooperation.activities.schemas import ActivityFields
from services.cooperation.activities.service import empty_state, invalid, validate
from services.cooperation.activities.state import load_refs
from services.cooperation.activities.sync import SEED_ACTOR, Pending, diff, record
from services.cooperation.bindings.models import IndicatorBinding
from services.cooperation.bindings.schemas import BindingIn
from services.cooperation.bindings.service import check as check_binding
from services.cooperation.bindings.service import find_binding
from services.cooperation.programs.models import (
    ActionArea,
    Goal,
    Objective,
    Organisation,
    PriorityArea,
    WorkProgram,
)
from services.cooperation.programs.schemas import PROGRAM_TEXTS
from services.cooperation.settings import CooperationSettings
from shared.db import Database, utcnow

DATA = Path(__file__).parent / "data"
_ORG_FIELDS = ("code", "name_es", "name_en", "iati_type", "country", "iati_ref")


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


async def load_organisations(session: AsyncSession, rows: list[dict[str, Any]]) -> int:
    """Add the organisations that are missing; return how many were added."""
    existing = set(await session.scalars(select(Organisation.code)))
    new = [
        Organisation(**{k: r.get(k) for k in _ORG_FIELDS})
        for r in rows
        if r["code"] not in existing
    ]
    session.add_all(new)
    return len(new)


async def _organisation_id(session: AsyncSession, code: str | None) -> int | None:
    if code is None:
        return None
    found: int | None = await session.scalar(
        select(Organisation.id).where(Organisation.code == code)
    )
    return found


async def load_program(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Add the work program with its structure unless it exists; True when added."""
    existing = await session.scalar(
        select(WorkProgram)
        .where(WorkProgram.code == data["code"])
        .options(
            selectinload(WorkProgram.goals),
            selectinload(WorkProgram.priority_areas).selectinload(PriorityArea.objectives),
            selectinload(WorkProgram.priority_areas).selectinload(PriorityArea.action_areas),
        )
    )
    if existing is not None:
        await _fill_in(session, existing, data)
        return False
    program = WorkProgram(
        code=data["code"],
        title_en=data["title_en"],
        title_es=data["title_es"],
        agreement=data["agreement"],
        agreement_signed_on=_date(data.get("agreement_signed_on")),
        agreement_in_force_on=_date(data.get("agreement_in_force_on")),
        commission=data["commission"],
        period_start=date.fromisoformat(data["period_start"]),
        period_end=date.fromisoformat(data["period_end"]),
        reporting_org_id=await _organisation_id(session, data.get("reporting_org")),
        sector=data.get("sector"),
        **{name: data.get(name) for name in PROGRAM_TEXTS},
    )
    session.add(program)
    await session.flush()
    for goal in data["goals"]:
        session.add(
            Goal(
                program_id=program.id,
                code=goal["code"],
                text_en=goal["text_en"],
                text_es=goal.get("text_es"),
            )
        )
    for area in data["priority_areas"]:
        priority_area = PriorityArea(
            program_id=program.id,
            code=area["code"],
            title_en=area["title_en"],
            title_es=area.get("title_es"),
            objectives_en=area.get("objectives_en"),
            objectives_es=area.get("objectives_es"),
        )
        session.add(priority_area)
        await session.flush()
        for table, key in ((Objective, "objectives"), (ActionArea, "action_areas")):
            session.add_all(
                table(
                    priority_area_id=priority_area.id,
                    number=item["number"],
                    text_en=item["text_en"],
                    text_es=item.get("text_es"),
                )
                for item in area[key]
            )
    return True


def _fill(row: Any, source: dict[str, Any] | None, names: tuple[str, ...]) -> None:
    """Set each of ``names`` that ``row`` still lacks from ``source``."""
    if source is None:
        return
    for name in names:
        if getattr(row, name) is None and source.get(name):
            setattr(row, name, source[name])


async def _fill_in(session: AsyncSession, program: WorkProgram, data: dict[str, Any]) -> None:
    """Texts the model gained after a database was seeded: filled in where still empty."""
    _fill(program, data, (*PROGRAM_TEXTS, "sector"))
    if program.reporting_org_id is None:
        program.reporting_org_id = await _organisation_id(session, data.get("reporting_org"))
    goals = {g["code"]: g for g in data["goals"]}
    for goal in program.goals:
        _fill(goal, goals.get(goal.code), ("text_es",))
    areas = {a["code"]: a for a in data["priority_areas"]}
    for area in program.priority_areas:
        source = areas.get(area.code)
        _fill(area, source, ("title_es", "objectives_en", "objectives_es"))
        if source is None:
            continue
        for rows, key in ((area.objectives, "objectives"), (area.action_areas, "action_areas")):
            items = {item["number"]: item for item in source[key]}
            for row in rows:
                _fill(row, items.get(row.number), ("text_es",))


def demo_body(a: dict[str, Any]) -> dict[str, Any]:
    """A demo activity (data/demo_activities.json) as an API body."""
    return {
        "title_en": a["title_en"],
        "title_es": a.get("title_es"),
        "description_en": a.get("description_en"),
        "description_es": a.get("description_es"),
        "status": a["status"],
        "visibility": a["visibility"],
        "planned_start": a.get("planned_start"),
        "planned_end": a.get("planned_end"),
        "actual_start": a.get("actual_start"),
        "actual_end": a.get("actual_end"),
        "default_currency": "USD",
        "participants": [{"org": p["org"], "role": p["role"]} for p in a["participants"]],
        "priority_areas": a["priority_areas"],
        "action_areas": [f"{c}.{n}" for c, n in a["action_areas"]],
        "sectors": a["sectors"],
        "policy_markers": a["policy_markers"],
        "locations": a["locations"],
        "budgets": a["budgets"],
        "transactions": [
            {k: v for k, v in t.items() if k not in ("provider_org", "receiver_org")}
            | {
                "provider_org": {"org": t["provider_org"]},
                "receiver_org": {"org": t["receiver_org"]},
            }
            for t in a["transactions"]
        ],
        "results": [
            {
                "type": r["type"],
                "title": r["title_en"],
                "indicators": [
                    {
                        "measure": i["measure"],
                        "title": i["title_en"],
                        "ascending": i.get("ascending"),
                        "baseline": i.get("baseline"),
                        "periods": i["periods"],
                    }
                    for i in r["indicators"]
                ],
            }
            for r in a["results"]
        ],
    }


async def load_demo_activities(session: AsyncSession, data: dict[str, Any]) -> int:
    """Add the demo activities that are missing, published; return how many were added."""
    refs = await load_refs(session)
    existing = set(await session.scalars(select(Activity.identifier)))
    pending: list[Pending] = []
    for item in data["activities"]:
        lead = refs.orgs[item["lead_org"]]
        identifier = f"{lead.iati_ref}-{item['own_id']}"
        if identifier in existing:
            continue
        body = ActivityFields.model_validate(
            demo_body(item) | {"identifier": identifier, "program": data["work_program"]}
        )
        fragment, errors = normalize(body, refs)
        state = empty_state() | fragment | {"reporting_org": lead.code, "lead_org": lead.code}
        errors = errors or validate(state, refs)
        if errors:
            raise invalid(errors)
        activity = new_activity(state, refs, published=True)
        session.add(activity)
        pending.append(Pending(activity, "seed", diff(None, state), None))
    await record(session, SEED_ACTOR, pending)
    await load_demo_bindings(session, data, refs)
    return len(pending)


async def load_demo_bindings(session: AsyncSession, data: dict[str, Any], refs: Any) -> int:
    """Bind the demo indicators that are fed by the inventory (``inventory_bindings`` of an
    activity: result and indicator positions, metric and scope), unless already bound."""
    added = 0
    for item in data["activities"]:
        identifier = f"{refs.orgs[item['lead_org']].iati_ref}-{item['own_id']}"
        for spec in item.get("inventory_bindings", []):
            body = BindingIn.model_validate(
                {k: v for k, v in spec.items() if k not in ("result", "indicator")}
            )
            errors = check_binding(body)
            if errors:
                raise invalid(errors)
            activity_id = await session.scalar(
                select(Activity.id).where(Activity.identifier == identifier)
            )
            if activity_id is None or await find_binding(
                session, activity_id, spec["result"], spec["indicator"]
            ):
                continue
            session.add(
                IndicatorBinding(
                    activity_id=activity_id,
                    result_index=spec["result"],
                    indicator_index=spec["indicator"],
                    metric=body.metric,
                    schedule=body.schedule,
                    department=body.department,
                    sector=body.sector,
                    created_at=utcnow(),
                    stale=False,
                )
            )
            added += 1
    await session.flush()
    return added


def _read(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def main() -> None:
    """Seed the configured cooperation database."""
    db = Database(CooperationSettings().database_url)
    try:
        async with db.sessions() as session:
            orgs = await load_organisations(session, _read("organisations.json"))
            program = await load_program(session, _read("work_program_2015_2018.json"))
            await session.commit()
            activities = await load_demo_activities(session, _read("demo_activities.json"))
            await session.commit()
    finally:
        await db.close()
    state = "added" if program else "already there"
    print(
        f"cooperation: {orgs} organisations added; work program {state}; "
        f"{activities} demo activities added"
    )


if __name__ == "__main__":
    asyncio.run(main())
