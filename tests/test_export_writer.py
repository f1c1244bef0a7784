"""The one CSV writer every export goes through (shared.exports.csv_stream), and the XLSX
one (xlsx_stream): formula injection escaped as OWASP recommends, numbers and ordinary text
untouched."""

from __future__ import annotations

import csv
import io
from collections.abc import AsyncIterator, Sequence
from decimal import Decimal
from typing import Any

import pytest
from pydantic import BaseModel

from shared.exports import csv_stream, export_values, safe_cell, xlsx_stream


@pytest.mark.parametrize(
    "text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1", "\tplain", " =1", "\n +1", "-5"]
)
def test_text_a_spreadsheet_would_run_gets_a_quote(text: str) -> None:
    assert safe_cell(text) == "'" + text


@pytest.mark.parametrize(
    "value", ["plain", "", "a=b", "1-2", "'=already", " plain", -1.5, Decimal("-1.5"), -3, True]
)
def test_ordinary_text_and_numbers_are_unchanged(value: Any) -> None:
    assert safe_cell(value) == value
    assert safe_cell(None) == ""


async def _rows(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    for row in rows:
        yield row


async def test_the_stream_escapes_every_cell() -> None:
    rows = [["=cmd|'/c calc'!A1", Decimal("-12.050000"), -1.5, None, "\r=1", "ok"]]
    out = b"".join([part async for part in csv_stream(["a", "b", "c", "d", "e", "f"], _rows(rows))])
    assert list(csv.reader(io.StringIO(out.decode(), newline=""))) == [
        ["a", "b", "c", "d", "e", "f"],
        ["'=cmd|'/c calc'!A1", "-12.050000", "-1.5", "", "'\r=1", "ok"],
    ]


async def test_csv_booleans_are_written_as_the_imports_read_them() -> None:
    """Issue 14 item 6: every export is a valid import; booleans one way, true/false."""
    out = b"".join([part async for part in csv_stream(["a", "b"], _rows([[True, False]]))])
    assert out.decode().splitlines()[1] == "true,false"


class _Inner(BaseModel):
    mass: Decimal
    note: str


class _Outer(BaseModel):
    lat: Decimal
    code: str
    inner: _Inner


def test_export_values_keeps_numbers_as_numbers() -> None:
    values = export_values(
        _Outer(lat=Decimal("-12.05"), code="-5", inner=_Inner(mass=Decimal("-1"), note="=x"))
    )
    assert values == {
        "lat": Decimal("-12.05"),
        "code": "-5",
        "inner": {"mass": Decimal("-1"), "note": "=x"},
    }
    assert [safe_cell(values["lat"]), safe_cell(values["code"])] == [Decimal("-12.05"), "'-5"]


async def test_the_xlsx_stream_escapes_text_and_keeps_numbers() -> None:
    from openpyxl import load_workbook

    rows = [['=HYPERLINK("http://x")', Decimal("-12.05"), -1.5, None, "ok"]]
    parts = [part async for part in xlsx_stream(["=a", "b", "c", "d", "e"], _rows(rows), sheet="t")]
    sheet = load_workbook(io.BytesIO(b"".join(parts)), read_only=True)["t"]
    cells = [list(r) for r in sheet.iter_rows(values_only=True)]
    assert cells[0] == ["'=a", "b", "c", "d", "e"]
    assert cells[1][0] == '\'=HYPERLINK("http://x")'
    assert cells[1][1:3] == [-12.05, -1.5]
    assert cells[1][3] is None
