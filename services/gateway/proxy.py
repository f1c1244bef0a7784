"""Forwarding of ``/inventory/...`` and ``/cooperation/...`` to the services.

A pure ASGI middleware in front of FastAPI's router: the forwarding hot path skips FastAPI's
routing and dependency machinery, which costs more per request than the forwarding itself.
Per request: path check, token verification, revocation, coarse scope check, rate limit,
circuit breaker, forwarding (one retry for idempotent requests on connection errors), relay.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from starlette.types import ASGIApp, Receive, Scope, Send

from services.gateway.access import AccessState
from services.gateway.backends import BackendClient
from services.gateway.breaker import CircuitBreaker
from services.gateway.edge import BodyTooLarge
from services.gateway.ratelimit import RateLimiter, RateLimitResult
from services.gateway.upstream import Failed, Response, TimedOut, Upstream, UpstreamError
from shared.context import request_id_var
from shared.middleware import HTTPMiddleware
from shared.problems import PROBLEM_BASE, Problem, send_problem
from shared.security import bearer_challenge, extract_bearer, unauthorized
from shared.tokens import TokenError, TokenVerifier, VerifiedToken
from shared.tracing import outgoing_traceparent

log = logging.getLogger("enlace.gateway.proxy")

# RFC 9110 7.6.1: connection-specific headers are never forwarded. Host is the backend's own.
HOP_BY_HOP = frozenset(
    {
        b"connection",
        b"keep-alive",
        b"proxy-authenticate",
        b"proxy-authorization",
        b"proxy-connection",
        b"te",
        b"trailer",
        b"transfer-encoding",
        b"upgrade",
        b"host",
    }
)
# Identity and forwarding headers a client could forge; services see only verified identity.
SPOOFABLE = frozenset(
    {
        b"x-org",
        b"x-client-id",
        b"x-user",
        b"x-forwarded-for",
        b"x-forwarded-host",
        b"x-forwarded-proto",
        b"x-forwarded-prefix",
        b"x-forwarded-port",
        b"x-real-ip",
        b"forwarded",
        b"x-request-id",
        # Replaced by the gateway's own span of the caller's trace (shared.tracing).
        b"traceparent",
    }
)
_NOT_RELAYED = frozenset({b"x-request-id", b"date", b"server"})
_DROP_REQUEST = HOP_BY_HOP | SPOOFABLE
_DROP_RESPONSE = HOP_BY_HOP | _NOT_RELAYED
MAX_PATH_BYTES = 2048
# The checked (decoded) path is percent-encoded again for the backend, so that it decodes to
# exactly what was checked here: an encoded "?" or "#" stays in the path, nothing is decoded
# twice. These characters need no encoding in a path (RFC 3986 pchar).
_PATH_SAFE = "/:@!$&'()*+,;=-._~"
IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS"})
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
# Anonymous callers reach only these paths of a service (published data, health).
PUBLIC_PREFIXES = ("/v1/public/", "/health/")
# A 5xx body larger than this is not a problem document of ours.
MAX_ERROR_BODY = 64 * 1024
_PROBLEM_KEYS = frozenset({"type", "title", "status", "detail", "instance", "request_id", "errors"})
GATEWAY = "gateway"


def _connection_listed(headers: list[tuple[bytes, bytes]]) -> set[bytes]:
    listed: set[bytes] = set()
    for name, value in headers:
        if name == b"connection":
            listed.update(token.strip().lower() for token in value.split(b","))
    return listed


def forwardable(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """``headers`` without hop-by-hop headers (also those named by ``Connection``)."""
    drop = HOP_BY_HOP | _connection_listed(headers)
    return [(k, v) for k, v in headers if k.lower() not in drop]


def _has_body(scope: Scope) -> bool:
    for name, value in scope["headers"]:
        if name == b"transfer-encoding" or (name == b"content-length" and value != b"0"):
            return True
    return False


async def _body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return
        chunk = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


def _target_path(rest: str) -> str | None:
    """The path on the backend, or None when the path is unsafe to forward."""
    if "\x00" in rest or len(rest) > MAX_PATH_BYTES:
        return None
    # "//x" would be read as an authority by the HTTP client: "/inventory//v1/a" reached "/a".
    if rest.startswith("//"):
        return None
    if any(s in (".", "..") for s in rest.split("/")):
        return None
    return rest or "/"


SUBSCRIPTIONS_SCOPE = "subscriptions"
SUBSCRIPTIONS_PATH = "/v1/subscriptions"


def is_subscriptions_path(target: str) -> bool:
    """True for a service's event subscription routes (``/v1/subscriptions...``)."""
    return target == SUBSCRIPTIONS_PATH or target.startswith(SUBSCRIPTIONS_PATH + "/")


