"""Writing an event: a row of the service's outbox, in the caller's transaction."""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from shared.webhooks.rules import audience
from shared.webhooks.tables import WebhookTables


def _json(value: Any) -> str:
    """Datetimes as ISO 8601 UTC (``...Z``), decimals and the rest as their text."""
    if isinstance(value, datetime):
        return value.isoformat().replace("+00:00", "Z")
    return str(value)


def new_message_id() -> str:
    """A ``webhook-id`` (the same for every attempt and every subscriber of one event)."""
    return "msg_" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Event:
    """An event to write: its type, subject, what it says, whose it is and who may see it.

    ``subject`` (e.g. ``activity:12``) orders deliveries: a subscriber gets the events of
    one subject in the order they were written. ``visibility`` is a ``rules.audience``
    value; by default only ``organisation`` may see the event."""

    event_type: str
    subject: str
    payload: dict[str, Any]
    organisation: str | None
    visibility: str | None = None

    def row(self) -> dict[str, Any]:
        """The outbox row (a new message id)."""
        return {
            "message_id": new_message_id(),
            "event_type": self.event_type,
            "subject": self.subject,
            "organisation": self.organisation,
            "visibility": self.visibility or audience(orgs=[self.organisation or ""]),
            "payload": json.dumps(
                self.payload, ensure_ascii=False, default=_json, separators=(",", ":")
            ),
            "created_at": utcnow(),
        }


async def emit_all(session: AsyncSession, tables: WebhookTables, events: list[Event]) -> None:
    """Add ``events`` to the outbox in the session's transaction, in one statement, in
    order. Nothing is committed here: they are sent only if the caller's change commits."""
    if events:
        await session.execute(insert(tables.events), [e.row() for e in events])


async def emit(
    session: AsyncSession,
    tables: WebhookTables,
    event_type: str,
    payload: dict[str, Any],
    organisation: str | None,
    visibility: str | None = None,
    *,
    subject: str,
) -> str:
    """Add one event to the outbox in the session's transaction (see ``Event``); its
    message id (the ``webhook-id`` of its deliveries)."""
    row = Event(event_type, subject, payload, organisation, visibility).row()
    await session.execute(insert(tables.events).values(row))
    return str(row["message_id"])
