"""Import routes: an IATI 2.03 activities file, or the matrix as CSV/XLSX. Activities are
created or updated by identifier (idempotent) for the caller's organisation."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response

from services.cooperation.activities.access import CREATE_ERRORS, PROBLEM, Writer
from services.cooperation.activities.replay import answer_once
from services.cooperation.activities.state import load_refs
from services.cooperation.activities.sync import Actor
from services.cooperation.exchange.iati_import import read_iati
from services.cooperation.exchange.imports import ImportReport, Mode, Row, import_rows
from services.cooperation.exchange.table_import import XLSX, csv_records, read_table, xlsx_records
from shared.db import SessionDep
from shared.offload import import_workers
from shared.openapi_contract import IDEMPOTENT
from shared.problems import Problem
from shared.security import Principal

router = APIRouter(prefix="/v1/imports", tags=["imports"])
ModeQuery = Annotated[
    Mode, Query(description="`all`: nothing is written if a row is rejected; `partial`.")
]
VisibilityQuery = Annotated[
    Literal["public", "partners", "participants"],
    Query(description="Visibility of activities the import creates (kept on updates)."),
]
ProgramQuery = Annotated[
    str | None,
    Query(max_length=60, description="Program of activities without a parent link."),
]
DryRunQuery = Annotated[
    bool,
    Query(
        description="Validate without writing: the same checks and the same report (what "
        "would be created, updated, left unchanged or rejected, with the notes), marked "
        "`dry_run: true`, and nothing is written. Idempotency-Key is ignored (not stored, "
        "not replayed)."
    ),
]
RESPONSES: dict[int | str, dict[str, Any]] = CREATE_ERRORS | {
    413: {"description": "File too large", **PROBLEM},
    415: {"description": "Not a supported file type", **PROBLEM},
    422: {"description": "Invalid file, or rows rejected (mode=all): see errors", **PROBLEM},
}
IMPORT_NOTE = (
    " Activities are matched by identifier: new ones are created (published, reported and "
    "led by your organisation), yours are updated, a row equal to what is stored changes "
    "nothing. Others' activities are rejected. The report lists every rejected row with its "
    "row (or line) number, field and reason. Idempotency-Key supported. `dry_run=true` "
    "validates the file and answers the same report without writing anything."
)


async def read_body(request: Request) -> bytes:
    """The request body, refused (413) as soon as it passes the configured limit."""
    limit: int = request.app.state.settings.max_body_bytes
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise Problem(413, "payload-too-large", f"The file is larger than {limit} bytes.")
        chunks.append(chunk)
    return b"".join(chunks)


def media_type(request: Request) -> str:
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def run_import(
    request: Request,
    session: SessionDep,
    principal: Principal,
    data: bytes,
    read: Any,
    *,
    mode: Mode,
    visibility: str,
    action: str,
    dry_run: bool,
) -> ImportReport | Response:
    """Shared by both imports: rows, apply (history action ``import-<action>``), under an
    Idempotency-Key bound to the file and the query (a retry gets the stored first answer:
    a raw replay). The session dependency commits. A dry run is rolled back, with no key."""

    async def run() -> ImportReport:
        refs = await load_refs(session)
        # Parsing and checking the file is CPU work: a worker thread does it (the loop
        # serves other requests meanwhile), reading ``refs`` and nothing of the session.
        rows, ignored = await import_workers(request).run(read, refs)
        report = await import_rows(
            session,
            Actor.of(principal),
            refs,
            rows,
            mode=mode,
            new_visibility=visibility,
            action=f"import-{action}",
            dry_run=dry_run,
        )
        report.ignored_columns = ignored
        return report

    if dry_run:
        report = await run()
        await session.rollback()
        return report
    fingerprint = data + str(request.query_params).encode()
    return await answer_once(request, session, principal, run, 200, fingerprint=fingerprint)


@router.post(
    "/iati",
    summary="Import an IATI 2.03 activities file",
    description="The file (Content-Type application/xml) is validated against the official "
    "schema first: if it is not valid, nothing is imported and the errors are reported by "
    "line. A work program in the file (as in our own exports) is skipped." + IMPORT_NOTE,
    response_model=ImportReport,
    responses=RESPONSES,
    openapi_extra=IDEMPOTENT
    | {
        "requestBody": {
            "required": True,
            "content": {"application/xml": {"schema": {"type": "string", "format": "binary"}}},
        }
    },
)
async def import_iati(
    request: Request,
    session: SessionDep,
    principal: Writer,
    mode: ModeQuery = "all",
    program: ProgramQuery = None,
    visibility: VisibilityQuery = "participants",
    dry_run: DryRunQuery = False,
) -> ImportReport | Response:
    """Create or update activities from an IATI file."""
    if media_type(request) not in ("application/xml", "text/xml"):
        raise Problem(415, "unsupported-media-type", "Send the file as application/xml.")
    data = await read_body(request)

    def read(refs: Any) -> tuple[list[Row], list[str]]:
        if program is not None and program not in refs.programs:
            raise Problem(422, "validation-error", "No work program with that code.")
        return read_iati(data, refs, program), []

    return await run_import(
        request,
        session,
        principal,
        data,
        read,
        mode=mode,
        visibility=visibility,
        action="iati",
        dry_run=dry_run,
    )


@router.post(
    "/matrix",
    summary="Import the matrix (CSV or XLSX)",
    description="One row per activity, with the columns of the CSV export (text/csv, UTF-8, "
    "or an XLSX workbook, first sheet). A column present replaces that field (an empty cell "
    "clears it), a column absent leaves it; the export's computed columns are ignored and "
    "named in the report; lists are `;`-separated (`EPA:1;OEFA:4`, `41010:60;41081:40`)."
    + IMPORT_NOTE,
    response_model=ImportReport,
    responses=RESPONSES,
    openapi_extra=IDEMPOTENT
    | {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                XLSX: {"schema": {"type": "string", "format": "binary"}},
            },
        }
    },
)
async def import_matrix(
    request: Request,
    session: SessionDep,
    principal: Writer,
    mode: ModeQuery = "all",
    visibility: VisibilityQuery = "participants",
    dry_run: DryRunQuery = False,
) -> ImportReport | Response:
    """Create or update activities from a spreadsheet of the matrix."""
    kind = media_type(request)
    if kind not in ("text/csv", XLSX):
        raise Problem(415, "unsupported-media-type", f"Send text/csv or {XLSX}.")
    data = await read_body(request)
    limits = request.app.state.settings.xlsx_limits

    def read(refs: Any) -> tuple[list[Row], list[str]]:
        records = csv_records(data) if kind == "text/csv" else xlsx_records(data, limits)
        return read_table(records, refs)

    return await run_import(
        request,
        session,
        principal,
        data,
        read,
        mode=mode,
        visibility=visibility,
        action="matrix",
        dry_run=dry_run,
    )
