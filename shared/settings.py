"""Settings common to every Enlace process; each service subclasses with its own prefix."""

from __future__ import annotations

from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ServiceSettings(BaseSettings):
    """Typed settings read from the environment (prefix set by each subclass)."""

    model_config = SettingsConfigDict(extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    database_url: str
    db_pool_size: int = Field(default=10, ge=1, le=200)
    db_timeout_s: float = Field(default=5.0, gt=0)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    access_log: bool = True
    # Largest request body a service accepts (bytes); bulk imports have their own limit.
    max_body_bytes: int = Field(default=5 * 1024 * 1024, ge=1024)
