"""Routes of the activity matrix: over what the caller may see, and over what is public."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.access import READ_ERRORS, Reader
from services.cooperation.activities.queries import View, export_version, public_view, view_of
from services.cooperation.matrix.queries import build_matrix
from services.cooperation.matrix.schemas import MatrixOut
from services.cooperation.programs.models import WorkProgram
from shared.conditional import answer_cache, etag, not_modified, tagged
from shared.db import SessionDep
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["matrix"])
ProgramQuery = Annotated[str, Query(max_length=60, description="Work program code.")]
RESPONSES: dict[int | str, dict[str, Any]] = READ_ERRORS | {
    304: {"description": "Not modified"},
    404: {"description": "No such program", "content": {"application/problem+json": {}}},
}
DESCRIPTION = (
    "Counts and money by priority area and status, the action areas no activity covers "
    "(coverage gaps), and the figures per organisation and per year, over the activities "
    "{who}. Money per currency; a revised budget replaces the original of its period; an "
    "activity in two areas counts in both. ETag; 304 to a matching If-None-Match."
)


async def matrix_answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    code: str,
    view: View,
) -> MatrixOut | Response:
    """The matrix with its ETag; a bare 304 (no body to check) when the caller holds it."""
    program = await session.scalar(select(WorkProgram).where(WorkProgram.code == code))
    if program is None:
        raise Problem(404, "not-found", "No work program with that code.")
    tag = etag("matrix", code, view.audience, *(await export_version(session)))
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    # Built once per ETag (every change to an activity or a program changes it).
    matrix = await answer_cache(request).get(tag, lambda: build_matrix(session, program, view.seen))
    return tagged(response, matrix, tag)


@router.get(
    "/matrix",
    summary="The activity matrix of a program",
    description=DESCRIPTION.format(who="you may see"),
    response_model=MatrixOut,
    responses=RESPONSES,
)
async def get_matrix(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    program: ProgramQuery,
) -> MatrixOut | Response:
    """The matrix over what the caller may see."""
    view = await view_of(session, principal)
    return await matrix_answer(request, response, session, program, view)


@router.get(
    "/public/matrix",
    summary="The public activity matrix of a program",
    description=DESCRIPTION.format(who="published as public") + " No token needed.",
    response_model=MatrixOut,
    responses=RESPONSES,
)
async def get_public_matrix(
    request: Request, response: Response, session: SessionDep, program: ProgramQuery
) -> MatrixOut | Response:
    """The matrix over published public activities."""
    return await matrix_answer(request, response, session, program, public_view())
