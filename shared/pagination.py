"""Keyset (cursor) pagination: opaque cursors, limits, and the ``Link`` header."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from fastapi import Query
from pydantic import BaseModel, Field
from sqlalchemy import Select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import InstrumentedAttribute
from starlette.datastructures import URL

from shared.db import UTCDateTime
from shared.problems import Problem

T = TypeVar("T")

DEFAULT_LIMIT = 50
MAX_LIMIT = 1000

LimitQuery = Annotated[
    int,
    Query(ge=1, le=MAX_LIMIT, description=f"Page size (1-{MAX_LIMIT}, default {DEFAULT_LIMIT})."),
]
CursorQuery = Annotated[
    str | None,
    Query(max_length=512, description="Opaque cursor from a previous page's `next_cursor`."),
]


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the sort key of the last row of a page."""
    raw = json.dumps(values, separators=(",", ":"), default=str).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, arity: int) -> list[Any]:
    """The sort key inside ``cursor``; a 400 problem when it was not made by us."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        values = None
    if not isinstance(values, list) or len(values) != arity:
        raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")
    return values


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


def check_cursor(cursor: str | None, order: Sequence[Any]) -> None:
    """400 unless ``cursor`` holds values of the types of ``order`` (timestamps and 32-bit
    integers): a forged cursor must never reach the database as, say, a string compared
    with an integer column. ``None`` (the first page) passes."""
    if cursor is None:
        return
    values = decode_cursor(cursor, len(order))
    if not all(_cursor_value_ok(c, v) for c, v in zip(order, values, strict=True)):
        raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")


def next_link(url: URL, cursor: str | None) -> dict[str, str]:
    """The ``Link: <...>; rel="next"`` header for a page, or nothing on the last page."""
    if cursor is None:
        return {}
    return {"Link": f'<{url.include_query_params(cursor=cursor)}>; rel="next"'}


def _to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


_INT64 = 2**63


def _from_json(column: InstrumentedAttribute[Any], value: Any) -> Any:
    """The cursor value typed as ``column``; a forged cursor is a 400, never a database error."""
    bad = Problem(400, "invalid-cursor", "The cursor is not one this API issued.")
    if isinstance(column.type, UTCDateTime):
        if not isinstance(value, str):
            raise bad
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise bad from None
        if parsed.tzinfo is None:
            raise bad
        return parsed
    try:
        python_type = column.type.python_type
    except NotImplementedError:
        python_type = object
    if python_type is int:
        if not isinstance(value, int) or isinstance(value, bool) or not -_INT64 <= value < _INT64:
            raise bad
    elif python_type is str:
        if not isinstance(value, str) or len(value) > 1000:
            raise bad
    elif python_type is not object and not isinstance(value, python_type):
        raise bad
    return value


async def keyset_page(
    session: AsyncSession,
    stmt: Select[Any],
    order: Sequence[InstrumentedAttribute[Any]],
    *,
    cursor: str | None,
    limit: int,
    descending: bool = False,
) -> tuple[list[Any], str | None]:
    """One page of ``stmt`` ordered by ``order`` (unique together) after ``cursor``.

    The cost of a page does not depend on its depth: the cursor becomes a WHERE on the
    ordering key, never an OFFSET. ``descending`` sorts every key column largest first (the
    cursor then means "before").
    """
    if cursor is not None:
        after = [
            _from_json(c, v) for c, v in zip(order, decode_cursor(cursor, len(order)), strict=True)
        ]
        key, bound = tuple_(*order), tuple_(*after)
        stmt = stmt.where(key < bound if descending else key > bound)
    order_by = [c.desc() for c in order] if descending else list(order)
    rows = list((await session.scalars(stmt.order_by(*order_by).limit(limit + 1))).all())
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    return rows, encode_cursor([_to_json(getattr(last, c.key)) for c in order])


class Page(BaseModel, Generic[T]):
    """One page of a collection."""

    items: list[T]
    next_cursor: str | None = Field(
        description="Pass as `cursor` to get the next page; null on the last page."
    )
