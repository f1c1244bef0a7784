"""The activity lists as tables for spreadsheets: CSV or XLSX, at three levels.

``?level=activity`` (the default) gives one row per activity (``csv_export.CSV_COLUMNS``),
``transaction`` one row per transaction and ``budget`` one row per budget, each with its
activity's identifier, title and reporting organisation. Codes come with their label
beside them (``..._code``, ``..._label``), in the caller's language (``?lang=es|en``, else
``Accept-Language``, else Spanish; a code with no Spanish label has its English one, an
unknown code none); money is a number with its ``currency`` column (the activity's default
currency when the item gives none) and ``value_date``; dates are ISO 8601 text.

Transactions and budgets are each activity's, as its columns hold them (an import maps
every one of them); what an imported transaction carries that has no column (its ``ref``,
``humanitarian``, sectors, recipient country or region) is read from the activity's IATI
XML as sent. The filters are the activity list's: an activity they select gives all its
transactions or budgets. Both formats stream from the same batched reading as every
export; ``?bom=true`` starts a CSV with a UTF-8 byte order mark (Excel then reads UTF-8).
"""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import Depends, Query, Request, Response
from sqlalchemy import ColumnElement
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.codes import label
from services.cooperation.activities.csv_export import (
    CSV_COLUMNS,
    csv_row,
    download,
    export_tag,
    exported_batches,
    snapshot,
)
from services.cooperation.activities.filters import ActivityFilters
from services.cooperation.activities.queries import View
from services.cooperation.activities.state import Refs, load_refs
from services.cooperation.activities.state_rows import Exported
from services.cooperation.iati.kept import read_kept
from shared.db import Database
from shared.exports import csv_stream, xlsx_stream
from shared.i18n import negotiate

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
CSV = "text/csv"
BOM = "\ufeff".encode()

TRANSACTION_COLUMNS = (
    "activity_identifier",
    "activity_title",
    "reporting_org_ref",
    "transaction_ref",
    "transaction_type_code",
    "transaction_type_label",
    "transaction_date",
    "value",
    "currency",
    "value_date",
    "description",
    "provider_org_ref",
    "provider_org_name",
    "provider_org_type_code",
    "provider_org_type_label",
    "receiver_org_ref",
    "receiver_org_name",
    "receiver_org_type_code",
    "receiver_org_type_label",
    "humanitarian",
    "sectors",
    "recipient_country_code",
    "recipient_country_label",
    "recipient_region_code",
)
BUDGET_COLUMNS = (
    "activity_identifier",
    "activity_title",
    "reporting_org_ref",
    "budget_type_code",
    "budget_type_label",
    "budget_status_code",
    "budget_status_label",
    "period_start",
    "period_end",
    "value",
    "currency",
    "value_date",
)

Level = Literal["activity", "transaction", "budget"]
LevelQuery = Annotated[
    Level,
    Query(
        description="CSV/XLSX rows: one per `activity` (default), per `transaction` ("
        + ", ".join(TRANSACTION_COLUMNS)
        + ") or per `budget` ("
        + ", ".join(BUDGET_COLUMNS)
        + ")."
    ),
]
LangQuery = Annotated[
    Literal["es", "en"] | None,
    Query(description="Language of the labels in CSV/XLSX (else Accept-Language, else `es`)."),
]
BomQuery = Annotated[
    bool, Query(description="CSV only: start with a UTF-8 byte order mark (for Excel).")
]
FormatQuery = Annotated[
    Literal["json", "csv", "xlsx"] | None,
    Query(
        alias="format",
        description="`csv` or `xlsx`: every matching row as a table (also `Accept: text/csv` "
        "or the XLSX media type); see `level`.",
    ),
]
TABLE_DESCRIPTION = (
    " With `?format=csv` or `?format=xlsx` (or `Accept: text/csv` / `Accept: " + XLSX + "`): "
    "every matching activity as a streamed table, limit and cursor do not apply. "
    "`level=activity` (default) gives one row per activity (" + ", ".join(CSV_COLUMNS) + "), "
    "`level=transaction` one per transaction, `level=budget` one per budget. Codes have their "
    "label beside them in the language of `lang` (or Accept-Language); money is a number with "
    "a `currency` column; `bom=true` adds a UTF-8 BOM to the CSV."
)
TABLE_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "A page (JSON) or every row (CSV, XLSX)",
        "content": {
            CSV: {
                "schema": {"type": "string"},
                "example": (
                    ",".join(TRANSACTION_COLUMNS[:10]) + "\r\n"
                    "PE-RUC-20131368829-ENF-01,Enforcement,PE-RUC-20131368829,,3,Desembolso,"
                    "2016-03-01,25000.00,USD,2016-03-01\r\n"
                ),
            },
            XLSX: {"schema": {"type": "string", "format": "binary"}},
        },
    }
}


