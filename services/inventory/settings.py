"""Settings of the inventory service (environment prefix ``INVENTORY_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from shared.settings import ResourceServiceSettings


class InventorySettings(ResourceServiceSettings):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore", frozen=True)

    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///var/inventory.db"
