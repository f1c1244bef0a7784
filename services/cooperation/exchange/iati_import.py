"""Reading an uploaded IATI 2.03 activities file into import rows.

The file is checked against the official schema first (errors reported by line); then each
``iati-activity`` becomes an API body, so imported data passes exactly the checks the API
applies. Work programs in the file (our own exports start with one) are skipped, not
imported. Parsing never resolves entities, never touches the network and keeps lxml's
limits on depth and text size (no ``huge_tree``).
"""

from __future__ import annotations

from io import BytesIO
from typing import Any

from lxml import etree

from services.cooperation.activities.iati_map import ACTION_TAG, AREA_TAG, PARENT
from services.cooperation.activities.state import (
    Refs,
    document_item,
    marker_item,
    nested_indicator_item,
    result_item,
)
from services.cooperation.exchange.imports import Row
from services.cooperation.iati import (
    IatiActivity,
    IatiOrganisationRef,
    IatiParseError,
    parse_activities,
    schema_errors,
)
from shared.problems import Problem

MAX_SCHEMA_ERRORS = 200
DATE_KEYS = {"1": "planned_start", "2": "actual_start", "3": "planned_end", "4": "actual_end"}


def _lines(xml: bytes) -> list[int]:
    """The source line of each ``iati-activity``, in document order."""
    events = etree.iterparse(
        BytesIO(xml),
        events=("start",),
        tag="iati-activity",
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
    )
    lines = []
    for _event, element in events:
        lines.append(element.sourceline or 0)
    return lines


def read_iati(xml: bytes, refs: Refs, default_program: str | None) -> list[Row]:
    """Rows of an IATI file; a 422 problem listing schema errors by line if it is not valid."""
    problems = schema_errors(xml)
    if problems:
        raise Problem(
            422,
            "invalid-iati",
            f"The file is not valid IATI 2.03 ({len(problems)} schema error(s)); nothing was "
            "imported.",
            title="Invalid IATI file",
            errors=[
                {"line": e.line, "msg": e.message, "type": "schema"}
                for e in problems[:MAX_SCHEMA_ERRORS]
            ],
        )
    try:
        activities = parse_activities(xml)
        lines = _lines(xml)
    except (IatiParseError, etree.XMLSyntaxError) as exc:
        line = getattr(exc, "line", None) or getattr(exc, "lineno", 0) or 0
        raise Problem(
            422,
            "invalid-iati",
            "The file cannot be read.",
            errors=[{"line": line, "msg": str(exc), "type": "parse"}],
        ) from None
    programs = {p.identifier: code for code, p in refs.programs.items() if p.identifier}
    rows = []
    for line, activity in zip(lines, activities, strict=True):
        if activity.identifier in programs:
            continue  # the parent work program of an export: not an activity to import
        rows.append(_row(line, activity, refs, programs, default_program))
    return rows


def _party(org: IatiOrganisationRef | None) -> dict[str, Any] | None:
    if org is None or (org.ref is None and not org.name):
        return None
    return {"ref": org.ref, "name": org.name or None, "type": org.type}


def _row(
    line: int,
    a: IatiActivity,
    refs: Refs,
    programs: dict[str, str],
    default_program: str | None,
) -> Row:
    row = Row(where=line, identifier=a.identifier, body=None)
    if a.reporting_org.ref not in {o.iati_ref for o in refs.orgs.values() if o.iati_ref}:
        row.warnings.append(f"reporting-org {a.reporting_org.ref!r} is not registered")
    parents = [
        programs[r.ref] for r in a.related_activities if r.type == PARENT and r.ref in programs
    ]
    program = parents[0] if parents else default_program
    if program is None:
        row.errors.append(
            {
                "loc": ["body", "program"],
                "msg": "no parent work program (related-activity type 1) and no ?program=",
                "type": "missing",
            }
        )
        return row
    if a.recipient_country not in (None, "PE"):
        row.warnings.append(f"recipient-country {a.recipient_country} not kept (always PE)")
    areas, actions = [], []
    for tag in a.tags:
        area, action = AREA_TAG.match(tag.code), ACTION_TAG.match(tag.code)
        if tag.vocabulary == "99" and area:
            areas.append(area.group(1))
        elif tag.vocabulary == "99" and action:
            actions.append(f"{action.group(1)}.{action.group(2)}")
        else:
            row.warnings.append(f"tag {tag.code!r} (vocabulary {tag.vocabulary}) not kept")
    # Every field is given, absent ones as null: the file is the whole activity.
    dates: dict[str, str | None] = dict.fromkeys(DATE_KEYS.values())
    dates |= {DATE_KEYS[d.type]: d.iso_date.isoformat() for d in a.dates if d.type in DATE_KEYS}
    by_ref = refs.orgs_by_ref
    row.body = {
        "identifier": a.identifier,
        "program": program,
        "title_en": a.titles.get("en") or next(iter(a.titles.values()), None),
        "title_es": a.titles.get("es"),
        "description_en": a.descriptions.get("en")
        or next((v for k, v in a.descriptions.items() if k != "es"), None),
        "description_es": a.descriptions.get("es"),
        "status": a.status,
        "default_currency": a.default_currency,
        "participants": [
            {"org": by_ref[p.ref].code, "role": p.role}
            if p.ref in by_ref
            else {"ref": p.ref, "name": p.name or None, "type": p.type, "role": p.role}
            for p in a.participating_orgs
        ],
        "priority_areas": areas,
        "action_areas": actions,
        "sectors": [
            {"vocabulary": s.vocabulary, "code": s.code, "percentage": s.percentage}
            for s in a.sectors
        ],
        "policy_markers": [marker_item(m) for m in a.policy_markers],
        "locations": [loc.ref for loc in a.locations],
        "budgets": [
            {
                "type": b.type,
                "status": b.status,
                "period_start": b.period_start.isoformat(),
                "period_end": b.period_end.isoformat(),
                "value": b.value,
                "currency": b.currency,
                "value_date": b.value_date.isoformat(),
            }
            for b in a.budgets
        ],
        "transactions": [
            {
                "type": t.type,
                "date": t.date.isoformat(),
                "value": t.value,
                "currency": t.currency,
                "value_date": t.value_date.isoformat(),
                "description": t.description,
                "provider_org": _party(t.provider_org),
                "receiver_org": _party(t.receiver_org),
            }
            for t in a.transactions
        ],
        "document_links": [document_item(d) for d in a.document_links],
        "results": [
            result_item(r, [nested_indicator_item(i) for i in r.indicators]) for r in a.results
        ],
    } | dates
    return row
