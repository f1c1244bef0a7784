"""Routes for stored PCB wastes and their shipments for disposal."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.inventory.pcb.answers import mass_checks
from services.inventory.routing import (
    CREATE,
    READ,
    READ_ONE,
    UPDATE,
    WRITE,
    Department,
    IdPath,
    PagingQuery,
    create_once,
    page_of,
    record_etag,
)
from services.inventory.submissions.access import editable_submission, submission_visible
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.wastes import service, shipments
from services.inventory.wastes.models import PcbShipment, PcbShipmentLine, PcbWasteLot
from services.inventory.wastes.rules import LotStatus, WasteKind
from services.inventory.wastes.schemas import (
    PcbShipmentIn,
    PcbShipmentOut,
    PcbShipmentPatch,
    PcbWasteLotIn,
    PcbWasteLotOut,
    PcbWasteLotPatch,
)
from shared.conditional import read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.pagination import Page
from shared.security import Principal

router = APIRouter(prefix="/v1")
lot_routes = APIRouter(tags=["PCB wastes"])
shipment_routes = APIRouter(tags=["PCB shipments"])
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]
Country = Annotated[str | None, Query(pattern=r"^[A-Z]{2}$", description="ISO 3166-1 alpha-2")]
LOT = "pcb-waste-lot"
SHIPMENT = "pcb-shipment"


async def _lot_answer(session: SessionDep, lot: PcbWasteLot) -> tuple[PcbWasteLotOut, str]:
    [out] = await service.lot_outs(session, [lot])
    return out, record_etag(LOT, lot)


async def _shipment_answer(
    session: SessionDep, shipment: PcbShipment
) -> tuple[PcbShipmentOut, str]:
    [out] = await shipments.shipment_outs(session, [shipment])
    return out, record_etag(SHIPMENT, shipment)


async def _editable_lot(
    request: Request, session: SessionDep, principal: Principal, lot_id: int
) -> PcbWasteLot:
    lot, submission = await service.visible_lot(session, principal, lot_id)
    service.check_writable(principal, submission, f"PCB waste lot {lot_id}")
    require_if_match(request, record_etag(LOT, lot))
    return lot


async def _editable_shipment(
    request: Request, session: SessionDep, principal: Principal, shipment_id: int
) -> PcbShipment:
    shipment, submission = await service.visible_shipment(session, principal, shipment_id)
    service.check_writable(principal, submission, f"PCB shipment {shipment_id}")
    require_if_match(request, record_etag(SHIPMENT, shipment))
    return shipment


# -- lots ---------------------------------------------------------------------------------


@lot_routes.get(
    "/pcb-wastes",
    summary="List stored PCB waste lots",
    description="Lots the caller may see (its organisation's, validated ones, and for "
    "reviewers submitted ones). Filters combine; `updated_since` for sync.",
    response_model=Page[PcbWasteLotOut],
)
async def list_lots(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
    principal: Principal = READ,
    submission_id: OptionalId = None,
    holder_id: OptionalId = None,
    kind: WasteKind | None = None,
    status: LotStatus | None = None,
    department: Department = None,
) -> Page[PcbWasteLotOut]:
    """Waste lots, one page at a time."""
    stmt = (
        select(PcbWasteLot)
        .join(Submission, Submission.id == PcbWasteLot.submission_id)
        .where(submission_visible(principal))
    )
    filters: list[Any] = []
    if submission_id is not None:
        filters.append(PcbWasteLot.submission_id == submission_id)
    if holder_id is not None:
        filters.append(PcbWasteLot.holder_id == holder_id)
    if kind is not None:
        filters.append(PcbWasteLot.kind == kind.value)
    if status is not None:
        filters.append(PcbWasteLot.status == status.value)
    if department is not None:
        filters.append(PcbWasteLot.department_code == department)
    rows, next_cursor = await page_of(
        request, response, session, stmt.where(*filters), PcbWasteLot, paging
    )
    return Page(items=await service.lot_outs(session, rows), next_cursor=next_cursor)


@lot_routes.post(
    "/submissions/{submission_id}/pcb-wastes",
    summary="Record a stored PCB waste lot",
    description="In the caller's own PCB submission while it is a draft (or returned): "
    "kind, description, mass (> 0 kg), PCB concentration with its basis (optional), the "
    "holder's site or an address with its UBIGEO, since when it is stored (not in the "
    "future) and the PCB items of the submission it came from. The status is `stored` "
    "until a shipment carries the lot. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=PcbWasteLotOut,
    responses=CREATE,
)
async def create_lot(
    request: Request,
    response: Response,
    submission_id: IdPath,
    session: SessionDep,
    body: PcbWasteLotIn,
    principal: Principal = WRITE,
) -> PcbWasteLotOut | Response:
    """Record a lot."""

    async def create() -> tuple[PcbWasteLotOut, str]:
        submission = await editable_submission(
            session, principal, submission_id, section=Section.PCB
        )
        lot = await service.create_lot(session, principal, submission, body)
        return await _lot_answer(session, lot)

    return await create_once(request, response, session, principal, create)


@lot_routes.get(
    "/pcb-wastes/{lot_id}",
    summary="Get a stored PCB waste lot",
    response_model=PcbWasteLotOut,
    responses=READ_ONE,
)
async def get_lot(
    request: Request,
    response: Response,
    lot_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
) -> PcbWasteLotOut | Response:
    """One lot (ETag; If-None-Match gives 304)."""
    lot, _ = await service.visible_lot(session, principal, lot_id)
    out, tag = await _lot_answer(session, lot)
    return read_answer(request, response, out, tag)


@lot_routes.patch(
    "/pcb-wastes/{lot_id}",
    summary="Change a stored PCB waste lot",
    description="Only in the caller's editable submission, only while stored (not once "
    "a shipment carries it); needs `If-Match`.",
    response_model=PcbWasteLotOut,
    responses=UPDATE,
)
async def patch_lot(
    request: Request,
    response: Response,
    lot_id: IdPath,
    session: SessionDep,
    body: PcbWasteLotPatch,
    principal: Principal = WRITE,
) -> PcbWasteLotOut:
    """Change a lot."""
    lot = await _editable_lot(request, session, principal, lot_id)
    await service.update_lot(session, principal, lot, body)
    out, tag = await _lot_answer(session, lot)
    return tagged(response, out, tag)


@lot_routes.delete(
    "/pcb-wastes/{lot_id}",
    summary="Remove a stored PCB waste lot",
    description="Only from the caller's editable submission, only while stored; needs `If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_lot(
    request: Request, lot_id: IdPath, session: SessionDep, principal: Principal = WRITE
) -> Response:
    """Remove a lot recorded by mistake."""
    lot = await _editable_lot(request, session, principal, lot_id)
    await service.delete_lot(session, principal, lot)
    return Response(status_code=204)


# -- shipments ----------------------------------------------------------------------------


@shipment_routes.get(
    "/pcb-shipments",
    summary="List shipments of PCB wastes for disposal",
    description="Shipments the caller may see (the same rule as the lots). Filter by "
    "submission, holder, destination country, a lot or an item carried.",
    response_model=Page[PcbShipmentOut],
)
async def list_shipments(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
    principal: Principal = READ,
    submission_id: OptionalId = None,
    holder_id: OptionalId = None,
    country: Country = None,
    lot_id: OptionalId = None,
    item_id: OptionalId = None,
) -> Page[PcbShipmentOut]:
    """Shipments, one page at a time."""
    stmt = (
        select(PcbShipment)
        .join(Submission, Submission.id == PcbShipment.submission_id)
        .where(submission_visible(principal))
    )
    filters: list[Any] = []
    if submission_id is not None:
        filters.append(PcbShipment.submission_id == submission_id)
    if holder_id is not None:
        filters.append(PcbShipment.holder_id == holder_id)
    if country is not None:
        filters.append(PcbShipment.facility_country == country)
    for column, value in ((PcbShipmentLine.lot_id, lot_id), (PcbShipmentLine.item_id, item_id)):
        if value is not None:
            carrying = select(PcbShipmentLine.shipment_id).where(column == value)
            filters.append(PcbShipment.id.in_(carrying))
    rows, next_cursor = await page_of(
        request, response, session, stmt.where(*filters), PcbShipment, paging
    )
    return Page(items=await shipments.shipment_outs(session, rows), next_cursor=next_cursor)


@shipment_routes.post(
    "/submissions/{submission_id}/pcb-shipments",
    summary="Record a shipment for disposal",
    description="In the caller's own PCB submission while editable: the Basel notification "
    "and movement document numbers, exporter, carrier, disposal facility and its country "
    "(ISO 3166-1), the disposal operation (Basel Annex IV: D1-D15, R1-R13), the dates "
    "(shipped, received, disposed: in that order, none in the future) and the lots and PCB "
    "items of the same holder and submission it carries, with the mass of each. A lot "
    "travels whole; an item's mass may not fall short of its known mass, and `mass_kg` is "
    "their sum (within `INVENTORY_PCB_DISPOSED_MASS_TOLERANCE_KG`). Accepts "
    "`Idempotency-Key`.",
    status_code=201,
    response_model=PcbShipmentOut,
    responses=CREATE,
)
async def create_shipment(
    request: Request,
    response: Response,
    submission_id: IdPath,
    session: SessionDep,
    body: PcbShipmentIn,
    principal: Principal = WRITE,
) -> PcbShipmentOut | Response:
    """Record a shipment."""

    async def create() -> tuple[PcbShipmentOut, str]:
        submission = await editable_submission(
            session, principal, submission_id, section=Section.PCB
        )
        checks = await mass_checks(request, session)
        shipment = await shipments.create_shipment(session, principal, submission, body, checks)
        return await _shipment_answer(session, shipment)

    return await create_once(request, response, session, principal, create)


@shipment_routes.get(
    "/pcb-shipments/{shipment_id}",
    summary="Get a shipment for disposal",
    response_model=PcbShipmentOut,
    responses=READ_ONE,
)
async def get_shipment(
    request: Request,
    response: Response,
    shipment_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
) -> PcbShipmentOut | Response:
    """One shipment with what it carries (ETag; If-None-Match gives 304)."""
    shipment, _ = await service.visible_shipment(session, principal, shipment_id)
    out, tag = await _shipment_answer(session, shipment)
    return read_answer(request, response, out, tag)


@shipment_routes.patch(
    "/pcb-shipments/{shipment_id}",
    summary="Change a shipment for disposal",
    description="Its facts and dates as they happen (received, disposed: the lots it "
    "carries are disposed from then on), checked as a new shipment's; its lines do not "
    "change. Only in the caller's editable submission; needs `If-Match`.",
    response_model=PcbShipmentOut,
    responses=UPDATE,
)
async def patch_shipment(
    request: Request,
    response: Response,
    shipment_id: IdPath,
    session: SessionDep,
    body: PcbShipmentPatch,
    principal: Principal = WRITE,
) -> PcbShipmentOut:
    """Change a shipment."""
    shipment = await _editable_shipment(request, session, principal, shipment_id)
    checks = await mass_checks(request, session)
    await shipments.update_shipment(session, principal, shipment, body, checks)
    out, tag = await _shipment_answer(session, shipment)
    return tagged(response, out, tag)


@shipment_routes.delete(
    "/pcb-shipments/{shipment_id}",
    summary="Remove a shipment for disposal",
    description="Only from the caller's editable submission, and not while an item's "
    "elimination evidence points to it (409); its lots are back in storage. Needs "
    "`If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_shipment(
    request: Request, shipment_id: IdPath, session: SessionDep, principal: Principal = WRITE
) -> Response:
    """Remove a shipment recorded by mistake."""
    shipment = await _editable_shipment(request, session, principal, shipment_id)
    await shipments.delete_shipment(session, principal, shipment)
    return Response(status_code=204)


router.include_router(lot_routes)
router.include_router(shipment_routes)
