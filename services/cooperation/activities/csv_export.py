"""The CSV form of the activity lists (one row per activity, stable columns), and the
batched reading every export shares.

An export is never built in memory: activities are read in keyset batches on a session of
their own, each batch with its parts as plain rows (``state_rows``: no ORM objects), and
each batch is written out before the next is read, so memory stays flat at any size. On
PostgreSQL the export runs in one REPEATABLE READ transaction, so what it reads agrees even
while others write.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import AsyncIterator, Callable
from decimal import Decimal, localcontext
from typing import Any, TypeVar

from fastapi import Request, Response
from sqlalchemy import ColumnElement, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.codes import label
from services.cooperation.activities.filters import ActivityFilters, filter_clauses
from services.cooperation.activities.queries import ORDER, export_etag
from services.cooperation.activities.state import (
    Refs,
    State,
    derived_funding_status,
    money,
)
from services.cooperation.activities.state_rows import ACTIVITY_COLUMNS, Exported, load_states
from services.cooperation.iati import DECIMAL_CONTEXT
from shared.conditional import not_modified
from shared.exports import PrimedStreamingResponse

T = TypeVar("T")

BATCH = 500
CSV_COLUMNS = (
    "identifier",
    "program",
    "reporting_org",
    "lead_org",
    "published",
    "visibility",
    "status",
    "status_label",
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
    "recipient_countries",
    "recipient_regions",
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
COMMITMENTS = frozenset({"2", "11"})
SPENDING = frozenset({"3", "4"})


async def snapshot(session: AsyncSession) -> None:
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
    return ";".join(f"{c} {money(v)}" for c, v in sorted(totals.items()))


Totals = dict[str, Decimal]


def money_totals(state: State) -> tuple[Totals, Totals, Totals]:
    """Budget (a revised budget replaces the original of its period), commitments and
    spending (disbursements + expenditures), per currency."""
    with localcontext(DECIMAL_CONTEXT):  # exact, whatever the magnitudes
        return _money_totals(state)


def _money_totals(state: State) -> tuple[Totals, Totals, Totals]:
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


def csv_row(item: Exported, lang: str = "en") -> list[Any]:
    """One activity as a row of ``CSV_COLUMNS`` (the status label in ``lang``)."""
    state = item.state
    budget, committed, spent = money_totals(state)
    updates = state["progress_updates"]
    values: dict[str, Any] = {k: state.get(k) for k in CSV_COLUMNS}
    values.update(
        published="true" if state["published"] else "false",
        status_label=label("ActivityStatus", state["status"], lang),
        recipient_countries=item.recipient_countries.replace(" ", ";"),
        recipient_regions=item.recipient_regions.replace(" ", ";"),
        participants=";".join(participant_cell(p) for p in state["participants"]),
        priority_areas=";".join(state["priority_areas"]),
        action_areas=";".join(state["action_areas"]),
        sectors=";".join(_sector(s) for s in state["sectors"]),
        policy_markers=";".join(
            f"{m['code']}:{m['significance'] or ''}" for m in state["policy_markers"]
        ),
        locations=";".join(x["department"] for x in state["locations"] if x["department"]),
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


# --- responses --------------------------------------------------------------------------


async def export_tag(
    request: Request, session: AsyncSession, kind: str, audience: str, filters: ActivityFilters
) -> tuple[str, Response | None]:
    """The ETag of an export, and the bare 304 to answer when the caller holds it."""
    tag = await export_etag(session, kind, audience, filters)
    held = Response(status_code=304, headers={"ETag": tag}) if not_modified(request, tag) else None
    return tag, held


def download(parts: AsyncIterator[Any], media_type: str, tag: str, filename: str) -> Response:
    """An export streamed as an attachment (never held whole); its first part is made
    before the status is sent, so the database failing at the start is still a 503."""
    disposition = f'attachment; filename="{filename}"'
    return PrimedStreamingResponse(
        parts, media_type=media_type, headers={"ETag": tag, "Content-Disposition": disposition}
    )
