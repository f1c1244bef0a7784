"""Routes for the data PCB items are judged by: the schedules of thresholds and
deadlines, fluid densities (included in ``pcb.router``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from services.inventory.estimates.service import unprocessable
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.mass import DEFAULT_FLUID_DENSITIES
from services.inventory.pcb.models import FluidDensity, PcbThresholds
from services.inventory.pcb.schedules import (
    Schedule,
    ScheduleQuery,
    deadlines_problem,
    load_schedules,
    schedule_row,
)
from services.inventory.pcb.schemas import FluidDensityOut, ThresholdsIn, ThresholdsOut
from services.inventory.registry.service import change_recorded
from services.inventory.reports import cells
from services.inventory.routing import UPDATE, responses
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import current_ids
from shared.conditional import etag, read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.problems import Problem
from shared.security import Principal, require_scopes

router = APIRouter(tags=["PCB equipment"])
READ = require_scopes("inventory:read")
REVIEW = require_scopes("inventory:review")


def _tag(row: PcbThresholds) -> str:
    return etag("pcb-thresholds", row.schedule, row.version)


@router.get(
    "/pcb-thresholds",
    summary="PCB thresholds and deadlines of a schedule",
    description="Concentration and volume limits and the use and ESM deadlines of a "
    "schedule: `convention` (default; the Stockholm Convention's, fixed: 2025 use, 2028 "
    "ESM) or `national` (the national plan's; the Convention's values until one is stored).",
    response_model=ThresholdsOut,
    responses=responses(304, 422),
    dependencies=[READ],
)
async def get_thresholds(
    request: Request,
    response: Response,
    session: SessionDep,
    schedule: ScheduleQuery = Schedule.CONVENTION,
) -> ThresholdsOut | Response:
    """A schedule's thresholds (a bare 304 when the caller holds them)."""
    row = await schedule_row(session, schedule)
    return read_answer(request, response, ThresholdsOut.model_validate(row), _tag(row))


@router.put(
    "/pcb-thresholds",
    summary="Replace the national PCB schedule",
    description="Reviewers only: the national plan's thresholds and deadlines "
    "(`schedule=national`, required; the Convention's schedule is fixed: 409). A use "
    "deadline later than the ESM deadline is refused. Classes, flags and figures judged "
    "against the national schedule follow at once. Needs `If-Match`.",
    response_model=ThresholdsOut,
    responses=UPDATE,
)
async def put_thresholds(
    request: Request,
    response: Response,
    session: SessionDep,
    body: ThresholdsIn,
    schedule: ScheduleQuery,
    principal: Principal = REVIEW,
) -> ThresholdsOut:
    """Replace the national schedule."""
    if schedule is Schedule.CONVENTION:
        detail = "The Convention's schedule is fixed by the Convention; use schedule=national."
        raise Problem(
            409,
            "schedule-fixed",
            detail,
            errors=[{"loc": ["query", "schedule"], "msg": detail, "type": "value_error"}],
        )
    row = await schedule_row(session, schedule)
    require_if_match(request, _tag(row))
    refused = deadlines_problem(body.use_deadline, body.esm_deadline)
    if refused is not None:
        raise unprocessable("use_deadline", refused)
    if row.version == 0:
        session.add(row)
    await change_recorded(session, principal, "pcb_thresholds", row, body.model_dump())
    # Keep the reports' counts of validated data on every schedule, in this transaction.
    current = list(await session.scalars(current_ids(Section.PCB)))
    await cells.refresh(
        session, current, await load_schedules(session), await load_densities(session)
    )
    return tagged(response, ThresholdsOut.model_validate(row), _tag(row))


@router.get(
    "/fluid-densities",
    summary="Fluid densities",
    description="Densities (kg/L) used to estimate fluid masses from volumes, with their "
    "provenance (to verify).",
    response_model=list[FluidDensityOut],
    dependencies=[READ],
)
async def list_densities(session: SessionDep) -> list[FluidDensityOut]:
    """Every fluid density."""
    rows = list(await session.scalars(select(FluidDensity).order_by(FluidDensity.fluid_kind)))
    if not rows:
        return [
            FluidDensityOut(fluid_kind=k, density_kg_per_l=d, provenance="default, to verify")
            for k, d in sorted(DEFAULT_FLUID_DENSITIES.items())
        ]
    return [FluidDensityOut.model_validate(r) for r in rows]
