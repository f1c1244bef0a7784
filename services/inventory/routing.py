"""Small helpers the inventory routes share: documented error responses, ETag answers,
idempotent creation, keyset pages, common query parameters."""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import Select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import IdempotencyKey
from shared.conditional import etag
from shared.idempotency import once
from shared.pagination import CursorQuery, LimitQuery, check_cursor, keyset_page, next_link
from shared.security import Principal, require_scopes

M = TypeVar("M", bound=BaseModel)

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


async def create_once(
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal,
    create: Callable[[], Awaitable[tuple[M, str | None]]],
    *,
    status: int = 201,
) -> M | JSONResponse:
    """Run ``create`` once per Idempotency-Key and answer its model (status and ETag on the
    route's ``response``). A retry with the same key and body gets the first answer again
    (a bare Response: the stored replay), another body a 422. The session dependency
    commits before the answer is sent, so it is never a 201 for something a failed commit
    lost."""
    flow = await once(request, session, IdempotencyKey, principal.client_id)
    first = await flow.replay()
    if first is not None:
        return first  # an idempotent replay: the first answer, as it was stored
    body, tag = await create()
    await flow.keep(body, status)
    response.status_code = status
    if tag is not None:
        response.headers["ETag"] = tag
    return body


def typed(
    endpoint: Callable[..., Any],
    *,
    insert: Sequence[inspect.Parameter] = (),
    before: str = "",
    **annotations: Any,
) -> None:
    """Give a route built by a factory its concrete parameters, as FastAPI reads them from
    the signature: ``annotations`` by parameter name (e.g. ``body=UpopsEstimateIn``), and
    the ``insert`` parameters placed before the one named ``before`` (at the end without
    it; so that the OpenAPI parameters keep their order), which the endpoint receives in
    its ``**kwargs``."""
    signature = inspect.signature(endpoint)
    params: list[inspect.Parameter] = []
    for p in signature.parameters.values():
        if p.kind is p.VAR_KEYWORD:
            continue
        if p.name == before:
            params.extend(insert)
        params.append(p.replace(annotation=annotations.get(p.name, p.annotation)))
    if before not in signature.parameters:
        params.extend(insert)
    endpoint.__signature__ = signature.replace(parameters=params)  # type: ignore[attr-defined]


def query_param(name: str, annotation: Any, default: Any = None) -> inspect.Parameter:
    """A parameter for ``typed``'s ``insert``: a query parameter unless ``annotation`` says
    otherwise."""
    return inspect.Parameter(
        name, inspect.Parameter.POSITIONAL_OR_KEYWORD, default=default, annotation=annotation
    )


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


@dataclass(frozen=True)
class Paging:
    """Which page of a collection: after ``cursor``, ``limit`` records, and (for an
    incremental sync) only records changed since ``updated_since``."""

    updated_since: datetime | None
    limit: int
    cursor: str | None


def _paging(
    updated_since: UpdatedSince = None, limit: LimitQuery = 50, cursor: CursorQuery = None
) -> Paging:
    return Paging(updated_since, limit, cursor)


# The last parameters of a list route (its query parameters come after the route's own).
PagingQuery = Annotated[Paging, Depends(_paging)]

READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")
REVIEW = require_scopes("inventory:review")


async def page_of(
    request: Request,
    response: Response,
    session: AsyncSession,
    stmt: Select[Any],
    entity: Any,
    paging: Paging,
) -> tuple[list[Any], str | None]:
    """One keyset page of ``stmt``: by id, or by (updated_at, id) for incremental sync; the
    ``Link`` to the next page on ``response``."""
    if paging.updated_since is not None:
        stmt = stmt.where(entity.updated_at >= paging.updated_since)
        order = [entity.updated_at, entity.id]
    else:
        order = [entity.id]
    check_cursor(paging.cursor, order)
    rows, next_cursor = await keyset_page(
        session, stmt, order, cursor=paging.cursor, limit=paging.limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return rows, next_cursor


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
    """``page_of`` with the page given by its parts."""
    paging = Paging(updated_since, limit, cursor)
    return await page_of(request, response, session, stmt, entity, paging)
