"""Activity states for exports, read with plain SQL rows instead of ORM objects.

An export reads every activity with all its parts. Building ORM objects for that costs most
of the time and memory (identity map, instrumented collections); the rows needed are
simple, so they are read per batch, table by table, and assembled straight into the state
form of ``state.state_of`` (a test holds the two to the same result).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.models import (
    Activity,
    ActivityActionArea,
    ActivityPriorityArea,
    Budget,
    DocumentLink,
    Indicator,
    IndicatorPeriod,
    Location,
    Participant,
    PolicyMarker,
    ProgressUpdate,
    Result,
    Sector,
    Transaction,
)
from services.cooperation.activities.state import (
    Refs,
    State,
    day,
    derived_funding_status,
    location,
    money,
)
from services.cooperation.activities.views import ActivityOut

ACTIVITY_COLUMNS = tuple(Activity.__table__.c)


@dataclass(frozen=True)
class Exported:
    """One activity read for an export: its state and what is not part of the state."""

    id: int
    state: State
    version: int
    updated_at: datetime
    created_at: datetime
    published_at: datetime | None


class _Names:
    """Codes by id, from the refs (organisations, programs, areas)."""

    def __init__(self, refs: Refs) -> None:
        self.orgs = {o.id: o for o in refs.orgs.values()}
        self.programs = {p.program.id: code for code, p in refs.programs.items()}
        self.areas = {a.id: a.code for p in refs.programs.values() for a in p.areas.values()}
        self.actions = {
            x.id: code for p in refs.programs.values() for code, x in p.action_areas.items()
        }

    def org(self, org_id: int) -> str:
        return self.orgs[org_id].code

    def participant(self, p: Any) -> dict[str, Any]:
        if p.organisation_id is None:
            return {"org": None, "ref": p.ref, "name": p.name, "type": p.org_type, "role": p.role}
        o = self.orgs[p.organisation_id]
        return {
            "org": o.code,
            "ref": o.iati_ref,
            "name": o.name_en,
            "type": o.iati_type,
            "role": p.role,
        }


async def _grouped(
    session: AsyncSession, model: Any, key: str, ids: list[int], names: str, order: str = "id"
) -> dict[int, list[Any]]:
    """Rows of ``model`` (columns ``key`` + ``names``) whose ``key`` is in ``ids``, by key,
    in ``order`` (insertion order for the children, as the ORM relationships sort)."""
    columns = [getattr(model, n) for n in (key, *names.split())]
    key_column, order_column = getattr(model, key), getattr(model, order)
    stmt = select(*columns).where(key_column.in_(ids)).order_by(key_column, order_column)
    found: dict[int, list[Any]] = defaultdict(list)
    for row in await session.execute(stmt):
        found[row[0]].append(row)
    return found


def _party(ref: str | None, name: str | None, type_: str | None) -> dict[str, Any] | None:
    if ref is None and name is None and type_ is None:
        return None
    return {"ref": ref, "name": name, "type": type_}


def _with_id(item: dict[str, Any], row: Any, with_ids: bool) -> dict[str, Any]:
    """``item`` with the row's id first (the API shows ids; states and exports do not)."""
    return {"id": row.id} | item if with_ids else item


