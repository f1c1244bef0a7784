"""Report routes: national summary, by department, by holder, time series (validated data),
for authenticated readers and, as published national aggregates, for anyone."""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.estimates.service import unprocessable
from services.inventory.pcb.schedules import Schedule, ScheduleQuery
from services.inventory.reports import queries, service
from services.inventory.reports.queries import Scope
from services.inventory.reports.schemas import (
    ByDepartmentOut,
    ByHolderOut,
    BySectorOut,
    NationalSummaryOut,
    TimeSeriesOut,
    UpopsComparisonOut,
)
from services.inventory.reports.service import Lens
from services.inventory.routing import READ, YearQuery, query_param, responses, typed
from services.inventory.submissions.access import visible_submission
from services.inventory.submissions.rules import Section
from services.inventory.vocabulary import VOCABULARIES, Sector
from shared.conditional import answer_cache, etag, not_modified
from shared.db import SessionDep, utcnow
from shared.exports import PrimedStreamingResponse, csv_stream, wants_csv
from shared.pagination import CursorQuery, LimitQuery, decode_cursor, next_link
from shared.problems import Problem
from shared.security import Principal

router = APIRouter(prefix="/v1/reports", tags=["reports"])
public_router = APIRouter(prefix="/v1/public", tags=["public"])

