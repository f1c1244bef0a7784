"""Settings of the gateway (environment prefix ``GATEWAY_``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import SettingsConfigDict

from shared.forwarded import parse_origin
from shared.settings import ServiceSettings


class GatewaySettings(ServiceSettings):
    """Typed settings; see README.md for every variable."""

    model_config = SettingsConfigDict(env_prefix="GATEWAY_", extra="ignore", frozen=True)

    port: int = 8000
    # The public origin callers use (scheme://host[:port], no path; the gateway serves at its
    # root). Every URL a caller receives names it: pagination links, Location, redirects.
    # Unset: http://127.0.0.1:<port>, right for the embedded run only; production must set
    # it. Never taken from a caller's Host.
    public_url: str = ""
    # Web origins (comma-separated, or "*") whose pages may read the public read-only routes
    # across origins (services.gateway.cors). None by default.
    cors_origins: str = ""
    database_url: str = "sqlite+aiosqlite:///var/gateway.db"
    inventory_url: str = "http://127.0.0.1:8001"
    cooperation_url: str = "http://127.0.0.1:8002"
    # httpx's API either way; "aiohttp" measured 3-4x faster here (bench/proxy.py).
    transport: Literal["aiohttp", "httpx"] = "aiohttp"
    connect_timeout_s: float = Field(default=2.0, gt=0)
    read_timeout_s: float = Field(default=30.0, gt=0)
    write_timeout_s: float = Field(default=30.0, gt=0)
    pool_timeout_s: float = Field(default=5.0, gt=0)
    max_connections: int = Field(default=200, ge=1)
    max_keepalive: int = Field(default=100, ge=1)
    # Signing keys: PEM files in this directory (a mounted secret in production). The newest
    # signs; every key in it is published at /.well-known/jwks.json.
    keys_dir: str = "var/keys"
    token_lifetime_s: int = Field(default=300, ge=30, le=3600)
    # argon2id cost of hashing client secrets (the library's defaults, RFC 9106's low-memory
    # profile). Slow on purpose; the tests lower it. A stored hash keeps its own cost.
    argon2_time_cost: int = Field(default=3, ge=1)
    argon2_memory_kib: int = Field(default=65536, ge=8)
    argon2_parallelism: int = Field(default=4, ge=1)
    # At most this many argon2 hashes run at once (each takes argon2_memory_kib), so memory
    # stays bounded however many token requests arrive; a request waits up to hash_wait_s
    # for a free slot, then gets 503 with Retry-After.
    max_concurrent_hashes: int = Field(default=2, ge=1)
    hash_wait_s: float = Field(default=2.0, ge=0)
    # Requests per minute per client (unless the client has its own), and on /oauth/token per
    # IP address and per client id (attempts, failed or not, counted before argon2 runs).
    # With a Redis URL the counters are shared by every gateway process.
    rate_limit_per_minute: int = Field(default=600, ge=1)
    token_rate_limit_per_minute: int = Field(default=30, ge=1)
    token_rate_limit_per_client_per_minute: int = Field(default=30, ge=1)
    redis_url: str | None = None
    # How often each process reloads disabled clients and revoked tokens from the database
    # (and so how stale GET /.well-known/revocations.json, the services' copy, may be).
    revocation_refresh_s: float = Field(default=5.0, gt=0)
    # Circuit breaker per backend: open after this many consecutive failures, for this long.
    breaker_failures: int = Field(default=5, ge=1)
    breaker_reset_s: float = Field(default=10.0, gt=0)
    # The half-open probe's own timeout (connect, read, write, pool), so a slow probe is
    # given up soon and other requests are not held behind it.
    breaker_probe_timeout_s: float = Field(default=2.0, gt=0)
    # Request headers: refused (431) before any work beyond these.
    max_header_lines: int = Field(default=100, ge=1)
    max_header_bytes: int = Field(default=8 * 1024, ge=256)
    max_headers_total_bytes: int = Field(default=32 * 1024, ge=1024)
    # Seconds GET /health answers from its last result (anonymous calls reach no backend).
    health_cache_s: float = Field(default=2.0, ge=0)
    # Audit log (audit.py): a response is sent only once its entry is durable. Entries of
    # concurrent requests share one transaction, committed every audit_flush_ms (sooner when
    # audit_max_batch wait). While the database cannot take them they go, fsync'ed, to a
    # spool in audit_spool_dir ("" for none: then requests are answered 503 instead),
    # drained into the chain once it is back. audit_verify_chunk: entries per verify query.
    audit_flush_ms: float = Field(default=2.0, ge=0, le=1000)
    audit_max_batch: int = Field(default=500, ge=1, le=2000)
    audit_spool_dir: str = "var/audit-spool"
    audit_heartbeat_s: float = Field(default=10.0, gt=0)
    audit_verify_chunk: int = Field(default=2000, ge=100, le=100_000)

    @field_validator("public_url")
    @classmethod
    def _an_origin(cls, value: str) -> str:
        if value.strip():
            parse_origin(value)  # ValueError: not an origin
        return value.strip().rstrip("/")

    @property
    def public_origin(self) -> str:
        """The public origin: ``public_url``, else this process on 127.0.0.1."""
        return self.public_url or f"http://127.0.0.1:{self.port}"
