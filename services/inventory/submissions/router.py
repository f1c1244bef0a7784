"""Routes for submissions (inventory cycles) and their review workflow."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from services.inventory.access import submission_visible, visible_submission
from services.inventory.routing import (
    CREATE,
    READ_ONE,
    UPDATE,
    IdPath,
    OrgQuery,
    UpdatedSince,
    YearQuery,
    commit_and_respond,
    idempotent_create,
    list_page,
    read_response,
    record_etag,
)
from services.inventory.submissions import service
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.submissions.rules import Section, SubmissionStatus
from services.inventory.submissions.schemas import (
    CommentIn,
    CorrectionIn,
    ReturnIn,
    SubmissionEventOut,
    SubmissionIn,
    SubmissionOut,
)
from shared.conditional import require_if_match
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["inventory cycles"])
READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")
REVIEW = require_scopes("inventory:review")
S = SubmissionStatus


def _etag(submission: Submission) -> str:
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
    principal: Principal = READ,
    org: OrgQuery = None,
    year: YearQuery = None,
    section: Section | None = None,
    status: SubmissionStatus | None = None,
    counts_nationally: Annotated[bool | None, Query()] = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
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
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        Submission,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
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
)
async def create_submission(
    request: Request, session: SessionDep, body: SubmissionIn, principal: Principal = WRITE
) -> JSONResponse:
    """Start a draft submission."""

    async def create() -> tuple[SubmissionOut, str]:
        submission = await service.create_submission(
            session, principal, year=body.year, section=body.section
        )
        return service.submission_out(submission), _etag(submission)

    return await idempotent_create(request, session, principal, create)


@router.get(
    "/submissions/{submission_id}",
    summary="Get a submission",
    description="404 when the caller may not see it (another organisation's draft).",
    response_model=SubmissionOut,
    responses=READ_ONE,
)
async def get_submission(
    request: Request, submission_id: IdPath, session: SessionDep, principal: Principal = READ
) -> Response:
    """One submission."""
    submission = await visible_submission(session, principal, submission_id)
    return read_response(request, service.submission_out(submission), _etag(submission))


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


async def _move(
    request: Request,
    session: SessionDep,
    principal: Principal,
    submission_id: int,
    new: SubmissionStatus,
    comment: str | None,
) -> JSONResponse:
    submission = await visible_submission(session, principal, submission_id)
    require_if_match(request, _etag(submission))
    await service.transition(session, principal, submission, new, comment)
    return await commit_and_respond(
        session, service.submission_out(submission), tag=_etag(submission)
    )


@router.post(
    "/submissions/{submission_id}/submit",
    summary="Submit for review",
    description="The owner organisation sends a draft (or a returned submission) to MINAM. "
    "Needs `If-Match`.",
    response_model=SubmissionOut,
    responses=UPDATE,
)
async def submit(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: CommentIn,
    principal: Principal = WRITE,
) -> JSONResponse:
    """draft/returned -> submitted."""
    return await _move(request, session, principal, submission_id, S.SUBMITTED, body.comment)


@router.post(
    "/submissions/{submission_id}/start-review",
    summary="Take a submission up for review",
    description="A reviewer (MINAM) starts reviewing. Needs `If-Match`.",
    response_model=SubmissionOut,
    responses=UPDATE,
)
async def start_review(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: CommentIn,
    principal: Principal = REVIEW,
) -> JSONResponse:
    """submitted -> under_review."""
    return await _move(request, session, principal, submission_id, S.UNDER_REVIEW, body.comment)


@router.post(
    "/submissions/{submission_id}/validate",
    summary="Validate a submission",
    description="A reviewer validates: the data becomes immutable and counts in national "
    "figures (replacing the version it corrects, if any). Needs `If-Match`.",
    response_model=SubmissionOut,
    responses=UPDATE,
)
async def validate(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: CommentIn,
    principal: Principal = REVIEW,
) -> JSONResponse:
    """under_review -> validated."""
    return await _move(request, session, principal, submission_id, S.VALIDATED, body.comment)


@router.post(
    "/submissions/{submission_id}/return",
    summary="Return a submission with comments",
    description="A reviewer sends it back to the owner, who may edit and resubmit. The "
    "comment is required. Needs `If-Match`.",
    response_model=SubmissionOut,
    responses=UPDATE,
)
async def return_submission(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: ReturnIn,
    principal: Principal = REVIEW,
) -> JSONResponse:
    """submitted/under_review -> returned."""
    return await _move(request, session, principal, submission_id, S.RETURNED, body.comment)


@router.post(
    "/submissions/{submission_id}/corrections",
    summary="Correct validated data",
    description="Validated data is immutable: a correction is a new draft version with a "
    "copy of the data and the reason, reviewed again. The validated version counts "
    "nationally until the correction is validated. Needs `If-Match` of the validated "
    "submission.",
    status_code=201,
    response_model=SubmissionOut,
    responses=UPDATE,
)
async def create_correction(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: CorrectionIn,
    principal: Principal = WRITE,
) -> JSONResponse:
    """A new version of a validated submission."""
    validated = await visible_submission(session, principal, submission_id)
    require_if_match(request, _etag(validated))
    correction = await service.create_correction(session, principal, validated, body.reason)
    return await commit_and_respond(
        session, service.submission_out(correction), tag=_etag(correction), status=201
    )
