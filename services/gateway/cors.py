"""CORS for the public read-only routes only (``GATEWAY_CORS_ORIGINS``).

A web page on another origin (a ministry's site, a donor's dashboard) may read what is public
anyway: the services' ``/v1/public/`` routes through the gateway and the merged OpenAPI
document, with GET or HEAD and no credentials. No other route ever answers a cross-origin
request or a preflight with CORS headers, so a browser keeps every token-guarded route to
same-origin callers. With no origin configured (the default) nothing changes.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.middleware.cors import CORSMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.middleware import HTTPMiddleware
from shared.problems import send_problem

# What a reader of public data sends and reads beyond the CORS-safelisted headers.
ALLOWED_HEADERS = ("Accept-Language", "If-None-Match", "If-Modified-Since", "X-Request-ID")
EXPOSED_HEADERS = (
    "ETag",
    "Last-Modified",
    "Link",
    "X-Request-ID",
    "X-Total-Count",
    "Content-Language",
)


def public_paths(backends: Iterable[str]) -> tuple[str, ...]:
    """Path prefixes that are public and read-only through the gateway."""
    return (*(f"/{name}/v1/public/" for name in backends), "/openapi.json")


class PublicCors(HTTPMiddleware):
    """Starlette's CORS handling, applied to ``paths`` only."""

    def __init__(self, app: ASGIApp, *, origins: str, paths: tuple[str, ...]) -> None:
        super().__init__(app)
        allowed = [o.strip().rstrip("/") for o in origins.split(",") if o.strip()]
        self.paths = paths
        self.cors: ASGIApp | None = (
            CORSMiddleware(
                app,
                allow_origins=allowed,
                allow_methods=["GET", "HEAD"],
                allow_headers=list(ALLOWED_HEADERS),
                expose_headers=list(EXPOSED_HEADERS),
                allow_credentials=False,
                max_age=600,
            )
            if allowed
            else None
        )

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.cors is None or not scope["path"].startswith(self.paths):
            await self.app(scope, receive, send)
            return
        preflight = scope["method"] == "OPTIONS" and any(
            name == b"access-control-request-method" for name, _ in scope["headers"]
        )
        if not preflight:
            await self.cors(scope, receive, send)
            return
        # A refused preflight is Starlette's plain-text 400: answered as a problem instead,
        # with no CORS header (the browser then refuses the request it was asked about).
        start: Message = {}
        body = b""

        async def keep(message: Message) -> None:
            nonlocal start, body
            if message["type"] == "http.response.start":
                start = message
            else:
                body += message.get("body", b"")

        await self.cors(scope, receive, keep)
        if start.get("status") == 200:
            await send(start)
            await send({"type": "http.response.body", "body": body})
            return
        reason = body.decode("utf-8", "replace").strip() or "Not allowed"
        await send_problem(
            send,
            400,
            "cors-preflight-refused",
            f"{reason}: only GET and HEAD, with {', '.join(ALLOWED_HEADERS)}, are allowed "
            "across origins, on public routes.",
            instance=scope["path"],
        )
