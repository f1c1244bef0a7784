"""What every gateway process must know on the hot path, kept in memory: disabled clients,
revoked tokens, revocation epochs and per-client rate limits, reloaded from the database
every few seconds; and the revocation list the services fetch (shared/revocations.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import time

from sqlalchemy import select

from services.gateway.models import Client, RevokedToken
from shared.db import Database, utcnow
from shared.problems import database_unavailable, unavailable
from shared.revocations import Revocations
from shared.tokens import VerifiedToken

log = logging.getLogger("enlace.gateway.access")


class AccessState:
    """Disabled clients, revocations and client rate limits.

    ``published`` is the body of ``GET /.well-known/revocations.json``: the revoked ids, and
    the epochs younger than ``horizon_s`` (older ones can refuse no token that is still
    alive), encoded once per load; None until the first load succeeded (an empty list would
    let the services accept what the database revokes).

    The gateway starts while its database is down: until the first load succeeds nothing
    is known of any client, and ``allows`` answers 503 instead of refusing every token.
    """

    def __init__(
        self,
        db: Database,
        *,
        refresh_s: float,
        horizon_s: float = math.inf,
        retry_after_s: int = 5,
    ) -> None:
        self.db = db
        self.refresh_s = refresh_s
        self.horizon_s = horizon_s
        self.retry_after_s = retry_after_s
        self.disabled: set[str] = set()
        self.revocations = Revocations()
        self.limits: dict[str, int] = {}
        self.published: bytes | None = None
        self._task: asyncio.Task[None] | None = None
        # Loads may overlap (the background reload and one after a change): a load that
        # started earlier never replaces what a later one read.
        self._started = 0
        self._applied = 0

    @property
    def loaded(self) -> bool:
        """Whether the state was read from the database at least once."""
        return self.published is not None

    def allows(self, token: VerifiedToken) -> bool:
        """False for tokens of disabled or unknown clients and revoked tokens.

        Raises a 503 ``Problem`` while the state was never loaded (the gateway database has
        not answered since the process started): every client would look unknown.
        """
        if not self.loaded:
            raise unavailable(
                self.retry_after_s,
                "The gateway cannot check tokens until its database answers. Try again later.",
            )
        return (
            token.client_id in self.limits
            and token.client_id not in self.disabled
            and not self.revocations.refuses(token)
        )

    async def load(self) -> None:
        """Read the current state from the database (kept as it was if that fails, or if a
        load that started later has already been applied)."""
        self._started += 1
        generation = self._started
        async with self.db.sessions() as session:
            clients = (
                await session.execute(
                    select(
                        Client.client_id,
                        Client.disabled,
                        Client.rate_limit_per_minute,
                        Client.tokens_valid_after,
                    )
                )
            ).all()
            revoked = frozenset(
                await session.scalars(
                    select(RevokedToken.jti).where(RevokedToken.expires_at > utcnow())
                )
            )
        epochs = {c: int(after.timestamp()) for c, _, _, after in clients if after is not None}
        oldest = time.time() - self.horizon_s
        recent = {c: epoch for c, epoch in epochs.items() if epoch >= oldest}
        if generation < self._applied:
            return  # older than what is in force
        self._applied = generation
        self.published = json.dumps(Revocations(revoked, recent).document()).encode()
        self.revocations = Revocations(revoked, epochs)
        self.disabled = {c for c, disabled, _, _ in clients if disabled}
        self.limits = {c: limit or 0 for c, _, limit, _ in clients}

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.refresh_s)
            try:
                await self.load()
            except Exception as exc:  # keep the last known state; the next round retries
                if why := database_unavailable(exc):
                    log.warning("could not reload access state: %s", why)
                else:
                    log.exception("could not reload access state")

    async def start(self) -> None:
        """Load now (unless the database is unavailable), then keep reloading in the
        background."""
        try:
            await self.load()
        except Exception as exc:  # the database down, or not migrated yet: start anyway
            why = database_unavailable(exc) or type(exc).__name__
            log.warning("access state not loaded, retrying every %ss: %s", self.refresh_s, why)
        self._task = asyncio.create_task(self._loop())

    async def stop(self) -> None:
        """Stop reloading."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
