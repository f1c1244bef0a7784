"""RFC 9457 problem details: one exception type and the handlers every app installs."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable, Mapping
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Send

from shared.context import request_id_var

log = logging.getLogger("enlace.problems")

PROBLEM_BASE = "https://enlace.example/problems/"
PROBLEM_JSON = "application/problem+json"


class Problem(Exception):
    """An error that becomes an ``application/problem+json`` response."""

    def __init__(
        self,
        status: int,
        slug: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        headers: Mapping[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail or slug)
        self.status = status
        self.slug = slug
        self.title = title or HTTPStatus(status).phrase
        self.detail = detail
        self.headers = dict(headers or {})
        self.extensions = extensions


def problem_body(
    status: int,
    slug: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    **extensions: Any,
) -> dict[str, Any]:
    """The JSON members of a problem document."""
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": title or HTTPStatus(status).phrase,
        "status": status,
    }
    if detail:
        body["detail"] = detail
    if instance:
        body["instance"] = instance
    body["request_id"] = request_id_var.get()
    body.update(extensions)
    return body


def problem_response(
    status: int,
    slug: str,
    *,
    title: str | None = None,
    detail: str | None = None,
    instance: str | None = None,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> JSONResponse:
    """A ready ``application/problem+json`` response."""
    body = problem_body(status, slug, title=title, detail=detail, instance=instance, **extensions)
    return JSONResponse(
        body, status_code=status, headers=dict(headers or {}), media_type=PROBLEM_JSON
    )


async def send_problem(
    send: Send,
    status: int,
    slug: str,
    detail: str,
    *,
    instance: str,
    headers: Mapping[str, str] | None = None,
    **extensions: Any,
) -> None:
    """Send a problem response from pure ASGI code (middleware, the gateway's proxy)."""
    body = json.dumps(
        problem_body(status, slug, detail=detail, instance=instance, **extensions)
    ).encode()
    raw = [
        (b"content-type", PROBLEM_JSON.encode()),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


_SLUGS = {
    400: "bad-request",
    401: "unauthorized",
    403: "forbidden",
    404: "not-found",
    405: "method-not-allowed",
    406: "not-acceptable",
    409: "conflict",
    412: "precondition-failed",
    413: "payload-too-large",
    415: "unsupported-media-type",
    422: "validation-error",
    428: "precondition-required",
    429: "too-many-requests",
}


def _clean_errors(errors: Any) -> list[dict[str, Any]]:
    # Pydantic errors carry the offending input and context objects; echo only where and why,
    # so a body never reflects a secret or something unserialisable back to the caller.
    return [
        {
            "loc": [str(p) for p in e.get("loc", ())],
            "msg": str(e.get("msg", "")),
            "type": e.get("type", ""),
        }
        for e in errors
    ]


def install_problem_handlers(app: FastAPI) -> None:
    """Make every error of ``app`` an RFC 9457 problem response."""

    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, Problem)
        return problem_response(
            exc.status,
            exc.slug,
            title=exc.title,
            detail=exc.detail,
            instance=request.url.path,
            headers=exc.headers,
            **exc.extensions,
        )

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        detail = exc.detail if isinstance(exc.detail, str) else None
        if exc.status_code == 404 and detail == "Not Found":
            detail = f"No resource at {request.url.path}."
        if exc.status_code == 405:
            detail = f"{request.method} is not allowed on {request.url.path}."
        return problem_response(
            exc.status_code,
            _SLUGS.get(exc.status_code, "http-error"),
            detail=detail,
            instance=request.url.path,
            headers=exc.headers,
        )

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(
            422,
            "validation-error",
            title="Request is not valid",
            detail="One or more fields are invalid; see errors.",
            instance=request.url.path,
            errors=_clean_errors(exc.errors()),
        )

    def refusal(status: int, slug: str, detail: str) -> Callable[..., Awaitable[JSONResponse]]:
        async def on_refusal(request: Request, exc: Exception) -> JSONResponse:
            # No SQL in the answer, nor in the log: the driver's error class says enough.
            log.warning("%s: %s", slug, type(getattr(exc, "orig", exc)).__name__)
            return problem_response(status, slug, detail=detail, instance=request.url.path)

        return on_refusal

    # A constraint the checks before it did not catch (often a concurrent writer): the
    # caller's request conflicts with the stored data. No SQL in the answer.
    on_integrity = refusal(
        409,
        "conflict",
        "The change conflicts with stored data (a duplicate or a missing reference).",
    )
    # The version check of an optimistic update lost to a concurrent writer (SQLite has no
    # row locks, so the If-Match check alone cannot see it): the same answer as a stale
    # If-Match.
    on_stale = refusal(
        412, "precondition-failed", "The record changed meanwhile; read it again and retry."
    )

    app.add_exception_handler(Problem, on_problem)
    # The database's own refusals, mapped once for every service: routes never catch them.
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(StaleDataError, on_stale)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
