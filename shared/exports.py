"""Streamed tabular exports: CSV rows written as they are produced, never the whole file.

Every CSV export goes through ``csv_stream``, which escapes formula injection (OWASP "CSV
Injection"): a text cell whose first character is ``= + - @``, a tab or a carriage return,
or whose first character after leading whitespace is one of ``= + - @`` (spreadsheets trim
it before they look for a formula), gets a single quote in front, so a spreadsheet shows it
as text and never runs it. Only text is escaped: numbers (``int``, ``float``, ``Decimal``)
are written as they are, so ``-1.5`` stays a number; a text field holding ``"-5"`` is text
and is escaped (``'-5``), as OWASP recommends. Rows from a pydantic model keep their
numbers with ``export_values``. ``xlsx_stream`` escapes the cells of an XLSX export the same
way.
"""

from __future__ import annotations

import csv
import io
import tempfile
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

from fastapi.responses import StreamingResponse
from pydantic import BaseModel
from starlette.types import Receive, Scope, Send

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """A cell as written to a spreadsheet: ``None`` empty, text that a spreadsheet would
    read as a formula behind a single quote, anything else (numbers, booleans) unchanged."""
    if value is None:
        return ""
    if isinstance(value, str) and (
        value.startswith(FORMULA_STARTS) or value.lstrip().startswith(FORMULA_STARTS[:4])
    ):
        return "'" + value
    return value


def export_values(model: BaseModel) -> dict[str, Any]:
    """``model_dump(mode="json")`` with numbers left as numbers, so that ``safe_cell``
    tells a number (never escaped) from text (a JSON dump writes a ``Decimal`` as text)."""
    values: dict[str, Any] = _numbers_kept(model.model_dump(), model.model_dump(mode="json"))
    return values


def _numbers_kept(typed: Any, dumped: Any) -> Any:
    if isinstance(typed, dict) and isinstance(dumped, dict):
        return {k: _numbers_kept(typed.get(k), v) for k, v in dumped.items()}
    if isinstance(typed, Decimal | int | float) and not isinstance(typed, bool):
        return typed
    return dumped


def _csv_cell(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return safe_cell(value)


async def csv_stream(
    header: Sequence[str], rows: AsyncIterable[Sequence[Any]], *, batch: int = 500
) -> AsyncIterator[bytes]:
    """UTF-8 CSV with a header line, yielded in batches of rows (RFC 4180 quoting), every
    cell through ``safe_cell``; booleans written ``true``/``false``, as the imports read
    them (never Python's ``True``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([safe_cell(h) for h in header])
    count = 0
    async for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
        count += 1
        if count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


async def xlsx_stream(
    header: Sequence[str], rows: AsyncIterable[Sequence[Any]], *, sheet: str, chunk: int = 65536
) -> AsyncIterator[bytes]:
    """An XLSX workbook of one sheet (header row first, every cell through ``safe_cell``).

    openpyxl's write-only mode puts rows in a temporary file as they come, so memory stays
    flat; the workbook (a zip) can only be sent once it is complete: it is then read back
    from a temporary file in ``chunk``-sized parts."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    ws = book.create_sheet(title=sheet[:31])
    ws.append([safe_cell(h) for h in header])
    async for row in rows:
        ws.append([None if v is None else safe_cell(v) for v in row])  # None: an empty cell
    with tempfile.TemporaryFile() as out:
        book.save(out)
        out.seek(0)
        while part := out.read(chunk):
            yield part


def wants_csv(accept: str | None, format_param: str | None) -> bool:
    """True when the caller asked for CSV (``?format=csv`` or ``Accept: text/csv``)."""
    if format_param is not None:
        return format_param.lower() == "csv"
    return bool(accept) and "text/csv" in (accept or "")


class PrimedStreamingResponse(StreamingResponse):
    """A ``StreamingResponse`` that makes its first part before it sends its status line.

    An export that reads the database on its own session (after the route returned) meets
    a database outage or an exhausted pool on its first part: then the error is still
    answered as a problem (503 with Retry-After), where a plain ``StreamingResponse`` would
    already have sent 200 and could only break the connection off.
    """

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        parts = aiter(self.body_iterator)
        try:
            first: Any = await anext(parts)
        except StopAsyncIteration:
            first = None
        self.body_iterator = _resumed(first, parts)
        await super().__call__(scope, receive, send)


async def _resumed(first: Any, rest: AsyncIterator[Any]) -> AsyncIterator[Any]:
    if first is None:
        return
    yield first
    async for part in rest:
        yield part
