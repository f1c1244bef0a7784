"""What changed, by whom and when (the service's own history), and the stored answers of
``Idempotency-Key`` requests."""

from __future__ import annotations

import json
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Index, String, Text, inspect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import UTCDateTime, utcnow
from shared.idempotency import IdempotencyMixin
from shared.security import Principal


class IdempotencyKey(IdempotencyMixin, Base):
    """The first answer to a creating POST or an import, by client and key."""

    __tablename__ = "idempotency_keys"


class ChangeRecord(Base):
    """One change to inventory data: who (client and organisation), when, and what
    (the record before and after, as JSON)."""

    __tablename__ = "change_records"
    __table_args__ = (Index("ix_change_records_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    client_id: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[int]
    action: Mapped[str] = mapped_column(String(20))
    before_json: Mapped[str | None] = mapped_column(Text)
    after_json: Mapped[str | None] = mapped_column(Text)


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def snapshot(record: object) -> dict[str, Any]:
    """The column values of an ORM record, JSON-ready."""
    mapper = inspect(record.__class__)
    return {c.key: _plain(getattr(record, c.key)) for c in mapper.column_attrs}


def record_change(
    session: AsyncSession,
    principal: Principal,
    *,
    entity: str,
    entity_id: int,
    action: str,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Add a change record to the session (committed with the change itself)."""
    session.add(
        ChangeRecord(
            client_id=principal.client_id,
            org_code=principal.org,
            entity=entity,
            entity_id=entity_id,
            action=action,
            before_json=None if before is None else json.dumps(before, default=str),
            after_json=None if after is None else json.dumps(after, default=str),
        )
    )


def record_saved(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    record: Any,
    action: str = "create",
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Log a record just created or changed (``after``: its snapshot, unless given)."""
    record_change(
        session,
        principal,
        entity=entity,
        entity_id=record.id,
        action=action,
        before=before,
        after=snapshot(record) if after is None else after,
    )
