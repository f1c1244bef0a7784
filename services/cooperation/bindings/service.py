"""Binding an indicator to an inventory metric, and what the bindings say about an
activity's periods (plain functions; the routes are in ``router``)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.cooperation.activities.codes import DEPARTMENTS
from services.cooperation.activities.models import Activity, Indicator
from services.cooperation.activities.normalize import Error, error
from services.cooperation.activities.service import invalid
from services.cooperation.activities.sync import Actor, Pending, audience, record
from services.cooperation.bindings.catalogue import METRICS, SCHEDULES, SECTORS
from services.cooperation.bindings.feed import bound_indicator, period_year
from services.cooperation.bindings.models import BindingValue, IndicatorBinding
from services.cooperation.bindings.schemas import (
    ActualSourceOut,
    BindingIn,
    BindingOut,
    PeriodSourceOut,
    ScopeOut,
)
from shared.db import utcnow
from shared.problems import Problem

NO_INDICATOR = "The activity has no indicator at that result and indicator position."
NO_BINDING = "That indicator is not bound to an inventory metric."


def check(body: BindingIn) -> list[Error]:
    """The binding's rules: a metric of the catalogue, a filter it accepts, known codes."""
    errors: list[Error] = []
    known = METRICS.get(body.metric)
    if known is None:
        errors.append(
            error(("metric",), "not a metric of the inventory: " + ", ".join(METRICS), "enum")
        )
    if body.schedule not in SCHEDULES:
        errors.append(error(("schedule",), "convention or national", "enum"))
    if body.department is not None and body.department not in DEPARTMENTS:
        errors.append(error(("department",), "not an INEI department code", "enum"))
    if body.sector is not None and body.sector not in SECTORS:
        errors.append(error(("sector",), "not a sector of the inventory", "enum"))
    if known is not None:
        for name in ("department", "sector"):
            if getattr(body, name) is not None and name not in known.filters:
                errors.append(error((name,), f"{body.metric} does not accept it", "not_accepted"))
    return errors


def require_indicator(activity: Activity, result: int, indicator: int) -> Indicator:
    if result < len(activity.results) and indicator < len(activity.results[result].indicators):
        return activity.results[result].indicators[indicator]
    raise Problem(404, "not-found", NO_INDICATOR)


async def find_binding(
    session: AsyncSession, activity_id: int, result: int, indicator: int
) -> IndicatorBinding | None:
    binding: IndicatorBinding | None = await session.scalar(
        select(IndicatorBinding)
        .where(
            IndicatorBinding.activity_id == activity_id,
            IndicatorBinding.result_index == result,
            IndicatorBinding.indicator_index == indicator,
        )
        .options(selectinload(IndicatorBinding.values))
    )
    return binding


def _described(binding: IndicatorBinding | None) -> dict[str, Any] | None:
    if binding is None:
        return None
    return {
        "metric": binding.metric,
        "schedule": binding.schedule,
        "department": binding.department,
        "sector": binding.sector,
    }


async def put_binding(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    result: int,
    indicator: int,
    body: BindingIn,
) -> IndicatorBinding:
    """Bind (or bind again) the indicator; the values of another metric or scope go."""
    require_indicator(activity, result, indicator)
    errors = check(body)
    if errors:
        raise invalid(errors)
    binding = await find_binding(session, activity.id, result, indicator)
    before = _described(binding)
    wanted = body.model_dump()
    if before == wanted and binding is not None:
        return binding
    if binding is None:
        binding = IndicatorBinding(
            activity_id=activity.id,
            result_index=result,
            indicator_index=indicator,
            created_at=utcnow(),
            stale=False,
            values=[],
        )
        session.add(binding)
    else:
        await session.execute(delete(BindingValue).where(BindingValue.binding_id == binding.id))
        binding.values = []
        binding.refreshed_at, binding.stale, binding.failed_at, binding.error = (
            None,
            False,
            None,
            None,
        )
    binding.metric, binding.schedule = body.metric, body.schedule
    binding.department, binding.sector = body.department, body.sector
    changes = {f"binding:{result}.{indicator}": {"before": before, "after": wanted}}
    await record(session, actor, [Pending(activity, "binding", changes, audience(activity))])
    return binding


