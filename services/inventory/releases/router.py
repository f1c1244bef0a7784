"""Routes for the emission-factor catalogue, UP-POPs and mercury release estimates."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy import select

from services.inventory.access import (
    check_editable,
    check_owner,
    editable_submission,
    submission_visible,
)
from services.inventory.releases import service
from services.inventory.releases.models import EmissionFactor, MercuryEstimate, UpopsEstimate
from services.inventory.releases.rules import Vector
from services.inventory.releases.schemas import (
    FactorIn,
    FactorOut,
    FactorPatch,
    MercuryEstimateIn,
    MercuryEstimateOut,
    MercuryEstimatePatch,
    Pollutant,
    TeqScheme,
    UpopsEstimateIn,
    UpopsEstimateOut,
    UpopsEstimatePatch,
)
from services.inventory.routing import (
    CREATE,
    READ_ONE,
    UPDATE,
    IdPath,
    OrgQuery,
    UpdatedSince,
    YearQuery,
    commit_and_respond,
    idempotent_create,
    list_page,
    read_response,
    record_etag,
)
from services.inventory.submissions.models import Submission
from services.inventory.submissions.rules import Section
from services.inventory.submissions.service import counts_nationally
from services.inventory.vocabulary import MercuryCategory
from shared.conditional import require_if_match
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page
from shared.problems import Problem
from shared.security import Principal, require_scopes

upops_router = APIRouter(prefix="/v1", tags=["unintentional POPs"])
mercury_router = APIRouter(prefix="/v1", tags=["mercury"])
READ = require_scopes("inventory:read")
WRITE = require_scopes("inventory:write")
REVIEW = require_scopes("inventory:review")
OptionalId = Annotated[int | None, Query(ge=1, le=2**31 - 1)]


# -- emission-factor catalogue ---------------------------------------------------------


@upops_router.get(
    "/emission-factors",
    summary="List emission factors",
    description="The UP-POPs emission-factor catalogue (UNEP Toolkit): µg TEQ per unit of "
    "activity per class and vector, NA or ND, with TEQ scheme, edition and provenance.",
    response_model=Page[FactorOut],
)
async def list_factors(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = READ,
    source_group: Annotated[str | None, Query(pattern=r"^(10|[1-9])$")] = None,
    category: Annotated[str | None, Query(pattern=r"^(10|[1-9])[a-z]$")] = None,
    class_no: Annotated[int | None, Query(ge=1, le=99)] = None,
    vector: Vector | None = None,
    pollutant: Pollutant | None = None,
    teq_scheme: TeqScheme | None = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
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
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        EmissionFactor,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    return Page(items=[service.factor_out(r) for r in rows], next_cursor=next_cursor)


@upops_router.post(
    "/emission-factors",
    summary="Add an emission factor",
    description="Reviewers (MINAM) keep the catalogue. `value` is a number, `NA` (no "
    "release expected) or `ND` (not determined). Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=FactorOut,
    responses=CREATE,
)
async def create_factor(
    request: Request, session: SessionDep, body: FactorIn, principal: Principal = REVIEW
) -> JSONResponse:
    """Add a factor."""

    async def create() -> tuple[FactorOut, str]:
        factor = await service.create_factor(session, principal, body)
        return service.factor_out(factor), record_etag("emission-factor", factor)

    return await idempotent_create(request, session, principal, create)


async def _factor(session: SessionDep, factor_id: int) -> EmissionFactor:
    factor = await session.get(EmissionFactor, factor_id)
    if factor is None:
        raise Problem(404, "not-found", f"No emission factor {factor_id}.")
    return factor


@upops_router.get(
    "/emission-factors/{factor_id}",
    summary="Get an emission factor",
    response_model=FactorOut,
    responses=READ_ONE,
)
async def get_factor(
    request: Request, factor_id: IdPath, session: SessionDep, principal: Principal = READ
) -> Response:
    """One catalogue entry."""
    factor = await _factor(session, factor_id)
    return read_response(
        request, service.factor_out(factor), record_etag("emission-factor", factor)
    )


@upops_router.patch(
    "/emission-factors/{factor_id}",
    summary="Change an emission factor",
    description="Reviewers only; needs `If-Match`. Estimates keep the factor they were "
    "computed with until they are edited, so validated figures never move.",
    response_model=FactorOut,
    responses=UPDATE,
)
async def patch_factor(
    request: Request,
    factor_id: IdPath,
    session: SessionDep,
    body: FactorPatch,
    principal: Principal = REVIEW,
) -> JSONResponse:
    """Change a factor."""
    factor = await _factor(session, factor_id)
    require_if_match(request, record_etag("emission-factor", factor))
    await service.update_factor(session, principal, factor, body)
    return await commit_and_respond(
        session, service.factor_out(factor), tag=record_etag("emission-factor", factor)
    )


# -- estimates: shared plumbing -----------------------------------------------------------


async def _visible(
    session: SessionDep, principal: Principal, model: Any, estimate_id: int
) -> tuple[Any, Submission]:
    row = (
        await session.execute(
            select(model, Submission)
            .join(Submission, Submission.id == model.submission_id)
            .where(model.id == estimate_id, submission_visible(principal))
        )
    ).first()
    if row is None:
        raise Problem(404, "not-found", f"No estimate {estimate_id}.")
    return row[0], row[1]


async def _editable(
    request: Request,
    session: SessionDep,
    principal: Principal,
    model: Any,
    estimate_id: int,
    kind: str,
) -> tuple[Any, Submission]:
    estimate, submission = await _visible(session, principal, model, estimate_id)
    check_owner(principal, submission.org_code, f"estimate {estimate_id}")
    check_editable(submission)
    require_if_match(request, record_etag(kind, estimate))
    return estimate, submission


def _estimates_query(
    principal: Principal,
    model: Any,
    *,
    submission_id: int | None,
    org: str | None,
    year: int | None,
    current: bool | None,
) -> Any:
    stmt = (
        select(model)
        .join(Submission, Submission.id == model.submission_id)
        .where(submission_visible(principal))
    )
    for column, value in (
        (model.submission_id, submission_id),
        (model.org_code, org),
        (Submission.year, year),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if current is not None:
        stmt = stmt.where(counts_nationally() if current else ~counts_nationally())
    return stmt


# -- UP-POPs estimates --------------------------------------------------------------------


@upops_router.get(
    "/upops-estimates",
    summary="List UP-POPs release estimates",
    description="Estimates the caller may see, each with its releases per vector in g TEQ/a "
    "(ND stays not determined, never zero).",
    response_model=Page[UpopsEstimateOut],
)
async def list_upops(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = READ,
    submission_id: OptionalId = None,
    org: OrgQuery = None,
    year: YearQuery = None,
    current: bool | None = None,
    source_group: Annotated[str | None, Query(pattern=r"^(10|[1-9])$")] = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[UpopsEstimateOut]:
    """UP-POPs estimates, one page at a time."""
    stmt = _estimates_query(
        principal, UpopsEstimate, submission_id=submission_id, org=org, year=year, current=current
    )
    if source_group is not None:
        stmt = stmt.where(UpopsEstimate.source_group == source_group)
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        UpopsEstimate,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    items = [service.upops_out(r, await service.upops_releases(session, r.id)) for r in rows]
    return Page(items=items, next_cursor=next_cursor)


@upops_router.post(
    "/submissions/{submission_id}/upops-estimates",
    summary="Add a UP-POPs release estimate",
    description="Activity rate x catalogue factor / 10^6 per vector, g TEQ/a. The activity "
    "unit must be the unit the factors are per (else 422). Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=UpopsEstimateOut,
    responses=CREATE,
)
async def create_upops(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: UpopsEstimateIn,
    principal: Principal = WRITE,
) -> JSONResponse:
    """Add an estimate."""

    async def create() -> tuple[UpopsEstimateOut, str]:
        submission = await editable_submission(
            session, principal, submission_id, section=Section.UPOPS
        )
        estimate, rows = await service.create_upops(session, principal, submission, body)
        return service.upops_out(estimate, rows), record_etag("upops-estimate", estimate)

    return await idempotent_create(request, session, principal, create)


@upops_router.get(
    "/upops-estimates/{estimate_id}",
    summary="Get a UP-POPs release estimate",
    response_model=UpopsEstimateOut,
    responses=READ_ONE,
)
async def get_upops(
    request: Request, estimate_id: IdPath, session: SessionDep, principal: Principal = READ
) -> Response:
    """One estimate with its releases."""
    estimate, _ = await _visible(session, principal, UpopsEstimate, estimate_id)
    out = service.upops_out(estimate, await service.upops_releases(session, estimate.id))
    return read_response(request, out, record_etag("upops-estimate", estimate))


@upops_router.patch(
    "/upops-estimates/{estimate_id}",
    summary="Change a UP-POPs release estimate",
    description="In the caller's editable submission; needs `If-Match`. Releases are "
    "recomputed with the catalogue's current factors.",
    response_model=UpopsEstimateOut,
    responses=UPDATE,
)
async def patch_upops(
    request: Request,
    estimate_id: IdPath,
    session: SessionDep,
    body: UpopsEstimatePatch,
    principal: Principal = WRITE,
) -> JSONResponse:
    """Change an estimate."""
    estimate, submission = await _editable(
        request, session, principal, UpopsEstimate, estimate_id, "upops-estimate"
    )
    rows = await service.update_upops(session, principal, submission, estimate, body)
    await session.flush()
    return await commit_and_respond(
        session, service.upops_out(estimate, rows), tag=record_etag("upops-estimate", estimate)
    )


@upops_router.delete(
    "/upops-estimates/{estimate_id}",
    summary="Remove a UP-POPs release estimate",
    description="From the caller's editable submission; needs `If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_upops(
    request: Request, estimate_id: IdPath, session: SessionDep, principal: Principal = WRITE
) -> Response:
    """Remove an estimate."""
    estimate, _ = await _editable(
        request, session, principal, UpopsEstimate, estimate_id, "upops-estimate"
    )
    await service.delete_estimate(session, principal, estimate)
    await session.commit()
    return Response(status_code=204)


# -- mercury estimates ----------------------------------------------------------------------


@mercury_router.get(
    "/mercury-estimates",
    summary="List mercury release estimates",
    description="Estimates the caller may see: input and releases per output pathway in "
    "kg Hg/a. Filter by `category` (ASGM is `asgm`).",
    response_model=Page[MercuryEstimateOut],
)
async def list_mercury(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Principal = READ,
    submission_id: OptionalId = None,
    org: OrgQuery = None,
    year: YearQuery = None,
    current: bool | None = None,
    category: MercuryCategory | None = None,
    updated_since: UpdatedSince = None,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Page[MercuryEstimateOut]:
    """Mercury estimates, one page at a time."""
    stmt = _estimates_query(
        principal, MercuryEstimate, submission_id=submission_id, org=org, year=year, current=current
    )
    if category is not None:
        stmt = stmt.where(MercuryEstimate.category == category.value)
    rows, next_cursor = await list_page(
        request,
        response,
        session,
        stmt,
        MercuryEstimate,
        updated_since=updated_since,
        cursor=cursor,
        limit=limit,
    )
    items = [service.mercury_out(r, await service.mercury_releases(session, r.id)) for r in rows]
    return Page(items=items, next_cursor=next_cursor)


@mercury_router.post(
    "/submissions/{submission_id}/mercury-estimates",
    summary="Add a mercury release estimate",
    description="Input (kg Hg/a) = activity rate x input factor; each of the six output "
    "pathways gets input x its distribution factor; the factors must sum to 1 (±0.001). "
    "Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=MercuryEstimateOut,
    responses=CREATE,
)
async def create_mercury(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    body: MercuryEstimateIn,
    principal: Principal = WRITE,
) -> JSONResponse:
    """Add a mercury estimate."""

    async def create() -> tuple[MercuryEstimateOut, str]:
        submission = await editable_submission(
            session, principal, submission_id, section=Section.MERCURY
        )
        estimate, rows = await service.create_mercury(session, principal, submission, body)
        return service.mercury_out(estimate, rows), record_etag("mercury-estimate", estimate)

    return await idempotent_create(request, session, principal, create)


@mercury_router.get(
    "/mercury-estimates/{estimate_id}",
    summary="Get a mercury release estimate",
    response_model=MercuryEstimateOut,
    responses=READ_ONE,
)
async def get_mercury(
    request: Request, estimate_id: IdPath, session: SessionDep, principal: Principal = READ
) -> Response:
    """One mercury estimate."""
    estimate, _ = await _visible(session, principal, MercuryEstimate, estimate_id)
    out = service.mercury_out(estimate, await service.mercury_releases(session, estimate.id))
    return read_response(request, out, record_etag("mercury-estimate", estimate))


@mercury_router.patch(
    "/mercury-estimates/{estimate_id}",
    summary="Change a mercury release estimate",
    description="In the caller's editable submission; needs `If-Match`.",
    response_model=MercuryEstimateOut,
    responses=UPDATE,
)
async def patch_mercury(
    request: Request,
    estimate_id: IdPath,
    session: SessionDep,
    body: MercuryEstimatePatch,
    principal: Principal = WRITE,
) -> JSONResponse:
    """Change a mercury estimate."""
    estimate, submission = await _editable(
        request, session, principal, MercuryEstimate, estimate_id, "mercury-estimate"
    )
    rows = await service.update_mercury(session, principal, submission, estimate, body)
    await session.flush()
    return await commit_and_respond(
        session, service.mercury_out(estimate, rows), tag=record_etag("mercury-estimate", estimate)
    )


@mercury_router.delete(
    "/mercury-estimates/{estimate_id}",
    summary="Remove a mercury release estimate",
    description="From the caller's editable submission; needs `If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_mercury(
    request: Request, estimate_id: IdPath, session: SessionDep, principal: Principal = WRITE
) -> Response:
    """Remove a mercury estimate."""
    estimate, _ = await _editable(
        request, session, principal, MercuryEstimate, estimate_id, "mercury-estimate"
    )
    await service.delete_estimate(session, principal, estimate)
    await session.commit()
    return Response(status_code=204)
