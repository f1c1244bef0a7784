"""An activity as plain data: the one shape that writes are compared in (history diffs, "did
anything change?"), that IATI and CSV exports are made from, and that imports are read into.

``state_of`` reads it from the ORM; ``activity_out`` is the API representation (the state
plus ids, timestamps and derived values). Decimals are text (two places, or as many as the
value has: ``money``), dates ISO text and codes ``code`` values, so two states compare
equal exactly when the stored data is the same.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, localcontext
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import joinedload, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from services.cooperation.activities.codes import DEPARTMENTS
from services.cooperation.activities.models import (
    Activity,
    Indicator,
    Participant,
    ProgressUpdate,
    Result,
)
from services.cooperation.activities.views import ActivityOut
from services.cooperation.iati import (
    DECIMAL_CONTEXT,
    IatiBudget,
    IatiOrganisationRef,
    IatiTransaction,
    funding_status,
)
from services.cooperation.programs.models import (
    ActionArea,
    Organisation,
    PriorityArea,
    WorkProgram,
)

State = dict[str, Any]
CENT = Decimal("0.01")

# Loads everything an activity's state needs, children per batch (no lazy loads: every
# relationship is lazy="raise").
FULL_LOAD = (
    joinedload(Activity.program),
    joinedload(Activity.reporting_org),
    joinedload(Activity.lead_org),
    selectinload(Activity.participants).joinedload(Participant.organisation),
    selectinload(Activity.priority_areas),
    selectinload(Activity.action_areas).joinedload(ActionArea.priority_area),
    selectinload(Activity.sectors),
    selectinload(Activity.policy_markers),
    selectinload(Activity.locations),
    selectinload(Activity.budgets),
    selectinload(Activity.transactions),
    selectinload(Activity.document_links),
    selectinload(Activity.results).selectinload(Result.indicators).selectinload(Indicator.periods),
    selectinload(Activity.progress_updates).joinedload(ProgressUpdate.author_org),
)


def money(value: Decimal | None) -> str | None:
    """Decimal text, exact: two places when that is exact (``"60000.00"``, ``"100.00"``),
    else every place the value has (``"70.9999"``). How amounts and percentages compare."""
    if value is None:
        return None
    exact = Decimal(value)
    with localcontext(DECIMAL_CONTEXT):
        cents = exact.quantize(CENT)
        return format(cents if cents == exact else exact.normalize(), "f")


def code(value: str | int) -> str | int:
    """An IATI code in state form: a whole number as the API has always given it (``2``),
    any other code as its text (``"xx"``, ``"02"``), which only an import brings."""
    text = str(value)
    if text.isascii() and text.isdigit() and str(int(text)) == text:
        return int(text)
    return text


def day(value: date | None) -> str | None:
    return None if value is None else value.isoformat()


def action_area_code(area: ActionArea) -> str:
    return f"{area.priority_area.code}.{area.number}"


# The parts below read attributes only: each serves a loaded ORM object and a plain SQL row
# of the same columns alike (``state_rows`` reads exports as rows).


def participant_item(p: Any, org: Organisation | None) -> dict[str, Any]:
    """A participant: a registered organisation (``org``), or the ref and name it was given."""
    if org is not None:
        return {
            "org": org.code,
            "ref": org.iati_ref,
            "name": org.name_en,
            "type": org.iati_type,
            "role": code(p.role),
        }
    return {"org": None, "ref": p.ref, "name": p.name, "type": p.org_type, "role": code(p.role)}


def party(ref: str | None, name: str | None, type_: str | None) -> dict[str, Any] | None:
    if ref is None and name is None and type_ is None:
        return None
    return {"ref": ref, "name": name, "type": type_}


def scalar_fields(a: Any) -> State:
    """The activity's own columns in state form (not its organisations or program)."""
    return {
        "published": a.published_at is not None,
        "title_en": a.title_en,
        "title_es": a.title_es,
        "description_en": a.description_en,
        "description_es": a.description_es,
        "status": code(a.status),
        "visibility": a.visibility,
        "planned_start": day(a.planned_start),
        "planned_end": day(a.planned_end),
        "actual_start": day(a.actual_start),
        "actual_end": day(a.actual_end),
        "default_currency": a.default_currency,
        "hierarchy": a.hierarchy,
        "other_dates": a.other_dates or [],
        "other_descriptions": a.other_descriptions or [],
        "iati_xml": a.iati_xml,
    }


def sector_item(s: Any) -> dict[str, Any]:
    return {"vocabulary": s.vocabulary, "code": s.code, "percentage": money(s.percentage)}


