"""The tables of a service's event subscriptions, defined on that service's metadata.

- ``webhook_events``: the outbox. A row is written in the transaction of the change it
  reports, so a change that rolls back leaves none. The worker turns each into deliveries
  (one per subscription that wants it and may see it) and then drops it if none wanted it.
- ``webhook_subscriptions``: a client's URL, the event types it wants, its signing secret.
- ``webhook_deliveries``: one event to one subscription: pending, delivered or failed.
- ``webhook_attempts``: every attempt of a delivery, with its answer (the delivery log).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

from shared.db import UTCDateTime, utcnow

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"


@dataclass(frozen=True)
class WebhookTables:
    """The four tables of one service."""

    events: Table
    subscriptions: Table
    deliveries: Table
    attempts: Table


def webhook_tables(metadata: MetaData) -> WebhookTables:
    """Define the webhook tables on ``metadata`` (once per service)."""
    events = Table(
        "webhook_events",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("message_id", String(40), nullable=False, unique=True),
        Column("event_type", String(60), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("organisation", String(40)),
        Column("visibility", Text, nullable=False),
        Column("payload", Text, nullable=False),
        Column("created_at", UTCDateTime, nullable=False, default=utcnow),
        Column("dispatched_at", UTCDateTime, index=True),
    )
    subscriptions = Table(
        "webhook_subscriptions",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("client_id", String(64), nullable=False, index=True),
        Column("org_code", String(40), nullable=False),
        Column("scopes", Text, nullable=False),
        Column("url", Text, nullable=False),
        Column("description", Text),
        Column("event_types", Text, nullable=False),
        Column("secret", String(100), nullable=False),
        Column("active", Boolean, nullable=False, default=True),
        Column("created_at", UTCDateTime, nullable=False, default=utcnow),
        Column("updated_at", UTCDateTime, nullable=False, default=utcnow),
        Column("version", Integer, nullable=False, default=1),
    )
    deliveries = Table(
        "webhook_deliveries",
        metadata,
        Column("id", Integer, primary_key=True),
        Column(
            "subscription_id",
            ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
            nullable=False,
        ),
        Column("event_id", ForeignKey("webhook_events.id", ondelete="CASCADE"), nullable=False),
        Column("subject", String(200), nullable=False),
        Column("status", String(12), nullable=False),
        Column("attempts", Integer, nullable=False, default=0),
        Column("next_attempt_at", UTCDateTime, nullable=False),
        Column("last_attempt_at", UTCDateTime),
        Column("last_status_code", Integer),
        Column("last_error", Text),
        Column("delivered_at", UTCDateTime),
        Column("created_at", UTCDateTime, nullable=False, default=utcnow),
        Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_subject", "subscription_id", "subject", "event_id"),
    )
    attempts = Table(
        "webhook_attempts",
        metadata,
        Column("id", Integer, primary_key=True),
        Column(
            "delivery_id",
            ForeignKey("webhook_deliveries.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        Column("at", UTCDateTime, nullable=False),
        Column("status_code", Integer),
        Column("error", Text),
        Column("duration_ms", Integer, nullable=False),
    )
    return WebhookTables(events, subscriptions, deliveries, attempts)
