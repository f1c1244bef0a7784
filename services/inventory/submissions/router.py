"""Routes for submissions (inventory cycles): start, list and read them, and their
workflow history. The workflow moves themselves are ``services.inventory.workflow``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.inventory.routing import (
    CREATE,
    READ,
    READ_ONE,
    WRITE,
    IdPath,
    OrgQuery,
    PagingQuery,
    YearQuery,
    create_once,
    page_of,
    record_etag,
)
from services.inventory.submissions import service
from services.inventory.submissions.access import submission_visible, visible_submission
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.submissions.rules import Section, SubmissionStatus
from services.inventory.submissions.schemas import SubmissionEventOut, SubmissionIn, SubmissionOut
from shared.conditional import read_answer
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import Page
from shared.security import Principal

router = APIRouter(prefix="/v1", tags=["inventory cycles"])


def submission_etag(submission: Submission) -> str:
    """The ETag of a submission (its workflow moves need it in If-Match)."""
    return record_etag("submission", submission)


@router.get(
    "/submissions",
    summary="List submissions",
    description="Inventory submissions the caller may see: its organisation's, validated "
    "ones, and (reviewers) every submitted one.",
    response_model=Page[SubmissionOut],
)
async def list_submissions(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
    principal: Principal = READ,
    org: OrgQuery = None,
    year: YearQuery = None,
    section: Section | None = None,
    status: SubmissionStatus | None = None,
    counts_nationally: Annotated[bool | None, Query()] = None,
) -> Page[SubmissionOut]:
    """Submissions, one page at a time."""
    stmt = select(Submission).where(submission_visible(principal))
    if org is not None:
        stmt = stmt.where(Submission.org_code == org)
    if year is not None:
        stmt = stmt.where(Submission.year == year)
    if section is not None:
        stmt = stmt.where(Submission.section == section.value)
    if status is not None:
        stmt = stmt.where(Submission.status == status.value)
    if counts_nationally is not None:
        current = service.counts_nationally()
        stmt = stmt.where(current if counts_nationally else ~current)
    rows, next_cursor = await page_of(request, response, session, stmt, Submission, paging)
    return Page(items=[service.submission_out(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/submissions",
    summary="Start a submission",
    description="A draft for the caller's organisation, one reporting year and section "
    "(pcb, upops, mercury). 409 while another one for the same year and section is open, "
    "or once it is validated (then make a correction). Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=SubmissionOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
)
async def create_submission(
    request: Request,
    response: Response,
    session: SessionDep,
    body: SubmissionIn,
    principal: Principal = WRITE,
) -> SubmissionOut | Response:
    """Start a draft submission."""

    async def create() -> tuple[SubmissionOut, str]:
        submission = await service.create_submission(
            session, principal, year=body.year, section=body.section
        )
        return service.submission_out(submission), submission_etag(submission)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/submissions/{submission_id}",
    summary="Get a submission",
    description="404 when the caller may not see it (another organisation's draft).",
    response_model=SubmissionOut,
    responses=READ_ONE,
)
async def get_submission(
    request: Request,
    response: Response,
    submission_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
) -> SubmissionOut | Response:
    """One submission."""
    submission = await visible_submission(session, principal, submission_id)
    return read_answer(
        request, response, service.submission_out(submission), submission_etag(submission)
    )


@router.get(
    "/submissions/{submission_id}/events",
    summary="Workflow history of a submission",
    description="Every move, oldest first: who (client, organisation), when, from and to "
    "which status, and the comment.",
    response_model=list[SubmissionEventOut],
    responses=READ_ONE,
)
async def list_events(
    submission_id: IdPath, session: SessionDep, principal: Principal = READ
) -> list[SubmissionEventOut]:
    """The recorded workflow moves."""
    await visible_submission(session, principal, submission_id)
    events = await session.scalars(
        select(SubmissionEvent)
        .where(SubmissionEvent.submission_id == submission_id)
        .order_by(SubmissionEvent.id)
    )
    return [SubmissionEventOut.model_validate(e) for e in events]
