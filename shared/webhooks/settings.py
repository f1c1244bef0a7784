"""The settings of a service's event deliveries (a mixin of its settings class)."""

from __future__ import annotations

from pydantic import BaseModel, Field, model_validator


class WebhookSettings(BaseModel):
    """How events are delivered to subscribers.

    A failed attempt is retried after ``webhook_backoff_base_s * 2**(attempt-1)`` seconds
    (at most ``webhook_backoff_cap_s``), of which a random half is taken off (jitter), up
    to ``webhook_max_attempts`` attempts; then the delivery is failed (and can be replayed).
    ``webhook_allow_http`` lets subscribers register plain-HTTP URLs (development only);
    ``webhook_allowed_hosts`` (comma-separated host names or addresses, set by an
    administrator) may be private or loopback addresses, which are refused otherwise.
    """

    webhook_worker: bool = True
    webhook_poll_s: float = Field(default=1.0, gt=0, le=60)
    webhook_batch: int = Field(default=20, ge=1, le=500)
    webhook_timeout_s: float = Field(default=5.0, gt=0, le=60)
    webhook_max_attempts: int = Field(default=8, ge=1, le=50)
    webhook_backoff_base_s: float = Field(default=10.0, gt=0)
    webhook_backoff_cap_s: float = Field(default=3600.0, gt=0)
    webhook_allow_http: bool = False
    webhook_allowed_hosts: str = ""
    webhook_max_subscriptions: int = Field(default=20, ge=1, le=1000)
    # Days a delivered or failed delivery stays in the log (and can be replayed).
    webhook_retention_days: int = Field(default=30, ge=1, le=3650)

    @property
    def webhook_allow_list(self) -> frozenset[str]:
        """The allow-listed hosts, lower case."""
        hosts = self.webhook_allowed_hosts.split(",")
        return frozenset(h.strip().lower().strip("[]") for h in hosts if h.strip())

    @model_validator(mode="after")
    def _https_in_production(self) -> WebhookSettings:
        if getattr(self, "environment", None) == "production" and self.webhook_allow_http:
            raise ValueError("webhook_allow_http is for development; production sends HTTPS only")
        return self
