"""The inventory service's events (webhooks): its outbox tables and what it emits.

``emit`` writes an event in the caller's transaction; the submission workflow
(``submissions.service.transition``) emits ``submission.validated`` and
``submission.returned``; ``target.status_changed`` is for the national action plans.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.db import Base
from services.inventory.submissions.access import REVIEW
from services.inventory.submissions.models import Submission
from shared.webhooks import outbox
from shared.webhooks.rules import audience
from shared.webhooks.tables import webhook_tables

TABLES = webhook_tables(Base.metadata)
READ_SCOPE = "inventory:read"
EVENT_TYPES = {
    "submission.validated": "a submission was validated: its data now counts nationally",
    "submission.returned": "a reviewer returned a submission to its organisation (owner and "
    "reviewers only)",
    "target.status_changed": "a national action plan target moved to another status",
}
# Who may see an event about an organisation's data that is not public: that organisation
# and the reviewers (as for a submitted, unvalidated submission).
PUBLIC = audience(public=True)


def owner_and_reviewers(org: str) -> str:
    """The visibility of an event only the organisation and the reviewers may see."""
    return audience(orgs=[org], scopes=[REVIEW])


async def emit(
    session: AsyncSession,
    event_type: str,
    payload: dict[str, Any],
    organisation: str | None,
    visibility: str | None = None,
    *,
    subject: str,
) -> str:
    """Write an inventory event in the session's transaction (``shared.webhooks.outbox``);
    ``visibility`` defaults to the organisation and the reviewers."""
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown inventory event type {event_type}")
    seen = visibility or owner_and_reviewers(organisation or "")
    return await outbox.emit(
        session, TABLES, event_type, payload, organisation, seen, subject=subject
    )


async def submission_moved(
    session: AsyncSession, submission: Submission, comment: str | None
) -> None:
    """The event of a validation or a return, if the move was one.

    A validated submission is readable by every ``inventory:read`` client
    (``submissions.access``), so its event is too; a return only by the owner and the
    reviewers."""
    if submission.status not in ("validated", "returned"):
        return
    validated = submission.status == "validated"
    payload = {
        "submission_id": submission.id,
        "organisation": submission.org_code,
        "year": submission.year,
        "section": submission.section,
        "revision": submission.revision,
        "status": submission.status,
        "supersedes_id": submission.supersedes_id,
    }
    if not validated:
        payload["comment"] = comment
    await emit(
        session,
        f"submission.{submission.status}",
        payload,
        submission.org_code,
        PUBLIC if validated else None,
        subject=f"submission:{submission.id}",
    )


async def targets_moved(
    session: AsyncSession, before: dict[int, str], after: dict[int, str], cause: Submission
) -> int:
    """A ``target.status_changed`` event (public, as the plans are) for every target whose
    status differs between ``before`` and ``after``; how many."""
    moved = [
        (target, was, now) for target, now in after.items() if (was := before.get(target)) != now
    ]
    for target, was, now in moved:
        payload = {
            "target_id": target,
            "from": was,
            "to": now,
            "cause": {"submission_id": cause.id, "organisation": cause.org_code},
        }
        await emit(
            session, "target.status_changed", payload, None, PUBLIC, subject=f"target:{target}"
        )
    return len(moved)
