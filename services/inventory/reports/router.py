"""Report routes: national summary, by department, by holder, time series (validated data),
for authenticated readers and, as published national aggregates, for anyone."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel

from services.inventory.access import visible_submission
from services.inventory.reports import queries, service
from services.inventory.reports.queries import Scope
from services.inventory.reports.schemas import (
    ByDepartmentOut,
    ByHolderOut,
    NationalSummaryOut,
    TimeSeriesOut,
)
from services.inventory.routing import YearQuery, json_response, responses
from services.inventory.submissions.rules import Section
from services.inventory.vocabulary import VOCABULARIES
from shared.conditional import etag, not_modified
from shared.db import SessionDep, utcnow
from shared.exports import csv_stream, wants_csv
from shared.pagination import CursorQuery, LimitQuery, decode_cursor
from shared.problems import Problem
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1/reports", tags=["reports"])
public_router = APIRouter(prefix="/v1/public", tags=["public"])
READ = require_scopes("inventory:read")

AsOf = Annotated[
    date | None,
    Query(description="Date the deadline figures refer to (default: today, UTC)."),
]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="`csv` (or `Accept: text/csv`): one section's rows, see `section`."),
]
SectionQuery = Annotated[
    Section, Query(description="The section a CSV export holds (pcb, upops, mercury).")
]
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "The report, or one section as CSV"},
    **responses(304, 404, 422),
}
PUBLIC_CACHE = {"Cache-Control": "public, max-age=60"}


async def _national_tag(session: SessionDep, *parts: object) -> str:
    return etag("report", *parts, *(await queries.national_fingerprint(session)))


async def _rows(rows: Sequence[Sequence[Any]]) -> AsyncIterator[Sequence[Any]]:
    for row in rows:
        yield row


def _csv(
    name: str, header: Sequence[str], rows: Sequence[Sequence[Any]], tag: str | None
) -> StreamingResponse:
    headers = {"Content-Disposition": f'attachment; filename="{name}.csv"'}
    if tag:
        headers["ETag"] = tag
    return StreamingResponse(
        csv_stream(header, _rows(rows)), media_type="text/csv; charset=utf-8", headers=headers
    )


def _answer(
    request: Request,
    report: BaseModel,
    name: str,
    section: Section,
    fmt: str | None,
    tag: str | None,
    *,
    dimension: tuple[str, ...] = (),
    groups: Sequence[tuple[tuple[Any, ...], Any]] | None = None,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    """JSON, or one section as CSV (with the report's dimension columns in front)."""
    if wants_csv(request.headers.get("accept"), fmt):
        header = ("year", *dimension, *service.section_columns(section))
        year = getattr(report, "year", None)
        rows = [
            [year if year is not None else key[0], *key[1:], *row]
            for key, summary in (groups if groups is not None else [((), report)])
            for row in service.section_rows(section, service.part_of(summary, section))
        ]
        response: Response = _csv(name, header, rows, tag)
    else:
        response = json_response(report, tag=tag)
    response.headers.update(extra_headers or {})
    return response


async def _summary(
    request: Request,
    session: SessionDep,
    principal: Principal | None,
    *,
    year: int | None,
    submission_id: int | None,
    as_of: date | None,
    fmt: str | None,
    section: Section,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    as_of = as_of or utcnow().date()
    tag = None
    if submission_id is not None:
        assert principal is not None
        submission = await visible_submission(session, principal, submission_id)
        scope = Scope(year=submission.year, submission_id=submission.id)
    else:
        year = await service.default_year(session, year)
        tag = await _national_tag(session, "national", year, as_of, fmt, section)
        if not_modified(request, tag):
            return Response(status_code=304, headers={"ETag": tag, **(extra_headers or {})})
        scope = Scope(year=year)
    report = await service.national_summary(session, scope, as_of)
    year_key = (scope.year,)
    return _answer(
        request,
        report,
        "national-summary",
        section,
        fmt,
        tag,
        groups=[(year_key, report)],
        extra_headers=extra_headers,
    )


@router.get(
    "/national-summary",
    summary="National summary",
    description="One reporting year of validated data (default: the latest): PCB items and "
    "tonnes by class and status, share eliminated, items due or overdue for the 2025 use "
    "and 2028 ESM deadlines; UP-POPs g TEQ/a by source group and vector (ND kept apart, "
    "never zero); mercury kg/a by category and pathway. `submission_id` previews one "
    "submission the caller may see instead. Computed by the database.",
    response_model=NationalSummaryOut,
    responses=CSV_RESPONSE,
)
async def national_summary(
    request: Request,
    session: SessionDep,
    principal: Principal = READ,
    year: YearQuery = None,
    submission_id: Annotated[int | None, Query(ge=1, le=2**31 - 1)] = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The national summary."""
    return await _summary(
        request,
        session,
        principal,
        year=year,
        submission_id=submission_id,
        as_of=as_of,
        fmt=format,
        section=section,
    )


async def _by_department(
    request: Request,
    session: SessionDep,
    *,
    year: int | None,
    as_of: date | None,
    fmt: str | None,
    section: Section,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    as_of = as_of or utcnow().date()
    year = await service.default_year(session, year)
    tag = await _national_tag(session, "department", year, as_of, fmt, section)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag, **(extra_headers or {})})
    report = await service.by_department(session, Scope(year=year), as_of)
    return _answer(
        request,
        report,
        "by-department",
        section,
        fmt,
        tag,
        dimension=("department_code",),
        groups=[((year, d.department_code), d) for d in report.departments],
        extra_headers=extra_headers,
    )


@router.get(
    "/by-department",
    summary="Summary by department",
    description="The national summary of a year split by department (PCB items by the "
    "department of their site when validated; estimates by their department, `null` "
    "when none was given).",
    response_model=ByDepartmentOut,
    responses=CSV_RESPONSE,
)
async def by_department(
    request: Request,
    session: SessionDep,
    principal: Principal = READ,
    year: YearQuery = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The summary by department."""
    return await _by_department(
        request, session, year=year, as_of=as_of, fmt=format, section=section
    )


@router.get(
    "/by-holder",
    summary="Summary by holder",
    description="The national summary of a year for a page of holders (id order; "
    "`cursor` from `next_cursor`).",
    response_model=ByHolderOut,
    responses=CSV_RESPONSE,
)
async def by_holder(
    request: Request,
    session: SessionDep,
    principal: Principal = READ,
    year: YearQuery = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> Response:
    """The summary by holder."""
    after = 0
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**31:
            raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")
    as_of = as_of or utcnow().date()
    year = await service.default_year(session, year)
    report = await service.by_holder(session, Scope(year=year), as_of, after=after, limit=limit)
    headers = {}
    if report.next_cursor:
        headers["Link"] = (
            f'<{request.url.include_query_params(cursor=report.next_cursor)}>; rel="next"'
        )
    return _answer(
        request,
        report,
        "by-holder",
        section,
        format,
        None,
        dimension=("holder_id", "ruc"),
        groups=[((year, h.holder_id, h.ruc), h) for h in report.holders],
        extra_headers=headers,
    )


async def _time_series(
    request: Request,
    session: SessionDep,
    *,
    from_year: int | None,
    to_year: int | None,
    as_of: date | None,
    fmt: str | None,
    section: Section,
    extra_headers: dict[str, str] | None = None,
) -> Response:
    as_of = as_of or utcnow().date()
    tag = await _national_tag(session, "series", from_year, to_year, as_of, fmt, section)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag, **(extra_headers or {})})
    report = await service.time_series(session, from_year=from_year, to_year=to_year, as_of=as_of)
    return _answer(
        request,
        report,
        "time-series",
        section,
        fmt,
        tag,
        groups=[((y.year,), y) for y in report.years],
        extra_headers=extra_headers,
    )


FromYear = Annotated[int | None, Query(ge=1990, le=2100)]


@router.get(
    "/time-series",
    summary="Time series",
    description="National figures of every year with validated data, oldest first.",
    response_model=TimeSeriesOut,
    responses=CSV_RESPONSE,
)
async def time_series(
    request: Request,
    session: SessionDep,
    principal: Principal = READ,
    from_year: FromYear = None,
    to_year: FromYear = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The time series."""
    return await _time_series(
        request,
        session,
        from_year=from_year,
        to_year=to_year,
        as_of=as_of,
        fmt=format,
        section=section,
    )


# -- published national aggregates (no token) ------------------------------------------


@public_router.get(
    "/national-summary",
    summary="Published national summary",
    description="The national summary of validated data, for anyone (transparency pages).",
    response_model=NationalSummaryOut,
    responses=CSV_RESPONSE,
)
async def public_national_summary(
    request: Request,
    session: SessionDep,
    year: YearQuery = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The published national summary."""
    return await _summary(
        request,
        session,
        None,
        year=year,
        submission_id=None,
        as_of=as_of,
        fmt=format,
        section=section,
        extra_headers=PUBLIC_CACHE,
    )


@public_router.get(
    "/by-department",
    summary="Published summary by department",
    description="The national summary of validated data by department, for anyone.",
    response_model=ByDepartmentOut,
    responses=CSV_RESPONSE,
)
async def public_by_department(
    request: Request,
    session: SessionDep,
    year: YearQuery = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The published summary by department."""
    return await _by_department(
        request,
        session,
        year=year,
        as_of=as_of,
        fmt=format,
        section=section,
        extra_headers=PUBLIC_CACHE,
    )


@public_router.get(
    "/time-series",
    summary="Published time series",
    description="National figures of validated data year by year, for anyone.",
    response_model=TimeSeriesOut,
    responses=CSV_RESPONSE,
)
async def public_time_series(
    request: Request,
    session: SessionDep,
    from_year: FromYear = None,
    to_year: FromYear = None,
    as_of: AsOf = None,
    format: Format = None,
    section: SectionQuery = Section.PCB,
) -> Response:
    """The published time series."""
    return await _time_series(
        request,
        session,
        from_year=from_year,
        to_year=to_year,
        as_of=as_of,
        fmt=format,
        section=section,
        extra_headers=PUBLIC_CACHE,
    )


@public_router.get(
    "/vocabularies",
    summary="Codes and their labels",
    description="Every code used in inventory data with its Spanish and English label.",
)
async def vocabularies() -> JSONResponse:
    """The vocabularies."""
    body = {
        name: [{"code": code, "es": es, "en": en} for code, (es, en) in labels.items()]
        for name, labels in VOCABULARIES.items()
    }
    return JSONResponse(body, headers=PUBLIC_CACHE)