async def delete_binding(
    session: AsyncSession, actor: Actor, activity: Activity, result: int, indicator: int
) -> None:
    """Unbind the indicator; its periods keep the actuals last written."""
    binding = await find_binding(session, activity.id, result, indicator)
    if binding is None:
        raise Problem(404, "not-found", NO_BINDING)
    changes = {f"binding:{result}.{indicator}": {"before": _described(binding), "after": None}}
    await session.delete(binding)
    await record(session, actor, [Pending(activity, "unbinding", changes, audience(activity))])


def source_of(binding: IndicatorBinding, year: int) -> ActualSourceOut:
    """The source of a bound period's actual for ``year``."""
    value = next((v for v in binding.values if v.year == year), None)
    return ActualSourceOut(
        metric=binding.metric,
        year=year,
        schedule=binding.schedule,
        scope=ScopeOut(department=binding.department, sector=binding.sector),
        unit=value.unit if value else METRICS[binding.metric].unit,
        status="not_read" if value is None else "ok" if value.status == "ok" else "no_data",
        value=value.value if value else None,
        submissions=list(value.submissions) if value else [],
        computed_at=value.computed_at if value else None,
        read_at=value.read_at if value else None,
        stale=binding.stale,
        failed_at=binding.failed_at,
    )


def binding_out(activity: Activity, binding: IndicatorBinding) -> BindingOut:
    indicator = bound_indicator(activity, binding)
    periods = [] if indicator is None else indicator.periods
    return BindingOut(
        activity=activity.identifier,
        result=binding.result_index,
        indicator=binding.indicator_index,
        metric=binding.metric,
        scope=ScopeOut(department=binding.department, sector=binding.sector),
        schedule=binding.schedule,
        attached=indicator is not None,
        refreshed_at=binding.refreshed_at,
        stale=binding.stale,
        failed_at=binding.failed_at,
        error=binding.error,
        periods=[
            PeriodSourceOut(
                start=p.start.isoformat(),
                end=p.end.isoformat(),
                actual=p.actual,
                source=source_of(binding, period_year(p.end)),
            )
            for p in periods
        ],
    )


async def bindings_of(
    session: AsyncSession, activity_ids: list[int]
) -> dict[int, list[IndicatorBinding]]:
    """The bindings of the activities given, with their values."""
    if not activity_ids:
        return {}
    rows = await session.scalars(
        select(IndicatorBinding)
        .where(IndicatorBinding.activity_id.in_(activity_ids))
        .options(selectinload(IndicatorBinding.values))
        .order_by(IndicatorBinding.id)
    )
    out: dict[int, list[IndicatorBinding]] = {}
    for binding in rows:
        out.setdefault(binding.activity_id, []).append(binding)
    return out


async def all_bindings(session: AsyncSession) -> dict[int, list[IndicatorBinding]]:
    """Every binding with its values, by activity (an export's; bindings are few)."""
    rows = await session.scalars(
        select(IndicatorBinding)
        .options(selectinload(IndicatorBinding.values))
        .order_by(IndicatorBinding.id)
    )
    out: dict[int, list[IndicatorBinding]] = {}
    for binding in rows:
        out.setdefault(binding.activity_id, []).append(binding)
    return out


def with_sources(out: Any, bindings: list[IndicatorBinding]) -> Any:
    """The activity representation ``out`` with each bound period's ``actual_source``."""
    for binding in bindings:
        if binding.result_index >= len(out.results):
            continue
        indicators = out.results[binding.result_index].indicators
        if binding.indicator_index >= len(indicators):
            continue
        for period in indicators[binding.indicator_index].periods:
            period.actual_source = source_of(binding, period_year(period.end))
    return out


def comment_text(source: ActualSourceOut) -> str:
    """The IATI comment on an actual read from the inventory."""
    parts = (("department", source.scope.department), ("sector", source.scope.sector))
    scope = ", ".join(f"{k} {v}" for k, v in parts if v) or "national"
    read = source.read_at.isoformat() if source.read_at else "never"
    submissions = ", ".join(str(s) for s in source.submissions) or "none"
    text = (
        f"Enlace inventory metric {source.metric} ({source.unit}), {source.year}, "
        f"{source.schedule} schedule, {scope}; read {read}; validated submissions {submissions}."
    )
    if source.stale:
        text += (
            " Stale: the inventory could not be read at "
            + (source.failed_at.isoformat() if source.failed_at else "the last attempt")
            + "."
        )
    return text
