"""Routes for PCB equipment: items, analyses, status history, thresholds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Select, select

from services.inventory.access import editable_submission
from services.inventory.pcb import service
from services.inventory.pcb.basis_router import router as basis_router
from services.inventory.pcb.classes import (
    load_densities,
    load_thresholds,
)
from services.inventory.pcb.fields import CSV_COLUMNS, csv_row
from services.inventory.pcb.mass import MassChecks
from services.inventory.pcb.models import PcbAnalysis, PcbInspection, PcbItem, PcbStatusEvent
from services.inventory.pcb.queries import (
    ItemFilters,
    items_query,
    last_inspections,
    states_on,
)
from services.inventory.pcb.rules import (
    ComplianceFlag,
    OperatingStatus,
    PcbClass,
    Thresholds,
)
from services.inventory.pcb.schemas import (
    AnalysisIn,
    AnalysisOut,
    InspectionIn,
    InspectionOut,
    PcbItemIn,
    PcbItemOut,
    PcbItemPatch,
    StatusEventIn,
    StatusEventOut,
)
from services.inventory.routing import (
    CREATE,
    READ_ONE,
    UPDATE,
    Department,
    IdPath,
    OrgQuery,
    UpdatedSince,
    YearQuery,
    create_once,
    list_page,
)
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from shared.conditional import etag, read_answer, require_if_match, tagged
from shared.db import SessionDep, StreamingSessionDep, utcnow
from shared.exports import PrimedStreamingResponse, csv_stream, wants_csv
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["PCB equipment"])
READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")

AsOf = Annotated[
    date | None,
    Query(description="Date the compliance flags refer to (default: today, UTC)."),
]
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


def item_etag(
    item: PcbItem, thresholds_version: int, as_of: date, densities: dict[str, Decimal]
) -> str:
    """Class, flags and counted masses are part of the representation: the ETag changes
    with the thresholds, the densities and the date they refer to, not only with the
    item."""
    density_tag = ";".join(f"{k}={d.normalize()}" for k, d in sorted(densities.items()))
    return etag("pcb-item", item.id, item.version, thresholds_version, as_of, density_tag)


async def _integrity(request: Request, session: SessionDep) -> MassChecks:
    settings = request.app.state.settings
    return MassChecks(
        densities=await load_densities(session),
        density_tolerance=settings.pcb_density_tolerance,
        disposed_mass_tolerance_kg=settings.pcb_disposed_mass_tolerance_kg,
    )


def _months(request: Request) -> int:
    """The inspection interval of equipment in populated areas (a setting)."""
    months: int = request.app.state.settings.pcb_inspection_interval_months
    return months


async def _outs(
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
    months = _months(request)
    return [
        service.item_out(
            i, thresholds, densities, as_of, states.get(i.id), inspected.get(i.id), months
        )
        for i in items
    ]


async def _csv_rows(
    request: Request,
    session: SessionDep,
    stmt: Select[PcbItem],
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    as_of: date,
) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream_scalars(
        stmt.order_by(PcbItem.id).execution_options(yield_per=1000)
    )
    async for chunk in result.partitions(1000):
        for out in await _outs(request, session, chunk, thresholds, densities, as_of):
            yield csv_row(out)


@router.get(
    "/pcb-items",
    summary="List PCB items",
    description="Items the caller may see (its organisation's, validated ones, and for "
    "reviewers submitted ones), each with its class and compliance flags computed from "
    "the current thresholds. Filters combine; `current=true` keeps the data that counts "
    "nationally. `format=csv` (or `Accept: text/csv`) streams every matching item.",
    response_model=Page[PcbItemOut],
    responses={200: {"content": {"text/csv": {}}, "description": "A page, or a CSV"}},
)
async def list_items(
    request: Request,
    response: Response,
    session: StreamingSessionDep,
    principal: Principal = READ,
    submission_id: OptionalId = None,
    org: OrgQuery = None,
    year: YearQuery = None,
    current: bool | None = None,
    holder_id: OptionalId = None,
    site_id: OptionalId = None,
    department: Department = None,
    pcb_class: PcbClass | None = None,
    status: OperatingStatus | None = None,
    flag: ComplianceFlag | None = None,
    as_of: AsOf = None,
    format: Literal["json", "csv"] | None = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[PcbItemOut] | Response:
    """PCB items, one page at a time (or all of them as CSV)."""
    thresholds, _ = await load_thresholds(session)
    densities = await load_densities(session)
    as_of = as_of or utcnow().date()
    filters = ItemFilters(
        submission_id=submission_id,
        org=org,
        year=year,
        current=current,
        holder_id=holder_id,
        site_id=site_id,
        department=department,
        pcb_class=pcb_class,
        status=status,
        flag=flag,
    )
    stmt = items_query(principal, filters, thresholds, densities, as_of, _months(request))
    if wants_csv(request.headers.get("accept"), format):
        # Streamed: every matching item, not a page the response model could check.
        return PrimedStreamingResponse(
            csv_stream(
                CSV_COLUMNS, _csv_rows(request, session, stmt, thresholds, densities, as_of)
            ),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="pcb-items.csv"'},
        )
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        PcbItem,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    items = await _outs(request, session, rows, thresholds, densities, as_of)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/submissions/{submission_id}/pcb-items",
    summary="Add a PCB item",
    description="To the caller's own PCB submission while it is a draft (or returned). "
    "`eliminated` needs the disposal evidence. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=PcbItemOut,
    responses=CREATE,
)
async def create_item(
    request: Request,
    response: Response,
    submission_id: IdPath,
    session: SessionDep,
    body: PcbItemIn,
    principal: Principal = WRITE,
) -> PcbItemOut | Response:
    """Add an item."""

    async def create() -> tuple[PcbItemOut, str]:
        submission = await editable_submission(
            session, principal, submission_id, section=Section.PCB
        )
        integrity = await _integrity(request, session)
        item = await service.create_item(session, principal, submission, body, integrity)
        return await _item_answer(request, session, item)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/pcb-items/{item_id}",
    summary="Get a PCB item",
    response_model=PcbItemOut,
    responses=READ_ONE,
)
async def get_item(
    request: Request,
    response: Response,
    item_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
    as_of: AsOf = None,
) -> PcbItemOut | Response:
    """One item with its class and flags (ETag; If-None-Match gives 304)."""
    item, _ = await service.visible_item(session, principal, item_id)
    out, tag = await _item_answer(request, session, item, as_of)
    return read_answer(request, response, out, tag)  # or a bare 304: nothing to check


async def _editable(
    request: Request, session: SessionDep, principal: Principal, item_id: int
) -> tuple[PcbItem, Submission]:
    item, submission = await service.editable_item(session, principal, item_id)
    _, version = await load_thresholds(session)
    densities = await load_densities(session)
    require_if_match(request, item_etag(item, version, utcnow().date(), densities))
    return item, submission


async def _item_answer(
    request: Request, session: SessionDep, item: PcbItem, as_of: date | None = None
) -> tuple[PcbItemOut, str]:
    """The item as of ``as_of`` (default: today), and its ETag."""
    thresholds, version = await load_thresholds(session)
    densities = await load_densities(session)
    as_of = as_of or utcnow().date()
    [out] = await _outs(request, session, [item], thresholds, densities, as_of)
    return out, item_etag(item, version, as_of, densities)


async def _changed(
    request: Request, response: Response, session: SessionDep, item: PcbItem
) -> PcbItemOut:
    """The changed item, with its new ETag."""
    out, tag = await _item_answer(request, session, item)
    return tagged(response, out, tag)


@router.patch(
    "/pcb-items/{item_id}",
    summary="Change a PCB item",
    description="Only in the caller's editable submission; needs `If-Match`. The status "
    "changes through status events.",
    response_model=PcbItemOut,
    responses=UPDATE,
)
async def patch_item(
    request: Request,
    response: Response,
    item_id: IdPath,
    session: SessionDep,
    body: PcbItemPatch,
    principal: Principal = WRITE,
) -> PcbItemOut:
    """Change an item."""
    item, submission = await _editable(request, session, principal, item_id)
    integrity = await _integrity(request, session)
    await service.update_item(session, principal, item, submission, body, integrity)
    return await _changed(request, response, session, item)


@router.delete(
    "/pcb-items/{item_id}",
    summary="Remove a PCB item",
    description="Only from the caller's editable submission; needs `If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_item(
    request: Request, item_id: IdPath, session: SessionDep, principal: Principal = WRITE
) -> Response:
    """Remove an item recorded by mistake."""
    item, _ = await _editable(request, session, principal, item_id)
    await service.delete_item(session, principal, item)
    return Response(status_code=204)  # no body, and no response model: a bare 204


@router.get(
    "/pcb-items/{item_id}/analyses",
    summary="Analyses of an item",
    response_model=list[AnalysisOut],
    responses=READ_ONE,
)
async def list_analyses(
    item_id: IdPath, session: SessionDep, principal: Principal = READ
) -> list[AnalysisOut]:
    """Every analysis of the item, oldest first."""
    await service.visible_item(session, principal, item_id)
    rows = await session.scalars(
        select(PcbAnalysis)
        .where(PcbAnalysis.item_id == item_id)
        .order_by(PcbAnalysis.analysed_on, PcbAnalysis.id)
    )
    return [AnalysisOut.model_validate(r) for r in rows]


@router.post(
    "/pcb-items/{item_id}/analyses",
    summary="Record an analysis",
    description="Screening (cut-off and result), GC or nameplate value. The item's "
    "effective concentration and class are recomputed at once: a GC result overrides "
    "screening. Needs `If-Match` of the item (its class may change).",
    status_code=201,
    response_model=PcbItemOut,
    responses=UPDATE,
)
async def create_analysis(
    request: Request,
    response: Response,
    item_id: IdPath,
    session: SessionDep,
    body: AnalysisIn,
    principal: Principal = WRITE,
) -> PcbItemOut:
    """Add an analysis; answers with the reclassified item."""
    item, _ = await _editable(request, session, principal, item_id)
    await service.add_analysis(session, principal, item, body)
    return await _changed(request, response, session, item)


@router.delete(
    "/pcb-items/{item_id}/analyses/{analysis_id}",
    summary="Remove an analysis",
    description="Only in the caller's editable submission; needs `If-Match` of the item.",
    response_model=PcbItemOut,
    responses=UPDATE,
)
async def delete_analysis(
    request: Request,
    response: Response,
    item_id: IdPath,
    analysis_id: IdPath,
    session: SessionDep,
    principal: Principal = WRITE,
) -> PcbItemOut:
    """Remove an analysis; answers with the reclassified item."""
    item, _ = await _editable(request, session, principal, item_id)
    await service.delete_analysis(session, principal, item, analysis_id)
    return await _changed(request, response, session, item)


@router.get(
    "/pcb-items/{item_id}/inspections",
    summary="Inspections of an item",
    response_model=list[InspectionOut],
    responses=READ_ONE,
)
async def list_inspections(
    item_id: IdPath, session: SessionDep, principal: Principal = READ
) -> list[InspectionOut]:
    """Every inspection of the item, oldest first."""
    await service.visible_item(session, principal, item_id)
    rows = await session.scalars(
        select(PcbInspection)
        .where(PcbInspection.item_id == item_id)
        .order_by(PcbInspection.inspected_on, PcbInspection.id)
    )
    return [InspectionOut.model_validate(r) for r in rows]


@router.post(
    "/pcb-items/{item_id}/inspections",
    summary="Record an inspection",
    description="Date (not in the future), inspecting organisation (e.g. OEFA), findings, "
    "and whether a leak was observed (the item is then recorded as leaking). Equipment "
    "in use in a populated area raises `inspection_overdue` without one in the last "
    "`INVENTORY_PCB_INSPECTION_INTERVAL_MONTHS`. Only in the caller's editable "
    "submission; needs `If-Match` of the item; accepts `Idempotency-Key`.",
    status_code=201,
    response_model=PcbItemOut,
    responses=UPDATE,
)
async def create_inspection(
    request: Request,
    response: Response,
    item_id: IdPath,
    session: SessionDep,
    body: InspectionIn,
    principal: Principal = WRITE,
) -> PcbItemOut | Response:
    """Add an inspection; answers with the item and its flags."""

    async def create() -> tuple[PcbItemOut, str]:
        item, _ = await _editable(request, session, principal, item_id)
        await service.add_inspection(session, principal, item, body)
        return await _item_answer(request, session, item)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/pcb-items/{item_id}/status-events",
    summary="Status history of an item",
    response_model=list[StatusEventOut],
    responses=READ_ONE,
)
async def list_status_events(
    item_id: IdPath, session: SessionDep, principal: Principal = READ
) -> list[StatusEventOut]:
    """Every status change, oldest first (append-only)."""
    await service.visible_item(session, principal, item_id)
    rows = await session.scalars(
        select(PcbStatusEvent).where(PcbStatusEvent.item_id == item_id).order_by(PcbStatusEvent.id)
    )
    return [StatusEventOut.model_validate(r) for r in rows]


@router.post(
    "/pcb-items/{item_id}/status-events",
    summary="Record a status change",
    description="Only the workflow's moves (in use <-> stand-by -> out of service and "
    "stored -> decontaminated or shipped for disposal -> eliminated); `eliminated` needs "
    "the disposal evidence. Needs `If-Match` of the item.",
    status_code=201,
    response_model=PcbItemOut,
    responses=UPDATE,
)
async def create_status_event(
    request: Request,
    response: Response,
    item_id: IdPath,
    session: SessionDep,
    body: StatusEventIn,
    principal: Principal = WRITE,
) -> PcbItemOut:
    """Append a status change; answers with the item."""
    item, _ = await _editable(request, session, principal, item_id)
    integrity = await _integrity(request, session)
    await service.add_status_event(session, principal, item, body, integrity)
    return await _changed(request, response, session, item)


# Thresholds and densities: the data every class, flag and mass is computed with.
router.include_router(basis_router)
