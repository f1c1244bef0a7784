"""Routes for work programs and organisations."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from services.cooperation.programs.models import Organisation, PriorityArea, WorkProgram
from services.cooperation.programs.schemas import OrganisationOut, ProgramOut, ProgramSummary
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, keyset_page, next_link
from shared.problems import Problem
from shared.security import require_scopes

router = APIRouter(
    prefix="/v1", dependencies=[require_scopes("cooperation:read")], tags=["work programs"]
)


@router.get("/programs", summary="List work programs", response_model=Page[ProgramSummary])
async def list_programs(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ProgramSummary]:
    """Cooperation work programs, in id order."""
    rows, next_cursor = await keyset_page(
        session, select(WorkProgram), [WorkProgram.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[ProgramSummary.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/programs/{code}",
    summary="Get a work program",
    description="The program with its long-term goals and priority areas, each with its "
    "objectives and action areas.",
    responses={404: {"description": "No such program"}},
)
async def get_program(code: str, session: SessionDep) -> ProgramOut:
    """One work program by code, with its full structure."""
    program = await session.scalar(
        select(WorkProgram)
        .where(WorkProgram.code == code)
        .options(
            selectinload(WorkProgram.goals),
            selectinload(WorkProgram.priority_areas).selectinload(PriorityArea.objectives),
            selectinload(WorkProgram.priority_areas).selectinload(PriorityArea.action_areas),
        )
    )
    if program is None:
        raise Problem(404, "not-found", "No work program with that code.")
    return ProgramOut.model_validate(program)


@router.get("/organisations", summary="List organisations", response_model=Page[OrganisationOut])
async def list_organisations(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[OrganisationOut]:
    """Agencies and partners, in id order."""
    rows, next_cursor = await keyset_page(
        session, select(Organisation), [Organisation.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[OrganisationOut.model_validate(r) for r in rows], next_cursor=next_cursor)
