"""The gateway's tables: API clients, revoked tokens and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from services.gateway.db import Base
from shared.db import UTCDateTime, VersionedMixin, utcnow


class Client(VersionedMixin, Base):
    """A registered API client: one agency system or partner integration."""

    __tablename__ = "clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    # Space-separated, as in OAuth2's scope parameter.
    scopes: Mapped[str] = mapped_column(String(500))
    # argon2id hash of the secret; the secret itself is shown once and never stored.
    secret_hash: Mapped[str] = mapped_column(String(200))
    disabled: Mapped[bool] = mapped_column(default=False)
    # Requests per minute through the gateway; NULL means the gateway's default.
    rate_limit_per_minute: Mapped[int | None]
    secret_rotated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Every token of the client issued at or before this second is refused (set when it is
    # disabled, when its secret rotates, on "revoke all"); re-enabling leaves it as it is.
    tokens_valid_after: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RevokedToken(Base):
    """An access token revoked before its expiry (by ``jti``)."""

    __tablename__ = "revoked_tokens"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    client_id: Mapped[str] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    revoked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str | None] = mapped_column(String(500))


class AuditEntry(Base):
    """One request through the gateway; rows form a hash chain (tamper-evident)."""

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_client_at", "client_id", "at"),
        Index("ix_audit_entries_org_at", "org", "at"),
    )

    # SQLite assigns ids only to INTEGER PRIMARY KEY columns; PostgreSQL gets a bigint.
    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer(), "sqlite"), primary_key=True, autoincrement=True
    )
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    client_id: Mapped[str | None] = mapped_column(String(64))
    org: Mapped[str | None] = mapped_column(String(40))
    method: Mapped[str] = mapped_column(String(10))
    path: Mapped[str] = mapped_column(String(2048))
    status: Mapped[int] = mapped_column(index=True)
    request_id: Mapped[str] = mapped_column(String(128))
    duration_ms: Mapped[float]
    ip: Mapped[str | None] = mapped_column(String(64))
    # SHA-256 of the request body, for writes only.
    body_sha256: Mapped[str | None] = mapped_column(String(64))
    # Why a request was refused at the gateway (invalid_token, rate_limited ...), if it was.
    outcome: Mapped[str | None] = mapped_column(String(40))
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The last entry of the chain, so that deleting the newest rows is detected too."""

    __tablename__ = "audit_head"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))


class AuditSession(Base):
    """One gateway process writing to the audit log, from start to clean stop.

    A session without ``stopped_at`` whose ``seen_at`` is old ended in a crash: the requests
    it had not answered yet have no entry (none it answered lacks one; see audit.py).
    """

    __tablename__ = "audit_sessions"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Refreshed every GATEWAY_AUDIT_HEARTBEAT_S while the process runs and reaches the database.
    seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stopped_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # How many of the session's spooled entries (numbered from 0) are in the chain: each is
    # drained exactly once, even if a drain is interrupted and repeated.
    spool_drained: Mapped[int] = mapped_column(BigInteger, default=0)


class AuditCheckpoint(Base):
    """The newest entry a verification found intact: the next one starts after it."""

    __tablename__ = "audit_checkpoint"

    id: Mapped[int] = mapped_column(primary_key=True)
    last_id: Mapped[int] = mapped_column(BigInteger)
    last_hash: Mapped[str] = mapped_column(String(64))
    verified_at: Mapped[datetime] = mapped_column(UTCDateTime)
