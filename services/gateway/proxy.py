"""Forwarding of ``/inventory/...`` and ``/cooperation/...`` to the services.

A pure ASGI middleware in front of FastAPI's router: the forwarding hot path skips FastAPI's
routing and dependency machinery, which costs more per request than the forwarding itself.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Mapping
from typing import Any

import httpx
from starlette.types import ASGIApp, Receive, Scope, Send

from shared.context import request_id_var
from shared.problems import send_problem

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
MAX_PATH_BYTES = 2048
# Marks problems the gateway produced itself, as opposed to a service's relayed answer.
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
    segments = rest.split("/")
    if any(s in (".", "..") for s in segments):
        return None
    return rest or "/"


class ProxyMiddleware:
    """Forwards requests whose first path segment names a backend; passes on the rest."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        clients: Callable[[], Mapping[str, httpx.AsyncClient]],
        retry_after_s: int,
    ) -> None:
        self.app = app
        self.clients = clients
        self.retry_after = str(retry_after_s)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        name, _, rest = path[1:].partition("/")
        client = self.clients().get(name)
        if client is None:
            await self.app(scope, receive, send)
            return
        await self.forward(name, client, "/" + rest, scope, receive, send)

    async def forward(
        self,
        name: str,
        client: httpx.AsyncClient,
        rest: str,
        scope: Scope,
        receive: Receive,
        send: Send,
    ) -> None:
        """Send the request to backend ``name`` and stream its answer back."""
        instance = scope["path"]
        raw_path: bytes = scope.get("raw_path") or b""
        target = _target_path(rest)
        # Encoded slashes or NULs would let a path mean one thing here and another behind.
        if target is None or b"%2f" in raw_path.lower() or b"%00" in raw_path:
            await send_problem(
                send,
                400,
                "invalid-path",
                "The path is not valid.",
                instance=instance,
                source=GATEWAY,
            )
            return
        headers = forwardable(scope["headers"])
        headers = [(k, v) for k, v in headers if k != b"x-request-id"]
        headers.append((b"x-request-id", (request_id_var.get() or "").encode()))
        query: bytes = scope.get("query_string", b"")
        url = target + ("?" + query.decode("latin-1") if query else "")
        content: Any = _body(receive) if _has_body(scope) else None
        request = client.build_request(scope["method"], url, headers=headers, content=content)
        try:
            response = await client.send(request, stream=True)
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout) as exc:
            log.warning("backend unavailable", extra={"backend": name, "error": type(exc).__name__})
            await send_problem(
                send,
                503,
                "backend-unavailable",
                f"The {name} service is unavailable. Try again later.",
                instance=instance,
                headers={"Retry-After": self.retry_after},
                source=GATEWAY,
            )
            return
        except httpx.TimeoutException:
            log.warning("backend timeout", extra={"backend": name})
            await send_problem(
                send,
                504,
                "backend-timeout",
                f"The {name} service did not answer in time.",
                instance=instance,
                headers={"Retry-After": self.retry_after},
                source=GATEWAY,
            )
            return
        except httpx.HTTPError as exc:
            log.warning("backend error", extra={"backend": name, "error": type(exc).__name__})
            await send_problem(
                send,
                502,
                "bad-gateway",
                f"The {name} service failed.",
                instance=instance,
                source=GATEWAY,
            )
            return
        await self.relay(response, send)

    async def relay(self, response: httpx.Response, send: Send) -> None:
        """Stream ``response`` to the caller."""
        try:
            raw_headers = [
                (k.lower(), v)
                for k, v in forwardable(list(response.headers.raw))
                # Our own server sets Date and the request id; never relay the backend's.
                if k.lower() not in (b"x-request-id", b"date", b"server")
            ]
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": raw_headers,
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b""})
        except httpx.HTTPError:
            # Headers are already out: the caller sees a truncated body and a closed connection.
            log.warning("backend stream broke", extra={"status": response.status_code})
        finally:
            await response.aclose()
