"""RFC 9457 problem details: one exception type and the handlers every app installs."""

from __future__ import annotations

import json
import logging
import sqlite3
from collections.abc import Awaitable, Callable, Iterator, Mapping
from http import HTTPStatus
from typing import Any

import asyncpg  # type: ignore[import-untyped]
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError
from sqlalchemy.orm.exc import StaleDataError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import Scope, Send

from shared.context import language_var, request_id_var
from shared.messages import translate

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
    """The JSON members of a problem document, its title and detail in the answer's
    language (``shared.messages``)."""
    language = language_var.get()
    body: dict[str, Any] = {
        "type": PROBLEM_BASE + slug,
        "title": translate(title or HTTPStatus(status).phrase, language),
        "status": status,
    }
    if detail:
        body["detail"] = translate(detail, language)
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


# -- the database unavailable: 503 with Retry-After, never 500 ----------------------------

DATABASE_UNAVAILABLE = "database-unavailable"
# SQLSTATEs of a PostgreSQL that cannot serve now: connection exceptions (08, the connection
# lost in the middle of a query included), too many connections and other exhausted
# resources (53), shut down, starting up or crashed (57P), and what a server answers at
# connect time when the role or the database is missing (28, 3D000).
_PG_UNAVAILABLE = ("08", "53", "57P", "28", "3D000")
# SQLite's equivalents: another process holds the write lock past the busy timeout, the
# file cannot be opened, or the disk fails.
_SQLITE_UNAVAILABLE = (
    "database is locked",
    "database table is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)
# An OSError (refused, reset, timed out) counts only when raised inside the database stack.
_DRIVER_MODULES = frozenset({"sqlalchemy", "asyncpg", "aiosqlite", "sqlite3"})
# The exception types whose handler asks ``database_unavailable`` (503) or re-raises (500).
_DATABASE_ERRORS = (
    DBAPIError,
    PoolTimeoutError,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    OSError,
)


def _causes(exc: BaseException) -> Iterator[BaseException]:
    """``exc`` and what it wraps: causes, contexts, a DBAPI error's ``orig``, group members."""
    stack, seen = [exc], set[int]()
    while stack and len(seen) < 32:
        e = stack.pop()
        if id(e) in seen:
            continue
        seen.add(id(e))
        yield e
        inner = (e.__cause__, e.__context__, getattr(e, "orig", None))
        stack.extend(x for x in inner if isinstance(x, BaseException))
        if isinstance(e, BaseExceptionGroup):
            stack.extend(e.exceptions)


def _in_driver(exc: BaseException) -> bool:
    tb = exc.__traceback__
    while tb is not None:
        if str(tb.tb_frame.f_globals.get("__name__", "")).split(".")[0] in _DRIVER_MODULES:
            return True
        tb = tb.tb_next
    return False


def _unavailable(e: BaseException) -> str | None:
    # What is logged names classes and SQLSTATEs only: driver messages can name hosts, users
    # and databases.
    if isinstance(e, PoolTimeoutError):
        return "connection pool exhausted"
    if isinstance(e, DBAPIError) and e.connection_invalidated:
        return f"{type(e.orig).__name__}: connection lost"
    if isinstance(e, asyncpg.PostgresError):
        state = str(getattr(e, "sqlstate", "") or "")
        return f"{type(e).__name__} ({state})" if state.startswith(_PG_UNAVAILABLE) else None
    if isinstance(e, asyncpg.InterfaceError) and "connection is closed" in str(e):
        return f"{type(e).__name__}: connection closed"
    if isinstance(e, sqlite3.OperationalError):
        message = str(e).lower()
        known = [m for m in _SQLITE_UNAVAILABLE if message.startswith(m)]
        return f"sqlite: {known[0]}" if known else None
    if isinstance(e, OSError) and _in_driver(e):
        return type(e).__name__
    return None


# A transaction the server aborted because of a concurrent one (serialization failure,
# deadlock): nothing was written, and the same request may succeed when sent again.
_PG_CONCURRENT = ("40001", "40P01")


def concurrent_conflict(exc: BaseException) -> str | None:
    """The SQLSTATE when ``exc`` is a serialization failure or deadlock, else None."""
    for e in _causes(exc):
        if isinstance(e, asyncpg.PostgresError):
            state = str(getattr(e, "sqlstate", "") or "")
            if state in _PG_CONCURRENT:
                return state
    return None


def database_unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` means the database cannot serve now (for the log), or None when it is
    another error: the connection refused, lost or timed out, the pool exhausted, the
    server starting up, shutting down or out of connections, SQLite locked."""
    for e in _causes(exc):
        why = _unavailable(e)
        if why is not None:
            return why
    return None


def _retry_after(app: Any) -> str:
    settings = getattr(getattr(app, "state", None), "settings", None)
    return str(getattr(settings, "retry_after_s", 5))


def unavailable(retry_after_s: int | str, detail: str | None = None) -> Problem:
    """The 503 answered while the database cannot serve, with ``Retry-After``."""
    return Problem(
        503,
        DATABASE_UNAVAILABLE,
        detail or "The database is unavailable for a moment. Try again later.",
        headers={"Retry-After": str(retry_after_s)},
    )


async def answer_unavailable(exc: BaseException, scope: Scope, send: Send) -> bool:
    """Answer the 503 if ``exc`` means the database is unavailable (True), else nothing
    (False). For errors raised outside the routes' exception handlers."""
    why = database_unavailable(exc)
    if why is None:
        return False
    log.warning("database unavailable: %s", why, extra={"path": scope["path"]})
    p = unavailable(_retry_after(scope.get("app")))
    await send_problem(
        send, 503, p.slug, p.detail or p.title, instance=scope["path"], headers=p.headers
    )
    return True


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
            "msg": translate(str(e.get("msg", "")), language_var.get()),
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

    async def on_database(request: Request, exc: Exception) -> JSONResponse:
        if state := concurrent_conflict(exc):
            # Lost to a concurrent writer (e.g. two imports of the same new items): a 409
            # the client may retry, never a 500.
            log.warning("concurrent transaction conflict (%s)", state)
            return problem_response(
                409,
                "conflict",
                detail="The change met a concurrent one and was not made; send it again.",
                instance=request.url.path,
                headers={"Retry-After": "1"},
            )
        why = database_unavailable(exc)
        if why is None:
            raise exc  # another database error: the unhandled-error path (500, logged)
        log.warning("database unavailable: %s", why, extra={"path": request.url.path})
        return await on_problem(request, unavailable(_retry_after(request.app)))

    app.add_exception_handler(Problem, on_problem)
    # The database unreachable, restarting, out of connections or locked: 503 with
    # Retry-After, whichever driver or pool error says so (``database_unavailable``).
    for kind in _DATABASE_ERRORS:
        app.add_exception_handler(kind, on_database)
    # The database's own refusals, mapped once for every service: routes never catch them.
    app.add_exception_handler(IntegrityError, on_integrity)
    app.add_exception_handler(StaleDataError, on_stale)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(RequestValidationError, on_validation)
