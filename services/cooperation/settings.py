"""Settings of the cooperation service (environment prefix ``COOPERATION_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from shared.settings import ResourceServiceSettings
from shared.spreadsheets import XlsxLimits


class CooperationSettings(ResourceServiceSettings):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="COOPERATION_", extra="ignore", frozen=True)

    port: int = 8002
    database_url: str = "sqlite+aiosqlite:///var/cooperation.db"
    # What an XLSX matrix import may unpack to, checked before it is parsed (413 beyond):
    # bytes in all, the ratio to its compressed size (per member and overall), cells in all
    # sheets, entries of the shared-string table.
    import_max_xlsx_expanded: int = Field(default=64 * 1024 * 1024, ge=1024)
    import_max_xlsx_ratio: int = Field(default=100, ge=1)
    import_max_xlsx_cells: int = Field(default=1_000_000, ge=1)
    import_max_shared_strings: int = Field(default=500_000, ge=1)

    @property
    def xlsx_limits(self) -> XlsxLimits:
        """The XLSX guard's limits for imports."""
        return XlsxLimits(
            max_expanded=self.import_max_xlsx_expanded,
            max_ratio=self.import_max_xlsx_ratio,
            max_cells=self.import_max_xlsx_cells,
            max_shared_strings=self.import_max_shared_strings,
        )
