"""``GET /v1/activities/{identifier}/validation``: the IATI Validator's view of one activity
(the rules are applied in ``iati_rules``)."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field

from services.cooperation.activities.access import ONE_ERRORS, Reader
from services.cooperation.activities.editing import NOT_SEEN
from services.cooperation.activities.iati_map import activity_iati
from services.cooperation.activities.iati_rules import activity_document, parsed
from services.cooperation.activities.queries import IdentifierPath, visibility, visible_activity
from services.cooperation.activities.state import load_refs, state_of
from services.cooperation.iati.ruleset import document_findings
from shared.db import SessionDep, utcnow
from shared.problems import Problem


class FindingOut(BaseModel):
    line: int = Field(description="Line in the activity's IATI document (`document` below).")
    rule: str = Field(description="IATI Standard ruleset id (e.g. 6.2.2) or codelist:<Codelist>.")
    severity: Literal["error", "warning"]
    message: str
    path: str = Field(description="XPath of the element (or attribute) it is about.")


class ValidationReport(BaseModel):
    """The IATI Validator's view of one activity as Enlace exports it now."""

    identifier: str
    valid: bool = Field(description="True when no finding has severity error.")
    errors: int
    warnings: int
    findings: list[FindingOut]
    document: str = Field(description="The activity alone as IATI 2.03 XML (lines refer here).")


router = APIRouter(prefix="/v1", tags=["activities"])


@router.get(
    "/activities/{identifier}/validation",
    summary="Validate an activity against the IATI Standard ruleset",
    description="The IATI Standard ruleset (rulesets/standard.json, version-2.03) and codelist "
    "findings of the activity as the IATI export writes it, each with its line, rule id and "
    "severity, as the IATI Validator lists them. Imported activities are stored as sent, so "
    "they may have findings; activities written through the API have no errors. Same access "
    "as the activity: 404 when it does not exist or you may not see it.",
    response_model=ValidationReport,
    responses=ONE_ERRORS,
)
async def validate_activity(
    identifier: IdentifierPath, session: SessionDep, principal: Reader
) -> ValidationReport:
    seen = await visibility(session, principal, public_only=False)
    activity = await visible_activity(session, identifier, seen)
    if activity is None:
        raise Problem(404, "not-found", NOT_SEEN)
    refs = await load_refs(session)
    iati = activity_iati(state_of(activity), refs, activity.updated_at)
    document = activity_document(iati)
    found = document_findings(parsed(document), utcnow().date())
    errors = sum(f.severity == "error" for f in found)
    return ValidationReport(
        identifier=activity.identifier,
        valid=not errors,
        errors=errors,
        warnings=len(found) - errors,
        findings=[FindingOut.model_validate(f.as_dict()) for f in found],
        document=document.decode(),
    )
