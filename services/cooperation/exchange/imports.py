"""Bulk imports: rows (IATI activities or matrix spreadsheet rows, already turned into API
bodies) created or updated by identifier, with a report of every rejected row.

Idempotent: a row equal to what is stored changes nothing (no new version, no change-feed
entry). All-or-nothing by default: one rejected row and nothing is written; ``partial``
mode writes the valid rows. The rows to update are locked (in id order) before anything is
written and the whole import is recorded at once, so it takes the commit clock once, last.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel, Field, ValidationError, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.csv_export import participant_cell
from services.cooperation.activities.iati_kept import kept_fragment
from services.cooperation.activities.models import Activity
from services.cooperation.activities.normalize import Error, normalize
from services.cooperation.activities.rows import new_activity
from services.cooperation.activities.schemas import ActivityFields
from services.cooperation.activities.service import (
    empty_state,
    record_or_conflict,
    reporting_org,
    update_from_state,
    validate,
)
from services.cooperation.activities.state import FULL_LOAD, Refs, State, state_of
from services.cooperation.activities.sync import Actor, Pending, diff
from shared.problems import Problem

Mode = Literal["all", "partial"]
MAX_ROWS = 20_000
CHUNK = 500


@dataclass
class Row:
    """One activity of an import: where it is in the file, and its body (or why not).

    A spreadsheet row is an API ``body``, checked as the API checks one. An IATI activity
    comes as ``state`` (held as the file has it) with its ``reporter`` (reporting-org ref):
    only business rules refuse it, everything else the API would refuse is a warning.
    """

    where: int
    identifier: str | None
    body: dict[str, Any] | None
    errors: list[Error] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    state: State | None = None
    reporter: str | None = None
    # IATI ruleset and codelist findings of the activity as the file has it (reported, the
    # activity is kept as sent): line, rule, severity, message, path.
    findings: list[dict[str, Any]] = field(default_factory=list)
    # Cells as a spreadsheet export wrote them: left alone when they still read the same
    # (participants known only by name or ref cannot be written back losslessly).
    exported: dict[str, str] = field(default_factory=dict)


class RowError(BaseModel):
    """A rejected row: its line (XML) or row (spreadsheet, header = 1) and what is wrong, in
    the shape both services' imports share (``row``, ``column``, ``code``, ``message``), with
    the activity's identifier and pydantic's ``loc``/``msg``/``type`` (kept for earlier
    clients)."""

    row: int
    column: str | None = Field(description="The column or field at fault (last of `loc`).")
    code: str = Field(description="What kind of error (pydantic's type, or a rule's).")
    message: str
    identifier: str | None
    loc: list[str]
    msg: str
    type: str

    @model_validator(mode="before")
    @classmethod
    def _shared_shape(cls, data: Any) -> Any:
        if isinstance(data, dict) and "message" not in data:
            loc = data.get("loc") or []
            column = str(loc[-1]) if loc else None
            data = {**data, "column": column, "code": data.get("type"), "message": data.get("msg")}
        return data


class RowNote(BaseModel):
    row: int
    identifier: str | None
    note: str


class RowFinding(BaseModel):
    """A rule of the IATI Standard ruleset or a codelist that an imported activity breaks,
    as the IATI Validator reports it: the line in the file, the rule id, its severity."""

    row: int = Field(description="Line of the activity's iati-activity element.")
    identifier: str | None
    line: int
    rule: str = Field(description="Ruleset id (e.g. 6.2.2) or codelist:<Codelist>.")
    severity: Literal["error", "warning"]
    message: str
    path: str = Field(description="XPath of the element (or attribute) it is about.")


class ImportReport(BaseModel):
    """What an import did. ``rejected`` lists every problem of every rejected row."""

    mode: Mode
    dry_run: bool = Field(False, description="True: nothing was written (a validation run).")
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected_rows: int = 0
    rejected: list[RowError] = Field(default_factory=list)
    notes: list[RowNote] = Field(default_factory=list)
    findings: list[RowFinding] = Field(
        default_factory=list,
        description="IATI imports: every ruleset and codelist finding, by line (the "
        "activities are stored as sent).",
    )
    ignored_columns: list[str] = Field(default_factory=list)


def _pydantic_errors(exc: ValidationError) -> list[Error]:
    return [
        {"loc": ["body", *[str(p) for p in e["loc"]]], "msg": e["msg"], "type": e["type"]}
        for e in exc.errors()
    ]


async def _existing(session: AsyncSession, identifiers: Sequence[str]) -> dict[str, Activity]:
    """The stored activities among ``identifiers``: locked (id order), then fully loaded."""
    found: dict[str, Activity] = {}
    for start in range(0, len(identifiers), CHUNK):
        chunk = identifiers[start : start + CHUNK]
        lock = select(Activity.id).where(Activity.identifier.in_(chunk)).order_by(Activity.id)
        ids = list(await session.scalars(lock.with_for_update()))
        if ids:
            load = select(Activity).where(Activity.id.in_(ids)).options(*FULL_LOAD)
            found |= {a.identifier: a for a in await session.scalars(load)}
    return found


async def import_rows(
    session: AsyncSession,
    actor: Actor,
    refs: Refs,
    rows: list[Row],
    *,
    mode: Mode,
    new_visibility: str,
    action: str,
    dry_run: bool = False,
) -> ImportReport:
    """Create or update each row's activity; raise a 422 (with the report) when ``mode`` is
    ``all`` and any row is rejected. A ``dry_run`` takes the same path but records nothing
    (no clock, change feed or history): the caller rolls the session back."""
    org = reporting_org(refs, actor)
    report = ImportReport(mode=mode, dry_run=dry_run)
    if len(rows) > MAX_ROWS:
        raise Problem(413, "too-many-rows", f"At most {MAX_ROWS} activities per import.")
    seen: dict[str, int] = {}
    for row in rows:
        if row.identifier is not None and row.identifier in seen:
            msg = f"also on row {seen[row.identifier]}"
            row.errors.append(_err("identifier", msg, "duplicate"))
        elif row.identifier is not None:
            seen[row.identifier] = row.where
    existing = await _existing(session, sorted(seen))
    pending: list[Pending] = []
    for row in rows:
        # Each row is a few milliseconds of checks and ORM work: let the loop serve other
        # requests between rows, so that a large import never holds it for long.
        await asyncio.sleep(0)
        for warning in row.warnings:
            report.notes.append(RowNote(row=row.where, identifier=row.identifier, note=warning))
        report.findings += [
            RowFinding(row=row.where, identifier=row.identifier, **f) for f in row.findings
        ]
        if not row.errors and (row.body is not None or row.state is not None):
            target = _Target(org.code, org.iati_ref, new_visibility, action, existing, pending)
            await _one(session, actor, refs, row, target, report)
        if row.errors:
            report.rejected_rows += 1
            report.rejected += [
                RowError(row=row.where, identifier=row.identifier, **e) for e in row.errors
            ]
    if report.rejected_rows and mode == "all":
        raise Problem(
            422,
            "import-rejected",
            f"{report.rejected_rows} row(s) rejected; nothing was imported (use mode=partial "
            "to import the valid rows).",
            title="Import rejected",
            errors=[e.model_dump() for e in report.rejected],
            report=report.model_dump(mode="json"),
        )
    if not dry_run:
        await record_or_conflict(session, actor, pending)
    return report


def _err(field_name: str, msg: str, type_: str = "value_error") -> Error:
    return {"loc": ["body", field_name], "msg": msg, "type": type_}


@dataclass
class _Target:
    """Where the rows of one import go."""

    org: str
    reporter: str | None
    new_visibility: str
    action: str
    existing: dict[str, Activity]
    pending: list[Pending]


def _fragment(row: Row, target: _Target, refs: Refs) -> State | None:
    """The row's state fragment (a spreadsheet row checked as an API body), or None."""
    if row.state is not None:
        return row.state
    assert row.body is not None
    stored = target.existing.get(row.identifier or "")
    if stored is not None and "participants" in row.exported:
        current = ";".join(participant_cell(p) for p in state_of(stored)["participants"])
        if row.exported["participants"] == current:
            row.body.pop("participants", None)
    try:
        body = ActivityFields.model_validate(row.body)
    except ValidationError as exc:
        row.errors += _pydantic_errors(exc)
        return None
    fragment, errors = normalize(body, refs)
    row.errors += errors
    return None if errors else fragment


