"""Named schedules of PCB thresholds and deadlines: the Convention's, fixed by the Stockholm
Convention (Annex A Part II), and the national plan's, which reviewers edit (issue 12 item
9). Classes, flags and reports are computed against either; the Convention's by default.

The Convention's schedule is not stored: it is the ``rules.Thresholds`` defaults, so no
edit can move the Convention. ``pcb_thresholds`` holds one row per editable schedule
(``national``); while none is stored, the national schedule is the Convention's.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from fastapi import Query
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.pcb.models import PcbThresholds
from services.inventory.pcb.rules import Thresholds


class Schedule(StrEnum):
    CONVENTION = "convention"
    NATIONAL = "national"


ScheduleQuery = Annotated[
    Schedule,
    Query(
        description="The schedule classes, flags and deadline figures are judged against: "
        "`convention` (Stockholm Convention Annex A Part II: 2025 use, 2028 ESM, 50 mg/kg) "
        "or `national` (the national plan's, `PUT /v1/pcb-thresholds?schedule=national`)."
    ),
]

CONVENTION_PROVENANCE = (
    "Stockholm Convention, Annex A Part II: > 10 % / > 0.05 % with > 5 L, > 0.005 % with "
    "> 0.05 L; use eliminated by 2025, ESM no later than 2028 (taken as 31 December). "
    "Presumed PCB: manufactured before 1987 with more than 5 L of fluid (a common inventory "
    "rule, to verify against the national plan)."
)
NO_PLAN_PROVENANCE = "No national plan recorded yet: the Convention's values."

_FIELDS = tuple(f.name for f in fields(Thresholds))


def thresholds_of(row: PcbThresholds) -> Thresholds:
    """The rules' value object for a schedule row."""
    return Thresholds(**{name: getattr(row, name) for name in _FIELDS})


def convention_row(schedule: Schedule = Schedule.CONVENTION) -> PcbThresholds:
    """An unsaved row with the Convention's values (version 0: never stored)."""
    t = Thresholds()
    milli = Decimal("0.001")  # the columns' scale, as a stored row reads back
    values = {name: getattr(t, name) for name in _FIELDS}
    return PcbThresholds(
        schedule=schedule.value,
        **{k: v.quantize(milli) if isinstance(v, Decimal) else v for k, v in values.items()},
        provenance=CONVENTION_PROVENANCE if schedule is Schedule.CONVENTION else NO_PLAN_PROVENANCE,
        version=0,
    )


async def schedule_row(session: AsyncSession, schedule: Schedule) -> PcbThresholds:
    """The schedule's row: the Convention's values for ``convention`` (never read from the
    database), the stored row for ``national`` (the Convention's values, unsaved, until a
    plan is stored)."""
    if schedule is Schedule.CONVENTION:
        return convention_row()
    row = await session.scalar(select(PcbThresholds).where(PcbThresholds.schedule == schedule))
    return row if row is not None else convention_row(schedule)


def schedule_tag(schedule: Schedule, version: int) -> str:
    """What of a schedule goes into the ETags of computed representations."""
    return f"{schedule.value}.{version}"


async def load_thresholds(
    session: AsyncSession, schedule: Schedule = Schedule.CONVENTION
) -> tuple[Thresholds, str]:
    """The schedule's thresholds, and its tag (part of computed representations' ETags)."""
    row = await schedule_row(session, schedule)
    return thresholds_of(row), schedule_tag(schedule, row.version)


async def load_schedules(session: AsyncSession) -> list[Thresholds]:
    """The thresholds of every schedule, the Convention's first (to count validated items
    under each: ``reports.cells``)."""
    return [(await load_thresholds(session, s))[0] for s in Schedule]


def deadlines_problem(use_deadline: date, esm_deadline: date) -> str | None:
    """Why a schedule's deadlines are refused (the use of PCB equipment must end no later
    than the environmentally sound management of its liquids), or None."""
    if use_deadline > esm_deadline:
        return (
            f"use_deadline {use_deadline} is later than esm_deadline {esm_deadline}: use of "
            "PCB equipment must end no later than the ESM deadline."
        )
    return None
