"""Routes for holders and sites."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import ColumnElement, Select, and_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.access import holder_visible, submission_visible, visible_submission
from services.inventory.pcb.classes import load_densities
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.schedules import load_thresholds
from services.inventory.registry import service
from services.inventory.registry.models import Holder, Site
from services.inventory.registry.schemas import (
    HolderIn,
    HolderOut,
    HolderPatch,
    SiteIn,
    SiteOut,
    SitePatch,
)
from services.inventory.routing import (
    CREATE,
    READ_ONE,
    UPDATE,
    Department,
    IdPath,
    UpdatedSince,
    YearQuery,
    create_once,
    list_page,
    record_etag,
    responses,
)
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import current_ids, latest_year
from services.inventory.vocabulary import Sector
from shared.conditional import read_answer, require_if_match, tagged
from shared.db import SessionDep, StreamingSessionDep
from shared.exports import PrimedStreamingResponse, csv_stream, export_values, wants_csv
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["holders and sites"])
READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")

SITE_COLUMNS = (
    "id",
    "holder_id",
    "name",
    "address",
    "ubigeo",
    "department_code",
    "latitude",
    "longitude",
    "site_type",
    "version",
    "updated_at",
)


async def _page(
    request: Request,
    response: Response,
    session: AsyncSession,
    stmt: Select[Any],
    entity: type[Holder] | type[Site],
    out: type[HolderOut] | type[SiteOut],
    updated_since: datetime | None,
    cursor: str | None,
    limit: int,
) -> Page[Any]:
    """One page of ``stmt``'s records, each as ``out``."""
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        entity,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[out.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/holders",
    summary="List holders",
    description="Holders of PCB equipment: the caller's own, those in validated data, and "
    "all of them for reviewers. Filter by RUC or sector; `updated_since` for sync.",
    response_model=Page[HolderOut],
)
async def list_holders(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = READ,
    ruc: Annotated[str | None, Query(pattern=r"^[0-9]{11}$")] = None,
    sector: Sector | None = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[HolderOut]:
    """Holders the caller may see, one page at a time."""
    stmt = select(Holder).where(holder_visible(principal))
    if ruc is not None:
        stmt = stmt.where(Holder.ruc == ruc)
    if sector is not None:
        stmt = stmt.where(Holder.sector == sector.value)
    return await _page(
        request, response, session, stmt, Holder, HolderOut, updated_since, cursor, limit
    )


@router.post(
    "/holders",
    summary="Register a holder",
    description="A holder of the caller's organisation. The RUC's check digit is verified. "
    "`org_code` is the caller's and cannot be sent. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=HolderOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
)
async def create_holder(
    request: Request,
    response: Response,
    session: SessionDep,
    body: HolderIn,
    principal: Principal = WRITE,
) -> HolderOut | Response:
    """Register a holder."""

    async def create() -> tuple[HolderOut, str]:
        holder = await service.create_holder(session, principal, body)
        return HolderOut.model_validate(holder), record_etag("holder", holder)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/holders/{holder_id}",
    summary="Get a holder",
    response_model=HolderOut,
    responses=READ_ONE,
)
async def get_holder(
    request: Request,
    response: Response,
    holder_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
) -> HolderOut | Response:
    """One holder by id (ETag; If-None-Match gives 304)."""
    holder = await service.visible_holder(session, principal, holder_id)
    return read_answer(
        request, response, HolderOut.model_validate(holder), record_etag("holder", holder)
    )


@router.patch(
    "/holders/{holder_id}",
    summary="Change a holder",
    description="Only the holder's organisation; needs `If-Match`. The RUC does not change.",
    response_model=HolderOut,
    responses=UPDATE,
)
async def patch_holder(
    request: Request,
    response: Response,
    holder_id: IdPath,
    session: SessionDep,
    body: HolderPatch,
    principal: Principal = WRITE,
) -> HolderOut:
    """Change a holder."""
    holder = await service.visible_holder(session, principal, holder_id)
    require_if_match(request, record_etag("holder", holder))
    await service.update_holder(session, principal, holder, body)
    return tagged(response, HolderOut.model_validate(holder), record_etag("holder", holder))


