"""Routes that move a submission through its review workflow, and correct validated data.

Each move requires the scope ``submissions.rules.TRANSITIONS`` gives it; the submissions
service checks the rest of the rule, and ``validation`` does what a validation or a
correction means for the inventory's data and reports.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel

from services.inventory import validation
from services.inventory.routing import UPDATE, IdPath, typed
from services.inventory.submissions import service
from services.inventory.submissions.access import visible_submission
from services.inventory.submissions.router import submission_etag
from services.inventory.submissions.rules import MOVE_SCOPES, SCOPE_WRITE, SubmissionStatus
from services.inventory.submissions.schemas import CommentIn, CorrectionIn, ReturnIn, SubmissionOut
from shared.conditional import require_if_match, tagged
from shared.db import SessionDep
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["inventory cycles"])
S = SubmissionStatus


@dataclass(frozen=True)
class Move:
    """One workflow route: the status it moves to, its body, and what the API says."""

    name: str  # the operation's name, e.g. start_review
    path: str  # after /submissions/{submission_id}/
    to: SubmissionStatus
    body: type[BaseModel]
    summary: str
    description: str


MOVES = (
    Move(
        "submit",
        "submit",
        S.SUBMITTED,
        CommentIn,
        "Submit for review",
        "The owner organisation sends a draft (or a returned submission) to MINAM. "
        "Needs `If-Match`.",
    ),
    Move(
        "start_review",
        "start-review",
        S.UNDER_REVIEW,
        CommentIn,
        "Take a submission up for review",
        "A reviewer (MINAM) starts reviewing. Needs `If-Match`.",
    ),
    Move(
        "validate",
        "validate",
        S.VALIDATED,
        CommentIn,
        "Validate a submission",
        "A reviewer validates: the data becomes immutable and counts in national "
        "figures (replacing the version it corrects, if any). Needs `If-Match`.",
    ),
    Move(
        "return_submission",
        "return",
        S.RETURNED,
        ReturnIn,
        "Return a submission with comments",
        "A reviewer sends it back to the owner, who may edit and resubmit. The "
        "comment is required. Needs `If-Match`.",
    ),
)


def _add(move: Move) -> None:
    async def endpoint(
        request: Request,
        response: Response,
        submission_id: IdPath,
        session: SessionDep,
        body: Any,
        # The scope the transition table gives every move into this status.
        principal: Principal = require_scopes(MOVE_SCOPES[move.to]),
    ) -> SubmissionOut:
        submission = await visible_submission(session, principal, submission_id)
        require_if_match(request, submission_etag(submission))
        await service.transition(session, principal, submission, move.to, body.comment)
        await validation.validated(session, submission)
        return tagged(response, service.submission_out(submission), submission_etag(submission))

    typed(endpoint, body=move.body)
    router.add_api_route(
        f"/submissions/{{submission_id}}/{move.path}",
        endpoint,
        methods=["POST"],
        name=move.name,
        summary=move.summary,
        description=move.description,
        response_model=SubmissionOut,
        responses=UPDATE,
    )


for _move in MOVES:
    _add(_move)


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
    response: Response,
    submission_id: IdPath,
    session: SessionDep,
    body: CorrectionIn,
    principal: Principal = require_scopes(SCOPE_WRITE),
) -> SubmissionOut:
    """A new version of a validated submission."""
    validated = await visible_submission(session, principal, submission_id)
    require_if_match(request, submission_etag(validated))
    correction = await service.create_correction(session, principal, validated, body.reason)
    await validation.corrected(session, validated, correction)
    return tagged(response, service.submission_out(correction), submission_etag(correction))