def scope_allows(service: str, method: str, scopes: frozenset[str], target: str = "") -> bool:
    """The gateway's coarse check: some scope of the service, a writing one for writes;
    the ``subscriptions`` scope for the subscription routes, reads and writes alike.

    Services check each route's exact scopes again (a review route needs inventory:review,
    a subscription also the service's read scope).
    """
    if is_subscriptions_path(target):
        return SUBSCRIPTIONS_SCOPE in scopes
    if method in READ_METHODS:
        return any(s.startswith(service + ":") for s in scopes)
    return bool({f"{service}:write", f"{service}:review"} & scopes)


def is_clean_problem(content_type: str, body: bytes) -> bool:
    """True for a problem document of ours that names nothing internal."""
    if not content_type.startswith("application/problem+json") or len(body) > MAX_ERROR_BODY:
        return False
    try:
        data = json.loads(body)
    except ValueError:
        return False
    return (
        isinstance(data, dict)
        and set(data) <= _PROBLEM_KEYS
        and str(data.get("type", "")).startswith(PROBLEM_BASE)
        and "Traceback" not in body.decode("utf-8", "replace")
    )


@dataclass
class Edge:
    """What the proxy needs from the gateway app, created by its lifespan."""

    clients: Mapping[str, BackendClient]
    breakers: Mapping[str, CircuitBreaker]
    upstreams: Mapping[str, Upstream]
    verifier: TokenVerifier
    access: AccessState
    limiter: RateLimiter
    default_limit: int
    retry_after_s: int


class Refused(Exception):
    """A request the gateway answers itself."""

    def __init__(self, problem: Problem, outcome: str) -> None:
        super().__init__(problem.slug)
        self.problem = problem
        self.outcome = outcome


