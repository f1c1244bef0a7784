"""Holders and sites: plain functions, session first."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Awaitable, Callable
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, case, func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.access import check_owner, holder_visible
from services.inventory.history import record_change, snapshot
from services.inventory.pcb.classes import item_class_sql
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.rules import IN_SERVICE, PCB_CLASSES, Thresholds
from services.inventory.registry.models import Holder, Site
from services.inventory.registry.schemas import HolderIn, HolderPatch, SiteIn, SitePatch
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import SubmissionStatus
from shared.problems import Problem
from shared.security import Principal

EDITABLE = (SubmissionStatus.DRAFT.value, SubmissionStatus.RETURNED.value)


def field_error(field: str, message: str, *, status: int = 422) -> Problem:
    """A validation problem naming one body field."""
    return Problem(
        status,
        "validation-error",
        message,
        errors=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


def _recorded(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    record: Any,
    action: str,
    before: dict[str, Any] | None = None,
) -> None:
    record_change(
        session,
        principal,
        entity=entity,
        entity_id=record.id,
        action=action,
        before=before,
        after=snapshot(record),
    )


async def add_recorded(
    session: AsyncSession, principal: Principal, entity: str, record: Any
) -> None:
    """Add a new record (flushed, so it has its id) and its ``create`` change record."""
    session.add(record)
    await session.flush()
    _recorded(session, principal, entity, record, "create")


async def change_recorded(
    session: AsyncSession,
    principal: Principal,
    entity: str,
    record: Any,
    changes: dict[str, Any],
    check: Callable[[], Awaitable[None]] | None = None,
) -> None:
    """Apply ``changes`` to a record (then ``check`` it) with its ``update`` change record."""
    before = snapshot(record)
    for name, value in changes.items():
        setattr(record, name, value)
    if check is not None:
        await check()
    await session.flush()
    _recorded(session, principal, entity, record, "update", before)


async def visible_holder(session: AsyncSession, principal: Principal, holder_id: int) -> Holder:
    """The holder if the caller may see it, else 404."""
    holder = await session.scalar(
        select(Holder).where(Holder.id == holder_id, holder_visible(principal))
    )
    if holder is None:
        raise Problem(404, "not-found", f"No holder {holder_id}.")
    return holder


async def visible_site(session: AsyncSession, principal: Principal, site_id: int) -> Site:
    """The site if the caller may see its holder, else 404."""
    site = await session.scalar(
        select(Site)
        .join(Holder, Holder.id == Site.holder_id)
        .where(Site.id == site_id, holder_visible(principal))
    )
    if site is None:
        raise Problem(404, "not-found", f"No site {site_id}.")
    return site


async def create_holder(session: AsyncSession, principal: Principal, data: HolderIn) -> Holder:
    """Register a holder for the caller's organisation (409 if the RUC is registered)."""
    existing = await session.scalar(select(Holder.id).where(Holder.ruc == data.ruc))
    if existing is not None:
        raise Problem(
            409, "duplicate", f"RUC {data.ruc} is already registered.", existing_id=existing
        )
    holder = Holder(**data.model_dump(), org_code=principal.org)
    await add_recorded(session, principal, "holder", holder)
    return holder


async def update_holder(
    session: AsyncSession, principal: Principal, holder: Holder, patch: HolderPatch
) -> None:
    """Change a holder of the caller's organisation."""
    check_owner(principal, holder.org_code, f"holder {holder.id}")
    await change_recorded(
        session, principal, "holder", holder, patch.model_dump(exclude_unset=True)
    )


async def create_site(session: AsyncSession, principal: Principal, data: SiteIn) -> Site:
    """Add a site to one of the caller's holders."""
    holder = await session.get(Holder, data.holder_id)
    if holder is None or holder.org_code != principal.org:
        raise field_error("holder_id", f"No holder {data.holder_id} of {principal.org}.")
    check_owner(principal, holder.org_code, f"holder {holder.id}")
    existing = await session.scalar(
        select(Site.id).where(Site.holder_id == holder.id, Site.name == data.name)
    )
    if existing is not None:
        raise Problem(
            409,
            "duplicate",
            f"Holder {holder.id} already has a site named so.",
            existing_id=existing,
        )
    site = Site(**data.model_dump())
    await add_recorded(session, principal, "site", site)
    return site


