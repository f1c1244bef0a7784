"""Routes for PCB equipment: items (their analyses, inspections and status history in
``evidence_router``, thresholds and densities in ``basis_router``)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Select, select

from services.inventory.access import editable_submission
from services.inventory.pcb import service
from services.inventory.pcb.answers import (
    READ,
    WRITE,
    changed,
    editable,
    inspection_months,
    item_answer,
    item_outs,
    mass_checks,
)
from services.inventory.pcb.basis_router import router as basis_router
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.evidence_router import router as evidence_router
from services.inventory.pcb.fields import CSV_COLUMNS, csv_row
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.queries import (
    ItemFilters,
    items_query,
)
from services.inventory.pcb.rules import (
    ComplianceFlag,
    OperatingStatus,
    PcbClass,
    Thresholds,
)
from services.inventory.pcb.schedules import Schedule, ScheduleQuery, load_thresholds
from services.inventory.pcb.schemas import (
    PcbItemIn,
    PcbItemOut,
    PcbItemPatch,
)
from services.inventory.registry.models import Holder, Site
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
from services.inventory.submissions.rules import Section
from shared.conditional import read_answer
from shared.db import SessionDep, StreamingSessionDep, utcnow
from shared.exports import PrimedStreamingResponse, csv_stream, wants_csv
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.security import Principal

router = APIRouter(prefix="/v1", tags=["PCB equipment"])

AsOf = Annotated[
    date | None,
    Query(description="Date the compliance flags refer to (default: today, UTC)."),
]
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


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
        holders = select(Holder.id, Holder.ruc).where(Holder.id.in_({i.holder_id for i in chunk}))
        sites = select(Site.id, Site.name).where(Site.id.in_({i.site_id for i in chunk}))
        rucs = {row[0]: row[1] for row in await session.execute(holders)}
        names = {row[0]: row[1] for row in await session.execute(sites)}
        for out in await item_outs(request, session, chunk, thresholds, densities, as_of):
            yield csv_row(out, rucs.get(out.holder_id), names.get(out.site_id))


@router.get(
    "/pcb-items",
    summary="List PCB items",
    description="Items the caller may see (its organisation's, validated ones, and for "
    "reviewers submitted ones), each with its class and compliance flags computed from "
    "the schedule asked for (`schedule`: `convention`, the default, or `national`); "
    "`flag` filters by the same schedule. Filters combine; `current=true` keeps the data "
    "that counts nationally. `format=csv` (or `Accept: text/csv`) streams every matching item.",
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
    schedule: ScheduleQuery = Schedule.CONVENTION,
    format: Literal["json", "csv"] | None = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[PcbItemOut] | Response:
    """PCB items, one page at a time (or all of them as CSV)."""
    thresholds, _ = await load_thresholds(session, schedule)
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
    stmt = items_query(principal, filters, thresholds, densities, as_of, inspection_months(request))
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
    items = await item_outs(request, session, rows, thresholds, densities, as_of)
    return Page(items=items, next_cursor=next_cursor)


@router.post(
    "/submissions/{submission_id}/pcb-items",
    summary="Add a PCB item",
    description="To the caller's own PCB submission while it is a draft (or returned). "
    "`eliminated` needs the disposal evidence. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=PcbItemOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
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
        integrity = await mass_checks(request, session)
        item = await service.create_item(session, principal, submission, body, integrity)
        return await item_answer(request, session, item)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/pcb-items/{item_id}",
    summary="Get a PCB item",
    description="With its class and compliance flags as of `as_of`, judged against "
    "`schedule` (`convention`, the default, or `national`). Writes answer under the "
    "Convention's schedule; `If-Match` takes the ETag read under either.",
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
    schedule: ScheduleQuery = Schedule.CONVENTION,
) -> PcbItemOut | Response:
    """One item with its class and flags (ETag; If-None-Match gives 304)."""
    item, _ = await service.visible_item(session, principal, item_id)
    out, tag = await item_answer(request, session, item, as_of, schedule)
    return read_answer(request, response, out, tag)  # or a bare 304: nothing to check


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
    item, submission = await editable(request, session, principal, item_id)
    integrity = await mass_checks(request, session)
    await service.update_item(session, principal, item, submission, body, integrity)
    return await changed(request, response, session, item)


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
    item, _ = await editable(request, session, principal, item_id)
    await service.delete_item(session, principal, item)
    return Response(status_code=204)  # no body, and no response model: a bare 204


# Thresholds and densities: the data every class, flag and mass is computed with.
router.include_router(basis_router)
router.include_router(evidence_router)
