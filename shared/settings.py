"""Settings common to every Enlace process; each service subclasses with its own prefix."""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.spreadsheets import XlsxLimits


class ServiceSettings(BaseSettings):
    """Typed settings read from the environment (prefix set by each subclass)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    # "production" refuses what is only fit for a laptop: a SQLite database, demo clients.
    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str
    # The connection pool (README "Sizing the connection pools"): connections kept open,
    # connections opened beyond them under load, seconds a request waits for a free one
    # (then 503), seconds to connect (and the readiness check's timeout), and whether a
    # pooled connection is tested before use (one dead since a restart is then replaced).
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_max_overflow: int = Field(default=20, ge=0, le=200)
    db_pool_timeout_s: float = Field(default=10.0, gt=0)
    db_timeout_s: float = Field(default=5.0, gt=0)
    db_pool_pre_ping: bool = True
    # Seconds a caller is told to wait (Retry-After) when something this process needs is
    # unavailable: its database, or for the gateway a backend.
    retry_after_s: int = Field(default=5, ge=1)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    # "json" one object per line, "console" for a terminal, "auto" by whether stdout is one.
    log_format: Literal["auto", "json", "console"] = "auto"
    access_log: bool = True
    # Who may read GET /metrics (comma-separated networks); anyone else gets a 404.
    metrics_allow: str = "127.0.0.1/32,::1/128"
    # Largest request body accepted (bytes): 413 beyond, with or without Content-Length.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
    # Largest request line and headers together (bytes) the HTTP server reads: 431 beyond,
    # before the app sees them (the gateway's finer header limits apply below this).
    max_request_head_bytes: int = Field(default=64 * 1024, ge=4096)
    # Access tokens: who issues them and for which audience (the gateway and the services
    # must agree), and the clock skew tolerated.
    token_issuer: str = "urn:enlace:gateway"  # noqa: S105 - an identifier, not a secret
    token_audience: str = "urn:enlace:api"  # noqa: S105 - an identifier, not a secret
    token_leeway_s: int = Field(default=30, ge=0, le=300)
    # Proxies whose X-Forwarded-For / X-Forwarded-Proto are believed (comma-separated IPs or
    # networks). None by default: a caller cannot choose the address its limits and audit
    # entries are keyed on.
    trusted_proxies: str = ""

    @property
    def production(self) -> bool:
        """True when ``environment`` is ``production``."""
        return self.environment == "production"

    @field_validator("metrics_allow")
    @classmethod
    def _networks(cls, value: str) -> str:
        for part in value.split(","):
            if part.strip():
                ipaddress.ip_network(part.strip(), strict=False)  # ValueError names the part
        return value

    @model_validator(mode="after")
    def _no_sqlite_in_production(self) -> ServiceSettings:
        if self.production and self.database_url.startswith("sqlite"):
            raise ValueError(
                "environment is production but database_url is SQLite; "
                "production needs PostgreSQL (postgresql+asyncpg://...)"
            )
        return self


class ResourceServiceSettings(ServiceSettings):
    """Settings of a service that verifies tokens itself (inventory, cooperation)."""

    # Where the public keys come from: the gateway's JWKS URL (cached, refreshed on an
    # unknown key id at most once per cooldown), or a JWK Set given as JSON.
    jwks_url: str | None = None
    jwks_json: str | None = None
    jwks_cooldown_s: float = Field(default=30.0, ge=1)
    # The gateway's revocation list (shared/revocations.py), fetched every refresh; by default
    # beside jwks_url (its /.well-known/revocations.json). None with neither URL set.
    revocations_url: str | None = None
    revocation_refresh_s: float = Field(default=5.0, gt=0)

    @property
    def revocation_list_url(self) -> str | None:
        """Where the revocation list is fetched from, if anywhere."""
        if self.revocations_url:
            return self.revocations_url
        if self.jwks_url and self.jwks_url.endswith("/jwks.json"):
            return self.jwks_url.removesuffix("jwks.json") + "revocations.json"
        return None


class XlsxImportSettings(BaseModel):
    """The limits of a service's XLSX imports, checked before a workbook is parsed (413
    beyond): bytes unpacked in all, the ratio to the compressed size (per member and
    overall), cells in all sheets, entries of the shared-string table. A service's settings
    inherit them, with its own defaults where its files are larger."""

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


class ImportWorkerSettings(BaseModel):
    """How a service's imports are parsed off its event loop: in at most
    ``import_workers`` worker threads at once; a further import waits up to
    ``import_queue_timeout_s`` for one, then gets a 503 with ``Retry-After:
    import_retry_after_s``."""

    import_workers: int = Field(default=2, ge=1, le=32)
    import_queue_timeout_s: float = Field(default=2.0, ge=0, le=60)
    import_retry_after_s: int = Field(default=5, ge=1, le=3600)
