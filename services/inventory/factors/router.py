"""Routes for the UP-POPs emission-factor catalogue."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from sqlalchemy import select

from services.inventory.factors import service
from services.inventory.factors.models import EmissionFactor
from services.inventory.factors.rules import Vector
from services.inventory.factors.schemas import (
    FactorIn,
    FactorOut,
    FactorPatch,
    Pollutant,
    TeqScheme,
)
from services.inventory.routing import (
    CREATE,
    READ,
    READ_ONE,
    REVIEW,
    UPDATE,
    IdPath,
    PagingQuery,
    create_once,
    page_of,
    record_etag,
)
from shared.conditional import read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import Page
from shared.problems import Problem
from shared.security import Principal

router = APIRouter(prefix="/v1", tags=["unintentional POPs"])


def _etag(factor: EmissionFactor) -> str:
    return record_etag("emission-factor", factor)


@router.get(
    "/emission-factors",
    summary="List emission factors",
    description="The UP-POPs emission-factor catalogue (UNEP Toolkit): µg TEQ per unit of "
    "activity per class and vector, NA or ND, with TEQ scheme, edition and provenance.",
    response_model=Page[FactorOut],
    dependencies=[READ],
)
async def list_factors(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
    source_group: Annotated[str | None, Query(pattern=r"^(10|[1-9])$")] = None,
    category: Annotated[str | None, Query(pattern=r"^(10|[1-9])[a-z]$")] = None,
    class_no: Annotated[int | None, Query(ge=1, le=99)] = None,
    vector: Vector | None = None,
    pollutant: Pollutant | None = None,
    teq_scheme: TeqScheme | None = None,
) -> Page[FactorOut]:
    """Catalogue entries, one page at a time."""
    stmt = select(EmissionFactor)
    filters: list[tuple[Any, object]] = [
        (EmissionFactor.source_group, source_group),
        (EmissionFactor.category, category),
        (EmissionFactor.class_no, class_no),
        (EmissionFactor.vector, vector.value if vector else None),
        (EmissionFactor.pollutant, pollutant.value if pollutant else None),
        (EmissionFactor.teq_scheme, teq_scheme.value if teq_scheme else None),
    ]
    for column, value in filters:
        if value is not None:
            stmt = stmt.where(column == value)
    rows, next_cursor = await page_of(request, response, session, stmt, EmissionFactor, paging)
    return Page(items=[service.factor_out(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/emission-factors",
    summary="Add an emission factor",
    description="Reviewers (MINAM) keep the catalogue. `value` is a number, `NA` (no "
    "release expected) or `ND` (not determined). Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=FactorOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
)
async def create_factor(
    request: Request,
    response: Response,
    session: SessionDep,
    body: FactorIn,
    principal: Principal = REVIEW,
) -> FactorOut | Response:
    """Add a factor."""

    async def create() -> tuple[FactorOut, str]:
        factor = await service.create_factor(session, principal, body)
        return service.factor_out(factor), _etag(factor)

    return await create_once(request, response, session, principal, create)


async def _factor(session: SessionDep, factor_id: int) -> EmissionFactor:
    factor = await session.get(EmissionFactor, factor_id)
    if factor is None:
        raise Problem(404, "not-found", f"No emission factor {factor_id}.")
    return factor


@router.get(
    "/emission-factors/{factor_id}",
    summary="Get an emission factor",
    response_model=FactorOut,
    responses=READ_ONE,
    dependencies=[READ],
)
async def get_factor(
    request: Request,
    response: Response,
    factor_id: IdPath,
    session: SessionDep,
) -> FactorOut | Response:
    """One catalogue entry."""
    factor = await _factor(session, factor_id)
    return read_answer(request, response, service.factor_out(factor), _etag(factor))


@router.patch(
    "/emission-factors/{factor_id}",
    summary="Change an emission factor",
    description="Reviewers only; needs `If-Match`. Estimates keep the factor they were "
    "computed with until they are edited, so validated figures never move.",
    response_model=FactorOut,
    responses=UPDATE,
)
async def patch_factor(
    request: Request,
    response: Response,
    factor_id: IdPath,
    session: SessionDep,
    body: FactorPatch,
    principal: Principal = REVIEW,
) -> FactorOut:
    """Change a factor."""
    factor = await _factor(session, factor_id)
    require_if_match(request, _etag(factor))
    await service.update_factor(session, principal, factor, body)
    return tagged(response, service.factor_out(factor), _etag(factor))