@dataclass(frozen=True)
class TableAsk:
    """How a table export is asked for: format, level, language of labels, BOM."""

    fmt: str  # "csv" or "xlsx"
    level: str
    lang: str
    bom: bool


def table_format(accept: str | None, fmt: str | None) -> str | None:
    """``csv`` or ``xlsx`` when a table is asked for (``?format=``, else Accept), else None."""
    if fmt is not None:
        return None if fmt == "json" else fmt
    accept = accept or ""
    if XLSX in accept:
        return "xlsx"
    return "csv" if CSV in accept else None


def table_ask(
    request: Request,
    level: LevelQuery = "activity",
    lang: LangQuery = None,
    bom: BomQuery = False,
) -> TableAsk | None:
    """The table export asked for, or None for a JSON page (format decided with Accept)."""
    fmt = table_format(request.headers.get("accept"), request.query_params.get("format"))
    if fmt is None:
        return None
    return TableAsk(fmt, level, negotiate(request.headers.get("accept-language"), lang), bom)


TableDep = Annotated[TableAsk | None, Depends(table_ask)]


# --- labels -------------------------------------------------------------------------------


def _title(state: dict[str, Any], lang: str) -> str:
    title: str = (state["title_es"] if lang == "es" else None) or state["title_en"]
    return title