async def _results(
    session: AsyncSession, ids: list[int], with_ids: bool
) -> dict[int, list[dict[str, Any]]]:
    results = await _grouped(
        session, Result, "activity_id", ids, "id type title description aggregation_status"
    )
    indicators = await _grouped(
        session,
        Indicator,
        "result_id",
        [r.id for rows in results.values() for r in rows],
        "id measure title ascending baseline_year baseline_value baseline_date",
    )
    periods = await _grouped(
        session,
        IndicatorPeriod,
        "indicator_id",
        [i.id for rows in indicators.values() for i in rows],
        "id start end target actual",
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for activity_id, rows in results.items():
        for r in rows:
            out[activity_id].append(
                _with_id(
                    {
                        "type": r.type,
                        "title": r.title,
                        "description": r.description,
                        "aggregation_status": r.aggregation_status,
                        "indicators": [
                            _with_id(
                                {
                                    "measure": i.measure,
                                    "title": i.title,
                                    "ascending": i.ascending,
                                    "baseline": None
                                    if i.baseline_year is None
                                    else {
                                        "year": i.baseline_year,
                                        "value": i.baseline_value,
                                        "iso_date": day(i.baseline_date),
                                    },
                                    "periods": [
                                        _with_id(
                                            {
                                                "start": day(p.start),
                                                "end": day(p.end),
                                                "target": p.target,
                                                "actual": p.actual,
                                            },
                                            p,
                                            with_ids,
                                        )
                                        for p in periods.get(i.id, [])
                                    ],
                                },
                                i,
                                with_ids,
                            )
                            for i in indicators.get(r.id, [])
                        ],
                    },
                    r,
                    with_ids,
                )
            )
    return out


async def load_states(
    session: AsyncSession, rows: Sequence[Any], refs: Refs, *, with_ids: bool = False
) -> list[Exported]:
    """The states of the activities in ``rows`` (rows of ``ACTIVITY_COLUMNS``), in order;
    ``with_ids`` adds the ids (and progress updates' times) the API representation shows."""
    names = _Names(refs)
    ids = [r.id for r in rows]
    key = "activity_id"
    participants = await _grouped(
        session, Participant, key, ids, "organisation_id role ref name org_type"
    )
    areas = await _grouped(
        session, ActivityPriorityArea, key, ids, "priority_area_id", order="priority_area_id"
    )
    actions = await _grouped(
        session, ActivityActionArea, key, ids, "action_area_id", order="action_area_id"
    )
    sectors = await _grouped(session, Sector, key, ids, "vocabulary code percentage")
    markers = await _grouped(session, PolicyMarker, key, ids, "vocabulary code significance")
    locations = await _grouped(session, Location, key, ids, "department")
    budgets = await _grouped(
        session, Budget, key, ids, "type status period_start period_end value currency value_date"
    )
    transactions = await _grouped(
        session,
        Transaction,
        key,
        ids,
        "id type date value currency value_date description provider_ref provider_name "
        "provider_type receiver_ref receiver_name receiver_type",
    )
    documents = await _grouped(
        session, DocumentLink, key, ids, "url format title category document_date language"
    )
    updates = await _grouped(
        session, ProgressUpdate, key, ids, "id reported_on text_en text_es author_org_id created_at"
    )
    results = await _results(session, ids, with_ids)
    out = []
    for a in rows:
        state: State = {
            "identifier": a.identifier,
            "program": names.programs[a.program_id],
            "reporting_org": names.org(a.reporting_org_id),
            "lead_org": names.org(a.lead_org_id),
            "published": a.published_at is not None,
            "title_en": a.title_en,
            "title_es": a.title_es,
            "description_en": a.description_en,
            "description_es": a.description_es,
            "status": a.status,
            "visibility": a.visibility,
            "planned_start": day(a.planned_start),
            "planned_end": day(a.planned_end),
            "actual_start": day(a.actual_start),
            "actual_end": day(a.actual_end),
            "default_currency": a.default_currency,
            "participants": [names.participant(p) for p in participants.get(a.id, [])],
            "priority_areas": sorted(names.areas[x.priority_area_id] for x in areas.get(a.id, [])),
            "action_areas": sorted(names.actions[x.action_area_id] for x in actions.get(a.id, [])),
            "sectors": [
                {"vocabulary": s.vocabulary, "code": s.code, "percentage": money(s.percentage)}
                for s in sectors.get(a.id, [])
            ],
            "policy_markers": [
                {"vocabulary": m.vocabulary, "code": m.code, "significance": m.significance}
                for m in markers.get(a.id, [])
            ],
            "locations": [location(x.department) for x in locations.get(a.id, [])],
            "budgets": [
                {
                    "type": b.type,
                    "status": b.status,
                    "period_start": day(b.period_start),
                    "period_end": day(b.period_end),
                    "value": money(b.value),
                    "currency": b.currency,
                    "value_date": day(b.value_date),
                }
                for b in budgets.get(a.id, [])
            ],
            "transactions": [
                _with_id(
                    {
                        "type": t.type,
                        "date": day(t.date),
                        "value": money(t.value),
                        "currency": t.currency,
                        "value_date": day(t.value_date),
                        "description": t.description,
                        "provider_org": _party(t.provider_ref, t.provider_name, t.provider_type),
                        "receiver_org": _party(t.receiver_ref, t.receiver_name, t.receiver_type),
                    },
                    t,
                    with_ids,
                )
                for t in transactions.get(a.id, [])
            ],
            "document_links": [
                {
                    "url": d.url,
                    "format": d.format,
                    "title": d.title,
                    "category": d.category,
                    "document_date": day(d.document_date),
                    "language": d.language,
                }
                for d in documents.get(a.id, [])
            ],
            "results": results.get(a.id, []),
            "progress_updates": [
                _with_id(
                    {
                        "reported_on": day(u.reported_on),
                        "text_en": u.text_en,
                        "text_es": u.text_es,
                        "author_org": names.org(u.author_org_id),
                    }
                    | ({"created_at": u.created_at} if with_ids else {}),
                    u,
                    with_ids,
                )
                for u in updates.get(a.id, [])
            ],
        }
        out.append(Exported(a.id, state, a.version, a.updated_at, a.created_at, a.published_at))
    return out


def api_out(item: Exported) -> ActivityOut:
    """The API representation of an activity read with ``with_ids=True``."""
    return ActivityOut.model_validate(
        item.state
        | {
            "funding_status": derived_funding_status(item.state),
            "published_at": item.published_at,
            "version": item.version,
            "created_at": item.created_at,
            "updated_at": item.updated_at,
        }
    )
