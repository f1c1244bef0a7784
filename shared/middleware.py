"""Pure ASGI middleware (no BaseHTTPMiddleware: it breaks context vars and streaming)."""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from shared.context import language_var, request_id_var
from shared.i18n import request_language
from shared.metrics import ProcessMetrics
from shared.problems import answer_unavailable, send_problem
from shared.tracing import span_for, span_var

access_log = logging.getLogger("enlace.access")
error_log = logging.getLogger("enlace.errors")

# A caller's request id is reused only if it is short and plain, so it cannot inject
# anything into logs or headers further down.
_SAFE_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def incoming_request_id(scope: Scope) -> str:
    """The caller's X-Request-ID when it is safe, else a new one."""
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            text: str = value.decode("latin-1")
            if _SAFE_ID.match(text):
                return text
            break
    return uuid.uuid4().hex


class HTTPMiddleware:
    """Base of the pure-ASGI middlewares: lifespan and websocket scopes go straight to
    ``app``; each HTTP request goes to ``http``."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        await self.http(scope, receive, send)

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one HTTP request."""
        raise NotImplementedError


def _language_headers(headers: list[tuple[bytes, bytes]], language: bytes) -> None:
    """``Content-Language`` (unless the answer has one: a backend's, relayed) and
    ``Vary: Accept-Language`` (added to any Vary already there)."""
    if not any(k == b"content-language" for k, _ in headers):
        headers.append((b"content-language", language))
    for i, (name, value) in enumerate(headers):
        if name == b"vary":
            if b"accept-language" not in value.lower() and value.strip() != b"*":
                headers[i] = (name, value + b", Accept-Language")
            return
    headers.append((b"vary", b"Accept-Language"))


class RequestContextMiddleware(HTTPMiddleware):
    """Assigns the request id, echoes it, sends ``X-Content-Type-Options: nosniff``, joins
    the caller's W3C trace (or starts one; ``shared.tracing``), and writes one structured
    access-log line."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        access_log_enabled: bool = True,
        metrics: ProcessMetrics | None = None,
    ) -> None:
        super().__init__(app)
        self.access_log_enabled = access_log_enabled
        self.metrics = metrics

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        request_id = incoming_request_id(scope)
        token = request_id_var.set(request_id)
        span_token = span_var.set(span_for(scope["headers"]))
        language = request_language(scope["headers"], scope.get("query_string", b""))
        language_token = language_var.set(language)
        raw_language = language.encode()
        scope.setdefault("state", {})["request_id"] = request_id
        started = time.perf_counter()
        status = 500
        started_response = False
        raw_id = request_id.encode()

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if k not in (b"x-request-id", b"x-content-type-options")
                ]
                headers.append((b"x-request-id", raw_id))
                _language_headers(headers, raw_language)
                # Browsers must take every answer as the type it declares (no sniffing).
                headers.append((b"x-content-type-options", b"nosniff"))
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # The database unavailable, raised where no exception handler sees it: a 503.
            if not started_response and await answer_unavailable(exc, scope, send_with_id):
                return
            # The one place unhandled errors end: logged with their traceback, answered with a
            # problem that names the request id and nothing of the internals.
            error_log.exception("unhandled error", extra={"path": scope["path"]})
            if started_response:
                raise
            await send_problem(
                send_with_id,
                500,
                "internal-error",
                "The server could not complete the request. Quote the request_id if you report it.",
                instance=scope["path"],
            )
        finally:
            elapsed = time.perf_counter() - started
            if self.metrics is not None:
                self.metrics.observe(scope, status, elapsed)
            if self.access_log_enabled:
                state: dict[str, Any] = scope.get("state", {})
                access_log.info(
                    "request",
                    extra={
                        "method": scope["method"],
                        "path": scope["path"],
                        "status": status,
                        "duration_ms": round(elapsed * 1000, 2),
                        "client_id": state.get("client_id"),
                        "org": state.get("org"),
                    },
                )
            request_id_var.reset(token)
            span_var.reset(span_token)
            language_var.reset(language_token)


class BodyTooLarge(StarletteHTTPException):
    """Raised by ``BodyLimitMiddleware``'s receive: FastAPI lets HTTP exceptions through
    where it turns other errors of reading a body into a 400."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit} bytes.")


class BodyLimitMiddleware(HTTPMiddleware):
    """413 for a request body over ``max_bytes``, with or without Content-Length, as it is
    read. A route that streams larger uploads to disk raises its own limit first, by setting
    ``request.state.max_body_bytes``. Whatever an app answers to a refused body (a 400 from a
    parser that caught the error, say) becomes the 413."""

    def __init__(self, app: ASGIApp, *, max_bytes: int) -> None:
        super().__init__(app)
        self.max_bytes = max_bytes

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        state: dict[str, Any] = scope.setdefault("state", {})
        declared = next(
            (int(v) for k, v in scope["headers"] if k == b"content-length" and v.isdigit()), 0
        )
        received, refused = 0, 0
        app_started = replaced = False

        async def limited() -> Message:
            nonlocal received, refused
            limit: int = state.get("max_body_bytes", self.max_bytes)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
            if max(declared, received) > limit:
                refused = limit
                raise BodyTooLarge(limit)
            return message

        async def checked(message: Message) -> None:
            nonlocal app_started, replaced
            if refused and not app_started:
                if not replaced:
                    replaced = True
                    await send_problem(
                        send,
                        413,
                        "payload-too-large",
                        f"The request body is larger than {refused} bytes.",
                        instance=scope["path"],
                    )
                return
            app_started = app_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, limited, checked)
        except BodyTooLarge:
            if app_started:
                raise
            await checked({"type": "http.response.start"})
