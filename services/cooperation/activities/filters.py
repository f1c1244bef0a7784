"""The filters of every activity collection, shared by the JSON list, its CSV form and the
IATI XML export (one function makes their SQL, so the three always select the same set).

A donor pulls as from the IATI Datastore or d-portal: by identifier, reporting and
participating organisation (IATI ref), sector (any vocabulary), recipient country and
region, activity status, policy marker, planned or actual dates, and free text. Several
values of one filter (repeated, or comma-separated for codes and refs) match any of them;
different filters must all match. Every value is a bound parameter, never interpolated."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from fastapi import Depends, Query, Request
from sqlalchemy import ColumnElement, exists, literal, or_, select

from services.cooperation.activities.models import (
    INDEXED_CODE_LENGTH,
    Activity,
    ActivityPriorityArea,
    Participant,
    PolicyMarker,
    Sector,
)
from services.cooperation.programs.models import Organisation, PriorityArea, WorkProgram
from shared.problems import Problem

# What a code or an IATI ref may hold (``41010``, ``13.2``, ``PM-01``, ``XM-DAC-41114``).
CODE = re.compile(r"[0-9A-Za-z._:/-]+")
STATUS = re.compile(r"[1-6]")  # the ActivityStatus codelist

Values = tuple[str, ...]


@dataclass(frozen=True)
class ActivityFilters:
    """Allow-listed filters of every activity collection (plain query parameters)."""

    program: str | None = None
    priority_area: str | None = None
    status: Values = ()
    organisation: str | None = None
    sector: Values = ()
    sector_vocabulary: str | None = None
    updated_since: datetime | None = None
    iati_identifier: Values = ()
    reporting_org_ref: Values = ()
    participating_org_ref: Values = ()
    recipient_country: Values = ()
    recipient_region: Values = ()
    policy_marker: Values = ()
    q: str | None = None
    # (date field, "from" or "to", day): both bounds included
    dates: tuple[tuple[str, str, date], ...] = ()


def values(
    name: str, given: list[str] | None, limit: int, pattern: re.Pattern[str] | None = CODE
) -> Values:
    """The values of a filter: repeated, or comma-separated when they are codes (a
    ``pattern``); a 422 past the limits (``limit`` values of at most
    ``INDEXED_CODE_LENGTH`` characters) or for a value that is not a code."""
    found = [
        v.strip()
        for item in given or ()
        for v in (item.split(",") if pattern is not None else [item])
        if v.strip()
    ]
    if len(found) > limit or any(len(v) > INDEXED_CODE_LENGTH for v in found):
        msg = f"{name}: at most {limit} values of {INDEXED_CODE_LENGTH} characters"
        raise Problem(422, "validation-error", msg)
    bad = [v for v in found if pattern is not None and not pattern.fullmatch(v)]
    if bad:
        raise Problem(422, "validation-error", f"{name}: {bad[0]!r} is not a valid code")
    return tuple(found)


def date_filters(
    planned_start_from: Annotated[date | None, Query(description="Planned start ≥.")] = None,
    planned_start_to: Annotated[date | None, Query(description="Planned start ≤.")] = None,
    planned_end_from: Annotated[date | None, Query(description="Planned end ≥.")] = None,
    planned_end_to: Annotated[date | None, Query(description="Planned end ≤.")] = None,
    actual_start_from: Annotated[date | None, Query(description="Actual start ≥.")] = None,
    actual_start_to: Annotated[date | None, Query(description="Actual start ≤.")] = None,
    actual_end_from: Annotated[date | None, Query(description="Actual end ≥.")] = None,
    actual_end_to: Annotated[date | None, Query(description="Actual end ≤.")] = None,
) -> tuple[tuple[str, str, date], ...]:
    """Date ranges (days, bounds included; an activity without that date never matches)."""
    given = {
        ("planned_start", "from"): planned_start_from,
        ("planned_start", "to"): planned_start_to,
        ("planned_end", "from"): planned_end_from,
        ("planned_end", "to"): planned_end_to,
        ("actual_start", "from"): actual_start_from,
        ("actual_start", "to"): actual_start_to,
        ("actual_end", "from"): actual_end_from,
        ("actual_end", "to"): actual_end_to,
    }
    return tuple((f, op, day) for (f, op), day in given.items() if day is not None)


DatesDep = Annotated[tuple[tuple[str, str, date], ...], Depends(date_filters)]


def activity_filters(
    request: Request,
    dates: DatesDep,
    program: Annotated[str | None, Query(max_length=60, description="Work program code.")] = None,
    priority_area: Annotated[
        str | None, Query(pattern=r"^[A-Z]{1,4}$", description="Priority area code, e.g. A.")
    ] = None,
    status: Annotated[
        list[str] | None, Query(description="IATI activity status code(s), e.g. `2` or `2,3`.")
    ] = None,
    organisation: Annotated[
        str | None,
        Query(max_length=40, description="Code of an organisation taking part (any role)."),
    ] = None,
    sector: Annotated[
        list[str] | None,
        Query(description="Sector code(s), any vocabulary (DAC 5 `41010`, DAC 3 `410` ...)."),
    ] = None,
    sector_vocabulary: Annotated[
        str | None,
        Query(max_length=10, description="Only sectors of this IATI vocabulary (`1`: DAC 5)."),
    ] = None,
    updated_since: Annotated[
        datetime | None,
        Query(description="Only activities updated at or after this time (with an offset)."),
    ] = None,
    iati_identifier: Annotated[
        list[str] | None,
        Query(description="IATI identifier(s), exact (repeat the parameter for several)."),
    ] = None,
    reporting_org_ref: Annotated[
        list[str] | None, Query(description="IATI ref(s) of the reporting organisation.")
    ] = None,
    participating_org_ref: Annotated[
        list[str] | None,
        Query(description="IATI ref(s) of a participating organisation (any role)."),
    ] = None,
    recipient_country: Annotated[
        list[str] | None,
        Query(
            description="ISO 3166-1 code(s) among the activity's recipient countries (`PE` "
            "for one entered here; an imported one's as its IATI file declares, e.g. `AF`)."
        ),
    ] = None,
    recipient_region: Annotated[
        list[str] | None,
        Query(
            description="IATI region code(s), e.g. `489`, among the regions an imported "
            "activity declares (one entered here declares none)."
        ),
    ] = None,
    policy_marker: Annotated[
        list[str] | None, Query(description="Policy marker code(s), e.g. `2` (any significance).")
    ] = None,
    q: Annotated[
        str | None,
        Query(
            min_length=1,
            description="Free text in the title or description (English or Spanish), any "
            "case; at most `COOPERATION_FILTER_MAX_TEXT_CHARS` characters (200).",
        ),
    ] = None,
) -> ActivityFilters:
    if updated_since is not None and updated_since.tzinfo is None:
        raise Problem(400, "invalid-datetime", "updated_since needs a UTC offset, e.g. Z.")
    settings = request.app.state.settings
    limit = settings.filter_max_values
    if q is not None and len(q) > settings.filter_max_text_chars:
        msg = f"q: at most {settings.filter_max_text_chars} characters"
        raise Problem(422, "validation-error", msg)
    return ActivityFilters(
        program=program,
        priority_area=priority_area,
        status=values("status", status, limit, STATUS),
        organisation=organisation,
        sector=values("sector", sector, limit),
        sector_vocabulary=sector_vocabulary,
        updated_since=updated_since,
        iati_identifier=values("iati_identifier", iati_identifier, limit, None),
        reporting_org_ref=values("reporting_org_ref", reporting_org_ref, limit),
        participating_org_ref=values("participating_org_ref", participating_org_ref, limit),
        recipient_country=values("recipient_country", recipient_country, limit),
        recipient_region=values("recipient_region", recipient_region, limit),
        policy_marker=values("policy_marker", policy_marker, limit),
        q=q,
        dates=dates,
    )


FiltersDep = Annotated[ActivityFilters, Depends(activity_filters)]


def _linked(link: Any, foreign_key: Any, target: Any, code: str) -> ColumnElement[bool]:
    """The activity is linked through ``link`` to the ``target`` row with ``code``."""
    return (
        exists()
        .where(link.activity_id == Activity.id)
        .where(foreign_key == target.id)
        .where(target.code == code)
    )


def _org_ids(refs: Values) -> Any:
    return select(Organisation.id).where(Organisation.iati_ref.in_(refs))


def _participating(refs: Values) -> ColumnElement[bool]:
    """A participant with one of ``refs``: its own ref, or its organisation's."""
    return (
        exists()
        .where(Participant.activity_id == Activity.id)
        .where(or_(Participant.ref.in_(refs), Participant.organisation_id.in_(_org_ids(refs))))
    )


