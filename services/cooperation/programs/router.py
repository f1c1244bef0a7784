"""Routes for work programs and organisations."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.cooperation.programs.models import Organisation, PriorityArea, WorkProgram
from services.cooperation.programs.schemas import (
    PROGRAM_TEXTS,
    GoalOut,
    OrganisationOut,
    PriorityAreaOut,
    ProgramOut,
    ProgramSummary,
)
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, check_cursor, keyset_page, next_link
from shared.problems import Problem
from shared.security import require_scopes

router = APIRouter(
    prefix="/v1", dependencies=[require_scopes("cooperation:read")], tags=["work programs"]
)

Item = TypeVar("Item", bound=BaseModel)


async def id_page(
    request: Request,
    response: Response,
    session: AsyncSession,
    table: Any,
    out: type[Item],
    limit: int,
    cursor: str | None,
) -> Page[Item]:
    """A page of ``table`` in id order, each row as ``out``; the Link header names the next."""
    check_cursor(cursor, [table.id])
    rows, next_cursor = await keyset_page(
        session, select(table), [table.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[out.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/programs", summary="List work programs", response_model=Page[ProgramSummary])
async def list_programs(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ProgramSummary]:
    """Cooperation work programs, in id order."""
    return await id_page(request, response, session, WorkProgram, ProgramSummary, limit, cursor)


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
            selectinload(WorkProgram.reporting_org),
        )
    )
    if program is None:
        raise Problem(404, "not-found", "No work program with that code.")
    reporter = program.reporting_org
    identifier = None
    if reporter is not None and reporter.iati_ref:
        identifier = f"{reporter.iati_ref}-{program.code}"
    return ProgramOut(
        **ProgramSummary.model_validate(program).model_dump(),
        **{name: getattr(program, name) for name in PROGRAM_TEXTS},
        goals=[GoalOut.model_validate(g) for g in program.goals],
        priority_areas=[PriorityAreaOut.model_validate(a) for a in program.priority_areas],
        reporting_org=reporter.code if reporter else None,
        iati_identifier=identifier,
    )


@router.get("/organisations", summary="List organisations", response_model=Page[OrganisationOut])
async def list_organisations(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[OrganisationOut]:
    """Agencies and partners, in id order."""
    return await id_page(request, response, session, Organisation, OrganisationOut, limit, cursor)
