"""Routes for mercury release estimates."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from sqlalchemy import select

from services.inventory.estimates.router import EstimateKind, estimate_routes
from services.inventory.mercury import catalogue, service
from services.inventory.mercury.catalogue import MercuryFactorIn, MercuryFactorOut
from services.inventory.mercury.factors import MercuryFactor
from services.inventory.mercury.models import MercuryEstimate, MercuryRelease
from services.inventory.mercury.schemas import (
    MercuryEstimateIn,
    MercuryEstimateOut,
    MercuryEstimatePatch,
)
from services.inventory.routing import (
    CREATE,
    READ,
    READ_ONE,
    REVIEW,
    IdPath,
    PagingQuery,
    create_once,
    page_of,
    query_param,
    record_etag,
)
from services.inventory.submissions.rules import Section
from services.inventory.vocabulary import MercuryCategory
from shared.conditional import read_answer
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import Page
from shared.problems import Problem
from shared.security import Principal

router = APIRouter(prefix="/v1", tags=["mercury"])

MERCURY = EstimateKind(
    name="mercury",
    label="mercury release estimate",
    section=Section.MERCURY,
    table=MercuryEstimate,
    releases=MercuryRelease,
    schemas=(MercuryEstimateIn, MercuryEstimatePatch, MercuryEstimateOut, Page[MercuryEstimateOut]),
    out=service.mercury_out,
    create=service.create_mercury,
    update=service.update_mercury,
    list_filter=query_param("category", MercuryCategory | None),
    docs=(
        "Estimates the caller may see: input and releases per output pathway in "
        "kg Hg/a. Filter by `category` (ASGM is `asgm`).",
        "Input (kg Hg/a) = activity rate x input factor; each of the six output "
        "pathways gets input x its distribution factor; the factors must sum to 1 (±0.001). "
        "Level 1: `factor_id` names a `/mercury-factors` entry, whose factor, unit, "
        "distribution and provenance are copied (sending them too is a 422). Level 2: no "
        "`factor_id`, the estimate's own factor, unit, provenance and distribution. "
        "Accepts `Idempotency-Key`.",
        "One mercury estimate.",
        "In the caller's editable submission; needs `If-Match`. A Level 1 estimate's "
        "factor fields come from its catalogue factor and cannot be changed.",
    ),
)
estimate_routes(router, MERCURY)


# -- the Level 1 factor catalogue --------------------------------------------------------


def _factor_etag(factor: MercuryFactor) -> str:
    return record_etag("mercury-factor", factor)


@router.get(
    "/mercury-factors",
    summary="List mercury Level 1 factors",
    description="The mercury Toolkit's Inventory Level 1 defaults: input factor (kg Hg per "
    "unit of activity; low and high where the Toolkit gives a range) and output "
    "distribution factors over the six pathways, with version and provenance.",
    response_model=Page[MercuryFactorOut],
    dependencies=[READ],
)
async def list_mercury_factors(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
    category: MercuryCategory | None = None,
) -> Page[MercuryFactorOut]:
    """Catalogue entries, one page at a time."""
    stmt = select(MercuryFactor)
    if category is not None:
        stmt = stmt.where(MercuryFactor.category == category.value)
    rows, next_cursor = await page_of(request, response, session, stmt, MercuryFactor, paging)
    return Page(items=[catalogue.factor_out(r) for r in rows], next_cursor=next_cursor)


@router.post(
    "/mercury-factors",
    summary="Add a mercury Level 1 factor",
    description="Reviewers (MINAM) keep the catalogue. The distribution factors must sum "
    "to 1 (±0.001); low ≤ default ≤ high. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=MercuryFactorOut,
    responses=CREATE,
    openapi_extra=IDEMPOTENT,
)
async def create_mercury_factor(
    request: Request,
    response: Response,
    session: SessionDep,
    body: MercuryFactorIn,
    principal: Principal = REVIEW,
) -> MercuryFactorOut | Response:
    """Add a factor."""

    async def create() -> tuple[MercuryFactorOut, str]:
        factor = await catalogue.create_factor(session, principal, body)
        return catalogue.factor_out(factor), _factor_etag(factor)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/mercury-factors/{factor_id}",
    summary="Get a mercury Level 1 factor",
    response_model=MercuryFactorOut,
    responses=READ_ONE,
    dependencies=[READ],
)
async def get_mercury_factor(
    request: Request, response: Response, factor_id: IdPath, session: SessionDep
) -> MercuryFactorOut | Response:
    """One catalogue entry."""
    factor = await session.get(MercuryFactor, factor_id)
    if factor is None:
        raise Problem(404, "not-found", f"No mercury factor {factor_id}.")
    return read_answer(request, response, catalogue.factor_out(factor), _factor_etag(factor))
