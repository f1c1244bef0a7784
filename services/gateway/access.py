"""What every gateway process must know on the hot path, kept in memory: disabled clients,
revoked tokens and per-client rate limits, reloaded from the database every few seconds."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from sqlalchemy import select

from services.gateway.models import Client, RevokedToken
from shared.db import Database, utcnow
from shared.tokens import VerifiedToken

log = logging.getLogger("enlace.gateway.access")


class AccessState:
    """Disabled clients, revoked token ids and client rate limits."""

    def __init__(self, db: Database, *, refresh_s: float) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self.disabled: set[str] = set()
        self.revoked: set[str] = set()
        self.limits: dict[str, int] = {}
        self._task: asyncio.Task[None] | None = None

    def allows(self, token: VerifiedToken) -> bool:
        """False for tokens of disabled or unknown clients and revoked tokens."""
        return (
            token.client_id in self.limits
            and token.client_id not in self.disabled
            and token.jti not in self.revoked
        )

    async def load(self) -> None:
        """Read the current state from the database."""
        async with self.db.sessions() as session:
            clients = (
                await session.execute(
                    select(Client.client_id, Client.disabled, Client.rate_limit_per_minute)
                )
            ).all()
            revoked = await session.scalars(
                select(RevokedToken.jti).where(RevokedToken.expires_at > utcnow())
            )
            self.revoked = set(revoked)
        self.disabled = {c for c, disabled, _ in clients if disabled}
        self.limits = {c: limit or 0 for c, _, limit in clients}

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.load()
            except Exception:  # keep the last known state; the next round retries
                log.exception("could not reload access state")

    async def start(self) -> None:
        """Load now, then keep reloading in the background."""
        await self.load()
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop reloading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
