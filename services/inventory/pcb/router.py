"""Routes for PCB equipment items."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select

from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.schemas import PcbItemOut
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, keyset_page, next_link
from shared.problems import Problem
from shared.security import require_scopes

router = APIRouter(
    prefix="/v1", dependencies=[require_scopes("inventory:read")], tags=["PCB equipment"]
)


@router.get("/pcb-items", summary="List PCB items", response_model=Page[PcbItemOut])
async def list_pcb_items(
    request: Request,
    response: Response,
    session: SessionDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[PcbItemOut]:
    """PCB equipment items in id order, one page at a time."""
    rows, next_cursor = await keyset_page(
        session, select(PcbItem), [PcbItem.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[PcbItemOut.model_validate(r) for r in rows], next_cursor=next_cursor)


@router.get(
    "/pcb-items/{item_id}",
    summary="Get a PCB item",
    responses={404: {"description": "No such item"}},
)
async def get_pcb_item(
    item_id: Annotated[int, Path(ge=1, le=2**31 - 1)], session: SessionDep
) -> PcbItemOut:
    """One PCB item by id."""
    item = await session.get(PcbItem, item_id)
    if item is None:
        raise Problem(404, "not-found", f"No PCB item {item_id}.")
    return PcbItemOut.model_validate(item)