async def _one(
    session: AsyncSession, actor: Actor, refs: Refs, row: Row, target: _Target, report: ImportReport
) -> None:
    """Validate one row and stage its change (nothing is written for a rejected row)."""
    org, action, pending = target.org, target.action, target.pending
    fragment = _fragment(row, target, refs)
    if fragment is None:
        return
    # An IATI activity's other problems are only noted (``validate`` puts them there).
    notes = row.warnings if row.state is not None else None
    activity = target.existing.get(fragment["identifier"])
    if fragment.get("iati_xml"):
        current = state_of(activity) if activity is not None else None
        fragment, note = kept_fragment(fragment, current, org, refs)
        if note is not None:
            report.notes.append(RowNote(row=row.where, identifier=row.identifier, note=note))
    if activity is not None and activity.lead_org.code != org:
        row.errors.append(_err("identifier", "led by another organisation", "not_the_lead"))
        return
    if row.reporter is not None and row.reporter != target.reporter:
        msg = f"reporting-org {row.reporter!r} is not your organisation ({target.reporter})"
        row.errors.append(_err("reporting_org", msg, "not_the_reporter"))
        return
    if activity is not None:
        try:
            changed = await update_from_state(
                session,
                actor,
                activity,
                fragment,
                refs,
                action=action,
                pending=pending,
                notes=notes,
            )
        except Problem as problem:
            row.errors += problem.extensions.get("errors", [])
            return
        report.updated += changed
        report.unchanged += not changed
        return
    state = empty_state() | {"visibility": target.new_visibility} | fragment
    state |= {"reporting_org": org, "lead_org": org}
    errors = validate(state, refs, notes=notes)
    if errors:
        row.errors += errors
        return
    activity = new_activity(state, refs, published=True)
    session.add(activity)
    pending.append(Pending(activity, action, diff(None, state), None))
    report.created += 1
