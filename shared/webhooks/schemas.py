"""Request and response bodies of the subscription routes."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from shared.webhooks.guard import MAX_URL_CHARS

URL_EXAMPLE = "https://hooks.usaid.example/enlace"


class SubscriptionIn(BaseModel):
    """A new subscription: where to send which events."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "url": URL_EXAMPLE,
                    "event_types": ["activity.published", "activity.changed"],
                    "description": "USAID activity sync",
                }
            ]
        },
    )

    url: str = Field(max_length=MAX_URL_CHARS, description="HTTPS URL that receives the POSTs.")
    event_types: list[str] = Field(min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    secret: str | None = Field(
        default=None,
        pattern=r"^whsec_[A-Za-z0-9+/]{32,88}={0,2}$",
        description="Your own signing secret (`whsec_` and the base64 of 24 to 64 random "
        "bytes), for a receiver configured with it beforehand; without it one is made. "
        "Either way the answer shows it this once.",
    )


class SubscriptionPatch(BaseModel):
    """Fields to change (``active: false`` pauses deliveries)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [{"active": False}]})

    url: str | None = Field(default=None, max_length=MAX_URL_CHARS)
    event_types: list[str] | None = Field(default=None, min_length=1, max_length=20)
    description: str | None = Field(default=None, max_length=200)
    active: bool | None = None


class SubscriptionOut(BaseModel):
    """A subscription (its secret is shown only once, at creation)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 1,
                    "url": URL_EXAMPLE,
                    "event_types": ["activity.published", "activity.changed"],
                    "description": "USAID activity sync",
                    "active": True,
                    "organisation": "USAID",
                    "created_at": "2026-12-02T10:00:00Z",
                    "updated_at": "2026-12-02T10:00:00Z",
                }
            ]
        }
    )

    id: int
    url: str
    event_types: list[str]
    description: str | None
    active: bool
    organisation: str
    created_at: datetime
    updated_at: datetime


class SubscriptionCreated(SubscriptionOut):
    """The new subscription and its signing secret: keep it, it is not shown again."""

    secret: str = Field(
        description="Standard Webhooks signing secret (`whsec_...`); verify each delivery's "
        "`webhook-signature` with it.",
        examples=["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"],
    )


class AttemptOut(BaseModel):
    """One attempt of a delivery."""

    at: datetime
    status_code: int | None = Field(description="The receiver's HTTP status; null if none.")
    error: str | None
    duration_ms: int


class DeliveryOut(BaseModel):
    """One event sent (or to be sent) to a subscription, with its attempts."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 7,
                    "message_id": "msg_2Qm9nGZ0m4sXcV5rT1k0aBcD",
                    "event_type": "activity.changed",
                    "subject": "activity:US-GOV-32-OEFA-ENF-01",
                    "status": "pending",
                    "attempts": 2,
                    "next_attempt_at": "2026-12-02T10:00:40Z",
                    "last_status_code": 500,
                    "last_error": "HTTP 500",
                    "delivered_at": None,
                    "created_at": "2026-12-02T10:00:00Z",
                    "attempt_log": [
                        {
                            "at": "2026-12-02T10:00:01Z",
                            "status_code": 500,
                            "error": "HTTP 500",
                            "duration_ms": 42,
                        }
                    ],
                }
            ]
        }
    )

    id: int
    message_id: str = Field(description="The `webhook-id` header of every attempt.")
    event_type: str
    subject: str
    status: str = Field(description="`pending`, `delivered` or `failed` (replayable).")
    attempts: int
    next_attempt_at: datetime | None = Field(description="When the next attempt is due.")
    last_status_code: int | None
    last_error: str | None
    delivered_at: datetime | None
    created_at: datetime
    attempt_log: list[AttemptOut]


class EventTypeOut(BaseModel):
    """An event type this service sends."""

    event_type: str
    description: str
