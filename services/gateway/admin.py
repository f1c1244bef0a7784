"""Administration (scope ``admin``): clients, token revocation, signing keys, audit log."""

from __future__ import annotations

from dataclasses import asdict
from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from services.gateway import audit_verify, clients
from services.gateway.access import AccessState
from services.gateway.audit import AuditLog
from services.gateway.keys import KeyStore
from services.gateway.models import Client
from services.gateway.settings import GatewaySettings
from shared.db import SessionDep, after_commit
from shared.pagination import CursorQuery, LimitQuery, Page, next_link
from shared.problems import Problem
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/admin", tags=["administration"])
Admin = Annotated[Principal, require_scopes("admin")]
NOT_FOUND: dict[int | str, dict[str, str]] = {404: {"description": "No such client"}}


class ClientIn(BaseModel):
    """A client to register."""

    model_config = ConfigDict(extra="forbid")

    client_id: str = Field(pattern=r"^[a-z0-9][a-z0-9._-]{2,63}$", examples=["minem-dgaae-sistema"])
    name: str = Field(min_length=1, max_length=200, examples=["MINEM DGAAE PCB system"])
    org_code: str = Field(pattern=r"^[A-Z0-9_-]{2,40}$", examples=["MINEM"])
    scopes: list[str] = Field(min_length=1, examples=[["inventory:read", "inventory:write"]])
    rate_limit_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)


class ClientOut(BaseModel):
    """A registered client (never its secret)."""

    model_config = ConfigDict(from_attributes=True)

    client_id: str
    name: str
    org_code: str
    scopes: str
    disabled: bool
    rate_limit_per_minute: int | None
    created_at: datetime
    secret_rotated_at: datetime


class ClientCreated(ClientOut):
    """A new client with its secret: shown this once, store it safely."""

    client_secret: str


class SecretOut(BaseModel):
    """A new client secret, shown this once."""

    client_id: str
    client_secret: str


class RevokeIn(BaseModel):
    """A token to refuse from now on."""

    model_config = ConfigDict(extra="forbid")

    jti: str = Field(min_length=8, max_length=64)
    client_id: str = Field(min_length=1, max_length=64)
    reason: str | None = Field(default=None, max_length=500)


class KeyOut(BaseModel):
    """The key that signs new tokens."""

    kid: str


class AuditEntryOut(BaseModel):
    """One audit log entry."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    at: datetime
    client_id: str | None
    org: str | None
    method: str
    path: str
    status: int
    request_id: str
    duration_ms: float
    ip: str | None
    body_sha256: str | None
    outcome: str | None
    prev_hash: str
    hash: str


class CrashedSession(BaseModel):
    """A gateway process that ended without a clean stop."""

    session: str
    host: str
    pid: int
    started_at: datetime
    last_seen_at: datetime
    spool_drained: int = Field(description="its spooled entries drained into the chain since")


class ChainOut(BaseModel):
    """The result of checking the audit log's hash chain, and what crashes may have cost."""

    ok: bool = Field(description="the chain is intact")
    checked: int
    first_broken_id: int | None
    reason: str | None
    verified_from: int = Field(
        description="the walk started after this entry, verified before (0: from the first)"
    )
    crashed_sessions: list[CrashedSession] = Field(description="newest first, at most 20")
    spooled: int = Field(description="entries in this host's spool, not yet in the chain")
    answered_may_be_missing: bool = Field(
        description="an answered request may lack its entry in the chain (broken or spooled)"
    )
    unanswered_may_be_missing: bool = Field(
        description="a process crashed: requests it had not answered have no entry"
    )


async def _client(session: SessionDep, client_id: str) -> Client:
    client = await clients.get_client(session, client_id)
    if client is None:
        raise Problem(404, "not-found", f"No client {client_id}.")
    return client


def _reload(request: Request, session: SessionDep) -> None:
    """Reload the access state once the change is committed (before the answer is sent)."""
    access: AccessState = request.app.state.access
    after_commit(session, access.load)


@router.post(
    "/clients",
    status_code=201,
    summary="Register a client",
    responses={409: {"description": "Client exists"}},
)
async def create_client(
    body: ClientIn, request: Request, session: SessionDep, _: Admin
) -> ClientCreated:
    """Register an agency system or partner integration; the secret is in this answer only."""
    try:
        client, secret = await clients.create_client(
            session, request.app.state.hasher, **body.model_dump()
        )
    except clients.ClientError as exc:
        status = 409 if "exists" in str(exc) else 422
        raise Problem(
            status, "conflict" if status == 409 else "validation-error", str(exc)
        ) from None
    _reload(request, session)
    return ClientCreated(**ClientOut.model_validate(client).model_dump(), client_secret=secret)


@router.get("/clients", summary="List clients")
async def list_clients(session: SessionDep, _: Admin) -> list[ClientOut]:
    """Every registered client."""
    return [ClientOut.model_validate(c) for c in await clients.list_clients(session)]


