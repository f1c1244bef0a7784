"""Settings of the cooperation service (environment prefix ``COOPERATION_``)."""

from __future__ import annotations

from pydantic import Field
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
