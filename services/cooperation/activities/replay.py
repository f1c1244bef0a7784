"""The Idempotency-Key flow of the cooperation's creating requests (an activity, an import)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request, Response
from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.models import IdempotencyKey
from shared.idempotency import once
from shared.security import Principal

M = TypeVar("M", bound=BaseModel)


async def answer_once(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    make: Callable[[], Awaitable[M]],
    status: int,
    *,
    fingerprint: bytes | None = None,
) -> M | Response:
    """``make()``'s answer, kept under the caller's Idempotency-Key (in the transaction of
    the change). A retry gets the stored first answer as it was sent: a raw ``Response``,
    since it is a replay and not a model built now."""
    key = await once(request, session, IdempotencyKey, principal.client_id, fingerprint=fingerprint)
    first = await key.replay()
    if first is not None:
        return first
    answer = await make()
    await key.keep(answer, status)
    return answer
