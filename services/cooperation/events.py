"""The cooperation service's events (webhooks): its outbox tables and what it emits.

Written by ``activities.sync.record``, in the transaction of the change, beside the change
feed entry: published (now visible to partners or the public), changed, withdrawn (no
longer visible to them, or deleted).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.db import Base
from shared.webhooks.outbox import Event, emit_all
from shared.webhooks.rules import audience as webhook_audience
from shared.webhooks.tables import webhook_tables

if TYPE_CHECKING:
    from services.cooperation.activities.sync import Pending

TABLES = webhook_tables(Base.metadata)
READ_SCOPE = "cooperation:read"
EVENT_TYPES = {
    "activity.published": "an activity became visible to partners or the public",
    "activity.changed": "an activity you may see changed",
    "activity.withdrawn": "an activity was deleted or is no longer visible to partners",
}
SEEN_WIDELY = ("public", "partners")


def event_type(before: str | None, after: str | None) -> str:
    """The event of a change from audience ``before`` to ``after`` (None: not existing)."""
    if after is None or (before in SEEN_WIDELY and after not in SEEN_WIDELY):
        return "activity.withdrawn"
    if after in SEEN_WIDELY and before not in SEEN_WIDELY:
        return "activity.published"
    return "activity.changed"


def visibility(seen_by: str) -> str:
    """An activity audience as an event's visibility: any reader (a subscriber holds
    ``cooperation:read``) for public and partner activities, else the participants."""
    if seen_by in SEEN_WIDELY:
        return webhook_audience(public=True)
    return webhook_audience(orgs=[c for c in seen_by.split(",") if c])


async def emit_activity_events(
    session: AsyncSession,
    pending: Sequence[Pending],
    stamps: Sequence[datetime],
    after: Sequence[str | None],
) -> None:
    """One event per changed activity, with who could see it (before, for a withdrawal)."""
    events = []
    for item, stamp, seen_after in zip(pending, stamps, after, strict=True):
        kind = event_type(item.audience_before, seen_after)
        seen = item.audience_before if kind == "activity.withdrawn" else seen_after
        activity = item.activity
        payload = {
            "activity_id": activity.id,
            "identifier": activity.identifier,
            "program_id": activity.program_id,
            "action": item.action,
            "fields": sorted(item.changes),
            "changed_at": stamp,
        }
        subject = f"activity:{activity.id}"
        organisation = activity.lead_org.code
        events.append(Event(kind, subject, payload, organisation, visibility(seen or "")))
    await emit_all(session, TABLES, events)
