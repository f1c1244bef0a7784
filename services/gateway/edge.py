"""What the gateway does around every request: the body size limit and the audit log.

The audit entry of a request is made when its response starts (status known; the duration
is the time to that point) and the response goes out only once the entry is durable: no
answered request without its entry. If the entry can be stored nowhere, the caller gets a
503 with Retry-After instead of the answer.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.audit import AuditLog, AuditUnavailable
from services.gateway.audit_chain import AuditRecord
from shared.middleware import HTTPMiddleware
from shared.problems import send_problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


@dataclass(frozen=True)
class HeaderLimits:
    """How many request header lines, and how many bytes per header and in all, are allowed."""

    lines: int
    one_bytes: int
    total_bytes: int


def headers_refusal(headers: list[tuple[bytes, bytes]], limits: HeaderLimits) -> str | None:
    """Why ``headers`` are refused, or None; one pass, stopping at the first excess."""
    if len(headers) > limits.lines:
        return f"More than {limits.lines} header lines."
    total = 0
    for name, value in headers:
        size = len(name) + len(value)
        if size > limits.one_bytes:
            return f"A header is larger than {limits.one_bytes} bytes."
        total += size
        if total > limits.total_bytes:
            return f"The headers are larger than {limits.total_bytes} bytes in all."
    return None


class BodyTooLarge(Exception):
    """The request body went over the limit while it was being read."""


def _content_length(scope: Scope) -> int | None:
    for name, value in scope["headers"]:
        if name == b"content-length":
            try:
                return int(value)
            except ValueError:
                return -1
    return None


class _Exchange:
    """One request passing the edge: the body counted (and hashed, for writes) while the app
    reads it, and the response's status noted while it is sent."""

    def __init__(
        self,
        scope: Scope,
        receive: Receive,
        send: Send,
        *,
        max_body_bytes: int,
        refuse: Callable[[Send, Scope, int], Awaitable[None]],
        audited: Callable[[_Exchange], Awaitable[bool]],
    ) -> None:
        self.scope = scope
        self.state: dict[str, Any] = scope.setdefault("state", {})
        self._receive = receive
        self._send = send
        self._refuse = refuse
        self._audited = audited
        self.max_body_bytes = max_body_bytes
        self.status = 500
        self.response_started = False
        self.digest = hashlib.sha256() if scope["method"] in WRITE_METHODS else None
        self.body_complete = False
        self.received = 0
        self.replaced = False
        self.recorded = False
        self.withheld = False

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.response_started = True
            if not await self._audited(self):
                self.withheld = True  # a 503 went out instead: drop the rest of the answer
                return
        elif self.withheld:
            return
        await self._send(message)

    async def send_checked(self, message: Message) -> None:
        """What the app sends, unless it answers an oversized body: that becomes a 413."""
        # FastAPI turns any error while reading a body into its own 400, so BodyTooLarge
        # may never reach us: whatever the app answers to an oversized body becomes a 413.
        if self.replaced:
            return
        if self.state.get("body_too_large") and not self.response_started:
            self.replaced = True
            self.state["outcome"] = "body_too_large"
            await self.refuse(self.max_body_bytes + 1)
            return
        await self.send(message)

    async def receive(self) -> Message:
        """The next request message, refused (``BodyTooLarge``) once the body is too large."""
        message = await self._receive()
        if message["type"] == "http.request":
            chunk = message.get("body", b"")
            self.received += len(chunk)
            if self.received > self.max_body_bytes:
                self.state["body_too_large"] = True
                raise BodyTooLarge
            if self.digest is not None:
                self.digest.update(chunk)
            if not message.get("more_body", False):
                self.body_complete = True
        return message

    async def refuse(self, length: int) -> None:
        await self._refuse(self.send, self.scope, length)

    def body_sha256(self) -> str | None:
        """The digest of a write's body, once the app read all of it."""
        return self.digest.hexdigest() if self.digest and self.body_complete else None


