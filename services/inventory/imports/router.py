"""Bulk import of holders, sites, PCB items and analyses into a PCB submission."""

from __future__ import annotations

import hashlib
import tempfile
from collections.abc import AsyncGenerator
from contextlib import aclosing
from typing import IO, Annotated, Any, Literal

from fastapi import APIRouter, Query, Request, Response
from pydantic import BaseModel, Field, model_validator
from starlette.datastructures import UploadFile

from services.inventory.access import editable_submission
from services.inventory.history import IdempotencyKey, record_change
from services.inventory.imports.readers import (
    FileFormat,
    ReadLimits,
    UnreadableFile,
    detect_format,
    parsed_batches,
    text_encoding,
)
from services.inventory.imports.rows import COLUMNS, ImportRow, parse_row
from services.inventory.imports.template import template_xlsx
from services.inventory.imports.writer import Importer
from services.inventory.routing import IdPath, responses
from services.inventory.submissions.rules import Section
from shared.context import language_var
from shared.db import SessionDep
from shared.idempotency import idempotency_key, once
from shared.offload import import_workers
from shared.openapi_contract import IDEMPOTENT
from shared.problems import Problem
from shared.security import Principal, require_scopes

router = APIRouter(prefix="/v1", tags=["PCB equipment"])
WRITE = require_scopes("inventory:write")
SPOOL_IN_MEMORY = 1 << 20


class ImportError_(BaseModel):
    """One problem of one row, in the shape both services' imports share: ``row``,
    ``column``, ``code`` (``required``, ``invalid``, or ``unreadable`` for a row or file that
    could not be read as cells), ``message``."""

    row: int | None = Field(
        description="Spreadsheet row (header = 1), JSON element or line number (null: the file)."
    )
    column: str | None
    code: str = Field(description="`required`, `invalid` or `unreadable`.")
    message: str
    reason: str = Field(description="The same as `message` (kept for earlier clients).")

    @model_validator(mode="before")
    @classmethod
    def _shared_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "reason" in data and "message" not in data:
            reason, column = data["reason"], data.get("column")
            code = "required" if reason == "required" else "invalid" if column else "unreadable"
            data = {**data, "code": code, "message": reason}
        return data


class ImportReport(BaseModel):
    """What an import did, and every rejected row."""

    submission_id: int
    mode: Literal["all", "partial"]
    format: FileFormat
    rows_total: int
    rows_imported: int
    rows_rejected: int
    holders_created: int
    holders_updated: int
    sites_created: int
    sites_updated: int
    items_created: int
    items_updated: int
    analyses_recorded: int
    status_changes: int
    errors: list[ImportError_]
    errors_truncated: bool = Field(
        description="More than 10,000 problems: the rest are counted only."
    )
    dry_run: bool = Field(
        False, description="True for `?dry_run=true`: what the import would do; nothing written."
    )
    notes: list[dict[str, Any]] = Field(
        default_factory=list,
        description="What the import changed in cells it accepted, by row and column (e.g. "
        "coordinates rounded to 6 decimals); the first 10,000.",
    )
    ignored_columns: list[str] = Field(
        default_factory=list,
        description="Columns Enlace has no field for (e.g. `Observaciones`): their cells were "
        "left out, the rows imported without them.",
    )


async def _spool(request: Request, limit: int) -> tuple[IO[bytes], str, str | None, str | None]:
    """The upload in a temporary file (memory up to 1 MB, then disk): file, SHA-256,
    content type and file name. Multipart uploads take the ``file`` field."""
    content_type = request.headers.get("content-type", "")
    if content_type.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=1, max_fields=5)
        except Exception:  # malformed multipart bodies raise several kinds
            raise Problem(400, "invalid-upload", "The multipart body cannot be read.") from None
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise Problem(422, "validation-error", "Send the file in the form field `file`.")
        if upload.size is not None and upload.size > limit:
            raise Problem(413, "payload-too-large", f"The file is larger than {limit} bytes.")
        digest = hashlib.sha256()
        while chunk := await upload.read(1 << 16):
            digest.update(chunk)
        await upload.seek(0)
        return upload.file, digest.hexdigest(), upload.content_type, upload.filename
    spooled = tempfile.SpooledTemporaryFile(max_size=SPOOL_IN_MEMORY)  # noqa: SIM115
    digest = hashlib.sha256()
    try:
        # Past ``limit`` the service's BodyLimitMiddleware refuses the body (413).
        async for chunk in request.stream():
            digest.update(chunk)
            spooled.write(chunk)
    except BaseException:
        spooled.close()
        raise
    spooled.seek(0)
    return spooled, digest.hexdigest(), content_type or None, None


