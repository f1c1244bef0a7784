"""Anonymous, read-only views of published public activities (the transparency pages and
anyone without a token). The gateway lets anonymous GETs through under /v1/public/ only."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response

from services.cooperation.activities.exports import CSV_DESCRIPTION, FormatQuery, csv_response
from services.cooperation.activities.queries import (
    FiltersDep,
    IdentifierPath,
    visible_activity,
)
from services.cooperation.activities.router import (
    CSV_RESPONSE,
    ONE_ERRORS,
    PROBLEM,
    activity_etag,
    answer,
    changes_response,
    page_response,
)
from services.cooperation.activities.schemas import ActivityOut, ActivityPage, ChangePage
from services.cooperation.activities.sync import public_clause
from shared.conditional import not_modified
from shared.db import SessionDep
from shared.exports import wants_csv
from shared.pagination import CursorQuery, LimitQuery
from shared.problems import Problem

router = APIRouter(prefix="/v1/public", tags=["public"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid cursor or parameter", **PROBLEM},
    422: {"description": "Invalid query parameter", **PROBLEM},
}


@router.get(
    "/activities",
    summary="Public activities",
    description="Published public activities, in (updated_at, id) order, with the same "
    "filters, cursors and ETags as `/v1/activities`. No token needed." + CSV_DESCRIPTION,
    response_model=ActivityPage,
    responses=ERRORS | CSV_RESPONSE | {304: {"description": "Not modified"}},
)
async def list_public_activities(
    request: Request,
    response: Response,
    session: SessionDep,
    filters: FiltersDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> ActivityPage | Response:
    """A page of published public activities (or all of them as CSV)."""
    if wants_csv(request.headers.get("accept"), fmt):
        return await csv_response(request, session, public_clause(), filters, "public")
    return await page_response(request, response, session, public_clause(), filters, limit, cursor)


@router.get(
    "/activities/{identifier}",
    summary="A public activity",
    description="One published public activity; 404 for anything else.",
    response_model=ActivityOut,
    responses=ONE_ERRORS | {304: {"description": "Not modified"}},
)
async def get_public_activity(
    identifier: IdentifierPath, request: Request, response: Response, session: SessionDep
) -> ActivityOut | Response:
    """One published public activity."""
    activity = await visible_activity(session, identifier, public_clause())
    if activity is None:
        raise Problem(404, "not-found", "No public activity with that identifier.")
    tag = activity_etag(activity)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return answer(activity, response)


@router.get(
    "/changes",
    summary="Public change feed",
    description="Changes to public activities: upserts, deletions, and withdrawals (an "
    "activity that stopped being public).",
    response_model=ChangePage,
    responses=ERRORS | {304: {"description": "Not modified"}},
)
async def list_public_changes(
    request: Request,
    session: SessionDep,
    after: Annotated[int, Query(ge=0, le=2**62, description="Last seq you have.")] = 0,
    limit: LimitQuery = 100,
) -> ChangePage | Response:
    """The public change feed."""
    return await changes_response(request, session, None, after, limit)
