"""Revoked tokens: what the gateway publishes and what the services learn from it.

The gateway keeps revocations in its database: token ids (``jti``) revoked one by one, and per
client a revocation epoch, the second at or before which every token of the client was issued
is refused (set when the client is disabled, when its secret rotates and on "revoke all";
re-enabling a client leaves it). It publishes what a service needs at
``GET /.well-known/revocations.json``: the revoked ids not yet expired and the epochs that can
still refuse a live token. Each service fetches that list every few seconds, as it fetches the
JWKS, and refuses what it names.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.tokens import VerifiedToken

log = logging.getLogger("enlace.revocations")


def _epochs(value: Any) -> dict[str, int]:
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and type(v) is int for k, v in value.items()
    ):
        raise ValueError("valid_after is not an object of client ids and seconds")
    return value


@dataclass(frozen=True)
class Revocations:
    """Tokens refused before they expire: by id, and per client every token issued at or
    before its epoch (``iat <= valid_after[client_id]``: tokens carry whole seconds, and the
    gateway issues a client's new tokens after its epoch's second, see ``issued_at``)."""

    jtis: frozenset[str] = frozenset()
    valid_after: Mapping[str, int] = field(default_factory=dict)

    def refuses(self, token: VerifiedToken) -> bool:
        """True when ``token`` is revoked."""
        epoch = self.valid_after.get(token.client_id)
        return token.jti in self.jtis or (epoch is not None and token.iat <= epoch)

    def document(self) -> dict[str, Any]:
        """The published form (JSON)."""
        return {"jtis": sorted(self.jtis), "valid_after": dict(sorted(self.valid_after.items()))}

    @classmethod
    def from_document(cls, data: Any) -> Revocations:
        """Parse the published form; ValueError when it is not one."""
        jtis = data.get("jtis") if isinstance(data, dict) else None
        if not isinstance(jtis, list) or not all(isinstance(j, str) for j in jtis):
            raise ValueError("not a revocation list")
        return cls(jtis=frozenset(jtis), valid_after=_epochs(data.get("valid_after")))


def issued_at(now: float, epoch: int | None) -> int:
    """The ``iat`` of a token issued at ``now`` to a client whose epoch is ``epoch``: the
    current second, or the second after the epoch when that is later (a token asked for in the
    same second as a revocation, or from a gateway whose clock is behind, is still valid)."""
    second = int(now)
    return second if epoch is None else max(second, epoch + 1)


class RevocationList:
    """The gateway's revocation list, fetched from ``url`` every ``refresh_s`` seconds.

    Fails closed: until a first fetch succeeds ``ready`` is False (the service then refuses
    tokens with 503). Afterwards a failed fetch keeps the last list and is logged, so a
    revocation made while the gateway cannot be reached takes effect once it can again.
    """

    def __init__(
        self,
        url: str,
        *,
        refresh_s: float,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 5.0,
    ) -> None:
        self.url = url
        self.refresh_s = refresh_s
        self._client = httpx.AsyncClient(transport=transport, timeout=timeout_s, trust_env=False)
        self.current: Revocations | None = None
        self._task: asyncio.Task[None] | None = None

    @property
    def ready(self) -> bool:
        """True once a list was fetched."""
        return self.current is not None

    def refuses(self, token: VerifiedToken) -> bool:
        """True when the last fetched list revokes ``token``."""
        return self.current is not None and self.current.refuses(token)

    async def refresh(self) -> bool:
        """Fetch the list now; False (the last list kept) when that fails."""
        try:
            response = await self._client.get(self.url)
            response.raise_for_status()
            self.current = Revocations.from_document(response.json())
        except (httpx.HTTPError, ValueError) as exc:
            log.warning("revocation list refresh failed: %s", type(exc).__name__)
            return False
        return True

    async def _loop(self) -> None:
        while True:
            await self.refresh()
            await asyncio.sleep(self.refresh_s)

    def start(self) -> None:
        """Fetch now and every ``refresh_s`` in the background."""
        self._task = asyncio.create_task(self._loop())

    async def aclose(self) -> None:
        """Stop fetching and close the HTTP client."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self._client.aclose()
