"""Signing deliveries per the Standard Webhooks specification (``standardwebhooks``)."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime

from standardwebhooks import Webhook

PREFIX = "whsec_"


def new_secret() -> str:
    """A subscription's signing secret: ``whsec_`` and 32 random bytes in base64."""
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")


def signed_headers(secret: str, message_id: str, at: datetime, body: str) -> dict[str, str]:
    """The headers of one attempt: ``webhook-id``, ``webhook-timestamp`` (the attempt's
    time, in seconds) and ``webhook-signature`` (``v1,<base64 HMAC-SHA256>``)."""
    signature = Webhook(secret).sign(message_id, at, body)
    return {
        "webhook-id": message_id,
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
        "user-agent": "Enlace-Webhooks/1.0",
    }
