"""Export routes: the IATI 2.03 XML document (authenticated and public) and the CSV form of
the activity lists. Both stream; both answer 304 to a matching If-None-Match."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import StreamingResponse
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.access import NOT_MODIFIED, PROBLEM, READ_ERRORS, Reader
from services.cooperation.activities.csv_export import download, export_tag
from services.cooperation.activities.filters import ActivityFilters, FiltersDep
from services.cooperation.activities.queries import (
    View,
    public_view,
    view_of,
)
from services.cooperation.exchange.exports import anything_to_export, iati_document
from shared.db import SessionDep
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["exports"])
XML = "application/xml"
XML_RESPONSES: dict[int | str, dict[str, Any]] = READ_ERRORS | {
    200: {"content": {XML: {}}, "description": "IATI 2.03 activities document"},
    **NOT_MODIFIED,
    404: {"description": "Nothing matches the filters", **PROBLEM},
}


async def xml_response(
    request: Request, session: AsyncSession, view: View, filters: ActivityFilters
) -> Response:
    """The IATI document of ``view`` (a stream; a bare 304 when the caller holds it)."""
    tag, held = await export_tag(request, session, "iati", view.audience, filters)
    if held is not None:
        return held
    if not await anything_to_export(session, view.seen, filters):
        # The schema needs at least one activity: an empty document would not validate.
        raise Problem(404, "not-found", "No program or activity matches; nothing to export.")
    return download(
        iati_document(request.app.state.db, view.seen, filters), XML, tag, "iati-activities.xml"
    )


@router.get(
    "/iati/activities.xml",
    summary="IATI 2.03 export",
    description="The activities you may see (filters as for `/v1/activities`) as one IATI "
    "2.03 activities document: each work program as the parent activity (hierarchy 1) "
    "listing its children, each activity a child (hierarchy 2). Valid against the official "
    "schema; streamed, so any size works.",
    response_class=StreamingResponse,
    responses=XML_RESPONSES,
)
async def export_iati(
    request: Request, session: SessionDep, principal: Reader, filters: FiltersDep
) -> Response:
    """IATI XML of the activities the caller may see."""
    return await xml_response(request, session, await view_of(session, principal), filters)


@router.get(
    "/public/iati/activities.xml",
    summary="Public IATI 2.03 export",
    description="Published public activities as IATI 2.03 XML (as `/v1/iati/activities.xml`). "
    "No token needed.",
    response_class=StreamingResponse,
    responses=XML_RESPONSES,
)
async def export_public_iati(
    request: Request, session: SessionDep, filters: FiltersDep
) -> Response:
    """IATI XML of the published public activities."""
    return await xml_response(request, session, public_view(), filters)