async def update_site(
    session: AsyncSession, principal: Principal, site: Site, patch: SitePatch
) -> None:
    """Change a site; a new UBIGEO moves the site's items in editable submissions to the
    new department (validated submissions keep where the item was when validated)."""
    holder = await session.get(Holder, site.holder_id)
    assert holder is not None
    check_owner(principal, holder.org_code, f"site {site.id}")
    changes = patch.model_dump(exclude_unset=True)
    await change_recorded(session, principal, "site", site, changes)
    if "ubigeo" in changes:
        editable = select(Submission.id).where(Submission.status.in_(EDITABLE))
        await session.execute(
            update(PcbItem)
            .where(PcbItem.site_id == site.id, PcbItem.submission_id.in_(editable))
            .values(department_code=site.ubigeo[:2])
            .execution_options(synchronize_session=False)
        )


def sites_query(
    principal: Principal, *, holder_id: int | None, department: str | None
) -> Select[Site]:
    """Sites the caller may see, filtered."""
    stmt = select(Site).join(Holder, Holder.id == Site.holder_id).where(holder_visible(principal))
    if holder_id is not None:
        stmt = stmt.where(Site.holder_id == holder_id)
    if department is not None:
        stmt = stmt.where(func.substr(Site.ubigeo, 1, 2) == department)
    return stmt


# -- GeoJSON -----------------------------------------------------------------------------

_SEVERITY = ("P1", "P2", "P3", "presumed", "unknown", "non_pcb")


def _feature(site: dict[str, Any], classes: dict[str, int], in_service: int) -> dict[str, Any]:
    lat, lon = site["latitude"], site["longitude"]
    geometry = (
        None
        if lat is None or lon is None
        else {"type": "Point", "coordinates": [float(Decimal(lon)), float(Decimal(lat))]}
    )
    worst = next((c for c in _SEVERITY if classes.get(c)), None)
    return {
        "type": "Feature",
        "id": site["id"],
        "geometry": geometry,
        "properties": {
            "site_id": site["id"],
            "holder_id": site["holder_id"],
            "name": site["name"],
            "ubigeo": site["ubigeo"],
            "department_code": site["ubigeo"][:2],
            "site_type": site["site_type"],
            "pcb_items": sum(classes.values()),
            "pcb_items_by_class": classes,
            "worst_pcb_class": worst,
            "pcb_items_in_service": in_service,
        },
    }


async def geojson_features(
    session: AsyncSession,
    sites: Select[Site],
    items_in: ColumnElement[bool],
    thresholds: Thresholds,
    densities: dict[str, Decimal],
) -> AsyncIterator[bytes]:
    """A GeoJSON FeatureCollection of ``sites``, each with its PCB items (those matching
    ``items_in``) counted by class, streamed site by site."""
    cls = item_class_sql(thresholds, densities)
    pcb_in_service = case(
        (
            and_(cls.in_([c.value for c in PCB_CLASSES]), PcbItem.status.in_(list(IN_SERVICE))),
            1,
        ),
        else_=0,
    )
    counts = (
        select(
            PcbItem.site_id.label("site_id"),
            cls.label("cls"),
            func.count().label("n"),
            func.sum(pcb_in_service).label("in_service"),
        )
        .join(Submission, Submission.id == PcbItem.submission_id)
        .where(items_in)
        .group_by(PcbItem.site_id, cls)
        .subquery()
    )
    site_ids = sites.with_only_columns(Site.id).subquery()
    rows = (
        select(
            Site.id,
            Site.holder_id,
            Site.name,
            Site.ubigeo,
            Site.site_type,
            Site.latitude,
            Site.longitude,
            counts.c.cls,
            counts.c.n,
            counts.c.in_service,
        )
        .where(Site.id.in_(select(site_ids.c.id)))
        .outerjoin(counts, counts.c.site_id == Site.id)
        .order_by(Site.id)
    )
    yield b'{"type":"FeatureCollection","features":['
    first = True
    current: dict[str, Any] | None = None
    classes: dict[str, int] = {}
    in_service = 0
    result = await session.stream(rows.execution_options(yield_per=500))
    async for row in result:
        if current is None or current["id"] != row.id:
            if current is not None:
                yield (b"" if first else b",") + json.dumps(
                    _feature(current, classes, in_service), ensure_ascii=False
                ).encode()
                first = False
            current = dict(row._mapping)
            classes, in_service = {}, 0
        if row.cls is not None:
            classes[row.cls] = int(row.n)
            in_service += int(row.in_service or 0)
    if current is not None:
        yield (b"" if first else b",") + json.dumps(
            _feature(current, classes, in_service), ensure_ascii=False
        ).encode()
    yield b"]}"
