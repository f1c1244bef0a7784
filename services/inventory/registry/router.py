"""Routes for holders and sites."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from services.inventory.registry.models import Holder, Site
from services.inventory.registry.schemas import HolderOut, SiteOut
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, keyset_page, next_link
from shared.problems import Problem
from shared.security import require_scopes

router = APIRouter(
    prefix="/v1", dependencies=[require_scopes("inventory:read")], tags=["holders and sites"]
)

NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "No such record"}}


@router.get("/holders", summary="List holders", response_model=Page[HolderOut])
async def list_holders(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[HolderOut]:
    """Holders of PCB equipment, in id order, one page at a time."""
    rows, next_cursor = await keyset_page(
        session, select(Holder), [Holder.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[HolderOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get("/holders/{holder_id}", summary="Get a holder", responses=NOT_FOUND)
async def get_holder(
    holder_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> HolderOut:
    """One holder by id."""
    holder = await session.get(Holder, holder_id)
    if holder is None:
        raise Problem(404, "not-found", f"No holder {holder_id}.")
    return HolderOut.model_validate(holder)


@router.get("/sites", summary="List sites", response_model=Page[SiteOut])
async def list_sites(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[SiteOut]:
    """Sites where holders keep equipment, in id order."""
    rows, next_cursor = await keyset_page(
        session, select(Site), [Site.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[SiteOut.model_validate(r) for r in rows], next_cursor=next_cursor)
