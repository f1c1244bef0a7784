"""Bearer-token authentication and scope checks for FastAPI routes (services and gateway).

The token itself is handled by ``shared.tokens``; this module turns its answers into
RFC 6750 responses and gives routes a verified ``Principal``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Annotated, Any

from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2, SecurityScopes

from shared.problems import Problem
from shared.tokens import TokenError, TokenVerifier, VerifiedToken

Principal = VerifiedToken

SCOPES: dict[str, str] = {
    "inventory:read": "Read inventory data (validated data, or your organisation's drafts)",
    "inventory:write": "Prepare and submit your organisation's inventory data",
    "inventory:review": "Review and validate inventory submissions (MINAM)",
    "cooperation:read": "Read cooperation programs and activities",
    "cooperation:write": "Edit activities your organisation leads or takes part in",
    "subscriptions": "Subscribe to events (webhooks) you may read, and read their delivery log",
    "admin": "Administer API clients, keys and the audit log",
}
REALM = "enlace"


def bearer_challenge(error: str | None = None, description: str | None = None, **extra: str) -> str:
    """A ``WWW-Authenticate`` value per RFC 6750 section 3."""
    parts = [f'realm="{REALM}"']
    if error:
        parts.append(f'error="{error}"')
    if description:
        parts.append(f'error_description="{description}"')
    parts += [f'{k}="{v}"' for k, v in extra.items()]
    return "Bearer " + ", ".join(parts)


def unauthorized(description: str | None) -> Problem:
    """401: no token (no error code, RFC 6750 3.1) or an invalid one."""
    if description is None:
        return Problem(
            401,
            "unauthorized",
            "This resource needs a bearer token (OAuth2 client credentials at /oauth/token).",
            headers={"WWW-Authenticate": bearer_challenge()},
        )
    return _challenged(401, "invalid_token", description)


def invalid_request(description: str) -> Problem:
    """400 ``invalid_request`` (RFC 6750 3.1)."""
    return _challenged(400, "invalid_request", description)


def _challenged(status: int, error: str, description: str) -> Problem:
    """A problem whose slug is the RFC 6750 ``error`` code, also named in its challenge."""
    challenge = bearer_challenge(error, description)
    return Problem(
        status, error.replace("_", "-"), description, headers={"WWW-Authenticate": challenge}
    )


def insufficient_scope(needed: Iterable[str]) -> Problem:
    """403 ``insufficient_scope`` naming the scopes the route needs."""
    scope = " ".join(sorted(needed))
    return Problem(
        403,
        "insufficient-scope",
        f"This request needs the scope(s): {scope}.",
        headers={"WWW-Authenticate": bearer_challenge("insufficient_scope", scope=scope)},
    )


def extract_bearer(headers: Iterable[tuple[bytes, bytes]], query_string: bytes) -> str | None:
    """The bearer token of a request, or None when there is none.

    Raises ``invalid_request`` for ambiguous requests: several Authorization headers, a token
    both in the header and the query, a token in the query (leaks into logs), another scheme.
    """
    values = [v for k, v in headers if k.lower() == b"authorization"]
    if b"access_token=" in query_string:
        raise invalid_request("Send the token in the Authorization header only.")
    if len(values) > 1:
        raise invalid_request("Send exactly one Authorization header.")
    if not values:
        return None
    scheme, _, token = values[0].decode("latin-1").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token or " " in token:
        raise invalid_request("Use the Bearer scheme with one token.")
    return token


class BearerToken(OAuth2):
    """OAuth2 client-credentials scheme (for the docs) with strict token extraction."""

    def __init__(self, token_url: str = "/oauth/token") -> None:  # noqa: S107
        flows = OAuthFlows(
            clientCredentials=OAuthFlowClientCredentials(tokenUrl=token_url, scopes=SCOPES)
        )
        super().__init__(flows=flows, scheme_name="OAuth2", auto_error=False)

    async def __call__(self, request: Request) -> str | None:  # type: ignore[override]
        return extract_bearer(request.scope["headers"], request.scope.get("query_string", b""))


bearer_scheme = BearerToken()


async def _verify(request: Request, token: str | None) -> Principal:
    if token is None:
        raise unauthorized(None)
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(token)
    except TokenError as exc:
        raise unauthorized(exc.description) from None
    check = getattr(request.app.state, "revocation_check", None)
    if check is not None and not check(principal):
        raise unauthorized("The token has been revoked.")
    # Lets the access log name the caller.
    request.scope.setdefault("state", {}).update(client_id=principal.client_id, org=principal.org)
    return principal


async def current_principal(
    request: Request,
    security_scopes: SecurityScopes,
    token: Annotated[str | None, Depends(bearer_scheme)],
) -> Principal:
    """The verified caller; 401 without a valid token, 403 without every required scope."""
    principal = await _verify(request, token)
    missing = set(security_scopes.scopes) - principal.scopes
    if missing:
        raise insufficient_scope(security_scopes.scopes)
    return principal


async def optional_principal(
    request: Request, token: Annotated[str | None, Depends(bearer_scheme)]
) -> Principal | None:
    """The verified caller if a token was sent (a bad token is still a 401), else None."""
    if token is None:
        return None
    return await _verify(request, token)


def require_scopes(*scopes: str) -> Any:
    """A dependency giving the verified ``Principal`` that holds all of ``scopes``."""
    return Security(current_principal, scopes=list(scopes))


MaybePrincipal = Annotated[Principal | None, Depends(optional_principal)]
