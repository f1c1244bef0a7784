"""Object-level authorization on top of the route scopes, for submissions and the data in
them.

- An organisation sees and edits its own submissions (edits only while draft or returned).
- A reviewer (``inventory:review``, MINAM) sees every submission once it is submitted.
- Everyone else with a read scope sees validated submissions only; anything else is a 404,
  as if it did not exist (SECURITY.md case 22).
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section, SubmissionStatus, is_editable
from shared.problems import Problem
from shared.security import Principal

REVIEW = "inventory:review"
WRITE = "inventory:write"
VALIDATED = SubmissionStatus.VALIDATED.value


def is_reviewer(principal: Principal) -> bool:
    """True for the national focal point's clients (scope ``inventory:review``)."""
    return REVIEW in principal.scopes


def submission_visible(principal: Principal | None) -> ColumnElement[bool]:
    """SQL condition: the caller may see this submission (and the data in it)."""
    if principal is None:
        return Submission.status == VALIDATED
    conditions = [Submission.status == VALIDATED, Submission.org_code == principal.org]
    if is_reviewer(principal):
        conditions.append(Submission.status != SubmissionStatus.DRAFT.value)
    return or_(*conditions)


async def visible_submission(
    session: AsyncSession, principal: Principal | None, submission_id: int
) -> Submission:
    """The submission if the caller may see it, else a 404."""
    submission = await session.scalar(
        select(Submission).where(Submission.id == submission_id, submission_visible(principal))
    )
    if submission is None:
        raise Problem(404, "not-found", f"No submission {submission_id}.")
    return submission


def check_owner(principal: Principal, org_code: str, what: str) -> None:
    """403 unless the caller's organisation owns the record (and may write)."""
    if WRITE not in principal.scopes:
        raise Problem(403, "forbidden", f"Changing {what} needs the scope {WRITE}.")
    if principal.org != org_code:
        raise Problem(403, "forbidden", f"Only organisation {org_code} may change {what}.")


def check_editable(submission: Submission) -> None:
    """409 unless the submission's data may still change (draft or returned)."""
    if not is_editable(SubmissionStatus(submission.status)):
        hint = (
            " Validated data is immutable: create a correction (POST "
            f"/v1/submissions/{submission.id}/corrections)."
            if submission.status == VALIDATED
            else ""
        )
        raise Problem(
            409,
            "submission-not-editable",
            f"Submission {submission.id} is {submission.status}; it cannot be changed.{hint}",
        )


async def editable_submission(
    session: AsyncSession,
    principal: Principal,
    submission_id: int,
    *,
    section: Section | None = None,
) -> Submission:
    """The caller's own submission, still editable, of ``section``: else 404/403/409/422."""
    submission = await visible_submission(session, principal, submission_id)
    check_owner(principal, submission.org_code, f"submission {submission.id}")
    check_editable(submission)
    if section is not None and submission.section != section.value:
        wanted = section.value
        raise Problem(
            422,
            "wrong-section",
            f"Submission {submission.id} is a {submission.section} submission, not {wanted}.",
        )
    return submission
