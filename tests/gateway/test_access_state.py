"""The gateway's in-memory access state: loads that overlap (the background reload and the
one after a change) never let an earlier read replace a later one, which could forget a
revocation or a new client until the next reload."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from types import SimpleNamespace
from typing import Any

from fastapi import FastAPI

from services.gateway.access import AccessState
from tests.conftest import Tokens


async def test_an_earlier_slower_load_does_not_replace_a_later_one(
    gateway_app: FastAPI, tokens: Tokens
) -> None:
    real = gateway_app.state.db
    access = AccessState(real, refresh_s=3600)
    await access.load()
    first_read, finish_first = asyncio.Event(), asyncio.Event()
    calls = 0

    @asynccontextmanager
    async def sessions() -> AsyncIterator[Any]:
        nonlocal calls
        calls += 1
        first = calls == 1
        async with real.sessions() as session:
            yield session
        if first:  # the first load has read the database; its result arrives late
            first_read.set()
            await finish_first.wait()

    access.db = SimpleNamespace(sessions=sessions)  # type: ignore[assignment]
    slow = asyncio.create_task(access.load())
    await first_read.wait()
    await tokens.register("late-comer", "MINAM", "inventory:read")
    await access.load()  # started later, finishes first: it sees the new client
    assert "late-comer" in access.limits
    finish_first.set()
    await slow
    assert "late-comer" in access.limits  # the stale read was dropped
