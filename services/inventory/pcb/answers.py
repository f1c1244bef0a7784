"""What the PCB item routes share: the item's representation as of a date (class, flags,
masses, in the status then in force and with its latest inspection by then), its ETag,
the If-Match check of writes, and the settings the rules take."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from fastapi import Request, Response

from services.inventory.pcb import service
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.mass import MassChecks
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.queries import last_inspections, states_on
from services.inventory.pcb.rules import Thresholds
from services.inventory.pcb.schedules import Schedule, load_thresholds
from services.inventory.pcb.schemas import PcbItemOut
from services.inventory.submissions.models import Submission
from shared.conditional import etag, require_if_match, tagged
from shared.db import SessionDep, utcnow
from shared.security import Principal, require_scopes

READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")


def item_etag(item: PcbItem, schedule_tag: str, as_of: date, densities: dict[str, Decimal]) -> str:
    """Class, flags and counted masses are part of the representation: the ETag changes
    with the schedule judged against (and its version), the densities and the date they
    refer to, not only with the item."""
    density_tag = ";".join(f"{k}={d.normalize()}" for k, d in sorted(densities.items()))
    return etag("pcb-item", item.id, item.version, schedule_tag, as_of, density_tag)


async def mass_checks(request: Request, session: SessionDep) -> MassChecks:
    """The evidence checks, with their tolerances (settings)."""
    settings = request.app.state.settings
    return MassChecks(
        densities=await load_densities(session),
        density_tolerance=settings.pcb_density_tolerance,
        disposed_mass_tolerance_kg=settings.pcb_disposed_mass_tolerance_kg,
    )


def inspection_months(request: Request) -> int:
    """The inspection interval of equipment in populated areas (a setting)."""
    months: int = request.app.state.settings.pcb_inspection_interval_months
    return months


async def item_outs(
    request: Request,
    session: SessionDep,
    items: Sequence[PcbItem],
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
) -> list[PcbItemOut]:
    """The items as of ``as_of``: in the status then in force, with their latest
    inspection by then."""
    ids = [i.id for i in items]
    states = await states_on(session, ids, as_of)
    inspected = await last_inspections(session, ids, as_of)
    months = inspection_months(request)
    return [
        service.item_out(
            i, thresholds, densities, as_of, states.get(i.id), inspected.get(i.id), months
        )
        for i in items
    ]


async def editable(
    request: Request, session: SessionDep, principal: Principal, item_id: int
) -> tuple[PcbItem, Submission]:
    """The caller's item, in an editable submission, matching the request's If-Match."""
    item, submission = await service.editable_item(session, principal, item_id)
    densities = await load_densities(session)
    today = utcnow().date()
    # Today's representation under any schedule names the item's current version.
    tags = [
        item_etag(item, (await load_thresholds(session, s))[1], today, densities) for s in Schedule
    ]
    sent = request.headers.get("if-match") or ""
    require_if_match(request, next((t for t in tags if t in sent), tags[0]))
    return item, submission


async def item_answer(
    request: Request,
    session: SessionDep,
    item: PcbItem,
    as_of: date | None = None,
    schedule: Schedule = Schedule.CONVENTION,
) -> tuple[PcbItemOut, str]:
    """The item as of ``as_of`` (default: today) judged against ``schedule``, and its
    ETag."""
    thresholds, version = await load_thresholds(session, schedule)
    densities = await load_densities(session)
    as_of = as_of or utcnow().date()
    [out] = await item_outs(request, session, [item], thresholds, densities, as_of)
    return out, item_etag(item, version, as_of, densities)


async def changed(
    request: Request, response: Response, session: SessionDep, item: PcbItem
) -> PcbItemOut:
    """The changed item, with its new ETag."""
    out, tag = await item_answer(request, session, item)
    return tagged(response, out, tag)
