"""Streamed tabular exports: CSV rows written as they are produced, never the whole file."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from typing import Any


async def csv_stream(
    header: Sequence[str], rows: AsyncIterable[Sequence[Any]], *, batch: int = 500
) -> AsyncIterator[bytes]:
    """UTF-8 CSV with a header line, yielded in batches of rows (RFC 4180 quoting)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    count = 0
    async for row in rows:
        writer.writerow(["" if v is None else v for v in row])
        count += 1
        if count % batch == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")


def wants_csv(accept: str | None, format_param: str | None) -> bool:
    """True when the caller asked for CSV (``?format=csv`` or ``Accept: text/csv``)."""
    if format_param is not None:
        return format_param.lower() == "csv"
    return bool(accept) and "text/csv" in (accept or "")
