"""Plans and targets: writes checked against the metric catalogue and the plan's period,
and each target judged against its trajectory from the metric's validated values."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import record_change, snapshot
from services.inventory.plans import metrics, rules
from services.inventory.plans.models import ActionPlan, PlanTarget
from services.inventory.plans.rules import Direction, Point, TargetStatus
from services.inventory.plans.schemas import PlanIn, TargetIn
from services.inventory.registry.service import add_recorded, change_recorded
from shared.problems import Problem
from shared.security import Principal


def invalid(loc: Sequence[str | int], message: str) -> Problem:
    """A 422 naming one place of the body (every part a string, as for schema errors)."""
    return Problem(
        422,
        "validation-error",
        message,
        errors=[{"loc": ["body", *map(str, loc)], "msg": message, "type": "value_error"}],
    )


# -- reading -------------------------------------------------------------------------------


async def get_plan(session: AsyncSession, plan_id: int) -> ActionPlan:
    """The plan, else 404."""
    plan = await session.get(ActionPlan, plan_id)
    if plan is None:
        raise Problem(404, "not-found", f"No plan {plan_id}.")
    return plan


async def plan_targets(session: AsyncSession, plan_id: int) -> list[PlanTarget]:
    """The plan's targets, in id order."""
    rows = await session.scalars(
        select(PlanTarget).where(PlanTarget.plan_id == plan_id).order_by(PlanTarget.id)
    )
    return list(rows)


async def get_target(session: AsyncSession, plan_id: int, target_id: int) -> PlanTarget:
    """The plan's target, else 404."""
    target = await session.get(PlanTarget, target_id)
    if target is None or target.plan_id != plan_id:
        raise Problem(404, "not-found", f"No target {target_id} in plan {plan_id}.")
    return target


async def targets_fingerprint(session: AsyncSession, plan_id: int) -> tuple[Any, ...]:
    """Changes whenever a target of the plan is added, changed or removed."""
    found = await session.execute(
        select(
            func.count(PlanTarget.id), func.max(PlanTarget.updated_at), func.sum(PlanTarget.id)
        ).where(PlanTarget.plan_id == plan_id)
    )
    return tuple(found.one())


# -- judging ------------------------------------------------------------------------------


def baseline_of(target: PlanTarget) -> Point:
    """The target's baseline as the rules' point."""
    return Point(target.baseline_year, Decimal(target.baseline_value))


def points_of(target: PlanTarget) -> list[Point]:
    """The target values as the rules' points, by year."""
    return sorted(
        (Point(int(p["year"]), Decimal(str(p["value"]))) for p in target.target_values),
        key=lambda p: p.year,
    )


@dataclass(frozen=True)
class Actual:
    """The metric's value for a year and the submissions it came from (value None: no
    data for that year and scope)."""

    value: Decimal | None
    submissions: list[int]


@dataclass(frozen=True)
class YearJudged:
    """One year of a trajectory: the trajectory's value, the actual, its status."""

    year: int
    target_value: Decimal
    actual: Actual
    status: TargetStatus


@dataclass(frozen=True)
class Evaluation:
    """A target judged: its status, the year judged (None: no data), and year by year."""

    status: TargetStatus
    year: int | None
    years: list[YearJudged]

    def judged(self) -> YearJudged | None:
        """The year the status was judged on (None: no data)."""
        return next((y for y in self.years if y.year == self.year), None)


def last_year(target: PlanTarget) -> int:
    """The last year of the target's trajectory (its last target year)."""
    points = points_of(target)
    return max([target.baseline_year, *(p.year for p in points)])


# Metric values already computed while answering one request, by metric, year, schedule
# and scope: targets on the same metric share them.
Computed = dict[tuple[str, int, str, str | None, str | None], Actual]


async def actuals(
    session: AsyncSession, target: PlanTarget, computed: Computed | None = None
) -> dict[int, Actual]:
    """The metric's values for the target's years that have validated data."""
    first, last = target.baseline_year, last_year(target)
    computed = {} if computed is None else computed
    found: dict[int, Actual] = {}
    for year in await metrics.years_with_data(session, target.metric_id):
        if not first <= year <= last:
            continue
        key = (target.metric_id, year, target.schedule, target.department, target.sector)
        if key not in computed:
            value = await metrics.compute_metric(
                session,
                target.metric_id,
                year=year,
                schedule=target.schedule,
                department=target.department,
                sector=target.sector,
            )
            computed[key] = Actual(value.value, value.submissions)
        found[year] = computed[key]
    return found


async def evaluate(
    session: AsyncSession, target: PlanTarget, computed: Computed | None = None
) -> Evaluation:
    """The target's status (``rules.latest_status``) and its trajectory, year by year
    (``computed``: metric values to share with the other targets judged)."""
    baseline, points = baseline_of(target), points_of(target)
    direction = Direction(target.direction)
    found = await actuals(session, target, computed)
    status, year = rules.latest_status(
        {y: a.value for y, a in found.items()}, baseline, points, direction
    )
    years = []
    for y in range(target.baseline_year, last_year(target) + 1):
        expected = rules.trajectory_value(baseline, points, y)
        assert expected is not None  # from the baseline year on
        actual = found.get(y, Actual(None, []))
        years.append(
            YearJudged(
                y,
                expected,
                actual,
                rules.judge(actual.value, expected, baseline, points, direction),
            )
        )
    return Evaluation(status, year, years)


async def target_statuses(session: AsyncSession) -> dict[int, str]:
    """Every target's status by target id: compare before and after a validation to
    learn which targets changed status."""
    targets = list(await session.scalars(select(PlanTarget).order_by(PlanTarget.id)))
    computed: Computed = {}
    return {t.id: (await evaluate(session, t, computed)).status.value for t in targets}


