"""Totals of PCB wastes: in storage on a date (lots, mass, by kind and department) and
shipped per year (shipments, mass, by destination country and disposal operation), from
the validated data of a reporting year, computed by the database."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import Select, extract, false, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.routing import READ, READ_ONE, YearQuery
from services.inventory.submissions.access import visible_submission
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import current_ids, latest_year
from services.inventory.wastes.models import PcbShipment, PcbShipmentLine, PcbWasteLot
from services.inventory.wastes.schemas import (
    MassGroup,
    PcbWasteTotalsOut,
    ShippedYear,
    StorageTotals,
)
from shared.conditional import etag, read_answer
from shared.db import SessionDep, utcnow
from shared.problems import Problem
from shared.security import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"])
public_router = APIRouter(prefix="/v1/public", tags=["public"])

AsOf = Annotated[
    date | None,
    Query(description="Date the storage figures refer to (default: today, UTC)."),
]
KG = Decimal("0.001")
DESCRIPTION = (
    "The validated PCB data of a reporting year (default: the latest), the latest "
    "validated version of each submission: lots in storage on `as_of` (stored on or "
    "before it and not carried by a shipment shipped on or before it), their count and "
    "mass by kind and department; and shipments shipped on or before `as_of`, per "
    "calendar year of `shipped_on`, their count and mass by the facility's country and "
    "Basel Annex IV operation."
)


def _kg(value: Any) -> Decimal:
    # SQLite may sum NUMERIC columns as binary floats: back to the gram, as stored.
    return Decimal(str(value or 0)).quantize(KG)


def _groups(rows: Sequence[Any]) -> list[MassGroup]:
    return [MassGroup(key=str(key), count=count, mass_kg=_kg(mass)) for key, count, mass in rows]


async def _storage(session: AsyncSession, ids: Select[Any], as_of: date) -> StorageTotals:
    shipped_lots = (
        select(PcbShipmentLine.lot_id)
        .join(PcbShipment, PcbShipment.id == PcbShipmentLine.shipment_id)
        .where(PcbShipmentLine.lot_id.is_not(None), PcbShipment.shipped_on <= as_of)
    )
    stored = [
        PcbWasteLot.submission_id.in_(ids),
        PcbWasteLot.stored_since <= as_of,
        PcbWasteLot.id.not_in(shipped_lots),
    ]
    measures = (func.count(PcbWasteLot.id), func.sum(PcbWasteLot.mass_kg))
    lots, mass = (await session.execute(select(*measures).where(*stored))).one()
    by: dict[str, list[MassGroup]] = {}
    for name, column in (("kind", PcbWasteLot.kind), ("department", PcbWasteLot.department_code)):
        rows = await session.execute(
            select(column, *measures).where(*stored).group_by(column).order_by(column)
        )
        by[name] = _groups(list(rows))
    return StorageTotals(
        lots=lots, mass_kg=_kg(mass), by_kind=by["kind"], by_department=by["department"]
    )


async def _shipped(session: AsyncSession, ids: Select[Any], as_of: date) -> list[ShippedYear]:
    year = extract("year", PcbShipment.shipped_on)
    where = [PcbShipment.submission_id.in_(ids), PcbShipment.shipped_on <= as_of]
    measures = (func.count(PcbShipment.id), func.sum(PcbShipment.mass_kg))
    years = await session.execute(
        select(year, *measures).where(*where).group_by(year).order_by(year)
    )
    out = {
        int(y): ShippedYear(
            year=int(y), shipments=n, mass_kg=_kg(m), by_country=[], by_operation=[]
        )
        for y, n, m in years
    }
    for column, field in (
        (PcbShipment.facility_country, "by_country"),
        (PcbShipment.disposal_operation, "by_operation"),
    ):
        rows = await session.execute(
            select(year, column, *measures)
            .where(*where)
            .group_by(year, column)
            .order_by(year, column)
        )
        for y, key, n, m in rows:
            getattr(out[int(y)], field).append(MassGroup(key=key, count=n, mass_kg=_kg(m)))
    return list(out.values())


async def totals(
    session: AsyncSession,
    *,
    as_of: date,
    year: int | None = None,
    submission_id: int | None = None,
) -> PcbWasteTotalsOut:
    """The totals of one submission (``submission_id``), else of the validated data of
    ``year`` (default: the latest year with validated PCB data)."""
    ids: Select[Any]
    if submission_id is not None:
        ids = select(Submission.id).where(Submission.id == submission_id)
        counted = [submission_id]
    else:
        year = year or await latest_year(session, Section.PCB)
        # No validated PCB data at all: nothing counts (never another year's data).
        ids = (
            current_ids(Section.PCB, year)
            if year is not None
            else select(Submission.id).where(false())
        )
        counted = list(await session.scalars(ids))
    return PcbWasteTotalsOut(
        year=year,
        submission_ids=counted,
        as_of=as_of,
        in_storage=await _storage(session, ids, as_of),
        shipped_by_year=await _shipped(session, ids, as_of),
    )


def _answer(
    request: Request, response: Response, out: PcbWasteTotalsOut
) -> PcbWasteTotalsOut | Response:
    return read_answer(request, response, out, etag("pcb-wastes", out.model_dump_json()))


@router.get(
    "/pcb-wastes",
    summary="PCB wastes in storage and shipped",
    description=DESCRIPTION
    + " `submission_id` previews one PCB submission the caller may see instead.",
    response_model=PcbWasteTotalsOut,
    responses=READ_ONE,
)
async def pcb_waste_totals(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = READ,
    year: YearQuery = None,
    submission_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    as_of: AsOf = None,
) -> PcbWasteTotalsOut | Response:
    """Wastes in storage and shipped (ETag; If-None-Match gives 304)."""
    if submission_id is not None:
        submission = await visible_submission(session, principal, submission_id)
        if submission.section != Section.PCB:
            raise Problem(
                422,
                "wrong-section",
                f"Submission {submission_id} is a {submission.section} submission, not pcb.",
                errors=[
                    {
                        "loc": ["query", "submission_id"],
                        "msg": "not a PCB submission",
                        "type": "value_error",
                    }
                ],
            )
        year = submission.year
    out = await totals(
        session, as_of=as_of or utcnow().date(), year=year, submission_id=submission_id
    )
    return _answer(request, response, out)


@public_router.get(
    "/pcb-wastes",
    summary="Published PCB wastes in storage and shipped",
    description=DESCRIPTION + " For anyone (transparency pages).",
    response_model=PcbWasteTotalsOut,
    responses=READ_ONE,
)
async def public_pcb_waste_totals(
    request: Request,
    response: Response,
    session: SessionDep,
    year: YearQuery = None,
    as_of: AsOf = None,
) -> PcbWasteTotalsOut | Response:
    """The published totals (validated data only)."""
    out = await totals(session, as_of=as_of or utcnow().date(), year=year)
    response.headers["Cache-Control"] = "public, max-age=60"
    return _answer(request, response, out)
