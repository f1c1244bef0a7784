"""Settings of the inventory service (environment prefix ``INVENTORY_``)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ImportWorkerSettings, ResourceServiceSettings, XlsxImportSettings
from shared.webhooks.settings import WebhookSettings


class InventorySettings(
    ResourceServiceSettings, XlsxImportSettings, ImportWorkerSettings, WebhookSettings
):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="INVENTORY_", extra="ignore", frozen=True)

    port: int = 8001
    database_url: str = "sqlite+aiosqlite:///var/inventory.db"
    # Largest import file accepted (bytes); spooled to disk beyond 1 MB. Through the gateway
    # its own body limit (GATEWAY_MAX_BODY_BYTES) applies first.
    import_max_bytes: int = Field(default=100 * 1024 * 1024, ge=1024)
    # Most columns an import file's header may have (422 beyond).
    import_max_columns: int = Field(default=200, ge=1)
    # Rows an import parses and writes at a time (one COPY of items on PostgreSQL); the
    # next batches are read and checked while one is written.
    import_batch_rows: int = Field(default=2000, ge=1, le=100_000)
    # XLSX limits (XlsxImportSettings): inventories are larger than matrices.
    import_max_xlsx_expanded: int = Field(default=512 * 1024 * 1024, ge=1024)
    import_max_xlsx_cells: int = Field(default=5_000_000, ge=1)
    import_max_shared_strings: int = Field(default=1_000_000, ge=1)
    # PCB evidence integrity (README "Configuration"): how far a disposed mass may fall
    # short of the item's known mass (kg), and how far (a fraction) a recorded fluid
    # volume and mass may stray from every known fluid density.
    pcb_disposed_mass_tolerance_kg: Decimal = Field(default=Decimal("0.001"), ge=0)
    pcb_density_tolerance: Decimal = Field(default=Decimal("0.2"), ge=0, lt=1)
    # Most inventories (years + submissions) one UP-POPs comparison shows side by side.
    report_compare_max_columns: int = Field(default=10, ge=2, le=100)
    # How often PCB equipment in use in a populated area must be inspected (months): the
    # flag inspection_overdue is raised without an inspection in that many months.
    pcb_inspection_interval_months: int = Field(default=12, ge=1, le=120)