# -- writing ------------------------------------------------------------------------------


def _check_plan(body: PlanIn) -> None:
    if body.end_year < body.start_year:
        raise invalid(["end_year"], "The plan cannot end before it starts.")
    codes = [o.code for o in body.objectives]
    if len(set(codes)) != len(codes):
        raise invalid(["objectives"], "Objective codes must be unique within the plan.")
    if len(set(body.agencies)) != len(body.agencies):
        raise invalid(["agencies"], "An agency is listed twice.")


def _plan_fields(body: PlanIn) -> dict[str, Any]:
    return body.model_dump(mode="json")


def _check_target(plan: ActionPlan, body: TargetIn) -> None:
    """422 naming the first field of ``body`` that does not fit the catalogue or the plan."""
    try:
        definition = metrics.metric_definition(body.metric_id)
    except metrics.UnknownMetric:
        raise invalid(["metric_id"], f"No metric {body.metric_id} (see GET /v1/metrics).") from None
    if body.unit != definition.unit:
        raise invalid(["unit"], f"The metric {definition.id} is in {definition.unit}.")
    sector = body.sector.value if body.sector is not None else None
    try:
        metrics.check_filters(definition, metrics.MetricScope(body.department, sector))
    except metrics.FilterNotAccepted as error:
        raise invalid([error.name], str(error)) from None
    if body.objective not in {o["code"] for o in plan.objectives}:
        raise invalid(["objective"], f"The plan has no objective {body.objective}.")
    _check_years(plan, body.baseline.year, [p.year for p in body.target_values])
    final = max(body.target_values, key=lambda p: p.year).value
    if (body.direction is Direction.DECREASE and final > body.baseline.value) or (
        body.direction is Direction.INCREASE and final < body.baseline.value
    ):
        raise invalid(["direction"], "The final target moves the other way from the baseline.")


def _check_years(plan: ActionPlan, baseline_year: int, years: list[int]) -> None:
    for i, year in enumerate(years):
        if not plan.start_year <= year <= plan.end_year:
            raise invalid(
                ["target_values", i, "year"],
                f"{year} is outside the plan's period {plan.start_year}-{plan.end_year}.",
            )
        if year in years[:i]:
            raise invalid(["target_values", i, "year"], f"{year} has two target values.")
        if year <= baseline_year:
            raise invalid(["baseline", "year"], "The baseline comes before every target year.")


def _target_fields(body: TargetIn) -> dict[str, Any]:
    return {
        "objective": body.objective,
        "indicator_en": body.indicator_en,
        "indicator_es": body.indicator_es,
        "unit": body.unit,
        "metric_id": body.metric_id,
        "department": body.department,
        "sector": body.sector.value if body.sector is not None else None,
        "schedule": body.schedule.value,
        "baseline_year": body.baseline.year,
        "baseline_value": body.baseline.value,
        "target_values": [{"year": p.year, "value": str(p.value)} for p in body.target_values],
        "direction": body.direction.value,
    }


async def create_plan(session: AsyncSession, principal: Principal, body: PlanIn) -> ActionPlan:
    """A new plan (no targets yet)."""
    _check_plan(body)
    plan = ActionPlan(**_plan_fields(body), created_by=principal.client_id)
    await add_recorded(session, principal, "action_plan", plan)
    return plan


async def update_plan(
    session: AsyncSession, principal: Principal, plan: ActionPlan, body: PlanIn
) -> None:
    """Replace a plan's fields; its targets must still fit (their objectives exist, their
    years inside the new period)."""
    _check_plan(body)
    codes = {o.code for o in body.objectives}
    for target in await plan_targets(session, plan.id):
        if target.objective not in codes:
            raise invalid(["objectives"], f"Target {target.id} names objective {target.objective}.")
        years = [p.year for p in points_of(target)]
        if years and (min(years) < body.start_year or max(years) > body.end_year):
            field = "start_year" if min(years) < body.start_year else "end_year"
            raise invalid([field], f"Target {target.id} has target values outside the period.")
    await change_recorded(session, principal, "action_plan", plan, _plan_fields(body))


async def delete_plan(session: AsyncSession, principal: Principal, plan: ActionPlan) -> None:
    """Remove a plan and its targets (each recorded as deleted)."""
    for target in await plan_targets(session, plan.id):
        await delete_target(session, principal, target)
    await _delete_recorded(session, principal, "action_plan", plan)


async def create_target(
    session: AsyncSession, principal: Principal, plan: ActionPlan, body: TargetIn
) -> PlanTarget:
    """A new target of the plan."""
    _check_target(plan, body)
    target = PlanTarget(plan_id=plan.id, **_target_fields(body))
    await add_recorded(session, principal, "plan_target", target)
    return target


async def update_target(
    session: AsyncSession,
    principal: Principal,
    plan: ActionPlan,
    target: PlanTarget,
    body: TargetIn,
) -> None:
    """Replace a target's fields."""
    _check_target(plan, body)
    await change_recorded(session, principal, "plan_target", target, _target_fields(body))


async def delete_target(session: AsyncSession, principal: Principal, target: PlanTarget) -> None:
    """Remove a target."""
    await _delete_recorded(session, principal, "plan_target", target)


async def _delete_recorded(
    session: AsyncSession, principal: Principal, entity: str, record: Any
) -> None:
    before = snapshot(record)
    await session.delete(record)
    await session.flush()
    record_change(
        session, principal, entity=entity, entity_id=before["id"], action="delete", before=before
    )
