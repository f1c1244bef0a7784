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
    budget_item,
    derived_funding_status,
    document_item,
    indicator_item,
    location_item,
    marker_item,
    participant_item,
    period_item,
    result_item,
    scalar_fields,
    sector_item,
    transaction_item,
    update_item,
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
    # The recipient country and region codes (``Activity.recipient_countries``).
    recipient_countries: str = "PE"
    recipient_regions: str = ""


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
        org_id = p.organisation_id
        return participant_item(p, None if org_id is None else self.orgs[org_id])


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


def _with_id(item: dict[str, Any], row: Any, with_ids: bool) -> dict[str, Any]:
    """``item`` with the row's id first (the API shows ids; states and exports do not)."""
    return {"id": row.id} | item if with_ids else item


def _ids(groups: dict[int, list[Any]]) -> list[int]:
    """The ids of every row of ``groups`` (the parents of the next level down)."""
    return [row.id for rows in groups.values() for row in rows]


async def _results(
    session: AsyncSession, ids: list[int], with_ids: bool
) -> dict[int, list[dict[str, Any]]]:
    results = await _grouped(
        session, Result, "activity_id", ids, "id type title description aggregation_status"
    )
    columns = "id measure title ascending baseline_year baseline_value baseline_date"
    indicators = await _grouped(session, Indicator, "result_id", _ids(results), columns)
    periods = await _grouped(
        session, IndicatorPeriod, "indicator_id", _ids(indicators), "id start end target actual"
    )
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)

    def period(p: Any) -> dict[str, Any]:
        return _with_id(period_item(p), p, with_ids)

    def indicator(i: Any) -> dict[str, Any]:
        return _with_id(indicator_item(i, [period(p) for p in periods.get(i.id, [])]), i, with_ids)

    for activity_id, rows in results.items():
        for r in rows:
            items = [indicator(i) for i in indicators.get(r.id, [])]
            out[activity_id].append(_with_id(result_item(r, items), r, with_ids))
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
    locations = await _grouped(session, Location, key, ids, "department name")
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
            **scalar_fields(a),
            "participants": [names.participant(p) for p in participants.get(a.id, [])],
            "priority_areas": sorted(names.areas[x.priority_area_id] for x in areas.get(a.id, [])),
            "action_areas": sorted(names.actions[x.action_area_id] for x in actions.get(a.id, [])),
            "sectors": [sector_item(s) for s in sectors.get(a.id, [])],
            "policy_markers": [marker_item(m) for m in markers.get(a.id, [])],
            "locations": [location_item(x) for x in locations.get(a.id, [])],
            "budgets": [budget_item(b) for b in budgets.get(a.id, [])],
            "transactions": [
                _with_id(transaction_item(t), t, with_ids) for t in transactions.get(a.id, [])
            ],
            "document_links": [document_item(d) for d in documents.get(a.id, [])],
            "results": results.get(a.id, []),
            "progress_updates": [
                _with_id(
                    update_item(u, names.org(u.author_org_id))
                    | ({"created_at": u.created_at} if with_ids else {}),
                    u,
                    with_ids,
                )
                for u in updates.get(a.id, [])
            ],
        }
        out.append(
            Exported(
                a.id,
                state,
                a.version,
                a.updated_at,
                a.created_at,
                a.published_at,
                a.recipient_countries,
                a.recipient_regions,
            )
        )
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
