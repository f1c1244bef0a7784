"""``GET /v1/changes``: the service's history of changes, deletions included (reviewers)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from pydantic import AwareDatetime, BaseModel
from sqlalchemy import select

from services.inventory.history import ChangeRecord
from services.inventory.routing import REVIEW
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, check_cursor, keyset_page, next_link

router = APIRouter(prefix="/v1", tags=["history"])


class ChangeOut(BaseModel):
    """One change: who, when, what, and the record before and after (null when created
    or deleted)."""

    id: int
    at: datetime
    client_id: str
    org_code: str
    entity: str
    entity_id: int
    action: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


def _out(record: ChangeRecord) -> ChangeOut:
    fields = {k: getattr(record, k) for k in ChangeOut.model_fields if k not in ("before", "after")}
    return ChangeOut(
        **fields,
        before=json.loads(record.before_json) if record.before_json else None,
        after=json.loads(record.after_json) if record.after_json else None,
    )


@router.get(
    "/changes",
    summary="History of changes",
    description="Every change to inventory data, oldest first: creations, updates, workflow "
    "moves, imports and deletions (tombstones: `action` = `delete` with the record as it "
    "was). Reviewers only: it includes other organisations' drafts. Filter by `entity`, "
    "`entity_id` and `since`.",
    response_model=Page[ChangeOut],
    dependencies=[REVIEW],
)
async def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    entity: Annotated[str | None, Query(pattern=r"^[a-z_]{1,40}$")] = None,
    entity_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    since: AwareDatetime | None = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[ChangeOut]:
    """Changes, one page at a time."""
    stmt = select(ChangeRecord)
    for column, value in ((ChangeRecord.entity, entity), (ChangeRecord.entity_id, entity_id)):
        if value is not None:
            stmt = stmt.where(column == value)
    if since is not None:
        stmt = stmt.where(ChangeRecord.at >= since)
    check_cursor(cursor, [ChangeRecord.id])
    rows, next_cursor = await keyset_page(
        session, stmt, [ChangeRecord.id], cursor=cursor, limit=limit
    )
    response.headers.update(next_link(request.url, next_cursor))
    return Page(items=[_out(r) for r in rows], next_cursor=next_cursor)
