"""Routes of the PCB elimination curve and the Convention reports (Stockholm Article 15,
Minamata Article 21): validated aggregates, for readers with ``inventory:read``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.inventory.estimates.service import unprocessable
from services.inventory.pcb.schedules import Schedule, ScheduleQuery
from services.inventory.reports import convention, curve, queries
from services.inventory.reports.convention_schemas import ConventionReportOut
from services.inventory.reports.curve_schemas import PcbCurveOut
from services.inventory.reports.router import SectorQuery
from services.inventory.reports.xlsx import XLSX_MEDIA_TYPE, workbook_bytes
from services.inventory.routing import READ, Department, responses
from shared.conditional import etag, not_modified
from shared.db import SessionDep, utcnow
from shared.exports import PrimedStreamingResponse, csv_stream, wants_csv

router = APIRouter(prefix="/v1/reports", tags=["reports"])

CurveYear = Annotated[int | None, Query(ge=1950, le=2100)]
MAX_CURVE_YEARS = 100


async def _rows(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    for row in rows:
        yield row


async def _tag(session: SessionDep, *parts: object) -> str:
    return etag("convention", *parts, *(await queries.national_fingerprint(session)))


@router.get(
    "/pcb-curve",
    response_model=PcbCurveOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The curve, or its rows as CSV"},
        **responses(304, 422),
    },
    dependencies=[READ],
    summary="PCB elimination curve",
    description="Per year (31 December), from the dated status history of validated PCB "
    "items: items and tonnes in use by class (metric `pcb_in_use`), removed from use, and "
    "eliminated, cumulative (`pcb_eliminated_cumulative`); items that cannot be weighed are "
    "counted apart, never as 0 t. Set against the schedule's use (2025) and ESM (2028) "
    "deadlines, with the year the last P1/P2 item would leave use at the recent rate (the "
    "rule is in `projection.rule`; null when the rate is zero). `from` defaults to the "
    "year of the first dated change, `to` to this year. By `department` and `sector`. "
    "`format=csv` (or `Accept: text/csv`): one row per year, series and class.",
)
async def pcb_curve(
    request: Request,
    response: Response,
    session: SessionDep,
    from_year: Annotated[CurveYear, Query(alias="from", description="First year")] = None,
    to_year: Annotated[CurveYear, Query(alias="to", description="Last year")] = None,
    schedule: ScheduleQuery = Schedule.CONVENTION,
    department: Department = None,
    sector: SectorQuery = None,
    format: Annotated[
        Literal["json", "csv"] | None, Query(description="`csv`: the rows as CSV")
    ] = None,
) -> Any:
    """The curve, as JSON or CSV."""
    today = utcnow().date()
    last = to_year if to_year is not None else today.year
    first = from_year
    if first is None:  # the first dated change, within the most years one curve shows
        earliest = await curve.first_change_year(session) or last
        first = min(max(earliest, last - MAX_CURVE_YEARS + 1), last)
    if first > last:
        raise unprocessable("from", f"from ({first}) is after to ({last}).", "query")
    if last - first + 1 > MAX_CURVE_YEARS:
        raise unprocessable("to", f"At most {MAX_CURVE_YEARS} years at once.", "query")
    sectors = None if sector is None else tuple(sorted({s.value for s in sector}))
    fmt = "csv" if wants_csv(request.headers.get("accept"), format) else "json"
    parts: list[object] = [first, last, schedule, department, sectors, today, fmt]
    if sectors is not None:
        parts += await queries.holders_fingerprint(session)
    tag = await _tag(session, "pcb-curve", *parts)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    report = await curve.pcb_curve(
        session,
        from_year=first,
        to_year=last,
        today=today,
        schedule=schedule,
        department=department,
        sectors=sectors,
    )
    if fmt == "csv":
        headers = {"ETag": tag, "Content-Disposition": 'attachment; filename="pcb-curve.csv"'}
        return PrimedStreamingResponse(
            csv_stream(curve.CSV_COLUMNS, _rows(curve.csv_rows(report))),
            media_type="text/csv; charset=utf-8",
            headers=headers,
        )
    response.headers["ETag"] = tag
    return report


ReportYear = Annotated[int, Query(ge=1990, le=2100, description="The reporting year")]
ReportFormat = Annotated[
    Literal["json", "xlsx"] | None,
    Query(description=f"`xlsx` (or `Accept: {XLSX_MEDIA_TYPE}`): the report as a workbook."),
]
REPORT_RESPONSES: dict[int | str, dict[str, Any]] = {
    200: {
        "content": {XLSX_MEDIA_TYPE: {}},
        "description": "The report as JSON, or as an XLSX workbook",
    },
    **responses(304, 422),
}


def _wants_xlsx(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        return fmt == "xlsx"
    return XLSX_MEDIA_TYPE in (request.headers.get("accept") or "")


async def _answer(
    request: Request,
    response: Response,
    session: SessionDep,
    name: str,
    year: int,
    fmt: str | None,
    build: Any,
    *key: object,
) -> Any:
    xlsx = _wants_xlsx(request, fmt)
    tag = await _tag(session, name, year, xlsx, *key)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    report: ConventionReportOut = await build()
    if xlsx:
        # A bare response: the workbook is a file, not a model.
        return Response(
            workbook_bytes(report),
            media_type=XLSX_MEDIA_TYPE,
            headers={
                "ETag": tag,
                "Content-Disposition": f'attachment; filename="{name}-{year}.xlsx"',
            },
        )
    response.headers["ETag"] = tag
    return report


@router.get(
    "/stockholm-article-15",
    response_model=ConventionReportOut,
    responses=REPORT_RESPONSES,
    dependencies=[READ],
    summary="Stockholm Convention Article 15 report (PCB and Annex C parts)",
    description="The parts of the national report the inventory fills for a reporting "
    "year, from validated data only: the PCB part (format Part C, Annex A Part II: "
    "equipment and liquids identified, in use, removed from use, managed in an "
    "environmentally sound way and awaiting it, by concentration class and volume rule; "
    "items and tonnes, unweighed items counted apart) and the Annex C release inventory "
    "(per pollutant and TEQ scheme, by Toolkit source group and vector; HCB and PeCBz in "
    "g/a; ND parts never summed). Each figure names the question it answers, its metric "
    "and its source submissions. A year with no validated data says so "
    "(`status: no_validated_data`) and shows nothing. `format=xlsx` for a workbook.",
)
async def stockholm_article_15(
    request: Request,
    response: Response,
    session: SessionDep,
    year: ReportYear,
    schedule: ScheduleQuery = Schedule.CONVENTION,
    format: ReportFormat = None,
) -> Any:
    """The Stockholm Article 15 report of a year."""
    return await _answer(
        request,
        response,
        session,
        "stockholm-article-15",
        year,
        format,
        lambda: convention.stockholm_article_15(session, year, schedule),
        schedule,
    )


@router.get(
    "/minamata-article-21",
    response_model=ConventionReportOut,
    responses=REPORT_RESPONSES,
    dependencies=[READ],
    summary="Minamata Convention Article 21 report (release and ASGM parts)",
    description="The parts of the national report the inventory fills for a reporting "
    "year, from validated data only: mercury emissions and releases (kg Hg/a) by source "
    "category and pathway, with the Article each pathway is asked under (air: Article 8; "
    "water and land: Article 9), and artisanal and small-scale gold mining by department "
    "and pathway (Article 7). Each figure names the question it answers, its metric and "
    "its source submissions. A year with no validated data says so "
    "(`status: no_validated_data`). `format=xlsx` for a workbook.",
)
async def minamata_article_21(
    request: Request,
    response: Response,
    session: SessionDep,
    year: ReportYear,
    format: ReportFormat = None,
) -> Any:
    """The Minamata Article 21 report of a year."""
    return await _answer(
        request,
        response,
        session,
        "minamata-article-21",
        year,
        format,
        lambda: convention.minamata_article_21(session, year),
    )


# The curve is made of validated aggregates: published for anyone as well.
public_router = APIRouter(prefix="/v1/public", tags=["public"])
public_router.add_api_route(
    "/pcb-curve",
    pcb_curve,
    methods=["GET"],
    response_model=PcbCurveOut,
    responses={
        200: {"content": {"text/csv": {}}, "description": "The curve, or its rows as CSV"},
        **responses(304, 422),
    },
    summary="Published PCB elimination curve",
    description="As `GET /v1/reports/pcb-curve`, for anyone: validated data only.",
)
