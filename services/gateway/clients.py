"""API clients: registration, secrets, authentication, disabling and revocation."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import TypeVar

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.gateway.models import Client, RevokedToken
from services.gateway.settings import GatewaySettings
from shared.db import utcnow
from shared.security import SCOPES

T = TypeVar("T")


class HasherBusy(Exception):
    """Every hashing slot stayed taken for the whole wait."""


class SecretHasher:
    """argon2id hashing of client secrets, at the cost the gateway settings give, in worker
    threads: at most ``max_concurrent_hashes`` at once (each takes ``argon2_memory_kib``), a
    caller waiting ``hash_wait_s`` at most for a free slot (then ``HasherBusy``)."""

    def __init__(self, settings: GatewaySettings) -> None:
        self._hasher = PasswordHasher(
            time_cost=settings.argon2_time_cost,
            memory_cost=settings.argon2_memory_kib,
            parallelism=settings.argon2_parallelism,
        )
        # Compared against when the client id is unknown, so both paths take the same time.
        self.dummy_hash = self._hasher.hash(secrets.token_urlsafe(32))
        self._slots = asyncio.Semaphore(settings.max_concurrent_hashes)
        self.wait_s = settings.hash_wait_s

    @asynccontextmanager
    async def slot(self) -> AsyncIterator[None]:
        """Hold one hashing slot; ``HasherBusy`` when none frees up within ``wait_s``."""
        try:
            async with asyncio.timeout(self.wait_s):
                await self._slots.acquire()
        except TimeoutError:
            raise HasherBusy from None
        try:
            yield
        finally:
            self._slots.release()

    async def _run(self, fn: Callable[..., T], *args: str) -> T:
        async with self.slot():
            # Not abandoned on cancellation: the slot is held until the thread is done.
            return await anyio.to_thread.run_sync(fn, *args)

    async def hash(self, secret: str) -> str:
        """The hash to store for ``secret`` (computed off the event loop)."""
        return await self._run(self._hasher.hash, secret)

    def _verify(self, hash_: str, secret: str) -> bool:
        try:
            return self._hasher.verify(hash_, secret)
        except (VerificationError, InvalidHashError):
            return False

    async def verify(self, hash_: str, secret: str) -> bool:
        """True when ``secret`` matches ``hash_`` (computed off the event loop)."""
        return await self._run(self._verify, hash_, secret)


class ClientError(ValueError):
    """A client cannot be created or changed as asked."""


def new_secret() -> str:
    """A high-entropy client secret (256 bits)."""
    return secrets.token_urlsafe(32)


def _check_scopes(scopes: list[str]) -> str:
    unknown = set(scopes) - SCOPES.keys()
    if unknown or not scopes:
        raise ClientError(f"unknown or missing scopes: {' '.join(sorted(unknown)) or '(none)'}")
    return " ".join(sorted(set(scopes)))


async def create_client(
    session: AsyncSession,
    hasher: SecretHasher,
    *,
    client_id: str,
    name: str,
    org_code: str,
    scopes: list[str],
    rate_limit_per_minute: int | None = None,
) -> tuple[Client, str]:
    """Register a client; returns it and its secret (shown this once, stored hashed)."""
    if await session.scalar(select(Client.id).where(Client.client_id == client_id)):
        raise ClientError(f"client {client_id} exists")
    secret = new_secret()
    client = Client(
        client_id=client_id,
        name=name,
        org_code=org_code,
        scopes=_check_scopes(scopes),
        secret_hash=await hasher.hash(secret),
        rate_limit_per_minute=rate_limit_per_minute,
    )
    session.add(client)
    await session.flush()
    return client, secret


async def get_client(session: AsyncSession, client_id: str) -> Client | None:
    """The client registered as ``client_id``."""
    return await session.scalar(select(Client).where(Client.client_id == client_id))


async def list_clients(session: AsyncSession) -> list[Client]:
    """Every client, by client id."""
    return list(await session.scalars(select(Client).order_by(Client.client_id)))


async def authenticate(
    session: AsyncSession, hasher: SecretHasher, client_id: str, secret: str
) -> Client | None:
    """The enabled client with this id and secret, else None (same cost either way)."""
    client = await get_client(session, client_id)
    hash_ = client.secret_hash if client is not None else hasher.dummy_hash
    ok = await hasher.verify(hash_, secret)
    if client is None or not ok or client.disabled:
        return None
    return client


def disable_refusal(caller: str, target: Client, enabled_admins: list[str]) -> str | None:
    """Why ``caller`` may not disable ``target``, or None: never its own client, never the last
    enabled client holding the ``admin`` scope (nobody could administer the gateway)."""
    if target.client_id == caller:
        return "A client cannot disable itself."
    if "admin" in target.scopes.split() and set(enabled_admins) <= {target.client_id}:
        return f"{target.client_id} is the last enabled client with the admin scope."
    return None


async def enabled_admins(session: AsyncSession) -> list[str]:
    """Ids of the enabled clients with the ``admin`` scope, locked until the transaction
    ends (on PostgreSQL), so two admins disabling each other cannot both succeed."""
    rows = await session.execute(
        select(Client.client_id, Client.scopes)
        .where(Client.disabled.is_(False))
        .order_by(Client.client_id)
        .with_for_update()
    )
    return [client_id for client_id, scopes in rows if "admin" in scopes.split()]


def revocation_epoch(client: Client) -> int | None:
    """The second at or before which the client's tokens are refused, if any."""
    after = client.tokens_valid_after
    return None if after is None else int(after.timestamp())


async def revoke_issued_tokens(session: AsyncSession, client: Client) -> None:
    """Refuse every token issued to ``client`` until now (its new tokens stay valid)."""
    client.tokens_valid_after = utcnow()
    await session.flush()


async def set_disabled(session: AsyncSession, client: Client, disabled: bool) -> None:
    """Disable a client (its tokens are refused from now on, and stay refused after it is
    enabled again) or re-enable it."""
    client.disabled = disabled
    if disabled:
        client.tokens_valid_after = utcnow()
    await session.flush()


async def rotate_secret(session: AsyncSession, hasher: SecretHasher, client: Client) -> str:
    """Give ``client`` a new secret: the old one stops working at once, and so do the tokens
    it was used to get."""
    secret = new_secret()
    client.secret_hash = await hasher.hash(secret)
    client.secret_rotated_at = client.tokens_valid_after = utcnow()
    await session.flush()
    return secret


async def revoke_token(
    session: AsyncSession, *, jti: str, client_id: str, expires_at: int, reason: str | None
) -> None:
    """Refuse the token ``jti`` until it expires."""
    if await session.get(RevokedToken, jti) is None:
        session.add(
            RevokedToken(
                jti=jti,
                client_id=client_id,
                expires_at=datetime.fromtimestamp(expires_at, UTC),
                reason=reason,
            )
        )
        await session.flush()
