"""Reading the matrix as a spreadsheet (CSV or XLSX) into import rows.

The columns are those of the CSV export, so an export can be edited and sent back. The
writable ones are read; the export's computed ones (money, results, version ...) are
accepted and ignored, and the report names them; any other column is refused. A column
present replaces that field (an empty cell clears it); a column absent leaves it as it is.
Row numbers are the spreadsheet's: the header is row 1.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterator
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from services.cooperation.activities.csv_export import CSV_COLUMNS
from services.cooperation.activities.schemas import ActivityFields
from services.cooperation.activities.state import Refs
from services.cooperation.exchange.imports import MAX_ROWS, Row
from shared.problems import Problem
from shared.spreadsheets import NotAWorkbook, XlsxLimits, check_xlsx

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SUMMARISED = ("results", "document_links")
# The fields of the activity among the export's columns, but the ones the export only
# summarises (a count of results, the documents' URLs).
WRITABLE = tuple(c for c in CSV_COLUMNS if c in ActivityFields.model_fields and c not in SUMMARISED)
READ_ONLY = tuple(c for c in CSV_COLUMNS if c not in WRITABLE)


def _list(text: str) -> list[str]:
    return [part.strip() for part in text.split(";") if part.strip()]


def _pair(part: str, what: str) -> tuple[str, str | None]:
    code, sep, value = part.rpartition(":") if ":" in part else (part, "", "")
    if not code:
        raise ValueError(f"{part!r}: expected {what}")
    return code.strip(), (value.strip() or None) if sep else None


def _participants(text: str, refs: Refs) -> list[dict[str, Any]]:
    out = []
    for part in _list(text):
        who, role = _pair(part, "ORG:ROLE")
        if role is None:
            raise ValueError(f"{part!r}: expected ORG:ROLE (role 1-4)")
        org = refs.orgs.get(who) or refs.orgs_by_ref.get(who)
        if org is not None:
            out.append({"org": org.code, "role": role})
        elif " " in who:
            out.append({"name": who, "role": role})
        else:
            out.append({"ref": who, "role": role})
    return out


def _sectors(text: str, _refs: Refs) -> list[dict[str, Any]]:
    out = []
    for part in _list(text):
        code, percentage = _pair(part, "CODE:PERCENTAGE")
        vocabulary, _, code = code.rpartition("/")
        out.append({"vocabulary": vocabulary or "1", "code": code, "percentage": percentage})
    return out


def _markers(text: str, _refs: Refs) -> list[dict[str, Any]]:
    return [
        {"code": code, "significance": significance}
        for code, significance in (_pair(p, "CODE:SIGNIFICANCE") for p in _list(text))
    ]


_COLUMNS: dict[str, Callable[[str, Refs], Any]] = {
    "participants": _participants,
    "priority_areas": lambda text, _refs: _list(text),
    "action_areas": lambda text, _refs: _list(text),
    "sectors": _sectors,
    "policy_markers": _markers,
    "locations": lambda text, _refs: _list(text),
}


def _cell(value: Any) -> str:
    """A spreadsheet cell as text (dates as ISO dates, numbers without float noise)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return format(Decimal(repr(value)).normalize(), "f")
    return str(value).strip()


def read_table(records: Iterator[list[Any]], refs: Refs) -> tuple[list[Row], list[str]]:
    """Rows from a header and records; also the ignored (read-only) columns."""
    try:
        header = [_cell(h) for h in next(records)]
    except StopIteration:
        raise Problem(422, "empty-file", "The file has no header row.") from None
    unknown = [h for h in header if h not in WRITABLE and h not in READ_ONLY]
    if unknown or "identifier" not in header or len(set(header)) != len(header):
        raise Problem(
            422,
            "invalid-columns",
            "Columns must be the export's, once each, with identifier; unknown: "
            + (", ".join(repr(h[:40]) for h in unknown[:20]) or "none"),
            allowed=list(WRITABLE),
        )
    rows = []
    for number, record in enumerate(records, start=2):
        if number > MAX_ROWS + 1:
            raise Problem(413, "too-many-rows", f"At most {MAX_ROWS} rows per import.")
        cells = {h: _cell(v) for h, v in zip(header, record, strict=False) if h in WRITABLE}
        if not any(cells.values()):
            continue  # blank line
        rows.append(_row(number, cells, refs))
    return rows, [h for h in header if h in READ_ONLY]


def _row(number: int, cells: dict[str, str], refs: Refs) -> Row:
    row = Row(where=number, identifier=cells.get("identifier") or None, body={})
    assert row.body is not None
    for name, text in cells.items():
        try:
            if name in _COLUMNS:
                row.body[name] = _COLUMNS[name](text, refs)
            else:
                row.body[name] = text or None
        except ValueError as exc:
            row.errors.append({"loc": ["body", name], "msg": str(exc), "type": "value_error"})
    row.exported = {k: cells[k] for k in ("participants",) if k in cells}
    return row


def csv_records(data: bytes) -> Iterator[list[Any]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Problem(422, "invalid-encoding", "CSV files must be UTF-8.") from None
    try:
        return iter(list(csv.reader(io.StringIO(text, newline=""))))
    except csv.Error as exc:
        raise Problem(422, "invalid-csv", f"The CSV cannot be read: {exc}") from None


def xlsx_records(data: bytes, limits: XlsxLimits) -> Iterator[list[Any]]:
    """Rows of the first sheet, after the shared guard refused workbooks that unpack to far
    more than sent, or to too many cells or shared strings (413)."""
    try:
        check_xlsx(io.BytesIO(data), limits, sent=len(data))
    except NotAWorkbook:
        raise Problem(422, "invalid-xlsx", "The file is not an XLSX workbook.") from None
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        sheet = book.worksheets[0]
        rows = [list(r) for r in sheet.iter_rows(values_only=True)]
        book.close()
    except Exception as exc:  # openpyxl raises many types for broken files
        reason = type(exc).__name__
        raise Problem(422, "invalid-xlsx", f"The workbook cannot be read ({reason}).") from None
    return iter(rows)
