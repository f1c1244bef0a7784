"""Export routes: the IATI 2.03 XML document (authenticated and public) and the CSV form of
the activity lists. Both stream; both answer 304 to a matching If-None-Match."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
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
from services.cooperation.exchange.organisation_file import (
    organisation_document,
    organisation_file,
    reporting_organisation,
)
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


ORG_XML_RESPONSES: dict[int | str, dict[str, Any]] = READ_ERRORS | {
    200: {
        "description": "IATI 2.03 organisations document of one reporting organisation",
        "content": {
            XML: {
                "schema": {"type": "string"},
                "example": '<?xml version="1.0" encoding="UTF-8"?>\n<iati-organisations '
                'version="2.03" generated-datetime="2026-12-02T00:00:00+00:00">\n'
                ' <iati-organisation last-updated-datetime="2026-12-01T12:00:00+00:00" '
                'xml:lang="en">\n  <organisation-identifier>US-GOV-1</organisation-'
                "identifier>\n  ...\n </iati-organisation>\n</iati-organisations>",
            }
        },
    },
    **NOT_MODIFIED,
    404: {"description": "No organisation with that ref reports anything you may see", **PROBLEM},
}
OrgRef = Annotated[
    str,
    Path(
        max_length=100,
        pattern=r"^[0-9A-Za-z._:-]+$",
        description="IATI organisation identifier of the reporting organisation, e.g. `US-GOV-1`.",
        examples=["US-GOV-1"],
    ),
]
ORG_DESCRIPTION = (
    "The IATI 2.03 organisation file (`iati-organisations`, valid against "
    "`iati-organisations-schema.xsd`) of the organisation with this IATI ref, when it reports "
    "a work program or an activity: its identifier, name (English and Spanish), itself as "
    "reporting-org, `total-budget` per budget period and currency summed from the budgets of "
    "the published activities it reports (a revised budget replacing the original of its "
    "period), `recipient-country-budget` the same over its activities with exactly one "
    "recipient country, and a `document-link` to its public activity file."
)


async def org_xml_response(
    request: Request, session: AsyncSession, view: View, ref: str
) -> Response:
    """The organisation file of ``ref`` as ``view`` sees its activities (304 when held)."""
    org = await reporting_organisation(session, view.seen, ref)
    if org is None:
        raise Problem(404, "not-found", "No reporting organisation with that IATI ref.")
    tag, held = await export_tag(
        request, session, f"iati-org:{ref}:{org.version}", view.audience, NO_FILTERS
    )
    if held is not None:
        return held
    link = request.url_for("export_public_iati").include_query_params(reporting_org_ref=ref)
    found = await organisation_file(session, view.seen, org, str(link))
    disposition = f'attachment; filename="iati-organisation-{ref}.xml"'
    headers = {"ETag": tag, "Content-Disposition": disposition}
    return Response(organisation_document(found), media_type=XML, headers=headers)


NO_FILTERS = ActivityFilters()


@router.get(
    "/iati/organisations/{org_ref}.xml",
    summary="IATI 2.03 organisation file",
    description=ORG_DESCRIPTION + " Budgets of the activities you may see.",
    response_class=Response,
    responses=ORG_XML_RESPONSES,
)
async def export_iati_organisation(
    org_ref: OrgRef, request: Request, session: SessionDep, principal: Reader
) -> Response:
    """IATI organisation file over the activities the caller may see."""
    return await org_xml_response(request, session, await view_of(session, principal), org_ref)


@router.get(
    "/public/iati/organisations/{org_ref}.xml",
    summary="Public IATI 2.03 organisation file",
    description=ORG_DESCRIPTION + " Budgets of published public activities only; no token needed.",
    response_class=Response,
    responses=ORG_XML_RESPONSES,
)
async def export_public_iati_organisation(
    org_ref: OrgRef, request: Request, session: SessionDep
) -> Response:
    """IATI organisation file over the published public activities."""
    return await org_xml_response(request, session, public_view(), org_ref)
