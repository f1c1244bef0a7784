"""Submissions and their review workflow: plain functions, session first."""

from __future__ import annotations

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.events import submission_moved
from services.inventory.history import record_saved, snapshot
from services.inventory.submissions.access import WRITE, check_owner, is_reviewer
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.submissions.rules import (
    Actor,
    CommentMissing,
    NoSuchMove,
    Section,
    SubmissionStatus,
    WrongActor,
    check_transition,
)
from services.inventory.submissions.schemas import SubmissionOut
from shared.db import utcnow
from shared.problems import Problem
from shared.security import Principal

S = SubmissionStatus
VALIDATED = S.VALIDATED.value


def counts_nationally() -> ColumnElement[bool]:
    """SQL condition: the submission is the latest validated version of its data."""
    return and_(Submission.status == VALIDATED, Submission.superseded_by_id.is_(None))


def current_ids(section: Section, year: int | None = None) -> Select[int]:
    """Ids of the submissions whose data enters national figures."""
    query = select(Submission.id).where(counts_nationally(), Submission.section == section.value)
    return query if year is None else query.where(Submission.year == year)


async def latest_year(session: AsyncSession, section: Section) -> int | None:
    """The newest reporting year with validated data in ``section``."""
    year: int | None = await session.scalar(
        select(func.max(Submission.year)).where(
            counts_nationally(), Submission.section == section.value
        )
    )
    return year


def submission_out(submission: Submission) -> SubmissionOut:
    """The API view of a submission."""
    return SubmissionOut.model_validate(
        {
            **{
                k: getattr(submission, k)
                for k in SubmissionOut.model_fields
                if k != "counts_nationally"
            },
            "counts_nationally": submission.status == VALIDATED
            and submission.superseded_by_id is None,
        }
    )


def _event(
    submission: Submission, principal: Principal, old: str | None, comment: str | None
) -> SubmissionEvent:
    return SubmissionEvent(
        submission_id=submission.id,
        from_status=old,
        to_status=submission.status,
        client_id=principal.client_id,
        org_code=principal.org,
        comment=comment,
    )


async def _open_submission(
    session: AsyncSession, org: str, year: int, section: str
) -> Submission | None:
    """The organisation's submission for this year and section that is not yet validated."""
    found: Submission | None = await session.scalar(
        select(Submission).where(
            Submission.org_code == org,
            Submission.year == year,
            Submission.section == section,
            Submission.status != VALIDATED,
        )
    )
    return found


def _still_open(existing: Submission, which: str) -> Problem:
    return Problem(
        409,
        "already-open",
        f"Submission {existing.id} {which} is still {existing.status}.",
        existing_id=existing.id,
    )


async def _new_draft(
    session: AsyncSession, principal: Principal, comment: str | None, **fields: object
) -> Submission:
    """A new draft submission, with its first workflow event."""
    submission = Submission(status=S.DRAFT.value, created_by=principal.client_id, **fields)
    session.add(submission)
    await session.flush()
    session.add(_event(submission, principal, None, comment))
    return submission


async def create_submission(
    session: AsyncSession, principal: Principal, *, year: int, section: Section
) -> Submission:
    """A new draft for the caller's organisation (409 if one is open or validated)."""
    existing = await _open_submission(session, principal.org, year, section.value)
    if existing is None:
        existing = await session.scalar(
            select(Submission).where(
                Submission.org_code == principal.org,
                Submission.year == year,
                Submission.section == section.value,
                counts_nationally(),
            )
        )
        if existing is not None:
            raise Problem(
                409,
                "already-validated",
                f"Submission {existing.id} for {year} {section} is validated; correct it with "
                f"POST /v1/submissions/{existing.id}/corrections.",
                existing_id=existing.id,
            )
    else:
        raise _still_open(existing, f"for {year} {section}")
    submission = await _new_draft(
        session, principal, None, org_code=principal.org, year=year, section=section.value
    )
    record_saved(session, principal, "submission", submission)
    return submission


async def transition(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    new: SubmissionStatus,
    comment: str | None,
) -> None:
    """Move a submission through the workflow and record who, when and why.

    409 for a move the workflow does not have, 403 for the wrong actor, 422 for a
    return without a comment (``rules.TRANSITIONS``). What a validation does to the rest of
    the inventory is the caller's (``validation.validated``).
    """
    current = SubmissionStatus(submission.status)
    try:
        check_transition(
            current,
            new,
            actor_is_owner=principal.org == submission.org_code and WRITE in principal.scopes,
            actor_is_reviewer=is_reviewer(principal),
            comment=comment,
        )
    except NoSuchMove as exc:
        allowed = ", ".join(exc.allowed) or "none"
        raise Problem(
            409,
            "invalid-transition",
            f"A {current} submission cannot become {new} (allowed: {allowed}).",
        ) from None
    except WrongActor as exc:
        if exc.actor == Actor.OWNER:
            # Says which is missing: the write scope, or being the owner organisation.
            check_owner(principal, submission.org_code, f"submission {submission.id}")
        raise Problem(
            403, "forbidden", f"Only a reviewer may move a submission to {new}."
        ) from None
    except CommentMissing as exc:
        raise Problem(
            422,
            "validation-error",
            str(exc),
            errors=[{"loc": ["body", "comment"], "msg": str(exc), "type": "value_error"}],
        ) from None
    now = utcnow()
    submission.status = new.value
    if new == S.SUBMITTED:
        submission.submitted_at = now
    if new == S.VALIDATED:
        submission.validated_at = now
        if submission.supersedes_id is not None:
            previous = await session.get(Submission, submission.supersedes_id)
            if previous is not None:
                previous.superseded_by_id = submission.id
    await session.flush()
    session.add(_event(submission, principal, current.value, comment))
    after = {"status": new.value, "comment": comment}
    record_saved(session, principal, "submission", submission, new.value, after=after)
    await submission_moved(session, submission, comment)


async def create_correction(
    session: AsyncSession, principal: Principal, validated: Submission, reason: str
) -> Submission:
    """A new draft version of validated data, with the reason (the caller copies the data:
    ``validation.corrected``).

    The validated version keeps counting nationally until the correction is validated.
    """
    check_owner(principal, validated.org_code, f"submission {validated.id}")
    if validated.status != VALIDATED or validated.superseded_by_id is not None:
        raise Problem(
            409,
            "not-correctable",
            "Only the latest validated version of a submission can be corrected.",
        )
    existing = await _open_submission(
        session, validated.org_code, validated.year, validated.section
    )
    if existing is not None:
        raise _still_open(existing, "for the same year and section")
    correction = await _new_draft(
        session,
        principal,
        reason,
        org_code=validated.org_code,
        year=validated.year,
        section=validated.section,
        revision=validated.revision + 1,
        supersedes_id=validated.id,
        correction_reason=reason,
    )
    after = {**snapshot(correction), "reason": reason}
    record_saved(session, principal, "submission", correction, "correction", after=after)
    return correction