def _unreadable_error(row: int | None, reason: str) -> dict[str, Any]:
    """The error of a file that cannot be read, in the shape of ``ImportError_`` (its row may
    be unknown)."""
    return {"row": row, "column": None, "code": "unreadable", "message": reason, "reason": reason}


def _report(
    importer: Importer, submission_id: int, mode: Literal["all", "partial"], fmt: FileFormat
) -> ImportReport:
    outcome = importer.outcome
    return ImportReport(
        submission_id=submission_id,
        mode=mode,
        format=fmt,
        **vars(outcome.counts),
        errors=[ImportError_(**e) for e in outcome.errors],
        errors_truncated=outcome.errors_truncated,
        ignored_columns=sorted(outcome.ignored_columns),
        notes=outcome.notes,
    )


COLUMN_LIST = ", ".join(f"`{c}`" for c in COLUMNS)


@router.post(
    "/submissions/{submission_id}/imports",
    summary="Import holders, sites, PCB items and analyses",
    description=(
        "One row per item (repeat the item's row to add more analyses), as CSV (UTF-8, or "
        "`?encoding=cp1252`; comma or semicolon), XLSX (first sheet, header in row 1), a JSON "
        "array of objects (elements up to 1 MB) or JSON Lines; raw body with its Content-Type, "
        "or multipart field `file`. Streamed: the upload is spooled to disk and read row by "
        "row. Columns: " + COLUMN_LIST + " (any other column is left out and listed in "
        "`ignored_columns`). Required: `holder_ruc`, `site_name`, "
        "`equipment_type`, `manufacturer`, `serial_number`; a new holder also needs "
        "`holder_name`, `holder_sector`, `holder_is_public`, a new site `site_address`, "
        "`site_ubigeo`, `site_type`; `eliminated` needs the disposal columns. "
        "Natural keys: holder by RUC, site by holder and name, item by holder, manufacturer "
        "and serial number, analysis by item, method, date and sample: importing a file again "
        "updates, never duplicates. `mode=all` (default) imports nothing if any row is "
        "rejected (422 with every problem); `mode=partial` imports the valid rows and reports "
        "the others. Accepts `Idempotency-Key`."
    ),
    response_model=ImportReport,
    responses=responses(400, 403, 404, 409, 413, 415, 422),
    openapi_extra=IDEMPOTENT
    | {
        "requestBody": {
            "required": True,
            "content": {
                "text/csv": {"schema": {"type": "string"}},
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                    "schema": {"type": "string", "format": "binary"}
                },
                "application/json": {"schema": {"type": "array", "items": {"type": "object"}}},
                "application/x-ndjson": {"schema": {"type": "string"}},
                "multipart/form-data": {
                    "schema": {
                        "type": "object",
                        "properties": {"file": {"type": "string", "format": "binary"}},
                        "required": ["file"],
                    }
                },
            },
        }
    },
)
async def import_file(
    request: Request,
    submission_id: IdPath,
    session: SessionDep,
    principal: Principal = WRITE,
    mode: Literal["all", "partial"] = "all",
    format: Annotated[FileFormat | None, Query(description="Overrides the Content-Type.")] = None,
    encoding: Annotated[str, Query(pattern=r"^[A-Za-z0-9_-]{1,20}$")] = "utf-8",
    dry_run: Annotated[
        bool,
        Query(
            description="Read and check every row as the import would, answer the same "
            "report (or 422), and write nothing; `Idempotency-Key` is ignored."
        ),
    ] = False,
) -> ImportReport | Response:
    """Import a file into the caller's editable PCB submission."""
    submission = await editable_submission(session, principal, submission_id, section=Section.PCB)
    idempotency_key(request)  # an unusable key is refused before the upload is read
    try:
        text_encoding(encoding)
    except ValueError as exc:
        raise Problem(422, "unsupported-encoding", f"{exc}; use e.g. utf-8 or cp1252.") from None
    settings = request.app.state.settings
    limit: int = settings.import_max_bytes
    request.state.max_body_bytes = limit  # uploads are spooled to disk: not max_body_bytes
    limits = ReadLimits(max_columns=settings.import_max_columns, xlsx=settings.xlsx_limits)
    file, sha256, content_type, filename = await _spool(request, limit)
    try:
        fmt = format or detect_format(content_type, filename)
        if fmt is None:
            raise Problem(
                415,
                "unsupported-media-type",
                "Send CSV, XLSX, JSON or JSON Lines (by Content-Type, file name or ?format=).",
            )
        idempotent = None
        if not dry_run:  # a dry run neither stores an answer nor replays one
            request_id = f"{sha256}|{mode}|{fmt}|{encoding}".encode()
            idempotent = await once(
                request, session, IdempotencyKey, principal.client_id, fingerprint=request_id
            )
            if (first := await idempotent.replay()) is not None:
                return first  # a retry with the same key: the first report, as it was stored
        workers = import_workers(request)
        size: int = settings.import_batch_rows
        # Two batches ahead: the parser outpaces the writer, and fewer live rows are
        # fewer objects for each garbage collection to walk.
        batches = parsed_batches(
            file, fmt, parse_row, limits, workers, encoding=encoding, batch=size, ahead=2
        )
        importer = Importer(session, principal, submission, size)
        report = await _import(importer, batches, fmt, mode, dry_run)
        if idempotent is None:
            await session.rollback()  # the dry run: every row checked, nothing kept
            return report
        record_change(
            session,
            principal,
            entity="import",
            entity_id=submission.id,
            action="import",
            after=report.model_dump(mode="json", exclude={"errors"}),
        )
        await idempotent.keep(report, 200)
        return report
    finally:
        file.close()