class EdgeMiddleware(HTTPMiddleware):
    """Refuses too many or too large headers (431) and oversized bodies (413, with or without
    Content-Length), and appends one audit entry per request (who, what, outcome, duration,
    body digest for writes)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        max_body_bytes: int,
        header_limits: HeaderLimits,
        audit: Callable[[], AuditLog | None],
        retry_after_s: int = 5,
    ) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.header_limits = header_limits
        self.audit = audit
        self.retry_after_s = retry_after_s

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        audit = self.audit()
        if audit is not None and audit.refusing():
            await self._unavailable(send, scope)
            return
        # Before anything else reads the headers: their cost must not grow with the input.
        refusal = headers_refusal(scope["headers"], self.header_limits)
        if refusal is not None:
            scope.setdefault("state", {})["outcome"] = "headers_too_large"
            if await self._durable(scope, 431, started, None):
                await send_problem(
                    send,
                    431,
                    "headers-too-large",
                    refusal,
                    instance=scope["path"][:2048],
                    source="gateway",
                    headers={"Connection": "close"},
                )
            else:
                await self._unavailable(send, scope)
            return

        async def audited(exchange: _Exchange) -> bool:
            exchange.recorded = True
            if await self._durable(scope, exchange.status, started, exchange.body_sha256()):
                return True
            await self._unavailable(send, scope)
            return False

        exchange = _Exchange(
            scope,
            receive,
            send,
            max_body_bytes=self.max_body_bytes,
            refuse=self._refuse,
            audited=audited,
        )
        try:
            await self._exchange(exchange)
        finally:
            if not exchange.recorded:
                # No response started (an error the outer middleware answers, or a caller
                # gone): the entry is still made, and durable before that answer.
                await self._durable(scope, exchange.status, started, exchange.body_sha256())

    async def _exchange(self, exchange: _Exchange) -> None:
        scope = exchange.scope
        try:
            length = _content_length(scope)
            if length is not None and (length < 0 or length > self.max_body_bytes):
                exchange.state["outcome"] = "body_too_large" if length > 0 else "invalid_request"
                await exchange.refuse(length)
            else:
                await self.app(scope, exchange.receive, exchange.send_checked)
        except BodyTooLarge:
            exchange.state["outcome"] = "body_too_large"
            if exchange.replaced:
                return
            if exchange.response_started:
                raise
            await exchange.refuse(self.max_body_bytes + 1)

    async def _unavailable(self, send: Send, scope: Scope) -> None:
        await send_problem(
            send,
            503,
            "audit-unavailable",
            "The request cannot be recorded in the audit log right now; retry later.",
            instance=scope["path"][:2048],
            source="gateway",
            headers={"Retry-After": str(self.retry_after_s)},
        )

    async def _refuse(self, send: Send, scope: Scope, length: int) -> None:
        if length < 0:
            await send_problem(
                send,
                400,
                "invalid-request",
                "Content-Length is not a number.",
                instance=scope["path"],
                source="gateway",
            )
            return
        await send_problem(
            send,
            413,
            "payload-too-large",
            f"The request body is larger than {self.max_body_bytes} bytes.",
            instance=scope["path"],
            source="gateway",
        )

    async def _durable(
        self, scope: Scope, status: int, started: float, body_sha256: str | None
    ) -> bool:
        """Record the request and wait until its entry is durable; False if it cannot be."""
        audit = self.audit()
        if audit is None:
            return True
        state = scope.get("state", {})
        client = scope.get("client")
        try:
            await audit.record(
                AuditRecord(
                    at=datetime.now(UTC),
                    client_id=state.get("client_id"),
                    org=state.get("org"),
                    method=scope["method"],
                    path=scope["path"][:2048],
                    status=status,
                    request_id=state.get("request_id") or "",
                    duration_ms=round((time.perf_counter() - started) * 1000, 3),
                    ip=client[0] if client else None,
                    body_sha256=body_sha256,
                    outcome=state.get("outcome"),
                )
            )
        except AuditUnavailable:
            return False
        return True
