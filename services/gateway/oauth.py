"""``POST /oauth/token`` (client credentials, RFC 6749 4.4) and the public JWKS."""

from __future__ import annotations

import base64
import binascii
import time
from typing import Annotated
from urllib.parse import unquote

from fastapi import APIRouter, Form, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from services.gateway.access import AccessState
from services.gateway.clients import HasherBusy, SecretHasher, authenticate, revocation_epoch
from services.gateway.keys import KeyStore
from services.gateway.ratelimit import RateLimiter, RateLimitResult
from services.gateway.settings import GatewaySettings
from shared.db import SessionDep
from shared.problems import problem_response
from shared.revocations import issued_at
from shared.tokens import issue_access_token

router = APIRouter(tags=["tokens"])

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class TokenResponse(BaseModel):
    """A successful token response (RFC 6749 5.1)."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth2 token type, not a secret
    expires_in: int
    scope: str


class TokenErrorBody(BaseModel):
    """An error response (RFC 6749 5.2)."""

    error: str
    error_description: str


def _oauth_error(status: int, error: str, description: str, **headers: str) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **headers},
    )


async def hasher_busy(request: Request, exc: Exception) -> JSONResponse:
    """503 for a request that found every secret-hashing slot busy (HasherBusy)."""
    assert isinstance(exc, HasherBusy)
    settings: GatewaySettings = request.app.state.settings
    request.scope["state"]["outcome"] = "hasher_busy"
    return problem_response(
        503,
        "server-busy",
        detail="Too many client secrets are being checked at once; retry shortly.",
        instance=request.url.path,
        headers={"Retry-After": str(settings.retry_after_s), **NO_STORE},
    )


def _slow_down(request: Request, limit: RateLimitResult) -> JSONResponse:
    request.scope["state"]["outcome"] = "rate_limited"
    refused = _oauth_error(429, "slow_down", "Too many token requests; retry later.")
    refused.headers.update(limit.headers())
    return refused


async def _client_attempt(request: Request, client_id: str) -> RateLimitResult:
    """Count one token attempt for ``client_id``. Ids no client has share one counter, so
    made-up ids cannot create counters without end (nor escape the limit)."""
    settings: GatewaySettings = request.app.state.settings
    limiter: RateLimiter = request.app.state.limiter
    access: AccessState = request.app.state.access
    key = f"token-client:{client_id}" if client_id in access.limits else "token-client-unknown"
    return await limiter.hit(key, settings.token_rate_limit_per_client_per_minute)


def _basic_credentials(request: Request) -> tuple[str, str] | bool | None:
    """Client id and secret from HTTP Basic; None without it; False when malformed."""
    values = request.headers.getlist("authorization")
    if not values:
        return None
    scheme, _, encoded = values[0].partition(" ")
    if len(values) > 1 or scheme.lower() != "basic":
        return False
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return False
    client_id, sep, secret = decoded.partition(":")
    if not sep:
        return False
    # RFC 6749 2.3.1: both parts are form-urlencoded before Basic encoding.
    return unquote(client_id), unquote(secret)


@router.post(
    "/oauth/token",
    summary="Get an access token",
    description=(
        "OAuth2 client-credentials grant (RFC 6749 4.4). Authenticate with HTTP Basic "
        "(client id and secret) or with the `client_id` and `client_secret` form fields. "
        "`scope` is optional: without it the token carries every scope the client may have; "
        "asking for a scope the client was never granted is `invalid_scope`. The token is a "
        "JWT (RFC 9068, `typ: at+jwt`) valid for a few minutes; there is no refresh token. "
        "Attempts, failed or not, are limited per address and per client id (429 `slow_down` "
        "with `Retry-After`); while the most secrets the gateway checks at once are being "
        "checked, the answer is a 503 problem with `Retry-After`."
    ),
    response_model=TokenResponse,
    responses={
        400: {
            "model": TokenErrorBody,
            "description": "invalid_request, invalid_scope, unsupported_grant_type",
        },
        401: {"model": TokenErrorBody, "description": "invalid_client"},
        429: {"description": "Too many token requests from this address or for this client"},
        503: {"description": "Every secret-hashing slot is busy; retry after Retry-After"},
    },
)
async def token(
    request: Request,
    response: Response,
    session: SessionDep,
    grant_type: Annotated[str, Form(max_length=100)] = "",
    scope: Annotated[str | None, Form(max_length=1000)] = None,
    client_id: Annotated[str | None, Form(max_length=64)] = None,
    client_secret: Annotated[str | None, Form(max_length=200)] = None,
) -> TokenResponse | JSONResponse:
    """Issue a short-lived access token to an authenticated client.

    Refusals are raw responses: RFC 6749 5.2 error bodies, not the token model.
    """
    settings: GatewaySettings = request.app.state.settings
    limiter: RateLimiter = request.app.state.limiter
    ip = request.client.host if request.client else "unknown"
    limit = await limiter.hit(f"token-ip:{ip}", settings.token_rate_limit_per_minute)
    if not limit.allowed:
        return _slow_down(request, limit)

    basic = _basic_credentials(request)
    if basic is False or (basic and (client_id or client_secret)):
        return _oauth_error(400, "invalid_request", "Send client credentials one way only.")
    if not grant_type:
        return _oauth_error(400, "invalid_request", "grant_type is required.")
    if grant_type != "client_credentials":
        return _oauth_error(
            400, "unsupported_grant_type", "Only the client_credentials grant is supported."
        )
    cid, secret = basic if isinstance(basic, tuple) else (client_id, client_secret)
    if cid and not (limit := await _client_attempt(request, cid)).allowed:
        return _slow_down(request, limit)
    hasher: SecretHasher = request.app.state.hasher
    client = await authenticate(session, hasher, cid, secret) if cid and secret else None
    if client is None:
        request.scope["state"]["outcome"] = "invalid_client"
        # RFC 6749 5.2 asks for the Basic challenge, but a browser answers it with its own
        # login prompt, so a script in a page (Swagger UI's Authorize dialog) never sees the
        # error: scripts that say so (X-Requested-With) get the 401 without it.
        scripted = request.headers.get("x-requested-with", "").lower() == "xmlhttprequest"
        extra = {"WWW-Authenticate": 'Basic realm="enlace"'} if basic and not scripted else {}
        return _oauth_error(401, "invalid_client", "Client authentication failed.", **extra)
    request.scope["state"].update(client_id=client.client_id, org=client.org_code)

    allowed = client.scopes.split()
    requested = scope.split() if scope else allowed
    if not requested or set(requested) - set(allowed):
        return _oauth_error(
            400, "invalid_scope", "The requested scope is not granted to this client."
        )

    keys: KeyStore = request.app.state.keys
    access_token, claims = issue_access_token(
        keys.active(),
        issuer=settings.token_issuer,
        audience=settings.token_audience,
        client_id=client.client_id,
        org=client.org_code,
        scopes=sorted(set(requested)),
        lifetime_s=settings.token_lifetime_s,
        now=issued_at(time.time(), revocation_epoch(client)),
    )
    response.headers.update(NO_STORE)
    return TokenResponse(
        access_token=access_token, expires_in=settings.token_lifetime_s, scope=claims["scope"]
    )


@router.get(
    "/.well-known/jwks.json",
    summary="Public signing keys",
    description="The JWK Set that verifies Enlace access tokens. Keys rotate with overlap: "
    "cache it, and fetch it again when a token names an unknown `kid`.",
)
async def jwks(request: Request) -> JSONResponse:
    """The current public keys."""
    keys: KeyStore = request.app.state.keys
    return JSONResponse(keys.jwks(), headers={"Cache-Control": "public, max-age=60"})


@router.get(
    "/.well-known/revocations.json",
    summary="Revoked tokens",
    description="What the services refuse besides expired tokens: `jtis`, the ids of revoked "
    "tokens not yet expired, and `valid_after`, per client id the second (Unix time) at or "
    "before which its tokens were issued are refused (the client was disabled, its secret "
    "rotated or all its tokens revoked), for as long as such a token can be alive. Public, as "
    "the JWKS is: it holds no secret. Refreshed by the gateway every few seconds; 503 while "
    "the gateway could not read it from its database yet.",
    responses={503: {"description": "Not read from the database yet"}},
)
async def revocations(request: Request) -> Response:
    """The revocation list, encoded once per reload of the access state; 503 while the
    gateway could not read it from its database yet."""
    access: AccessState = request.app.state.access
    if access.published is None:
        settings: GatewaySettings = request.app.state.settings
        return problem_response(
            503,
            "not-ready",
            detail="The revocation list could not be read from the database yet.",
            instance=request.url.path,
            headers={"Retry-After": str(settings.retry_after_s)},
        )
    return Response(
        access.published, media_type="application/json", headers={"Cache-Control": "no-cache"}
    )
