"""Routes of national action plans and their targets: MINAM (``inventory:review``) writes
them, any reader (``inventory:read``) follows them, as they rest on validated aggregates."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.plans import metrics, rules, service
from services.inventory.plans.models import ActionPlan, PlanTarget
from services.inventory.plans.schemas import (
    ActualOut,
    PlanIn,
    PlanOut,
    PlanSummaryOut,
    PointOut,
    TargetDetailOut,
    TargetIn,
    TargetOut,
    TargetScopeOut,
    TrajectoryYearOut,
)
from services.inventory.plans.service import Evaluation
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
)
from shared.conditional import etag, not_modified, require_if_match, tagged
from shared.db import SessionDep
from shared.pagination import Page
from shared.security import Principal

STATUS_RULE = (
    "**Status of a target.** The trajectory runs through the baseline and the target "
    "values, linearly between two consecutive points (and stays at the last one after "
    "it). The latest year (from the baseline year to the last target year) in which the "
    "target's metric has validated data is judged: `on_track` if the actual is at or "
    "better than the trajectory's value for that year (lower for a `decrease` target, "
    "higher for an `increase` one); `at_risk` if worse by no more than "
    f"{int(rules.TOLERANCE * 100)} % of the distance from the baseline to the final "
    "target; `off_track` if worse by more; `no_data` when the metric has no validated "
    "data in those years and the target's scope. Every actual lists the validated "
    "submissions it came from."
)

router = APIRouter(prefix="/v1/plans", tags=["plans"])
TargetPath = Annotated[int, Path(ge=1, le=2**31 - 1, description="Target id")]


async def _plan_tag(session: AsyncSession, plan: ActionPlan) -> str:
    return etag(
        "plan",
        plan.id,
        plan.version,
        *(await service.targets_fingerprint(session, plan.id)),
        *(await metrics.data_fingerprint(session)),
    )


async def _target_tag(session: AsyncSession, target: PlanTarget) -> str:
    return etag("target", target.id, target.version, *(await metrics.data_fingerprint(session)))


def _num(value: object) -> float:
    return float(str(value))


def _target_out(target: PlanTarget, judged: Evaluation) -> dict[str, object]:
    year = judged.judged()
    actual = None
    if year is not None and year.actual.value is not None:
        actual = ActualOut(
            year=year.year,
            value=_num(year.actual.value),
            expected=_num(year.target_value),
            submissions=year.actual.submissions,
        )
    return {
        "id": target.id,
        "plan_id": target.plan_id,
        "objective": target.objective,
        "indicator_en": target.indicator_en,
        "indicator_es": target.indicator_es,
        "unit": target.unit,
        "metric_id": target.metric_id,
        "scope": TargetScopeOut(department=target.department, sector=target.sector),
        "schedule": target.schedule,
        "baseline": PointOut(year=target.baseline_year, value=_num(target.baseline_value)),
        "target_values": [
            PointOut(year=p.year, value=_num(p.value)) for p in service.points_of(target)
        ],
        "direction": target.direction,
        "status": judged.status,
        "actual": actual,
        "version": target.version,
        "updated_at": target.updated_at,
    }


async def target_out(
    session: AsyncSession, target: PlanTarget, computed: service.Computed | None = None
) -> TargetOut:
    """A target with its status."""
    judged = await service.evaluate(session, target, computed)
    return TargetOut.model_validate(_target_out(target, judged))


async def target_detail(session: AsyncSession, target: PlanTarget) -> TargetDetailOut:
    """A target with its status and trajectory."""
    judged = await service.evaluate(session, target)
    trajectory = [
        TrajectoryYearOut(
            year=y.year,
            target_value=_num(y.target_value),
            actual_value=None if y.actual.value is None else _num(y.actual.value),
            status=y.status,
            submissions=y.actual.submissions,
        )
        for y in judged.years
    ]
    return TargetDetailOut.model_validate(_target_out(target, judged) | {"trajectory": trajectory})


def _summary(plan: ActionPlan) -> dict[str, object]:
    return {k: getattr(plan, k) for k in PlanSummaryOut.model_fields}


async def plan_out(session: AsyncSession, plan: ActionPlan) -> PlanOut:
    """A plan with its targets and their statuses."""
    computed: service.Computed = {}
    targets = [
        await target_out(session, t, computed) for t in await service.plan_targets(session, plan.id)
    ]
    return PlanOut.model_validate(_summary(plan) | {"targets": targets})


@router.get(
    "",
    summary="List action plans",
    description="National action plans, oldest first, without their targets "
    "(`GET /v1/plans/{id}` has them). Cursor pages; `updated_since` for sync.",
    response_model=Page[PlanSummaryOut],
    dependencies=[READ],
)
async def list_plans(
    request: Request,
    response: Response,
    session: SessionDep,
    paging: PagingQuery,
) -> Page[PlanSummaryOut]:
    """Plans, one page at a time."""
    rows, next_cursor = await page_of(
        request, response, session, select(ActionPlan), ActionPlan, paging
    )
    return Page(
        items=[PlanSummaryOut.model_validate(_summary(p)) for p in rows], next_cursor=next_cursor
    )


@router.post(
    "",
    summary="Create an action plan",
    description="A plan (titles en/es, `stockholm` or `minamata`, period, objectives, "
    "responsible agencies); its targets are added with `POST /v1/plans/{id}/targets`. "
    "MINAM only (`inventory:review`). Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=PlanOut,
    responses=CREATE,
)
async def create_plan(
    request: Request,
    response: Response,
    session: SessionDep,
    body: PlanIn,
    principal: Principal = REVIEW,
) -> PlanOut | Response:
    """Create a plan."""

    async def create() -> tuple[PlanOut, str]:
        plan = await service.create_plan(session, principal, body)
        return await plan_out(session, plan), await _plan_tag(session, plan)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/{plan_id}",
    summary="Get an action plan with its targets' status",
    description="The plan, each target with its status and the actual it was judged on "
    "(with the validated submissions it came from).\n\n" + STATUS_RULE,
    response_model=PlanOut,
    responses=READ_ONE,
    dependencies=[READ],
)
async def get_plan(
    request: Request,
    response: Response,
    session: SessionDep,
    plan_id: IdPath,
) -> PlanOut | Response:
    """One plan (ETag: it changes with the plan, its targets and newly validated data)."""
    plan = await service.get_plan(session, plan_id)
    tag = await _plan_tag(session, plan)
    if not_modified(request, tag):  # before computing the statuses
        return Response(status_code=304, headers={"ETag": tag})
    return tagged(response, await plan_out(session, plan), tag)


@router.put(
    "/{plan_id}",
    summary="Replace an action plan",
    description="All of the plan's fields (not its targets, which must still fit: their "
    "objectives kept, their years inside the period). MINAM only; needs `If-Match`.",
    response_model=PlanOut,
    responses=UPDATE,
)
async def put_plan(
    request: Request,
    response: Response,
    session: SessionDep,
    plan_id: IdPath,
    body: PlanIn,
    principal: Principal = REVIEW,
) -> PlanOut:
    """Replace a plan."""
    plan = await service.get_plan(session, plan_id)
    require_if_match(request, await _plan_tag(session, plan))
    await service.update_plan(session, principal, plan, body)
    return tagged(response, await plan_out(session, plan), await _plan_tag(session, plan))


@router.delete(
    "/{plan_id}",
    summary="Remove an action plan",
    description="The plan and its targets (recorded in `/v1/changes`). MINAM only; needs "
    "`If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_plan(
    request: Request, session: SessionDep, plan_id: IdPath, principal: Principal = REVIEW
) -> Response:
    """Remove a plan."""
    plan = await service.get_plan(session, plan_id)
    require_if_match(request, await _plan_tag(session, plan))
    await service.delete_plan(session, principal, plan)
    return Response(status_code=204)


@router.post(
    "/{plan_id}/targets",
    summary="Add a target to a plan",
    description="A target: objective code, indicator (en/es), a metric of `GET /v1/metrics` "
    "with its unit and optional scope (department, sector), schedule, baseline, target "
    "values by year (inside the plan's period, after the baseline) and direction. A field "
    "that does not fit is a 422 naming it. MINAM only. Accepts `Idempotency-Key`.",
    status_code=201,
    response_model=TargetOut,
    responses=CREATE,
)
async def create_target(
    request: Request,
    response: Response,
    session: SessionDep,
    plan_id: IdPath,
    body: TargetIn,
    principal: Principal = REVIEW,
) -> TargetOut | Response:
    """Add a target."""
    plan = await service.get_plan(session, plan_id)

    async def create() -> tuple[TargetOut, str]:
        target = await service.create_target(session, principal, plan, body)
        return await target_out(session, target), await _target_tag(session, target)

    return await create_once(request, response, session, principal, create)


@router.get(
    "/{plan_id}/targets/{target_id}",
    summary="Get a target with its trajectory",
    description="The target's status and, year by year from the baseline to the last "
    "target year, the trajectory's value, the actual (null where the metric has no "
    "validated data) with its submissions, and that year's status.\n\n" + STATUS_RULE,
    response_model=TargetDetailOut,
    responses=READ_ONE,
    dependencies=[READ],
)
async def get_target(
    request: Request,
    response: Response,
    session: SessionDep,
    plan_id: IdPath,
    target_id: TargetPath,
) -> TargetDetailOut | Response:
    """One target with its trajectory."""
    target = await service.get_target(session, plan_id, target_id)
    tag = await _target_tag(session, target)
    if not_modified(request, tag):  # before computing the statuses
        return Response(status_code=304, headers={"ETag": tag})
    return tagged(response, await target_detail(session, target), tag)


@router.put(
    "/{plan_id}/targets/{target_id}",
    summary="Replace a target",
    description="All of the target's fields, checked as on creation. MINAM only; needs `If-Match`.",
    response_model=TargetOut,
    responses=UPDATE,
)
async def put_target(
    request: Request,
    response: Response,
    session: SessionDep,
    plan_id: IdPath,
    target_id: TargetPath,
    body: TargetIn,
    principal: Principal = REVIEW,
) -> TargetOut:
    """Replace a target."""
    plan = await service.get_plan(session, plan_id)
    target = await service.get_target(session, plan_id, target_id)
    require_if_match(request, await _target_tag(session, target))
    await service.update_target(session, principal, plan, target, body)
    return tagged(response, await target_out(session, target), await _target_tag(session, target))


@router.delete(
    "/{plan_id}/targets/{target_id}",
    summary="Remove a target",
    description="MINAM only; needs `If-Match`.",
    status_code=204,
    responses=UPDATE,
)
async def delete_target(
    request: Request,
    session: SessionDep,
    plan_id: IdPath,
    target_id: TargetPath,
    principal: Principal = REVIEW,
) -> Response:
    """Remove a target."""
    target = await service.get_target(session, plan_id, target_id)
    require_if_match(request, await _target_tag(session, target))
    await service.delete_target(session, principal, target)
    return Response(status_code=204)


# The national plans are public: the same answers without a token, under /v1/public.
public_router = APIRouter(prefix="/v1/public/plans", tags=["public"])
public_router.add_api_route(
    "",
    list_plans,
    methods=["GET"],
    summary="Published action plans",
    description="The national action plans, as `GET /v1/plans`, for anyone.",
    response_model=Page[PlanSummaryOut],
)
public_router.add_api_route(
    "/{plan_id}",
    get_plan,
    methods=["GET"],
    summary="A published action plan with its targets' status",
    description="As `GET /v1/plans/{id}`, for anyone (figures from validated data only).\n\n"
    + STATUS_RULE,
    response_model=PlanOut,
    responses=READ_ONE,
)
public_router.add_api_route(
    "/{plan_id}/targets/{target_id}",
    get_target,
    methods=["GET"],
    summary="A published target with its trajectory",
    description="As `GET /v1/plans/{id}/targets/{tid}`, for anyone.\n\n" + STATUS_RULE,
    response_model=TargetDetailOut,
    responses=READ_ONE,
)