def _number(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


# --- what only the kept XML holds ---------------------------------------------------------

_DAY = re.compile(r"\d{4}-\d{2}-\d{2}")


def _kept_transactions(state: dict[str, Any]) -> list[Any | None]:
    """For each of the activity's transactions, the transaction of its kept XML it came from
    (same place, type, date and value), else None (edited here, or nothing kept)."""
    found: list[Any | None] = [None] * len(state["transactions"])
    if not state["iati_xml"]:
        return found
    kept = list(read_kept(state["iati_xml"]).iterchildren("transaction"))
    for i, (t, element) in enumerate(zip(state["transactions"], kept, strict=False)):
        if _same_transaction(t, element):
            found[i] = element
    return found


def _same_transaction(t: dict[str, Any], element: Any) -> bool:
    kind = element.find("transaction-type")
    day = element.find("transaction-date")
    value = (element.findtext("value") or "").strip()
    when = _DAY.match(day.get("iso-date", "")) if day is not None else None
    try:
        same_value = Decimal(value) == Decimal(t["value"])
    except ArithmeticError:
        return False
    return (
        same_value
        and kind is not None
        and kind.get("code") == str(t["type"])
        and when is not None
        and when.group(0) == t["date"]
    )


def _sector_cell(element: Any) -> str:
    vocabulary = element.get("vocabulary") or "1"
    code = element.get("code") or ""
    return code if vocabulary == "1" else f"{vocabulary}/{code}"


def _kept_columns(element: Any | None, lang: str) -> dict[str, Any]:
    if element is None:
        return {}
    country = element.find("recipient-country")
    region = element.find("recipient-region")
    country_code = country.get("code") if country is not None else None
    return {
        "transaction_ref": element.get("ref"),
        "humanitarian": element.get("humanitarian"),
        "sectors": ";".join(_sector_cell(s) for s in element.iterchildren("sector")),
        "recipient_country_code": country_code,
        "recipient_country_label": label("Country", country_code, lang),
        "recipient_region_code": region.get("code") if region is not None else None,
    }


# --- rows ---------------------------------------------------------------------------------


def _activity_columns(item: Exported, refs: Refs, lang: str) -> dict[str, Any]:
    state = item.state
    reporter = refs.orgs.get(state["reporting_org"])
    return {
        "activity_identifier": state["identifier"],
        "activity_title": _title(state, lang),
        "reporting_org_ref": reporter.iati_ref if reporter is not None else None,
    }


def _party(prefix: str, party: dict[str, Any] | None, lang: str) -> dict[str, Any]:
    party = party or {}
    kind = party.get("type")
    return {
        f"{prefix}_org_ref": party.get("ref"),
        f"{prefix}_org_name": party.get("name"),
        f"{prefix}_org_type_code": kind,
        f"{prefix}_org_type_label": label("OrganisationType", kind, lang),
    }


def transaction_rows(item: Exported, refs: Refs, lang: str) -> list[list[Any]]:
    """One row of ``TRANSACTION_COLUMNS`` per transaction of the activity."""
    state = item.state
    common = _activity_columns(item, refs, lang)
    rows = []
    for t, kept in zip(state["transactions"], _kept_transactions(state), strict=True):
        values = common | {
            "transaction_type_code": t["type"],
            "transaction_type_label": label("TransactionType", t["type"], lang),
            "transaction_date": t["date"],
            "value": _number(t["value"]),
            "currency": t["currency"] or state["default_currency"],
            "value_date": t["value_date"],
            "description": t["description"],
            **_party("provider", t["provider_org"], lang),
            **_party("receiver", t["receiver_org"], lang),
            **_kept_columns(kept, lang),
        }
        rows.append([values.get(k) for k in TRANSACTION_COLUMNS])
    return rows


def budget_rows(item: Exported, refs: Refs, lang: str) -> list[list[Any]]:
    """One row of ``BUDGET_COLUMNS`` per budget of the activity."""
    state = item.state
    common = _activity_columns(item, refs, lang)
    rows = []
    for b in state["budgets"]:
        values = common | {
            "budget_type_code": b["type"],
            "budget_type_label": label("BudgetType", b["type"], lang),
            "budget_status_code": b["status"],
            "budget_status_label": label("BudgetStatus", b["status"], lang),
            "period_start": b["period_start"],
            "period_end": b["period_end"],
            "value": _number(b["value"]),
            "currency": b["currency"] or state["default_currency"],
            "value_date": b["value_date"],
        }
        rows.append([values[k] for k in BUDGET_COLUMNS])
    return rows


def activity_rows(item: Exported, _refs: Refs, lang: str) -> list[list[Any]]:
    return [csv_row(item, lang)]


Render = Callable[[Exported, Refs, str], list[list[Any]]]
LEVELS: dict[str, tuple[Sequence[str], Render]] = {
    "activity": (CSV_COLUMNS, activity_rows),
    "transaction": (TRANSACTION_COLUMNS, transaction_rows),
    "budget": (BUDGET_COLUMNS, budget_rows),
}


async def table_rows(
    db: Database, seen: ColumnElement[bool], filters: ActivityFilters, ask: TableAsk
) -> AsyncIterator[list[Any]]:
    """Every row of the asked level, batch after batch."""
    _columns, render = LEVELS[ask.level]
    async with db.sessions() as session:
        await snapshot(session)
        refs = await load_refs(session)
        lines = lambda batch: [r for item in batch for r in render(item, refs, ask.lang)]  # noqa: E731
        async for rows in exported_batches(session, refs, seen, filters, lines):
            for row in rows:
                yield row


async def _with_bom(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield BOM
    async for part in parts:
        yield part


async def table_response(
    request: Request,
    session: AsyncSession,
    view: View,
    filters: ActivityFilters,
    ask: TableAsk,
) -> Response:
    """Every matching row of ``ask.level`` as streamed CSV or XLSX (304 when held)."""
    kind = f"{ask.fmt}:{ask.level}:{ask.lang}:{ask.bom}"
    tag, held = await export_tag(request, session, kind, view.audience, filters)
    if held is not None:
        return held
    columns, _render = LEVELS[ask.level]
    rows = table_rows(request.app.state.db, view.seen, filters, ask)
    name = {"activity": "activities", "transaction": "transactions", "budget": "budgets"}
    if ask.fmt == "xlsx":
        parts = xlsx_stream(columns, rows, sheet=name[ask.level])
        response = download(parts, XLSX, tag, f"{name[ask.level]}.xlsx")
    else:
        parts = csv_stream(columns, rows)
        if ask.bom:
            parts = _with_bom(parts)
        response = download(parts, "text/csv; charset=utf-8", tag, f"{name[ask.level]}.csv")
    response.headers["Vary"] = "Accept, Accept-Language"
    return response
