"""Submissions and their review workflow: plain functions, session first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy import ColumnElement, Select, and_, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.access import WRITE, check_owner, is_reviewer
from services.inventory.history import record_change, snapshot
from services.inventory.pcb.classes import load_densities, load_thresholds
from services.inventory.pcb.service import copy_items
from services.inventory.releases.service import copy_mercury, copy_upops
from services.inventory.reports import cells
from services.inventory.submissions.models import Submission, SubmissionEvent
from services.inventory.submissions.rules import (
    TRANSITIONS,
    Actor,
    Section,
    SubmissionStatus,
    WorkflowError,
    check_transition,
)
from services.inventory.submissions.schemas import SubmissionOut
from shared.db import utcnow
from shared.problems import Problem
from shared.security import Principal

S = SubmissionStatus
VALIDATED = S.VALIDATED.value

# Copies a section's data from a validated submission into its correction.
COPIERS: dict[Section, Callable[..., Awaitable[int]]] = {
    Section.PCB: copy_items,
    Section.UPOPS: copy_upops,
    Section.MERCURY: copy_mercury,
}


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
        raise Problem(
            409,
            "already-open",
            f"Submission {existing.id} for {year} {section} is still {existing.status}.",
            existing_id=existing.id,
        )
    submission = Submission(
        org_code=principal.org,
        year=year,
        section=section.value,
        status=S.DRAFT.value,
        created_by=principal.client_id,
    )
    session.add(submission)
    await session.flush()
    session.add(_event(submission, principal, None, None))
    record_change(
        session,
        principal,
        entity="submission",
        entity_id=submission.id,
        action="create",
        after=snapshot(submission),
    )
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
    return without a comment.
    """
    current = SubmissionStatus(submission.status)
    rule = TRANSITIONS.get((current, new))
    if rule is None:
        allowed = ", ".join(sorted(n for (c, n) in TRANSITIONS if c == current)) or "none"
        raise Problem(
            409,
            "invalid-transition",
            f"A {current} submission cannot become {new} (allowed: {allowed}).",
        )
    is_owner = principal.org == submission.org_code and WRITE in principal.scopes
    if rule.actor == Actor.OWNER:
        check_owner(principal, submission.org_code, f"submission {submission.id}")
    elif not is_reviewer(principal):
        raise Problem(403, "forbidden", f"Only a reviewer may move a submission to {new}.")
    try:
        check_transition(
            current,
            new,
            actor_is_owner=is_owner,
            actor_is_reviewer=is_reviewer(principal),
            comment=comment,
        )
    except WorkflowError as exc:
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
    if new == S.VALIDATED and submission.section == Section.PCB.value:
        # Its items are immutable from now on: count them once for the reports.
        thresholds, _ = await load_thresholds(session)
        await cells.refresh(session, [submission.id], thresholds, await load_densities(session))
    session.add(_event(submission, principal, current.value, comment))
    record_change(
        session,
        principal,
        entity="submission",
        entity_id=submission.id,
        action=new.value,
        after={"status": new.value, "comment": comment},
    )


async def create_correction(
    session: AsyncSession, principal: Principal, validated: Submission, reason: str
) -> Submission:
    """A new draft version of validated data, with a copy of it and the reason.

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
        raise Problem(
            409,
            "already-open",
            f"Submission {existing.id} for the same year and section is still {existing.status}.",
            existing_id=existing.id,
        )
    correction = Submission(
        org_code=validated.org_code,
        year=validated.year,
        section=validated.section,
        status=S.DRAFT.value,
        revision=validated.revision + 1,
        supersedes_id=validated.id,
        correction_reason=reason,
        created_by=principal.client_id,
    )
    session.add(correction)
    await session.flush()
    session.add(_event(correction, principal, None, reason))
    copier = COPIERS.get(Section(validated.section))
    if copier is not None:
        await copier(session, from_id=validated.id, to_id=correction.id)
    record_change(
        session,
        principal,
        entity="submission",
        entity_id=correction.id,
        action="correction",
        after={**snapshot(correction), "reason": reason},
    )
    return correction
