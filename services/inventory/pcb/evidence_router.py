"""Routes for what is recorded of a PCB item over time: analyses, inspections and status
events (included in ``pcb.router``)."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from services.inventory.pcb import service
from services.inventory.pcb.answers import (
    READ,
    WRITE,
    changed,
    editable,
    item_answer,
    mass_checks,
)
from services.inventory.pcb.models import PcbAnalysis, PcbInspection, PcbStatusEvent
from services.inventory.pcb.schemas import (
    AnalysisIn,
    AnalysisOut,
    InspectionIn,
    InspectionOut,
    PcbItemOut,
    StatusEventIn,
    StatusEventOut,
)
from services.inventory.routing import READ_ONE, UPDATE, IdPath, create_once
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.security import Principal

router = APIRouter(tags=["PCB equipment"])


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
    item, _ = await editable(request, session, principal, item_id)
    await service.add_analysis(session, principal, item, body)
    return await changed(request, response, session, item)


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
    item, _ = await editable(request, session, principal, item_id)
    await service.delete_analysis(session, principal, item, analysis_id)
    return await changed(request, response, session, item)


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
    openapi_extra=IDEMPOTENT,
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
        item, _ = await editable(request, session, principal, item_id)
        await service.add_inspection(session, principal, item, body)
        return await item_answer(request, session, item)

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
    item, _ = await editable(request, session, principal, item_id)
    integrity = await mass_checks(request, session)
    await service.add_status_event(session, principal, item, body, integrity)
    return await changed(request, response, session, item)