def marker_item(m: Any) -> dict[str, Any]:
    return {"vocabulary": m.vocabulary, "code": m.code, "significance": m.significance}


def budget_item(b: Any) -> dict[str, Any]:
    return {
        "type": b.type,
        "status": b.status,
        "period_start": day(b.period_start),
        "period_end": day(b.period_end),
        "value": money(b.value),
        "currency": b.currency,
        "value_date": day(b.value_date),
    }


def transaction_fields(
    t: Any, value_date: date, provider: dict[str, Any] | None, receiver: dict[str, Any] | None
) -> dict[str, Any]:
    """A transaction in state form, its value date and organisations given."""
    return {
        "type": t.type,
        "date": day(t.date),
        "value": money(t.value),
        "currency": t.currency,
        "value_date": day(value_date),
        "description": t.description,
        "provider_org": provider,
        "receiver_org": receiver,
    }


def transaction_item(t: Any) -> dict[str, Any]:
    provider = party(t.provider_ref, t.provider_name, t.provider_type)
    receiver = party(t.receiver_ref, t.receiver_name, t.receiver_type)
    return transaction_fields(t, t.value_date, provider, receiver)


def document_item(d: Any) -> dict[str, Any]:
    return {
        "url": d.url,
        "format": d.format,
        "title": d.title,
        "category": d.category,
        "document_date": day(d.document_date),
        "language": d.language,
    }


def result_item(r: Any, indicators: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "type": r.type,
        "title": r.title,
        "description": r.description,
        "aggregation_status": r.aggregation_status,
        "indicators": indicators,
    }


def indicator_fields(
    i: Any, baseline: dict[str, Any] | None, periods: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "measure": i.measure,
        "title": i.title,
        "ascending": i.ascending,
        "baseline": baseline,
        "periods": periods,
    }


def indicator_item(i: Any, periods: list[dict[str, Any]]) -> dict[str, Any]:
    """An indicator row (its baseline in columns of its own)."""
    baseline = None
    if i.baseline_year is not None:
        baseline = {
            "year": i.baseline_year,
            "value": i.baseline_value,
            "iso_date": day(i.baseline_date),
        }
    return indicator_fields(i, baseline, periods)


def nested_indicator_item(i: Any) -> dict[str, Any]:
    """An indicator whose baseline and periods are parts of it (a request body, the
    standard's indicator)."""
    b = i.baseline
    baseline = None
    if b is not None:
        baseline = {"year": b.year, "value": b.value, "iso_date": day(b.iso_date)}
    return indicator_fields(i, baseline, [period_item(p) for p in i.periods])


def period_item(p: Any) -> dict[str, Any]:
    return {"start": day(p.start), "end": day(p.end), "target": p.target, "actual": p.actual}


def period_values(p: dict[str, Any]) -> dict[str, Any]:
    """A period in state form with its dates as dates (to build a row or the standard's)."""
    start, end = date.fromisoformat(p["start"]), date.fromisoformat(p["end"])
    return {"start": start, "end": end, "target": p["target"], "actual": p["actual"]}


def update_item(u: Any, author_org: str) -> dict[str, Any]:
    return {
        "reported_on": day(u.reported_on),
        "text_en": u.text_en,
        "text_es": u.text_es,
        "author_org": author_org,
    }


def _indicator(i: Indicator) -> dict[str, Any]:
    return indicator_item(i, [period_item(p) for p in i.periods])


def state_of(a: Activity) -> State:
    """The activity as plain data (every relationship must be loaded: ``FULL_LOAD``)."""
    return {
        "identifier": a.identifier,
        "program": a.program.code,
        "reporting_org": a.reporting_org.code,
        "lead_org": a.lead_org.code,
        **scalar_fields(a),
        "participants": [participant_item(p, p.organisation) for p in a.participants],
        "priority_areas": sorted(p.code for p in a.priority_areas),
        "action_areas": sorted(action_area_code(x) for x in a.action_areas),
        "sectors": [sector_item(s) for s in a.sectors],
        "policy_markers": [marker_item(m) for m in a.policy_markers],
        "locations": [location_item(x) for x in a.locations],
        "budgets": [budget_item(b) for b in a.budgets],
        "transactions": [transaction_item(t) for t in a.transactions],
        "document_links": [document_item(d) for d in a.document_links],
        "results": [result_item(r, [_indicator(i) for i in r.indicators]) for r in a.results],
        "progress_updates": [update_item(u, u.author_org.code) for u in a.progress_updates],
    }


def location(department: str) -> dict[str, str | None]:
    """A Peruvian department as a location (its INEI code and name)."""
    return {"department": department, "name": DEPARTMENTS.get(department)}


