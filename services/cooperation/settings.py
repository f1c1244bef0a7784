"""Settings of the cooperation service (environment prefix ``COOPERATION_``)."""

from __future__ import annotations

from pydantic import Field, SecretStr
from pydantic_settings import SettingsConfigDict

from shared.settings import ImportWorkerSettings, ResourceServiceSettings, XlsxImportSettings
from shared.webhooks.settings import WebhookSettings


class CooperationSettings(
    ResourceServiceSettings, XlsxImportSettings, ImportWorkerSettings, WebhookSettings
):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="COOPERATION_", extra="ignore", frozen=True)

    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/cooperation.db"
    # Activity filters (``activities/filters.py``): values of one filter, characters of ``q``.
    filter_max_values: int = Field(default=100, ge=1, le=10_000)
    filter_max_text_chars: int = Field(default=200, ge=1, le=10_000)
    # Indicators fed by the inventory (``bindings/``): the gateway's base URL, this service's
    # client credentials there (scope inventory:read; never logged), how often every binding
    # is refreshed (seconds, 0: never on a timer; the first run follows start-up), the
    # timeout of one call, and the Standard Webhooks secret (``whsec_...``) that the
    # inventory's events are signed with. Without a URL nothing is read.
    inventory_api_url: str | None = None
    inventory_client_id: str | None = None
    inventory_client_secret: SecretStr | None = None
    inventory_refresh_s: float = Field(default=900.0, ge=0)
    inventory_timeout_s: float = Field(default=5.0, gt=0, le=60)
    inventory_webhook_secret: SecretStr | None = None
    # Where the inventory delivers its submission.validated events to this service (its
    # own /v1/inventory-events, reached directly, not through the gateway): with the
    # webhook secret, the service subscribes itself at start-up. None: no subscription.
    inventory_events_url: str | None = None
