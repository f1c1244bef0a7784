"""What the gateway does around every request: the body size limit and the audit log."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from datetime import UTC, datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from services.gateway.audit import AuditLog, AuditRecord
from shared.middleware import HTTPMiddleware
from shared.problems import send_problem

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


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


class EdgeMiddleware(HTTPMiddleware):
    """Refuses oversized bodies (413, with or without Content-Length) and appends one audit
    entry per request (who, what, outcome, duration, body digest for writes)."""

    def __init__(
        self, app: ASGIApp, *, max_body_bytes: int, audit: Callable[[], AuditLog | None]
    ) -> None:
        super().__init__(app)
        self.max_body_bytes = max_body_bytes
        self.audit = audit

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        started = time.perf_counter()
        state = scope.setdefault("state", {})
        status = 500
        response_started = False
        method: str = scope["method"]
        digest = hashlib.sha256() if method in WRITE_METHODS else None
        body_complete = False
        received = 0
        replaced = False

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        async def send_checked(message: Message) -> None:
            # FastAPI turns any error while reading a body into its own 400, so BodyTooLarge
            # may never reach us: whatever the app answers to an oversized body becomes a 413.
            nonlocal replaced
            if replaced:
                return
            if state.get("body_too_large") and not response_started:
                replaced = True
                state["outcome"] = "body_too_large"
                await self._refuse(send_wrapper, scope, self.max_body_bytes + 1)
                return
            await send_wrapper(message)

        async def receive_limited() -> Message:
            nonlocal received, body_complete
            message = await receive()
            if message["type"] == "http.request":
                chunk = message.get("body", b"")
                received += len(chunk)
                if received > self.max_body_bytes:
                    state["body_too_large"] = True
                    raise BodyTooLarge
                if digest is not None:
                    digest.update(chunk)
                if not message.get("more_body", False):
                    body_complete = True
            return message

        try:
            length = _content_length(scope)
            if length is not None and (length < 0 or length > self.max_body_bytes):
                state["outcome"] = "body_too_large" if length > 0 else "invalid_request"
                await self._refuse(send_wrapper, scope, length)
            else:
                await self.app(scope, receive_limited, send_checked)
        except BodyTooLarge:
            state["outcome"] = "body_too_large"
            if replaced:
                return
            if response_started:
                raise
            await self._refuse(send_wrapper, scope, self.max_body_bytes + 1)
        finally:
            self._record(
                scope, status, started, digest.hexdigest() if digest and body_complete else None
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
            headers={"Connection": "close"},
        )

    def _record(self, scope: Scope, status: int, started: float, body_sha256: str | None) -> None:
        audit = self.audit()
        if audit is None:
            return
        state = scope.get("state", {})
        client = scope.get("client")
        audit.record(
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