async def _site_rows(session: SessionDep, stmt: Select[Site]) -> AsyncIterator[Sequence[Any]]:
    result = await session.stream_scalars(stmt.order_by(Site.id).execution_options(yield_per=500))
    async for site in result:
        out = export_values(SiteOut.model_validate(site))
        yield [out[c] for c in SITE_COLUMNS]


@router.get(
    "/sites",
    summary="List sites",
    description="Sites of the holders the caller may see. `format=geojson` gives a "
    "FeatureCollection (all matching sites, streamed) with each site's PCB items counted "
    "by class: those of the validated national data of `year` (default: the latest year), "
    "or of one `submission_id` the caller may see. `format=csv` (or `Accept: text/csv`) "
    "streams a CSV.",
    response_model=Page[SiteOut],
    responses={
        200: {
            "content": {"application/geo+json": {}, "text/csv": {}},
            "description": "A page of sites, a GeoJSON FeatureCollection or a CSV",
        },
        **responses(404, 422),
    },
)
async def list_sites(
    request: Request,
    response: Response,
    session: StreamingSessionDep,
    principal: Principal = READ,
    holder_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    department: Department = None,
    format: Literal["json", "csv", "geojson"] | None = None,
    year: YearQuery = None,
    submission_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SiteOut] | Response:
    """Sites, as a page, a CSV or GeoJSON."""
    stmt = service.sites_query(principal, holder_id=holder_id, department=department)
    if format == "geojson" or "geo+json" in request.headers.get("accept", ""):
        if submission_id is not None:
            await visible_submission(session, principal, submission_id)
            items_in: ColumnElement[bool] = and_(
                PcbItem.submission_id == submission_id, submission_visible(principal)
            )
        else:
            year = year or await latest_year(session, Section.PCB)
            items_in = PcbItem.submission_id.in_(current_ids(Section.PCB, year))
        thresholds, _ = await load_thresholds(session)
        densities = await load_densities(session)
        # Streamed: a FeatureCollection of every matching site, not a checked page.
        return PrimedStreamingResponse(
            service.geojson_features(session, stmt, items_in, thresholds, densities),
            media_type="application/geo+json",
        )
    if wants_csv(request.headers.get("accept"), format):
        # Streamed: every matching site as CSV, not a checked page.
        return PrimedStreamingResponse(
            csv_stream(SITE_COLUMNS, _site_rows(session, stmt)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="sites.csv"'},
        )
    return await _page(
        request, response, session, stmt, Site, SiteOut, updated_since, cursor, limit
    )


@router.post(
    "/sites",
    summary="Add a site",
    description="A site of one of the caller's holders: UBIGEO checked (department 01-25), "
    "WGS84 coordinates inside Peru. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=SiteOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
)
async def create_site(
    request: Request,
    response: Response,
    session: SessionDep,
    body: SiteIn,
    principal: Principal = WRITE,
) -> SiteOut | Response:
    """Add a site."""

    async def create() -> tuple[SiteOut, str]:
        site = await service.create_site(session, principal, body)
        return SiteOut.model_validate(site), record_etag("site", site)

    return await create_once(request, response, session, principal, create)


@router.get("/sites/{site_id}", summary="Get a site", response_model=SiteOut, responses=READ_ONE)
async def get_site(
    request: Request,
    response: Response,
    site_id: IdPath,
    session: SessionDep,
    principal: Principal = READ,
) -> SiteOut | Response:
    """One site by id (ETag; If-None-Match gives 304)."""
    site = await service.visible_site(session, principal, site_id)
    return read_answer(request, response, SiteOut.model_validate(site), record_etag("site", site))


@router.patch(
    "/sites/{site_id}",
    summary="Change a site",
    description="Only the holder's organisation; needs `If-Match`.",
    response_model=SiteOut,
    responses=UPDATE,
)
async def patch_site(
    request: Request,
    response: Response,
    site_id: IdPath,
    session: SessionDep,
    body: SitePatch,
    principal: Principal = WRITE,
) -> SiteOut:
    """Change a site."""
    site = await service.visible_site(session, principal, site_id)
    require_if_match(request, record_etag("site", site))
    await service.update_site(session, principal, site, body)
    return tagged(response, SiteOut.model_validate(site), record_etag("site", site))