class ProxyMiddleware(HTTPMiddleware):
    """Forwards requests whose first path segment names a backend; passes on the rest."""

    def __init__(self, app: ASGIApp, *, edge: Any) -> None:
        super().__init__(app)
        # A callable, because the edge is built by the app's lifespan after this middleware.
        self.edge = edge

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        name, _, rest = scope["path"][1:].partition("/")
        edge: Edge | None = self.edge()
        if edge is None or name not in edge.clients:
            await self.app(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["route_label"] = f"/{name}/*"  # the metrics' route (a bounded label)
        rate: RateLimitResult | None = None
        try:
            target = self._check_path("/" + rest, scope)
            principal = await self._authenticate(edge, name, target, scope)
            key = f"client:{principal.client_id}" if principal else f"ip:{_ip(scope)}"
            limit = (
                edge.access.limits.get(principal.client_id) if principal else None
            ) or edge.default_limit
            rate = await edge.limiter.hit(key, limit)
            if not rate.allowed:
                raise Refused(
                    Problem(
                        429,
                        "too-many-requests",
                        "Rate limit reached; retry later.",
                        headers=rate.headers(),
                    ),
                    "rate_limited",
                )
            wait = edge.breakers[name].before_request()
            if wait is not None:
                raise Refused(
                    Problem(
                        503,
                        "backend-unavailable",
                        f"The {name} service is failing; requests are paused.",
                        headers={"Retry-After": str(wait)},
                    ),
                    "circuit_open",
                )
            # Half-open: this request is the one probe, sent with the probe's short timeout.
            state["breaker_probe"] = edge.breakers[name].probing
        except Refused as refused:
            state["outcome"] = refused.outcome
            p = refused.problem
            await send_problem(
                send,
                p.status,
                p.slug,
                p.detail or p.title,
                instance=scope["path"],
                headers=p.headers,
                source=GATEWAY,
            )
            return
        await self._forward(edge, name, target, scope, receive, send, rate)

    def _check_path(self, rest: str, scope: Scope) -> str:
        raw_path: bytes = scope.get("raw_path") or b""
        target = _target_path(rest)
        # Encoded slashes or NULs would let a path mean one thing here and another behind.
        if target is None or b"%2f" in raw_path.lower() or b"%00" in raw_path:
            raise Refused(Problem(400, "invalid-path", "The path is not valid."), "invalid_path")
        # A service's metrics are for its own operators, never public (shared.metrics).
        if target == "/metrics" or target.startswith(("/metrics?", "/metrics/")):
            raise Refused(Problem(404, "not-found", "No such resource."), "not_found")
        return target

    async def _authenticate(
        self, edge: Edge, name: str, target: str, scope: Scope
    ) -> VerifiedToken | None:
        state = scope["state"]
        try:
            token = extract_bearer(scope["headers"], scope.get("query_string", b""))
        except Problem as problem:
            raise Refused(problem, "invalid_request") from None
        method = scope["method"]
        # Public is public: a read of a public route needs no scope, with a token or without.
        public_read = method in READ_METHODS and target.startswith(PUBLIC_PREFIXES)
        if token is None:
            if public_read:
                return None
            raise Refused(
                Problem(
                    401,
                    "unauthorized",
                    "This resource needs a bearer token.",
                    headers={"WWW-Authenticate": bearer_challenge()},
                ),
                "missing_token",
            )
        try:
            principal = await edge.verifier.verify(token)
        except TokenError as exc:
            raise Refused(unauthorized(exc.description), "invalid_token") from None
        state.update(client_id=principal.client_id, org=principal.org)
        try:
            allowed = edge.access.allows(principal)
        except Problem as problem:  # a 503: no client known yet (the gateway database is down)
            raise Refused(problem, "access_unknown") from None
        if not allowed:
            raise Refused(unauthorized("The token has been revoked."), "revoked")
        if not public_read and not scope_allows(name, method, principal.scopes, target):
            needed = f"{name}:read" if method in READ_METHODS else f"{name}:write"
            if is_subscriptions_path(target):
                needed = SUBSCRIPTIONS_SCOPE
            raise Refused(
                Problem(
                    403,
                    "insufficient-scope",
                    f"This request needs the scope {needed}.",
                    headers={
                        "WWW-Authenticate": bearer_challenge("insufficient_scope", scope=needed)
                    },
                ),
                "insufficient_scope",
            )
        return principal

    async def _forward(
        self,
        edge: Edge,
        name: str,
        target: str,
        scope: Scope,
        receive: Receive,
        send: Send,
        rate: RateLimitResult | None,
    ) -> None:
        client = edge.clients[name]
        breaker = edge.breakers[name]
        instance = scope["path"]
        state = scope["state"]
        headers = request_headers(scope["headers"])
        headers.append((b"x-request-id", (request_id_var.get() or "").encode()))
        traceparent = outgoing_traceparent()
        if traceparent is not None:
            headers.append((b"traceparent", traceparent.encode()))
        headers.append((b"x-forwarded-for", _ip(scope).encode()))
        headers += client.forwarding  # the public origin and prefix, for the service's URLs
        query: bytes = scope.get("query_string", b"")
        url = quote(target, safe=_PATH_SAFE) + ("?" + query.decode("latin-1") if query else "")
        method: str = scope["method"]
        has_body = _has_body(scope)
        retry_after = {"Retry-After": str(edge.retry_after_s)}
        probe = bool(state.get("breaker_probe"))
        # A half-open probe tries once, on its own short timeout: its answer decides the
        # breaker, and a retry would only hold the probe slot longer.
        attempts = 2 if method in IDEMPOTENT and not has_body and not probe else 1
        upstream = edge.upstreams[name]
        response: Response | None = None
        failure: tuple[int, str, str, dict[str, str]] | None = None
        for attempt in range(attempts):
            try:
                response = await upstream.send(
                    method,
                    url,
                    headers,
                    _body(receive) if has_body else None,
                    probe_timeout_s=breaker.probe_timeout_s if probe else None,
                )
                break
            except UpstreamError as exc:
                if state.get("body_too_large"):
                    raise BodyTooLarge from None
                if isinstance(exc, TimedOut):
                    log.warning("backend timeout", extra={"backend": name})
                    failure = (
                        504,
                        "backend-timeout",
                        f"The {name} service did not answer in time.",
                        retry_after,
                    )
                    break
                if isinstance(exc, Failed):
                    log.warning("backend error", extra={"backend": name, "error": str(exc)})
                    failure = (502, "bad-gateway", f"The {name} service gave no valid answer.", {})
                    break
                log.warning(
                    "backend unavailable",
                    extra={"backend": name, "error": str(exc), "attempt": attempt},
                )
                failure = (
                    503,
                    "backend-unavailable",
                    f"The {name} service is unavailable. Try again later.",
                    retry_after,
                )
        if response is None:
            assert failure is not None
            breaker.record_failure()
            status, slug, detail, extra = failure
            state["outcome"] = slug
            await send_problem(
                send, status, slug, detail, instance=instance, headers=extra, source=GATEWAY
            )
            return
        breaker.record_success()
        await self._relay(name, client, response, send, instance, rate)

    async def _relay(
        self,
        name: str,
        client: BackendClient,
        response: Response,
        send: Send,
        instance: str,
        rate: RateLimitResult | None,
    ) -> None:
        """Stream ``response`` to the caller; a 5xx that is not a clean problem becomes 502."""
        try:
            raw_headers = relayed_headers(client, response.headers)
            if rate is not None:
                raw_headers += rate.raw_headers()
            if response.status >= 500:
                body = await _read_limited(response)
                content_type = next((v for k, v in raw_headers if k == b"content-type"), b"")
                if body is None or not is_clean_problem(content_type.decode("latin-1"), body):
                    log.warning(
                        "sanitized backend error",
                        extra={"backend": name, "status": response.status},
                    )
                    await send_problem(
                        send,
                        502,
                        "bad-gateway",
                        f"The {name} service failed.",
                        instance=instance,
                        source=GATEWAY,
                    )
                    return
                await send(
                    {
                        "type": "http.response.start",
                        "status": response.status,
                        "headers": raw_headers,
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
            await send(
                {"type": "http.response.start", "status": response.status, "headers": raw_headers}
            )
            async for chunk in response.chunks():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except Failed:
            # Headers are already out: the caller sees a truncated body and a closed connection.
            log.warning("backend stream broke", extra={"backend": name, "status": response.status})
        finally:
            await response.aclose()


def request_headers(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """A caller's headers as forwarded: no hop-by-hop (also those named by ``Connection``),
    nothing that claims an identity or a forwarding."""
    drop = _DROP_REQUEST
    for name, _ in headers:
        if name == b"connection":
            drop = drop | _connection_listed(headers)
            break
    return [(k, v) for k, v in headers if k.lower() not in drop]


def relayed_headers(
    client: BackendClient, headers: list[tuple[bytes, bytes]]
) -> list[tuple[bytes, bytes]]:
    """A backend's response headers as relayed: lower-case names, no hop-by-hop, none that
    the gateway sets itself, URLs at the backend's own address made public."""
    drop = _DROP_RESPONSE
    lowered = [(k.lower(), v) for k, v in headers]
    for name, _ in lowered:
        if name == b"connection":
            drop = drop | _connection_listed(lowered)
            break
    return [(k, client.publish(k, v)) for k, v in lowered if k not in drop]


async def _read_limited(response: Response) -> bytes | None:
    body = b""
    async for chunk in response.chunks():
        body += chunk
        if len(body) > MAX_ERROR_BODY:
            return None
    return body


def _ip(scope: Scope) -> str:
    client = scope.get("client")
    return str(client[0]) if client else "unknown"
