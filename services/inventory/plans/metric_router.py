"""Routes of the metric catalogue: what each metric is, and its value for a year,
schedule and scope (validated aggregates: ``inventory:read``)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query, Request, Response

from services.inventory.estimates.service import unprocessable
from services.inventory.pcb.schedules import Schedule, ScheduleQuery
from services.inventory.plans import metrics
from services.inventory.plans.metric_schemas import (
    MetricCatalogueOut,
    MetricOut,
    info_out,
    metric_out,
)
from services.inventory.reports import queries
from services.inventory.routing import READ, Department, responses
from services.inventory.vocabulary import Sector
from shared.conditional import etag, not_modified, read_answer
from shared.db import SessionDep
from shared.problems import Problem

router = APIRouter(prefix="/v1/metrics", tags=["metrics"])

MetricPath = Annotated[
    str, Path(pattern=r"^[a-z_]{1,60}$", description="A metric id of `GET /v1/metrics`.")
]
RequiredYear = Annotated[int, Query(ge=1990, le=2100, description="Reporting year")]
SectorFilter = Annotated[
    Sector | None,
    Query(
        description="Only the holders of this sector (as holders record it), if the "
        "metric accepts it."
    ),
]


@router.get(
    "",
    summary="The metric catalogue",
    description="Every metric a plan target or a cooperation indicator can be bound to: "
    "id, titles (en, es), what it counts, its unit, the dimensions of its breakdown and "
    "the scope filters it accepts.",
    response_model=MetricCatalogueOut,
    dependencies=[READ],
)
async def list_metrics() -> MetricCatalogueOut:
    """The catalogue."""
    return MetricCatalogueOut(items=[info_out(m) for m in metrics.METRICS.values()])


def metric_problem(error: Exception) -> Problem:
    """The problem of a metric that cannot be computed as asked."""
    if isinstance(error, metrics.FilterNotAccepted):
        return unprocessable(error.name, str(error), "query")
    return Problem(404, "not-found", f"No metric {error} in the catalogue (GET /v1/metrics).")


@router.get(
    "/{metric_id}",
    summary="Compute a metric",
    description="The metric for a reporting year and a schedule, nationally or for a "
    "department and/or the holders of a sector, from validated data only (the latest "
    "validated version of each submission). `value` is the headline in `unit`; it is "
    "null with `status` `no_data` when no validated submission covers the year and scope "
    "(never a silent zero). `submissions` lists the validated submissions the figure came "
    "from. A filter the metric does not accept is a 422 naming it. ETag; If-None-Match "
    "gives 304 until new data is validated.",
    response_model=MetricOut,
    responses=responses(304, 404, 422),
    dependencies=[READ],
)
async def get_metric(
    request: Request,
    response: Response,
    session: SessionDep,
    metric_id: MetricPath,
    year: RequiredYear,
    schedule: ScheduleQuery = Schedule.CONVENTION,
    department: Department = None,
    sector: SectorFilter = None,
) -> MetricOut | Response:
    """One metric's value."""
    sector_code = sector.value if sector is not None else None
    try:
        definition = metrics.metric_definition(metric_id)
        metrics.check_filters(definition, metrics.MetricScope(department, sector_code))
    except (metrics.UnknownMetric, metrics.FilterNotAccepted) as error:
        raise metric_problem(error) from None
    tag = etag(
        "metric",
        metric_id,
        year,
        schedule,
        department,
        sector_code,
        *(await queries.national_fingerprint(session)),
        *(await queries.holders_fingerprint(session)),
    )
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    found = await metrics.compute_metric(
        session,
        metric_id,
        year=year,
        schedule=schedule,
        department=department,
        sector=sector_code,
    )
    return read_answer(request, response, metric_out(found), tag)