async def _import(
    importer: Importer,
    batches: AsyncGenerator[list[ImportRow], None],
    fmt: FileFormat,
    mode: Literal["all", "partial"],
    dry_run: bool = False,
) -> ImportReport:
    """Write every row the worker parsed; a Problem (and so nothing imported) when the file
    cannot be read, or when ``mode`` is ``all`` and a row is rejected. The 422 counts the
    rows that were valid as ``rows_valid``: ``rows_imported`` is 0, since nothing was."""
    try:
        async with aclosing(batches):
            async for rows in batches:
                for row in rows:
                    await importer.add(row)
        await importer.flush()
    except UnreadableFile as exc:
        await importer.abandon()
        raise Problem(
            422,
            "unreadable-file",
            f"The {fmt} file cannot be read: {exc.reason}.",
            errors=[
                ImportError_.model_validate(
                    {"row": exc.row, "column": None, "reason": exc.reason}
                ).model_dump()
            ],
        ) from None
    except BaseException:
        await importer.abandon()  # its transaction is rolled back once nothing is in flight
        raise
    report = _report(importer, importer.submission.id, mode, fmt)
    report.dry_run = dry_run
    if mode == "all" and report.rows_rejected:
        body: dict[str, Any] = report.model_dump(mode="json", exclude={"errors"})
        body["rows_valid"] = body["rows_imported"]
        body["rows_imported"] = 0
        raise Problem(
            422,
            "import-rejected",
            f"{report.rows_rejected} of {report.rows_total} rows were rejected; nothing was "
            "imported (fix them, or use ?mode=partial).",
            errors=[e.model_dump() for e in report.errors],
            **{k: v for k, v in body.items() if k not in ("format", "mode")},
        )
    return report


XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
templates_router = APIRouter(prefix="/v1/public/templates", tags=["imports"])


@templates_router.get(
    "/pcb-items.xlsx",
    summary="The import template (XLSX)",
    description="A workbook to fill in and send to `POST /v1/submissions/{id}/imports` as "
    "it is: the first sheet has the import's columns under headers in the answer's language "
    "(`?lang=es|en` or Accept-Language; the import takes the Spanish and English headers "
    "and the column codes alike), a drop-down list of codes on every coded column and "
    "`true`/`false` on the booleans; an example row on the second sheet; every column's "
    "code, whether it is required and its allowed values with their labels on the third. "
    "No data: anyone may fetch it.",
    response_class=Response,
    responses={200: {"content": {XLSX: {}}, "description": "The template"}},
)
async def pcb_items_template() -> Response:
    """The template, in the answer's language."""
    language = language_var.get()
    return Response(
        template_xlsx(language),
        media_type=XLSX,
        headers={
            "Content-Disposition": f'attachment; filename="enlace-pcb-items-{language}.xlsx"',
            "Cache-Control": "public, max-age=3600",
        },
    )
