"""``python -m services.cooperation.seed``: organisations and the 2015-2018 work program.

Idempotent: organisations are matched by code and the program by its code; what exists is
left as it is.
"""

from __future__ import annotations

import asyncio
import json
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.programs.models import (
    ActionArea,
    Goal,
    Objective,
    Organisation,
    PriorityArea,
    WorkProgram,
)
from services.cooperation.settings import CooperationSettings
from shared.db import Database

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


async def load_program(session: AsyncSession, data: dict[str, Any]) -> bool:
    """Add the work program with its structure unless it exists; True when added."""
    if await session.scalar(select(WorkProgram.id).where(WorkProgram.code == data["code"])):
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
        background_en=data.get("background_en"),
        benchmarks_en=data.get("benchmarks_en"),
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
        )
        session.add(priority_area)
        await session.flush()
        session.add_all(
            Objective(priority_area_id=priority_area.id, number=o["number"], text_en=o["text_en"])
            for o in area["objectives"]
        )
        session.add_all(
            ActionArea(priority_area_id=priority_area.id, number=a["number"], text_en=a["text_en"])
            for a in area["action_areas"]
        )
    return True


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
    finally:
        await db.close()
    state = "added" if program else "already there"
    print(f"cooperation: {orgs} organisations added; work program {state}")


if __name__ == "__main__":
    asyncio.run(main())
