"""The IATI Standard ruleset and codelists applied to an activity as Enlace exports it.

An API write (or a spreadsheet row) may not break a rule of severity ``error``: each such
finding becomes a 422 error naming the rule (``type`` ``iati-rule``, ``rule`` its IATI
Validator id) and the field it is about. An IATI import is kept as sent; its findings are
reported instead (``exchange.iati_import``). ``GET /v1/activities/{id}/validation`` lists
the findings of the activity's current IATI form, by line of that document.
"""

from __future__ import annotations

import re
from datetime import date

from lxml import etree

from services.cooperation.activities.normalize import Error
from services.cooperation.iati import IatiActivity, write_activities
from services.cooperation.iati.ruleset import document_findings
from services.cooperation.iati.validate import Finding
from shared.db import utcnow

# IATI element (first step below iati-activity) -> API field.
FIELDS = {
    "iati-identifier": "identifier",
    "reporting-org": "identifier",
    "title": "title_en",
    "description": "description_en",
    "participating-org": "participants",
    "activity-date": "planned_start",
    "recipient-country": "locations",
    "recipient-region": "locations",
    "location": "locations",
    "sector": "sectors",
    "policy-marker": "policy_markers",
    "budget": "budgets",
    "transaction": "transactions",
    "document-link": "document_links",
    "result": "results",
    "tag": "action_areas",
}
# Rules whose remedy is a field of the activity itself, wherever the finding points.
RULE_FIELDS = {
    "7.8.1": "default_currency",
    "4.1.1": "title_en",
    "6.2.2": "sectors",
    "6.11.1": "planned_start",
    "11.1.3": "actual_start",
    "11.1.4": "actual_start",
    "11.1.5": "actual_end",
}
LISTS = frozenset(
    {"participants", "locations", "sectors", "policy_markers", "budgets", "transactions"}
    | {"document_links", "results"}
)
_STEP = re.compile(r"^/iati-activities/iati-activity(?:\[\d+\])?/([a-z-]+)(?:\[(\d+)\])?")


def activity_document(activity: IatiActivity) -> bytes:
    """The activity alone as an IATI activities document (what the lines refer to)."""
    return b"".join(write_activities([activity], generated=utcnow()))


def activity_findings(activity: IatiActivity, today: date) -> list[Finding]:
    """Ruleset and codelist findings of the activity's IATI form."""
    return document_findings(parsed(activity_document(activity)), today)


def parsed(document: bytes) -> etree._Element:
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    return etree.fromstring(document, parser)


def field_of(finding: Finding) -> list[str]:
    """The API field (and index, where there is one) a finding is about."""
    if finding.rule in RULE_FIELDS:
        return [RULE_FIELDS[finding.rule]]
    if finding.path.endswith("iati-activity/@default-currency"):
        return ["default_currency"]
    step = _STEP.match(finding.path)
    if step is None:
        return []
    name, index = step.groups()
    field = FIELDS.get(name, name.replace("-", "_"))
    if field not in LISTS:
        return [field]
    return [field, str(int(index or 1) - 1)]


def rule_errors(findings: list[Finding]) -> list[Error]:
    """The 422 errors for the findings of severity ``error``."""
    return [
        {
            "loc": ["body", *field_of(f)],
            "msg": f"IATI rule {f.rule}: {f.message}",
            "type": "iati-rule",
            "rule": f.rule,
        }
        for f in findings
        if f.severity == "error"
    ]