AsOf = Annotated[
    date | None,
    Query(description="Date the deadline figures refer to (default: today, UTC)."),
]
Format = Annotated[
    Literal["json", "csv"] | None,
    Query(description="`csv` (or `Accept: text/csv`): one section's rows, see `section`."),
]
SectorQuery = Annotated[
    list[Sector] | None,
    Query(
        description="Only the items and estimates of holders of this sector (repeat for "
        "more, e.g. the three electricity sectors); codes in `/v1/public/vocabularies`."
    ),
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


@dataclass
class _Ask:
    """One request for a report: who asks, for what date, in which format."""

    request: Request
    response: Response
    session: AsyncSession
    principal: Principal | None
    lens: Lens
    fmt: str | None
    section: Section
    headers: dict[str, str]  # besides the ETag: the public cache, a Link

    def answer(
        self,
        report: BaseModel,
        name: str,
        tag: str | None,
        groups: Sequence[tuple[tuple[Any, ...], Any]],
        dimension: tuple[str, ...] = (),
    ) -> BaseModel | Response:
        """The report as JSON, or one section as CSV (streamed, so a bare response) with
        the report's dimension columns in front."""
        headers = {**self.headers, **({"ETag": tag} if tag else {})}
        if not wants_csv(self.request.headers.get("accept"), self.fmt):
            self.response.headers.update(headers)
            return report
        header = ("year", *dimension, *service.section_columns(self.section))
        year = getattr(report, "year", None)
        rows = [
            [year if year is not None else key[0], *key[1:], *row]
            for key, summary in groups
            for row in service.section_rows(service.part_of(summary, self.section))
        ]
        headers["Content-Disposition"] = f'attachment; filename="{name}.csv"'
        return PrimedStreamingResponse(
            csv_stream(header, _rows(rows)), media_type="text/csv; charset=utf-8", headers=headers
        )

    async def national(self, name: str, *key: object) -> tuple[str, Response | None]:
        """The ETag of national figures (they change only with a validation, new
        thresholds or densities, and by sector with the holders), and the bare 304 when
        the caller holds it."""
        lens = self.lens
        parts: list[object] = [*key, lens.as_of, lens.schedule, lens.sectors, self.fmt]
        if lens.sectors is not None or name == "sector":
            parts += await queries.holders_fingerprint(self.session)
        tag = await _national_tag(self.session, name, *parts, self.section)
        if not_modified(self.request, tag):
            return tag, Response(status_code=304, headers={"ETag": tag, **self.headers})
        return tag, None


async def _summary(
    ask: _Ask, year: int | None = None, submission_id: int | None = None
) -> BaseModel | Response:
    tag = None
    if submission_id is not None:
        assert ask.principal is not None
        submission = await visible_submission(ask.session, ask.principal, submission_id)
        scope = Scope(year=submission.year, submission_id=submission.id)
    else:
        year = await service.default_year(ask.session, year)
        tag, unchanged = await ask.national("national", year)
        if unchanged is not None:
            return unchanged
        scope = Scope(year=year)
    # National figures are built once per ETag; a submission's preview (no tag) each time.
    report = await answer_cache(ask.request).get(
        tag, lambda: service.national_summary(ask.session, scope, ask.lens)
    )
    return ask.answer(report, "national-summary", tag, [((scope.year,), report)])


async def _by_department(ask: _Ask, year: int | None = None) -> BaseModel | Response:
    year = await service.default_year(ask.session, year)
    tag, unchanged = await ask.national("department", year)
    if unchanged is not None:
        return unchanged
    report = await answer_cache(ask.request).get(
        tag, lambda: service.by_department(ask.session, Scope(year=year), ask.lens)
    )
    groups = [((year, d.department_code), d) for d in report.departments]
    return ask.answer(report, "by-department", tag, groups, ("department_code",))


async def _by_sector(ask: _Ask, year: int | None = None) -> BaseModel | Response:
    year = await service.default_year(ask.session, year)
    tag, unchanged = await ask.national("sector", year)
    if unchanged is not None:
        return unchanged
    report = await service.by_sector(ask.session, Scope(year=year), ask.lens)
    groups = [((year, s.sector), s) for s in report.sectors]
    return ask.answer(report, "by-sector", tag, groups, ("sector",))


async def _by_holder(
    ask: _Ask, year: int | None = None, limit: int = 50, cursor: str | None = None
) -> BaseModel | Response:
    after = 0
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**31:
            raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")
    year = await service.default_year(ask.session, year)
    report = await service.by_holder(
        ask.session, Scope(year=year), ask.lens, after=after, limit=limit
    )
    ask.headers.update(next_link(ask.request.url, report.next_cursor))
    groups = [((year, h.holder_id, h.ruc), h) for h in report.holders]
    return ask.answer(report, "by-holder", None, groups, ("holder_id", "ruc"))


async def _time_series(
    ask: _Ask, from_year: int | None = None, to_year: int | None = None
) -> BaseModel | Response:
    tag, unchanged = await ask.national("series", from_year, to_year)
    if unchanged is not None:
        return unchanged
    report = await answer_cache(ask.request).get(
        tag,
        lambda: service.time_series(
            ask.session, from_year=from_year, to_year=to_year, as_of=ask.lens
        ),
    )
    return ask.answer(report, "time-series", tag, [((y.year,), y) for y in report.years])


FromYear = Annotated[int | None, Query(ge=1990, le=2100)]
_YEAR = query_param("year", YearQuery)
_PRINCIPAL = query_param("principal", Principal, READ)


@dataclass(frozen=True)
class Report:
    """One report: its path and operation name, answer, the query parameters it adds
    (``signed_only`` for signed-in readers alone), and what the API says of it, signed in
    and (when published) public."""

    path: str
    model: type[BaseModel]
    build: Callable[..., Awaitable[BaseModel | Response]]
    params: tuple[inspect.Parameter, ...]
    signed: tuple[str, str]  # summary, description
    public: tuple[str, str] | None = None
    signed_only: tuple[str, ...] = ()
    trailing: tuple[inspect.Parameter, ...] = ()  # after the format and section

    def endpoint(self, public: bool) -> Callable[..., Any]:
        async def endpoint(
            request: Request,
            response: Response,
            session: SessionDep,
            as_of: AsOf = None,
            schedule: ScheduleQuery = Schedule.CONVENTION,
            sector: SectorQuery = None,
            format: Format = None,
            section: SectionQuery = Section.PCB,
            **params: Any,
        ) -> Any:
            principal = params.pop("principal", None)
            headers = dict(PUBLIC_CACHE) if public else {}
            sectors = None if sector is None else tuple(sorted({s.value for s in sector}))
            lens = Lens(as_of or utcnow().date(), schedule, sectors)
            ask = _Ask(request, response, session, principal, lens, format, section, headers)
            return await self.build(ask, **params)

        own = [p for p in self.params if not (public and p.name in self.signed_only)]
        typed(endpoint, insert=[] if public else [_PRINCIPAL], before="as_of")
        typed(endpoint, insert=own, before="as_of")
        typed(endpoint, insert=self.trailing)
        return endpoint

    def add(self, router: APIRouter, public: bool) -> None:
        words = self.public if public else self.signed
        assert words is not None
        name = self.path.strip("/").replace("-", "_")
        router.add_api_route(
            self.path,
            self.endpoint(public),
            methods=["GET"],
            name=f"public_{name}" if public else name,
            summary=words[0],
            description=words[1],
            response_model=self.model,
            responses=CSV_RESPONSE,
        )


REPORTS = (
    Report(
        "/national-summary",
        NationalSummaryOut,
        _summary,
        (_YEAR, query_param("submission_id", Annotated[int | None, Query(ge=1, le=2**31 - 1)])),
        (
            "National summary",
            "One reporting year of validated data (default: the latest): PCB items and "
            "tonnes by class and status, share eliminated, items due or overdue for the 2025 "
            "use and 2028 ESM deadlines; UP-POPs `totals` per pollutant and TEQ scheme "
            "(g TEQ/a with its scheme, or g/a for HCB and PeCBz, never added together) by "
            "source group and vector (ND kept apart, never zero); mercury kg/a by category "
            "and pathway. `submission_id` previews one submission the caller may see "
            "instead. Computed by the database.",
        ),
        (
            "Published national summary",
            "The national summary of validated data, for anyone (transparency pages).",
        ),
        signed_only=("submission_id",),
    ),
    Report(
        "/by-department",
        ByDepartmentOut,
        _by_department,
        (_YEAR,),
        (
            "Summary by department",
            "The national summary of a year split by department (PCB items by the "
            "department of their site when validated; estimates by their department, `null` "
            "when none was given).",
        ),
        (
            "Published summary by department",
            "The national summary of validated data by department, for anyone.",
        ),
    ),
    Report(
        "/by-sector",
        BySectorOut,
        _by_sector,
        (_YEAR,),
        (
            "Summary by sector",
            "The national summary of a year split by the sector holders record "
            "(electricity generation, transmission, distribution, mining, ...): e.g. the "
            "progress of the electricity sector on its PCB commitments. Estimates naming no "
            "holder fall under `null`. Figures follow the holders' current sector.",
        ),
        (
            "Published summary by sector",
            "The national summary of validated data by the holders' sector, for anyone.",
        ),
    ),
    Report(
        "/by-holder",
        ByHolderOut,
        _by_holder,
        (_YEAR,),
        (
            "Summary by holder",
            "The national summary of a year for a page of holders (id order; "
            "`cursor` from `next_cursor`).",
        ),
        trailing=(query_param("limit", LimitQuery, 50), query_param("cursor", CursorQuery)),
    ),
    Report(
        "/time-series",
        TimeSeriesOut,
        _time_series,
        (query_param("from_year", FromYear), query_param("to_year", FromYear)),
        (
            "Time series",
            "National figures of every year with validated data, oldest first.",
        ),
        (
            "Published time series",
            "National figures of validated data year by year, for anyone.",
        ),
    ),
)
for _report in REPORTS:
    _report.add(router, public=False)
    if _report.public is not None:
        _report.add(public_router, public=True)


def _bad_query(field: str, message: str) -> Problem:
    return unprocessable(field, message, "query")


Years = Annotated[
    list[Annotated[int, Field(ge=1990, le=2100)]] | None,
    Query(description="A reporting year of validated national data (repeat for more)."),
]
SubmissionIds = Annotated[
    list[Annotated[int, Field(ge=1, le=2**31 - 1)]] | None,
    Query(description="A UP-POPs submission the caller may see (repeat for more)."),
]


COMPARISON_DOC = (
    "UP-POPs totals of several inventories in columns (the `year`s' validated national "
    "data first, then each `submission_id`, in the order given), one row per pollutant and "
    "TEQ scheme: e.g. a 2003 I-TEQ inventory and a 2024 WHO-2005 one. Nothing is converted "
    "between schemes (the Toolkit gives no general factor; see `conversion`), nor added "
    "across pollutants. At most `INVENTORY_REPORT_COMPARE_MAX_COLUMNS` columns."
)


async def _comparison(
    request: Request,
    session: AsyncSession,
    principal: Principal | None,
    years: list[int],
    ids: list[int],
) -> UpopsComparisonOut:
    most = request.app.state.settings.report_compare_max_columns
    if not years and not ids:
        raise _bad_query("year", "Give at least one year or submission_id.")
    if len(years) + len(ids) > most:
        field = "submission_id" if ids else "year"
        raise _bad_query(field, f"At most {most} inventories are compared at once.")
    scopes = [Scope(year=y) for y in years]
    for sid in ids:
        submission = await visible_submission(session, principal, sid)
        if submission.section != Section.UPOPS.value:
            raise _bad_query("submission_id", f"Submission {sid} is not a UP-POPs one.")
        scopes.append(Scope(year=submission.year, submission_id=submission.id))
    return await service.upops_comparison(session, scopes)


@router.get(
    "/upops-comparison",
    response_model=UpopsComparisonOut,
    responses=responses(404, 422),
    summary="UP-POPs inventories side by side",
    description=COMPARISON_DOC,
)
async def upops_comparison(
    request: Request,
    session: SessionDep,
    principal: Principal = READ,
    year: Years = None,
    submission_id: SubmissionIds = None,
) -> UpopsComparisonOut:
    """Inventories side by side, each total under its own scheme."""
    return await _comparison(request, session, principal, year or [], submission_id or [])


@public_router.get(
    "/upops-comparison",
    response_model=UpopsComparisonOut,
    responses=responses(422),
    summary="Published UP-POPs inventories side by side",
    description=COMPARISON_DOC.replace(", then each `submission_id`", "")
    + " Validated national data only, for anyone.",
)
async def public_upops_comparison(
    request: Request, response: Response, session: SessionDep, year: Years = None
) -> UpopsComparisonOut:
    """Validated national inventories side by side."""
    response.headers.update(PUBLIC_CACHE)
    return await _comparison(request, session, None, year or [], [])


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
