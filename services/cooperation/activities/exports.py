"""Streamed exports: CSV (one row per activity, stable columns) and IATI 2.03 XML (the work
program as parent, its activities as children).

Neither is ever built in memory: activities are read in keyset batches on a session of
their own, each batch with its parts as plain rows (``state_rows``: no ORM objects), and
each batch is written out before the next is read, so memory stays flat at any size. On
PostgreSQL the export runs in one REPEATABLE READ transaction, so the program's list of
children and the activities written agree even while others write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable, Iterable
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal, TypeVar

from fastapi import Query, Request, Response
from fastapi.responses import StreamingResponse
from lxml import etree
from sqlalchemy import ColumnElement, func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.iati_map import activity_iati, program_iati
from services.cooperation.activities.models import Activity, ActivityChange
from services.cooperation.activities.queries import ORDER, ActivityFilters, filter_clauses
from services.cooperation.activities.state import (
    Refs,
    State,
    derived_funding_status,
    load_refs,
)
from services.cooperation.activities.state_rows import ACTIVITY_COLUMNS, Exported, load_states
from services.cooperation.iati.xml import activity_element, write_activities
from services.cooperation.programs.models import WorkProgram
from shared.conditional import etag, not_modified
from shared.db import Database, utcnow
from shared.exports import csv_stream
from shared.security import Principal

T = TypeVar("T")

BATCH = 500
ID_BATCH = 5000
FormatQuery = Annotated[
    Literal["json", "csv"] | None,
    Query(alias="format", description="`csv`: one row per activity (also Accept: text/csv)."),
]
CSV_COLUMNS = (
    "identifier",
    "program",
    "reporting_org",
    "lead_org",
    "published",
    "visibility",
    "status",
    "title_en",
    "title_es",
    "description_en",
    "description_es",
    "planned_start",
    "planned_end",
    "actual_start",
    "actual_end",
    "default_currency",
    "participants",
    "priority_areas",
    "action_areas",
    "sectors",
    "policy_markers",
    "locations",
    "budget",
    "committed",
    "disbursed",
    "funding_status",
    "results",
    "indicators",
    "results_summary",
    "document_links",
    "progress_updates",
    "last_progress_update",
    "version",
    "updated_at",
)
CSV_DESCRIPTION = (
    " With `?format=csv` (or `Accept: text/csv`): every matching activity as streamed CSV, "
    "one row per activity, stable columns (" + ", ".join(CSV_COLUMNS) + "); limit and cursor "
    "do not apply."
)
COMMITMENTS = frozenset({"2", "11"})
SPENDING = frozenset({"3", "4"})


async def _snapshot(session: AsyncSession) -> None:
    """One consistent view for the whole export (PostgreSQL; SQLite reads what is there)."""
    if session.get_bind().dialect.name == "postgresql":
        await session.connection(execution_options={"isolation_level": "REPEATABLE READ"})


async def exported_batches(
    session: AsyncSession,
    refs: Refs,
    seen: ColumnElement[bool],
    filters: ActivityFilters,
    render: Callable[[list[Exported]], T],
) -> AsyncIterator[T]:
    """Every matching activity in (updated_at, id) order, read a batch at a time and
    rendered by ``render`` before the next batch is read (one batch in memory at most)."""
    stmt = select(*ACTIVITY_COLUMNS).where(seen, *filter_clauses(filters))
    after: tuple[Any, Any] | None = None
    while True:
        page = stmt if after is None else stmt.where(tuple_(*ORDER) > tuple_(*after))
        rows = list(await session.execute(page.order_by(*ORDER).limit(BATCH)))
        if not rows:
            return
        after = (rows[-1].updated_at, rows[-1].id)
        more = len(rows) == BATCH
        rendered = render(await load_states(session, rows, refs))
        del rows
        yield rendered
        if not more:
            return


# --- CSV ----------------------------------------------------------------------------------


def _amounts(totals: dict[str, Decimal]) -> str:
    return ";".join(f"{c} {v:.2f}" for c, v in sorted(totals.items()))


Totals = dict[str, Decimal]


def money_totals(state: State) -> tuple[Totals, Totals, Totals]:
    """Budget (a revised budget replaces the original of its period), commitments and
    spending (disbursements + expenditures), per currency."""
    default = state["default_currency"] or ""
    periods: dict[tuple[str, str], list[dict[str, Any]]] = defaultdict(list)
    for b in state["budgets"]:
        periods[(b["period_start"], b["period_end"])].append(b)
    budget: Totals = defaultdict(Decimal)
    for items in periods.values():
        revised = [b for b in items if b["type"] == "2"]
        for b in revised or items:
            budget[b["currency"] or default] += Decimal(b["value"])
    committed: Totals = defaultdict(Decimal)
    spent: Totals = defaultdict(Decimal)
    for t in state["transactions"]:
        currency = t["currency"] or default
        if t["type"] in COMMITMENTS:
            committed[currency] += Decimal(t["value"])
        elif t["type"] in SPENDING:
            spent[currency] += Decimal(t["value"])
    return budget, committed, spent


def results_summary(state: State) -> str:
    """Per indicator: baseline, then target and actual of its latest reported period."""
    parts = []
    for result in state["results"]:
        for indicator in result["indicators"]:
            text = indicator["title"]
            baseline = indicator["baseline"]
            if baseline is not None:
                text += f" [baseline {baseline['value'] or '-'} ({baseline['year']})]"
            periods = indicator["periods"]
            reported = [p for p in periods if p["actual"] is not None] or periods
            if reported:
                p = reported[-1]
                text += f": target {p['target'] or '-'}, actual {p['actual'] or '-'} ({p['end']})"
            parts.append(text)
    return " | ".join(parts)


def participant_cell(p: dict[str, Any]) -> str:
    """A participant in the CSV: organisation code (else ref, else name) and role."""
    return f"{p['org'] or p['ref'] or p['name']}:{p['role']}"


def _sector(s: dict[str, Any]) -> str:
    code = s["code"] if s["vocabulary"] == "1" else f"{s['vocabulary']}/{s['code']}"
    return code if s["percentage"] is None else f"{code}:{s['percentage']}"


def csv_row(item: Exported) -> list[Any]:
    """One activity as a row of ``CSV_COLUMNS``."""
    state = item.state
    budget, committed, spent = money_totals(state)
    updates = state["progress_updates"]
    values: dict[str, Any] = {k: state.get(k) for k in CSV_COLUMNS}
    values.update(
        published="true" if state["published"] else "false",
        participants=";".join(participant_cell(p) for p in state["participants"]),
        priority_areas=";".join(state["priority_areas"]),
        action_areas=";".join(state["action_areas"]),
        sectors=";".join(_sector(s) for s in state["sectors"]),
        policy_markers=";".join(
            f"{m['code']}:{m['significance'] or ''}" for m in state["policy_markers"]
        ),
        locations=";".join(x["department"] for x in state["locations"]),
        budget=_amounts(budget),
        committed=_amounts(committed),
        disbursed=_amounts(spent),
        funding_status=derived_funding_status(state) or "",
        results=len(state["results"]),
        indicators=sum(len(r["indicators"]) for r in state["results"]),
        results_summary=results_summary(state),
        document_links=";".join(d["url"] for d in state["document_links"]),
        progress_updates=len(updates),
        last_progress_update=max((u["reported_on"] for u in updates), default=""),
        version=item.version,
        updated_at=item.updated_at.isoformat(),
    )
    return [values[k] for k in CSV_COLUMNS]


async def csv_rows(
    db: Database, seen: ColumnElement[bool], filters: ActivityFilters
) -> AsyncIterator[list[Any]]:
    async with db.sessions() as session:
        await _snapshot(session)
        refs = await load_refs(session)
        render = lambda batch: [csv_row(item) for item in batch]  # noqa: E731
        async for rows in exported_batches(session, refs, seen, filters, render):
            for row in rows:
                yield row


# --- IATI XML -----------------------------------------------------------------------------


async def _children(
    session: AsyncSession, seen: ColumnElement[bool], filters: ActivityFilters, program_id: int
) -> AsyncIterator[list[str]]:
    """Identifiers of the exported activities of one program, in id order, in batches."""
    stmt = select(Activity.id, Activity.identifier).where(
        seen, Activity.program_id == program_id, *filter_clauses(filters)
    )
    last = 0
    while True:
        rows = list(
            await session.execute(
                stmt.where(Activity.id > last).order_by(Activity.id).limit(ID_BATCH)
            )
        )
        if not rows:
            return
        last = rows[-1][0]
        yield [r[1] for r in rows]


def _related(identifiers: Iterable[str]) -> bytes:
    out = []
    for identifier in identifiers:
        element = etree.Element("related-activity", ref=identifier, type="2")
        out.append(b"  " + etree.tostring(element) + b"\n")
    return b"".join(out)


async def program_parts(
    session: AsyncSession,
    refs: Refs,
    seen: ColumnElement[bool],
    filters: ActivityFilters,
    today: date,
) -> AsyncIterator[bytes]:
    """Each program in scope as a parent activity listing its children."""
    programs = [p for p in refs.programs.values() if filters.program in (None, p.program.code)]
    for program in sorted(programs, key=lambda p: p.program.code):
        newest = await session.scalar(
            select(func.max(ActivityChange.at)).where(
                ActivityChange.program_id == program.program.id
            )
        )
        updated = max(filter(None, (program.program.updated_at, newest)))
        parent = program_iati(program, refs, updated, today)
        if parent is None:
            continue
        xml = etree.tostring(activity_element(parent), encoding="UTF-8", pretty_print=True)
        # Related activities come last among the elements a program has, so the children
        # can be streamed in right before the closing tag.
        head, _, _ = xml.rpartition(b"</iati-activity>")
        yield head
        async for identifiers in _children(session, seen, filters, program.program.id):
            yield _related(identifiers)
        yield b"</iati-activity>\n"


async def anything_to_export(
    session: AsyncSession, seen: ColumnElement[bool], filters: ActivityFilters
) -> bool:
    """True when the export would hold at least one program or activity."""
    programs = select(WorkProgram.id).where(WorkProgram.reporting_org_id.is_not(None))
    if filters.program is not None:
        programs = programs.where(WorkProgram.code == filters.program)
    if await session.scalar(programs.limit(1)) is not None:
        return True
    found = await session.scalar(select(Activity.id).where(seen, *filter_clauses(filters)).limit(1))
    return found is not None


async def iati_document(
    db: Database, seen: ColumnElement[bool], filters: ActivityFilters
) -> AsyncIterator[bytes]:
    """The IATI activities document, in pieces."""
    opening, closing = write_activities([], generated=utcnow())
    yield opening
    today = utcnow().date()
    async with db.sessions() as session:
        await _snapshot(session)
        refs = await load_refs(session)
        async for part in program_parts(session, refs, seen, filters, today):
            yield part
        render = lambda batch: b"".join(activity_xml(item, refs) for item in batch)  # noqa: E731
        async for chunk in exported_batches(session, refs, seen, filters, render):
            yield chunk
    yield closing


def activity_xml(item: Exported, refs: Refs) -> bytes:
    """One ``iati-activity`` element, serialised."""
    iati = activity_iati(item.state, refs, item.updated_at)
    xml: bytes = etree.tostring(activity_element(iati), encoding="UTF-8", pretty_print=True)
    return xml


async def export_version(session: AsyncSession) -> list[Any]:
    """What every export depends on: the newest change and the programs' versions (for
    ETags: any change to an activity or a program changes it)."""
    newest = await session.scalar(select(func.max(ActivityChange.seq))) or 0
    rows = await session.execute(select(WorkProgram.code, WorkProgram.version))
    return [newest, *sorted((str(c), int(v)) for c, v in rows)]


# --- responses ----------------------------------------------------------------------------


def audience_key(principal: Principal | None, public_only: bool) -> str:
    """Who an export is for (part of its ETag: two callers may see different sets)."""
    if public_only or principal is None:
        return "public"
    return f"org:{principal.org}"


async def export_etag(
    session: AsyncSession, kind: str, audience: str, filters: ActivityFilters
) -> str:
    return etag(kind, audience, repr(filters), *(await export_version(session)))


async def csv_response(
    request: Request,
    session: AsyncSession,
    seen: ColumnElement[bool],
    filters: ActivityFilters,
    audience: str,
) -> Response:
    """Every matching activity as streamed CSV (304 to a matching If-None-Match)."""
    tag = await export_etag(session, "csv", audience, filters)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    rows = csv_rows(request.app.state.db, seen, filters)
    return StreamingResponse(
        csv_stream(CSV_COLUMNS, rows),
        media_type="text/csv; charset=utf-8",
        headers={"ETag": tag, "Content-Disposition": 'attachment; filename="activities.csv"'},
    )
