"""Routes that move a submission through its review workflow, and correct validated data.

Each move requires the scope ``submissions.rules.TRANSITIONS`` gives it; the submissions
service checks the rest of the rule, and ``validation`` does what a validation or a
correction means for the inventory's data and reports.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory import validation
from services.inventory.events import targets_moved
from services.inventory.plans.service import target_statuses
from services.inventory.routing import UPDATE, IdPath, typed
from services.inventory.submissions import service
from services.inventory.submissions.access import visible_submission
from services.inventory.submissions.models import Submission
from services.inventory.submissions.router import submission_etag
from services.inventory.submissions.rules import MOVE_SCOPES, SCOPE_WRITE, SubmissionStatus
from services.inventory.submissions.schemas import CommentIn, CorrectionIn, ReturnIn, SubmissionOut
from shared.conditional import require_if_match, tagged
from shared.db import SessionDep
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["inventory cycles"])
S = SubmissionStatus

# What a route does to the submission it names (read, If-Match checked): the submission
# to answer with.
Act = Callable[[AsyncSession, Principal, Submission, Any], Awaitable[Submission]]


def _moving_to(new: SubmissionStatus) -> Act:
    async def act(
        session: AsyncSession, principal: Principal, submission: Submission, body: Any
    ) -> Submission:
        # A validation can move the national action plans' targets: their statuses before
        # and after, in the same transaction, and an event for each that moved.
        before = await target_statuses(session) if new == S.VALIDATED else None
        await service.transition(session, principal, submission, new, body.comment)
        await validation.validated(session, submission)
        if before is not None:
            await targets_moved(session, before, await target_statuses(session), submission)
        return submission

    return act


async def _correct(
    session: AsyncSession, principal: Principal, validated: Submission, body: Any
) -> Submission:
    correction = await service.create_correction(session, principal, validated, body.reason)
    await validation.corrected(session, validated, correction)
    return correction


@dataclass(frozen=True)
class Route:
    """One workflow route: its path after /submissions/{submission_id}/, operation name,
    body, scope, what it does, and what the API says of it."""

    path: str
    name: str
    body: type[BaseModel]
    scope: str
    act: Act
    summary: str
    description: str
    status_code: int = 200


ROUTES = (
    Route(
        "submit",
        "submit",
        CommentIn,
        MOVE_SCOPES[S.SUBMITTED],
        _moving_to(S.SUBMITTED),
        "Submit for review",
        "The owner organisation sends a draft (or a returned submission) to MINAM. "
        "Needs `If-Match`.",
    ),
    Route(
        "start-review",
        "start_review",
        CommentIn,
        MOVE_SCOPES[S.UNDER_REVIEW],
        _moving_to(S.UNDER_REVIEW),
        "Take a submission up for review",
        "A reviewer (MINAM) starts reviewing. Needs `If-Match`.",
    ),
    Route(
        "validate",
        "validate",
        CommentIn,
        MOVE_SCOPES[S.VALIDATED],
        _moving_to(S.VALIDATED),
        "Validate a submission",
        "A reviewer validates: the data becomes immutable and counts in national "
        "figures (replacing the version it corrects, if any). Needs `If-Match`.",
    ),
    Route(
        "return",
        "return_submission",
        ReturnIn,
        MOVE_SCOPES[S.RETURNED],
        _moving_to(S.RETURNED),
        "Return a submission with comments",
        "A reviewer sends it back to the owner, who may edit and resubmit. The "
        "comment is required. Needs `If-Match`.",
    ),
    Route(
        "corrections",
        "create_correction",
        CorrectionIn,
        SCOPE_WRITE,
        _correct,
        "Correct validated data",
        "Validated data is immutable: a correction is a new draft version with a "
        "copy of the data and the reason, reviewed again. The validated version counts "
        "nationally until the correction is validated. Needs `If-Match` of the validated "
        "submission.",
        status_code=201,
    ),
)


def _add(route: Route) -> None:
    async def endpoint(
        request: Request,
        response: Response,
        submission_id: IdPath,
        session: SessionDep,
        body: Any,
        principal: Principal = require_scopes(route.scope),
    ) -> SubmissionOut:
        submission = await visible_submission(session, principal, submission_id)
        require_if_match(request, submission_etag(submission))
        answer = await route.act(session, principal, submission, body)
        return tagged(response, service.submission_out(answer), submission_etag(answer))

    typed(endpoint, body=route.body)
    router.add_api_route(
        f"/submissions/{{submission_id}}/{route.path}",
        endpoint,
        methods=["POST"],
        name=route.name,
        summary=route.summary,
        description=route.description,
        status_code=route.status_code,
        response_model=SubmissionOut,
        responses=UPDATE,
    )


for _route in ROUTES:
    _add(_route)
