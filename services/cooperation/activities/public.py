"""Anonymous, read-only views of published public activities (the transparency pages and
anyone without a token). The gateway lets anonymous GETs through under /v1/public/ only."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response

from services.cooperation.activities.access import NOT_MODIFIED, ONE_ERRORS, PROBLEM
from services.cooperation.activities.editing import read_activity
from services.cooperation.activities.queries import IdentifierPath, public_view, visible_activity
from services.cooperation.activities.router import (
    FeedDep,
    ListingDep,
    changes_answer,
    list_answer,
)
from services.cooperation.activities.sync import public_clause
from services.cooperation.activities.tables import TABLE_DESCRIPTION, TABLE_RESPONSE
from services.cooperation.activities.views import ActivityOut, ActivityPage, ChangePage
from shared.db import SessionDep

router = APIRouter(prefix="/v1/public", tags=["public"])
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid cursor or parameter", **PROBLEM},
    422: {"description": "Invalid query parameter", **PROBLEM},
}


@router.get(
    "/activities",
    summary="Public activities",
    description="Published public activities, in (updated_at, id) order, with the same "
    "filters, cursors and ETags as `/v1/activities`. No token needed." + TABLE_DESCRIPTION,
    response_model=ActivityPage,
    responses=ERRORS | TABLE_RESPONSE | NOT_MODIFIED,
)
async def list_public_activities(
    request: Request, response: Response, session: SessionDep, asked: ListingDep
) -> ActivityPage | Response:
    """A page of published public activities (or all of them as streamed CSV)."""
    return await list_answer(request, response, session, public_view(), asked)


@router.get(
    "/activities/{identifier}",
    summary="A public activity",
    description="One published public activity; 404 for anything else.",
    response_model=ActivityOut,
    responses=ONE_ERRORS | NOT_MODIFIED,
)
async def get_public_activity(
    identifier: IdentifierPath, request: Request, response: Response, session: SessionDep
) -> ActivityOut | Response:
    """One published public activity (a bare 304 when the caller holds it)."""
    activity = await visible_activity(session, identifier, public_clause())
    missing = "No public activity with that identifier."
    return await read_activity(request, response, session, activity, missing)


@router.get(
    "/changes",
    summary="Public change feed",
    description="Changes to public activities: upserts, deletions, and withdrawals (an "
    "activity that stopped being public).",
    response_model=ChangePage,
    responses=ERRORS | NOT_MODIFIED,
)
async def list_public_changes(
    request: Request, response: Response, session: SessionDep, asked: FeedDep
) -> ChangePage | Response:
    """The public change feed (a bare 304 when the caller holds it)."""
    return await changes_answer(request, response, session, None, asked)
