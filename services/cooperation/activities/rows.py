"""An activity's state written onto its rows: each field's setter, and a new activity from
a whole state (plain functions, no session)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from services.cooperation.activities.models import (
    Activity,
    Budget,
    DocumentLink,
    Indicator,
    IndicatorPeriod,
    Location,
    Participant,
    PolicyMarker,
    Result,
    Sector,
    Transaction,
)
from services.cooperation.activities.schemas import ActivityFields
from services.cooperation.activities.state import Refs, State, period_values
from services.cooperation.iati.kept import recipients
from shared.db import utcnow

# What only an IATI import sets (the API leaves hierarchy 2, the lists empty and the
# activity's XML as sent null).
IATI_ONLY = ("hierarchy", "other_dates", "other_descriptions", "iati_xml")
WRITABLE = (*ActivityFields.model_fields, *IATI_ONLY)
_SCALARS = (
    "identifier",
    "title_en",
    "title_es",
    "description_en",
    "description_es",
    "visibility",
    "default_currency",
    "hierarchy",
    "iati_xml",
)
_LISTS = ("other_dates", "other_descriptions")  # JSON columns, null when empty
_DATES = ("planned_start", "planned_end", "actual_start", "actual_end")


def apply(activity: Activity, name: str, value: Any, refs: Refs) -> None:
    """Set one field of ``activity`` from its state-form value."""
    if name in _SCALARS:
        setattr(activity, name, value)
        if name == "iati_xml":
            activity.recipient_countries, activity.recipient_regions = recipients(value)
    elif name == "status":
        activity.status = str(value)
    elif name in _LISTS:
        setattr(activity, name, value or None)
    elif name in _DATES:
        setattr(activity, name, date.fromisoformat(value) if value else None)
    elif name == "program":
        activity.program = refs.programs[value].program
    elif name in _CHILDREN:
        _CHILDREN[name](activity, value, refs)
    else:  # pragma: no cover - WRITABLE and the setters are kept in step by the tests
        raise KeyError(name)


def _program(activity: Activity, refs: Refs) -> Any:
    return refs.programs[activity.program.code]


def _set_participants(activity: Activity, value: list[dict[str, Any]], refs: Refs) -> None:
    activity.participants = [
        Participant(
            organisation=refs.orgs[p["org"]] if p["org"] else None,
            role=str(p["role"]),
            ref=None if p["org"] else p["ref"],
            name=None if p["org"] else p["name"],
            org_type=None if p["org"] else p["type"],
        )
        for p in value
    ]


def _set_areas(activity: Activity, value: list[str], refs: Refs) -> None:
    activity.priority_areas = [_program(activity, refs).areas[c] for c in value]


def _set_action_areas(activity: Activity, value: list[str], refs: Refs) -> None:
    activity.action_areas = [_program(activity, refs).action_areas[c] for c in value]


def _party_columns(prefix: str, party: dict[str, Any] | None) -> dict[str, Any]:
    party = party or {}
    return {f"{prefix}_{k}": party.get(k) for k in ("ref", "name", "type")}


def transaction_row(t: dict[str, Any]) -> Transaction:
    return Transaction(
        type=t["type"],
        date=date.fromisoformat(t["date"]),
        value=Decimal(t["value"]),
        currency=t["currency"],
        value_date=date.fromisoformat(t["value_date"]),
        description=t["description"],
        **_party_columns("provider", t["provider_org"]),
        **_party_columns("receiver", t["receiver_org"]),
    )


def _set_results(activity: Activity, value: list[dict[str, Any]], _refs: Refs) -> None:
    activity.results = [
        Result(
            type=r["type"],
            title=r["title"],
            description=r["description"],
            aggregation_status=r["aggregation_status"],
            indicators=[
                Indicator(
                    measure=i["measure"],
                    title=i["title"],
                    ascending=i["ascending"],
                    baseline_year=(i["baseline"] or {}).get("year"),
                    baseline_value=(i["baseline"] or {}).get("value"),
                    baseline_date=_date((i["baseline"] or {}).get("iso_date")),
                    periods=[IndicatorPeriod(**period_values(p)) for p in i["periods"]],
                )
                for i in r["indicators"]
            ],
        )
        for r in value
    ]


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None


def _dec(value: str | None) -> Decimal | None:
    return None if value is None else Decimal(value)


_CHILDREN: dict[str, Any] = {
    "participants": _set_participants,
    "priority_areas": _set_areas,
    "action_areas": _set_action_areas,
    "sectors": lambda a, v, _refs: setattr(
        a,
        "sectors",
        [
            Sector(vocabulary=s["vocabulary"], code=s["code"], percentage=_dec(s["percentage"]))
            for s in v
        ],
    ),
    "policy_markers": lambda a, v, _refs: setattr(
        a, "policy_markers", [PolicyMarker(**m) for m in v]
    ),
    "locations": lambda a, v, _refs: setattr(
        a, "locations", [Location(department=x["department"], name=x["name"]) for x in v]
    ),
    "budgets": lambda a, v, _refs: setattr(
        a,
        "budgets",
        [
            Budget(
                type=b["type"],
                status=b["status"],
                period_start=date.fromisoformat(b["period_start"]),
                period_end=date.fromisoformat(b["period_end"]),
                value=Decimal(b["value"]),
                currency=b["currency"],
                value_date=date.fromisoformat(b["value_date"]),
            )
            for b in v
        ],
    ),
    "transactions": lambda a, v, _refs: setattr(a, "transactions", [transaction_row(t) for t in v]),
    "document_links": lambda a, v, _refs: setattr(
        a,
        "document_links",
        [
            DocumentLink(
                url=d["url"],
                format=d["format"],
                title=d["title"],
                category=d["category"],
                document_date=_date(d["document_date"]),
                language=d["language"],
            )
            for d in v
        ],
    ),
    "results": _set_results,
}


def new_activity(state: State, refs: Refs, *, published: bool) -> Activity:
    """An unsaved activity holding ``state`` (reporting and lead organisation included)."""
    reporter = refs.orgs[state["reporting_org"]]
    activity = Activity(
        reporting_org=reporter,
        lead_org=refs.orgs[state["lead_org"]],
        program=refs.programs[state["program"]].program,
        published_at=utcnow() if published else None,
        progress_updates=[],
    )
    for name in WRITABLE:
        if name != "program":
            apply(activity, name, state[name], refs)
    return activity