async def _set_disabled(
    request: Request, session: SessionDep, client_id: str, disabled: bool
) -> ClientOut:
    client = await _client(session, client_id)
    await clients.set_disabled(session, client, disabled)
    _reload(request, session)
    return ClientOut.model_validate(client)


@router.post(
    "/clients/{client_id}/disable",
    summary="Disable a client",
    responses={**NOT_FOUND, 409: {"description": "The caller's own client, or the last admin"}},
)
async def disable_client(
    client_id: str, request: Request, session: SessionDep, admin: Admin
) -> ClientOut:
    """Refuse the client's tokens and token requests from now on. The caller's own client
    and the last enabled client with the ``admin`` scope cannot be disabled (409)."""
    target = await _client(session, client_id)
    refusal = clients.disable_refusal(
        admin.client_id, target, await clients.enabled_admins(session)
    )
    if refusal is not None:
        raise Problem(409, "conflict", refusal)
    return await _set_disabled(request, session, client_id, True)


@router.post("/clients/{client_id}/enable", summary="Enable a client", responses=NOT_FOUND)
async def enable_client(
    client_id: str, request: Request, session: SessionDep, _: Admin
) -> ClientOut:
    """Accept the client again: it can get new tokens; the tokens it had before it was
    disabled stay refused."""
    return await _set_disabled(request, session, client_id, False)


@router.post(
    "/clients/{client_id}/rotate-secret",
    summary="Rotate a client's secret",
    responses={**NOT_FOUND, 503: {"description": "Secret hashing busy; retry after Retry-After"}},
)
async def rotate_secret(
    client_id: str, request: Request, session: SessionDep, _: Admin
) -> SecretOut:
    """A new secret; the old one stops working at once, and so do the tokens issued until
    now (the gateway refuses them at once, the services within their revocation refresh)."""
    client = await _client(session, client_id)
    secret = await clients.rotate_secret(session, request.app.state.hasher, client)
    _reload(request, session)
    return SecretOut(client_id=client.client_id, client_secret=secret)


@router.post(
    "/clients/{client_id}/revoke-tokens",
    status_code=204,
    summary="Revoke every token of a client",
    responses=NOT_FOUND,
)
async def revoke_client_tokens(
    client_id: str, request: Request, session: SessionDep, _: Admin
) -> None:
    """Refuse every token issued to the client until now; the client stays enabled and its
    new tokens are valid."""
    await clients.revoke_issued_tokens(session, await _client(session, client_id))
    _reload(request, session)


@router.post("/tokens/revoke", status_code=204, summary="Revoke a token")
async def revoke_token(body: RevokeIn, request: Request, session: SessionDep, _: Admin) -> None:
    """Refuse the token with this ``jti`` until it would have expired."""
    settings: GatewaySettings = request.app.state.settings
    now = int(datetime.now(UTC).timestamp())
    await clients.revoke_token(
        session,
        jti=body.jti,
        client_id=body.client_id,
        # No token lives longer than this, so the entry can be dropped afterwards.
        expires_at=now + settings.token_lifetime_s + settings.token_leeway_s,
        reason=body.reason,
    )
    _reload(request, session)


@router.post("/keys/rotate", summary="Rotate the signing key")
async def rotate_key(request: Request, _: Admin) -> KeyOut:
    """A new key signs from now on; the previous keys keep verifying until pruned."""
    keys: KeyStore = request.app.state.keys
    return KeyOut(kid=keys.rotate())


@router.get("/audit", summary="Audit log", response_model=Page[AuditEntryOut])
async def list_audit(
    request: Request,
    response: Response,
    session: SessionDep,
    _: Admin,
    client_id: Annotated[str | None, Query(max_length=64)] = None,
    org: Annotated[str | None, Query(max_length=40)] = None,
    since: datetime | None = None,
    until: datetime | None = None,
    status: Annotated[int | None, Query(ge=100, le=599)] = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[AuditEntryOut]:
    """Entries newest first, filtered by client, organisation, time range and status."""
    rows, next_cursor = await audit_verify.list_entries(
        session,
        client_id=client_id,
        org=org,
        since=since,
        until=until,
        status=status,
        cursor=cursor,
        limit=limit,
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[AuditEntryOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/audit/verify", summary="Verify the audit chain")
async def verify_audit(request: Request, _: Admin, full: bool = False) -> ChainOut:
    """Recompute the hash chain from the last verified entry (``full``: from the first);
    names the first broken entry, and the processes that crashed."""
    settings: GatewaySettings = request.app.state.settings
    log: AuditLog = request.app.state.audit
    db = request.app.state.db
    # One verification at a time per process: concurrent ones would only add up their cost.
    async with request.app.state.verify_lock:
        report = await audit_verify.verify_chain(
            db, full=full, chunk_rows=settings.audit_verify_chunk
        )
    crashes = await audit_verify.crash_report(
        db,
        report.ok,
        own_session=log.session.id,
        heartbeat_s=log.heartbeat_s,
        spool_dir=log.spool_dir,
    )
    return ChainOut.model_validate(asdict(report) | asdict(crashes))
