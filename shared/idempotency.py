"""``Idempotency-Key`` on creating POSTs and imports: a retry with the same key and body gets
the first answer again; the same key with another body is a 422.

Each service owns its table (``IdempotencyMixin`` gives the columns); this module holds the
logic only.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import String, Text, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, utcnow
from shared.problems import Problem

MAX_KEY = 200


class IdempotencyMixin:
    """Columns of a service's ``idempotency_keys`` table."""

    # Keys are scoped to the caller: two clients may use the same key independently.
    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(MAX_KEY), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[int]
    response_json: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def idempotency_key(request: Request) -> str | None:
    """The request's Idempotency-Key (400 when it is unusable)."""
    key = request.headers.get("idempotency-key")
    if key is None:
        return None
    if not key or len(key) > MAX_KEY or not key.isprintable():
        raise Problem(
            400,
            "invalid-idempotency-key",
            f"Idempotency-Key must be 1-{MAX_KEY} printable characters.",
        )
    return key


def body_digest(body: bytes) -> str:
    """SHA-256 of a request body."""
    return hashlib.sha256(body).hexdigest()


async def replay(
    session: AsyncSession, model: type[Any], *, client_id: str, key: str, request_sha256: str
) -> JSONResponse | None:
    """The stored answer for this key, or None when the key is new.

    The same key with a different body is a client error (422), never a silent overwrite.
    """
    record = await session.scalar(
        select(model).where(model.client_id == client_id, model.key == key)
    )
    if record is None:
        return None
    if record.request_sha256 != request_sha256:
        raise Problem(
            422,
            "idempotency-key-reused",
            "This Idempotency-Key was used with a different request body.",
        )
    return JSONResponse(
        json.loads(record.response_json),
        status_code=record.status,
        headers={"Idempotent-Replayed": "true"},
    )


async def remember(
    session: AsyncSession,
    model: type[Any],
    *,
    client_id: str,
    key: str,
    request_sha256: str,
    status: int,
    body: Any,
) -> None:
    """Store the answer given for this key (in the same transaction as the change)."""
    session.add(
        model(
            client_id=client_id,
            key=key,
            request_sha256=request_sha256,
            status=status,
            response_json=json.dumps(body, default=str),
        )
    )


@dataclass
class Once:
    """One request's Idempotency-Key flow, the only one the services use:

    ``first = await once.replay()`` gives the stored answer to a retry (return it as it is),
    then ``once.keep(answer, status)`` stores a new answer in the same transaction as the
    change, so that both commit or neither does. Without a key both do nothing.
    """

    session: AsyncSession
    table: type[Any]
    client_id: str
    key: str | None
    request_sha256: str

    async def replay(self) -> JSONResponse | None:
        if self.key is None:
            return None
        return await replay(
            self.session,
            self.table,
            client_id=self.client_id,
            key=self.key,
            request_sha256=self.request_sha256,
        )

    async def keep(self, answer: BaseModel | dict[str, Any], status: int) -> None:
        if self.key is None:
            return
        body = answer.model_dump(mode="json") if isinstance(answer, BaseModel) else answer
        await remember(
            self.session,
            self.table,
            client_id=self.client_id,
            key=self.key,
            request_sha256=self.request_sha256,
            status=status,
            body=body,
        )


async def once(
    request: Request,
    session: AsyncSession,
    table: type[Any],
    client_id: str,
    *,
    fingerprint: bytes | None = None,
) -> Once:
    """The Idempotency-Key flow of ``request`` (400 for an unusable key). The key is bound
    to ``fingerprint`` (default: the request body), so reusing it for another request is a
    422."""
    key = idempotency_key(request)
    digest = ""
    if key is not None:
        digest = body_digest(await request.body() if fingerprint is None else fingerprint)
    return Once(session, table, client_id, key, digest)
