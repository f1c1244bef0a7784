"""IATI 2.03 for the cooperation service: model, XML export/import, schema and ruleset checks.

Pure functions and dataclasses only (no database, no HTTP): the service maps its rows to
:class:`IatiActivity` and back.
"""

from .model import (
    DECIMAL_CONTEXT,
    MAX_DECIMAL_DIGITS,
    IatiActivity,
    IatiActivityDate,
    IatiBaseline,
    IatiBudget,
    IatiDescription,
    IatiDocumentLink,
    IatiIndicator,
    IatiLocation,
    IatiOrganisationRef,
    IatiParticipatingOrg,
    IatiPeriod,
    IatiPolicyMarker,
    IatiRelatedActivity,
    IatiResult,
    IatiSector,
    IatiTag,
    IatiTransaction,
)
from .rules import FundingStatus, funding_status, ruleset_errors, sector_percentage_errors
from .validate import SchemaError, errors_by_line, schema_errors
from .xml import IATI_VERSION, IatiParseError, parse_activities, write_activities

__all__ = [
    "DECIMAL_CONTEXT",
    "IATI_VERSION",
    "MAX_DECIMAL_DIGITS",
    "FundingStatus",
    "IatiActivity",
    "IatiActivityDate",
    "IatiBaseline",
    "IatiBudget",
    "IatiDescription",
    "IatiDocumentLink",
    "IatiIndicator",
    "IatiLocation",
    "IatiOrganisationRef",
    "IatiParseError",
    "IatiParticipatingOrg",
    "IatiPeriod",
    "IatiPolicyMarker",
    "IatiRelatedActivity",
    "IatiResult",
    "IatiSector",
    "IatiTag",
    "IatiTransaction",
    "SchemaError",
    "errors_by_line",
    "funding_status",
    "parse_activities",
    "ruleset_errors",
    "schema_errors",
    "sector_percentage_errors",
    "write_activities",
]