def _sectors(f: ActivityFilters) -> ColumnElement[bool]:
    found = exists().where(Sector.activity_id == Activity.id)
    if f.sector:
        found = found.where(Sector.code.in_(f.sector))
    if f.sector_vocabulary is not None:
        found = found.where(Sector.vocabulary == f.sector_vocabulary)
    return found


def _declared(column: Any, codes: Values) -> ColumnElement[bool]:
    """One of ``codes`` among the space-separated codes of ``column``."""
    padded = literal(" ") + column + literal(" ")
    return or_(*(padded.contains(f" {c} ", autoescape=True) for c in codes))


def _text(q: str) -> ColumnElement[bool]:
    """``q`` in a title or description, any case (LIKE with ``%`` and ``_`` escaped)."""
    columns = (Activity.title_en, Activity.title_es, Activity.description_en)
    return or_(*(c.icontains(q, autoescape=True) for c in (*columns, Activity.description_es)))


def _dates(dates: tuple[tuple[str, str, date], ...]) -> list[ColumnElement[bool]]:
    clauses = []
    for name, op, day in dates:
        column = getattr(Activity, name)
        clauses.append(column >= day if op == "from" else column <= day)
    return clauses


def _code_clauses(f: ActivityFilters) -> list[ColumnElement[bool]]:
    """The filters on codes and refs of the activity and its parts."""
    clauses: list[ColumnElement[bool]] = []
    if f.status:
        clauses.append(Activity.status.in_(f.status))  # codes are text
    if f.sector or f.sector_vocabulary is not None:
        clauses.append(_sectors(f))
    if f.iati_identifier:
        clauses.append(Activity.identifier.in_(f.iati_identifier))
    if f.reporting_org_ref:
        clauses.append(Activity.reporting_org_id.in_(_org_ids(f.reporting_org_ref)))
    if f.participating_org_ref:
        clauses.append(_participating(f.participating_org_ref))
    if f.recipient_country:
        clauses.append(_declared(Activity.recipient_countries, f.recipient_country))
    if f.recipient_region:
        clauses.append(_declared(Activity.recipient_regions, f.recipient_region))
    if f.policy_marker:
        marker = PolicyMarker.activity_id == Activity.id
        clauses.append(exists().where(marker, PolicyMarker.code.in_(f.policy_marker)))
    return clauses


def filter_clauses(f: ActivityFilters) -> list[ColumnElement[bool]]:
    """The WHERE clauses of ``f`` (codes compared in SQL, never interpolated)."""
    clauses = _code_clauses(f)
    if f.program is not None:
        clauses.append(
            Activity.program_id.in_(select(WorkProgram.id).where(WorkProgram.code == f.program))
        )
    if f.priority_area is not None:
        area = ActivityPriorityArea.priority_area_id
        clauses.append(_linked(ActivityPriorityArea, area, PriorityArea, f.priority_area))
    if f.organisation is not None:
        org = Participant.organisation_id
        clauses.append(_linked(Participant, org, Organisation, f.organisation))
    if f.updated_since is not None:
        clauses.append(Activity.updated_at >= f.updated_since)
    if f.q is not None:
        clauses.append(_text(f.q))
    return clauses + _dates(f.dates)
