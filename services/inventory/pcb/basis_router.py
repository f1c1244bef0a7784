"""Routes for the data PCB items are judged by: thresholds and deadlines, fluid
densities (included in ``pcb.router``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from services.inventory.pcb.classes import load_densities, thresholds_of, thresholds_row
from services.inventory.pcb.mass import DEFAULT_FLUID_DENSITIES
from services.inventory.pcb.models import FluidDensity
from services.inventory.pcb.schemas import FluidDensityOut, ThresholdsIn, ThresholdsOut
from services.inventory.registry.service import change_recorded
from services.inventory.reports import cells
from services.inventory.routing import UPDATE, responses
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import current_ids
from shared.conditional import etag, read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.security import Principal, require_scopes

router = APIRouter(tags=["PCB equipment"])
READ = require_scopes("inventory:read")
REVIEW = require_scopes("inventory:review")


@router.get(
    "/pcb-thresholds",
    summary="PCB thresholds and deadlines",
    description="Concentration and volume limits and the use (2025) and ESM (2028) "
    "deadlines every class and flag is computed with.",
    response_model=ThresholdsOut,
    responses=responses(304),
    dependencies=[READ],
)
async def get_thresholds(
    request: Request, response: Response, session: SessionDep
) -> ThresholdsOut | Response:
    """The thresholds in force (a bare 304 when the caller holds them)."""
    row = await thresholds_row(session)
    return read_answer(
        request, response, ThresholdsOut.model_validate(row), etag("pcb-thresholds", row.version)
    )


@router.put(
    "/pcb-thresholds",
    summary="Replace the PCB thresholds",
    description="Reviewers only (e.g. to apply a national plan). Every class and flag, "
    "including national figures, follows at once. Needs `If-Match`.",
    response_model=ThresholdsOut,
    responses=UPDATE,
)
async def put_thresholds(
    request: Request,
    response: Response,
    session: SessionDep,
    body: ThresholdsIn,
    principal: Principal = REVIEW,
) -> ThresholdsOut:
    """Replace the thresholds."""
    row = await thresholds_row(session)
    require_if_match(request, etag("pcb-thresholds", row.version))
    if row.version == 0:
        session.add(row)
    await change_recorded(session, principal, "pcb_thresholds", row, body.model_dump())
    # Keep the reports' counts of validated data on the new basis, in this transaction.
    current = list(await session.scalars(current_ids(Section.PCB)))
    await cells.refresh(session, current, thresholds_of(row), await load_densities(session))
    return tagged(response, ThresholdsOut.model_validate(row), etag("pcb-thresholds", row.version))


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
