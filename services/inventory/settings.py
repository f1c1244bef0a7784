"""Settings of the inventory service (environment prefix ``INVENTORY_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ResourceServiceSettings


class InventorySettings(ResourceServiceSettings):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore", frozen=True)

    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///var/inventory.db"
    # Largest import file accepted (bytes); spooled to disk beyond 1 MB. Through the gateway
    # its own body limit (GATEWAY_MAX_BODY_BYTES) applies first.
    import_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