def location_item(x: Any) -> dict[str, str | None]:
    """A stored location: the ref (a department code, or what an import gave) and name."""
    return {"department": x.department, "name": x.name}


def iati_budget(b: dict[str, Any]) -> IatiBudget:
    """A budget in state form as the standard's budget."""
    return IatiBudget(
        date.fromisoformat(b["period_start"]),
        date.fromisoformat(b["period_end"]),
        Decimal(b["value"]),
        date.fromisoformat(b["value_date"]),
        currency=b["currency"],
        type=b["type"],
        status=b["status"],
    )


def iati_party(value: dict[str, Any] | None) -> IatiOrganisationRef | None:
    if value is None:
        return None
    return IatiOrganisationRef(ref=value["ref"], name=value["name"] or "", type=value["type"])


def iati_transaction(t: dict[str, Any]) -> IatiTransaction:
    """A transaction in state form as the standard's transaction."""
    return IatiTransaction(
        t["type"],
        date.fromisoformat(t["date"]),
        Decimal(t["value"]),
        date.fromisoformat(t["value_date"]),
        currency=t["currency"],
        description=t["description"],
        provider_org=iati_party(t["provider_org"]),
        receiver_org=iati_party(t["receiver_org"]),
    )


def derived_funding_status(state: State) -> str | None:
    """IATI has no funding status: derived from budgets and transactions (None when they
    mix currencies, which cannot be added up)."""
    budgets = [iati_budget(b) for b in state["budgets"]]
    transactions = [iati_transaction(t) for t in state["transactions"]]
    try:
        return funding_status(budgets, transactions, default_currency=state["default_currency"])
    except ValueError:
        return None


def activity_out(a: Activity) -> ActivityOut:
    """The API representation: the state with ids, timestamps and the funding status."""
    state = state_of(a)
    for item, row in zip(state["transactions"], a.transactions, strict=True):
        item["id"] = row.id
    for result, r in zip(state["results"], a.results, strict=True):
        result["id"] = r.id
        for indicator, i in zip(result["indicators"], r.indicators, strict=True):
            indicator["id"] = i.id
            for period, p in zip(indicator["periods"], i.periods, strict=True):
                period["id"] = p.id
    for update, u in zip(state["progress_updates"], a.progress_updates, strict=True):
        update["id"] = u.id
        update["created_at"] = u.created_at
    return ActivityOut.model_validate(
        state
        | {
            "funding_status": derived_funding_status(state),
            "published_at": a.published_at,
            "version": a.version,
            "created_at": a.created_at,
            "updated_at": a.updated_at,
        }
    )


def participant_codes(a: Activity) -> set[str]:
    """Codes of the registered organisations taking part."""
    return {p.organisation.code for p in a.participants if p.organisation is not None}


@dataclass
class ProgramRefs:
    """A program's identifiers and structure, by code."""

    program: WorkProgram
    identifier: str | None
    areas: dict[str, PriorityArea] = field(default_factory=dict)
    action_areas: dict[str, ActionArea] = field(default_factory=dict)


@dataclass
class Refs:
    """What states refer to by code: organisations and programs (small tables, loaded once
    per request or export)."""

    orgs: dict[str, Organisation]
    orgs_by_ref: dict[str, Organisation]
    programs: dict[str, ProgramRefs]

    def program_identifier(self, code: str) -> str | None:
        refs = self.programs.get(code)
        return refs.identifier if refs else None


async def load_refs(session: AsyncSession) -> Refs:
    """Every organisation and every program with its priority and action areas."""
    orgs = list(await session.scalars(select(Organisation)))
    by_id = {o.id: o for o in orgs}
    programs = await session.scalars(
        select(WorkProgram).options(
            selectinload(WorkProgram.goals),
            selectinload(WorkProgram.priority_areas).selectinload(PriorityArea.action_areas),
        )
    )
    refs: dict[str, ProgramRefs] = {}
    for program in programs:
        reporter = by_id.get(program.reporting_org_id) if program.reporting_org_id else None
        identifier = None
        if reporter is not None and reporter.iati_ref:
            identifier = f"{reporter.iati_ref}-{program.code}"
        entry = ProgramRefs(program, identifier)
        for area in program.priority_areas:
            entry.areas[area.code] = area
            for action in area.action_areas:
                # Loaded from its area: say so, so that reading it back needs no query.
                set_committed_value(action, "priority_area", area)
                entry.action_areas[f"{area.code}.{action.number}"] = action
        refs[program.code] = entry
    return Refs(
        orgs={o.code: o for o in orgs},
        orgs_by_ref={o.iati_ref: o for o in orgs if o.iati_ref},
        programs=refs,
    )
