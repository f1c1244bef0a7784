"""Small helpers the inventory routes share: documented error responses, ETag answers,
idempotent creation, explicit commits."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Annotated, Any

from fastapi import Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import IdempotencyKey
from shared.conditional import etag, not_modified
from shared.db import UTCDateTime
from shared.idempotency import body_digest, idempotency_key, remember, replay
from shared.pagination import decode_cursor, keyset_page, next_link
from shared.problems import Problem
from shared.security import Principal

_DESCRIPTIONS = {
    304: "Not modified (the ETag in If-None-Match is current)",
    400: "Bad request (problem details)",
    403: "Not allowed for this organisation or scope (problem details)",
    404: "No such record, or not visible to the caller (problem details)",
    409: "Conflicts with the record's state, e.g. validated data (problem details)",
    412: "If-Match does not name the current ETag (problem details)",
    413: "Upload too large (problem details)",
    415: "Unsupported upload format (problem details)",
    422: "Invalid request (problem details with `errors`)",
    428: "If-Match is required (problem details)",
}


def responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI ``responses`` for the given error statuses."""
    return {code: {"description": _DESCRIPTIONS[code]} for code in codes}


READ_ONE = responses(304, 404)
CREATE = responses(403, 404, 409, 422)
UPDATE = responses(403, 404, 409, 412, 422, 428)


def record_etag(kind: str, record: Any, *extra: object) -> str:
    """The ETag of a record: its kind, id and version (plus whatever else shapes it)."""
    return etag(kind, record.id, record.version, *extra)


def json_response(
    body: BaseModel | dict[str, Any] | list[Any],
    *,
    status: int = 200,
    tag: str | None = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    """A JSON response with an optional ETag."""
    content = body.model_dump(mode="json") if isinstance(body, BaseModel) else body
    all_headers = dict(headers or {})
    if tag is not None:
        all_headers["ETag"] = tag
    return JSONResponse(content, status_code=status, headers=all_headers)


def read_response(request: Request, body: BaseModel, tag: str) -> Response:
    """200 with the body and its ETag, or 304 when the caller already has it."""
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return json_response(body, tag=tag)


async def idempotent_create(
    request: Request,
    session: AsyncSession,
    principal: Principal,
    create: Callable[[], Awaitable[tuple[BaseModel, str | None]]],
    *,
    status: int = 201,
) -> JSONResponse:
    """Run ``create`` once per Idempotency-Key: a retry with the same key and body gets the
    first answer, another body a 422. Commits before answering, so the answer is never a
    201 for something a failed commit lost."""
    key = idempotency_key(request)
    digest = body_digest(await request.body()) if key else ""
    if key:
        first = await replay(
            session, IdempotencyKey, client_id=principal.client_id, key=key, request_sha256=digest
        )
        if first is not None:
            return first
    body, tag = await create()
    content = body.model_dump(mode="json")
    if key:
        await remember(
            session,
            IdempotencyKey,
            client_id=principal.client_id,
            key=key,
            request_sha256=digest,
            status=status,
            body=content,
        )
    await session.commit()
    return json_response(content, status=status, tag=tag)


async def commit_and_respond(
    session: AsyncSession, body: BaseModel, *, tag: str | None = None, status: int = 200
) -> JSONResponse:
    """Commit, then answer: a commit failure is never reported as a success."""
    await session.commit()
    return json_response(body, status=status, tag=tag)


IdPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Record id")]
UpdatedSince = Annotated[
    AwareDatetime | None,
    Query(
        description="Only records changed at or after this instant (ISO 8601 with offset); "
        "pages are then ordered by (updated_at, id), so a client that keeps its cursor "
        "misses nothing."
    ),
]
OrgQuery = Annotated[
    str | None, Query(pattern=r"^[A-Za-z0-9_-]{1,40}$", description="Organisation code")
]
YearQuery = Annotated[int | None, Query(ge=1990, le=2100, description="Reporting year")]
Department = Annotated[
    str | None, Query(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$", description="Department code 01-25")
]


INT32 = 2**31


def _cursor_value_ok(column: Any, value: Any) -> bool:
    if isinstance(column.type, UTCDateTime):
        if not isinstance(value, str):
            return False
        try:
            return datetime.fromisoformat(value).tzinfo is not None
        except ValueError:
            return False
    return isinstance(value, int) and not isinstance(value, bool) and -INT32 <= value < INT32


def check_cursor(cursor: str, order: list[Any]) -> None:
    """400 unless ``cursor`` holds values of the right types for ``order`` (a forged cursor
    must not reach the database as a string compared with an integer column)."""
    values = decode_cursor(cursor, len(order))
    if not all(_cursor_value_ok(c, v) for c, v in zip(order, values, strict=True)):
        raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")


async def list_page(
    request: Request,
    response: Response,
    session: AsyncSession,
    stmt: Select[Any],
    entity: Any,
    *,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> tuple[list[Any], str | None]:
    """One keyset page of ``stmt``: by id, or by (updated_at, id) for incremental sync."""
    if updated_since is not None:
        stmt = stmt.where(entity.updated_at >= updated_since)
        order = [entity.updated_at, entity.id]
    else:
        order = [entity.id]
    if cursor is not None:
        check_cursor(cursor, order)
    rows, next_cursor = await keyset_page(session, stmt, order, cursor=cursor, limit=limit)
    response.headers.update(next_link(request.url, next_cursor))
    return rows, next_cursor
