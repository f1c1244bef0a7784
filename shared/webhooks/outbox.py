"""Writing an event: a row of the service's outbox, in the caller's transaction."""

from __future__ import annotations

import json
import secrets
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
    """Add an event to the outbox in the session's transaction; its message id.

    Nothing is committed here: the event is sent only if the caller's change commits.
    ``subject`` (e.g. ``activity:US-GOV-32-X``) orders deliveries: a subscriber gets the
    events of one subject in the order they were written. ``visibility`` is a
    ``rules.audience`` value; by default only ``organisation`` may see the event.
    """
    message_id = new_message_id()
    await session.execute(
        insert(tables.events).values(
            message_id=message_id,
            event_type=event_type,
            subject=subject,
            organisation=organisation,
            visibility=visibility or audience(orgs=[organisation or ""]),
            payload=json.dumps(payload, ensure_ascii=False, default=_json, separators=(",", ":")),
            created_at=utcnow(),
        )
    )
    return message_id
