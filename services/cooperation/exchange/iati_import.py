"""Reading an uploaded IATI 2.03 activities file into import rows.

The file is checked against the official schema first (errors reported by line); then each
``iati-activity`` becomes a row holding its state as the file has it (``iati_state``) and
the element itself as sent (``iati.kept``, merged back at export): any schema-valid
activity is accepted. The rows are refused only by business rules, checked in ``imports``:
the caller reports for its own organisation only, may not touch an activity another
organisation leads, and every activity needs a work program (its parent link, a program of
the file listing it as a child, or ``?program=``). Work programs in the file (our own
exports start with one) are skipped, not imported. An identifier that comes twice: the
later activity is the one kept. Parsing never resolves entities, never touches the network
and keeps lxml's limits on depth and text size (no ``huge_tree``).
"""

from __future__ import annotations

import re
from typing import Any

from lxml import etree

from services.cooperation.activities.iati_map import CHILD, PARENT
from services.cooperation.activities.iati_state import iati_state
from services.cooperation.activities.models import IDENTIFIER_LENGTH, INDEXED_CODE_LENGTH
from services.cooperation.activities.state import Refs
from services.cooperation.exchange.imports import Row
from services.cooperation.iati import (
    IatiActivity,
    IatiParseError,
    parse_activities,
    schema_errors,
)
from services.cooperation.iati.kept import kept_activities
from services.cooperation.iati.ruleset import document_findings
from shared.db import utcnow
from shared.problems import Problem

MAX_SCHEMA_ERRORS = 200


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
        kept = list(kept_activities(xml))
    except (IatiParseError, etree.XMLSyntaxError) as exc:
        line = getattr(exc, "line", None) or getattr(exc, "lineno", 0) or 0
        raise Problem(
            422,
            "invalid-iati",
            "The file cannot be read.",
            errors=[{"line": line, "msg": str(exc), "type": "parse"}],
        ) from None
    programs = {p.identifier: code for code, p in refs.programs.items() if p.identifier}
    # A program of ours in the file lists its children (related-activity type 2): an
    # activity kept as its publisher sent it may name no parent itself.
    children = {
        r.ref: programs[a.identifier]
        for a in activities
        if a.identifier in programs
        for r in a.related_activities
        if r.type == CHILD
    }
    findings = file_findings(xml)
    rows: dict[str, Row] = {}
    for position, ((line, sent), activity) in enumerate(zip(kept, activities, strict=True), 1):
        if activity.identifier in programs:
            continue  # the parent work program of an export: not an activity to import
        row = _row(
            line, activity, refs, programs, children.get(activity.identifier, default_program)
        )
        row.findings = findings.get(position, [])
        if row.state is not None:
            row.state["iati_xml"] = sent
        earlier = rows.pop(activity.identifier, None)
        if earlier is not None:
            row.warnings.append(f"identifier also on line {earlier.where}: this one is kept")
        rows[activity.identifier] = row
    return sorted(rows.values(), key=lambda r: r.where)


_POSITION = re.compile(r"^/iati-activities/iati-activity(?:\[(\d+)\])?")


def file_findings(xml: bytes) -> dict[int, list[dict[str, Any]]]:
    """IATI ruleset and codelist findings of a (schema-valid) file, by the position of their
    activity in it (1 = the first ``iati-activity``)."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    root = etree.fromstring(xml, parser)
    grouped: dict[int, list[dict[str, Any]]] = {}
    for finding in document_findings(root, utcnow().date()):
        at = _POSITION.match(finding.path)
        if at is not None:
            item = finding.as_dict()
            del item["category"]
            grouped.setdefault(int(at.group(1) or 1), []).append(item)
    return grouped


def _too_long(a: IatiActivity) -> list[tuple[str, str]]:
    """Values longer than the indexed columns hold (an index entry must fit a page)."""
    values = [
        ("identifier", a.identifier, IDENTIFIER_LENGTH),
        ("status", a.status, INDEXED_CODE_LENGTH),
        *(("sectors", s.code, INDEXED_CODE_LENGTH) for s in a.sectors),
    ]
    return [(n, f"longer than {limit} characters") for n, v, limit in values if len(v) > limit]


def _row(
    line: int,
    a: IatiActivity,
    refs: Refs,
    programs: dict[str, str],
    default_program: str | None,
) -> Row:
    reporter = (a.reporting_org.ref or "").strip()
    row = Row(where=line, identifier=a.identifier, body=None, reporter=reporter)
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
    for name, msg in _too_long(a):
        row.errors.append({"loc": ["body", name], "msg": msg, "type": "too_long"})
    if not row.errors:
        row.state, notes = iati_state(a, refs, refs.programs[program])
        row.warnings += notes
    return row
