"""Schema validation of IATI activity documents against the official 2.03 XSD.

The schema files are copied, unchanged, into ``schemas/`` beside this module (the
activities schema includes ``iati-common.xsd`` and imports ``xml.xsd``, so the three stay in
one folder). The compiled schema is built once per process and reused.
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lxml import etree

SCHEMA_DIR = Path(__file__).parent / "schemas"
ACTIVITIES_XSD = SCHEMA_DIR / "iati-activities-schema.xsd"
ORGANISATIONS_XSD = SCHEMA_DIR / "iati-organisations-schema.xsd"

# lxml keeps the last validation's messages on the schema object (``error_log``), so two
# threads validating at once would read each other's errors: validations take turns.
_VALIDATION_LOCK = threading.Lock()


@dataclass(frozen=True, slots=True)
class SchemaError:
    """One problem in a document: the line it is on (0 when unknown) and what is wrong."""

    line: int
    message: str


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken ruleset or codelist rule (``ruleset``, ``codelists``): where (line, XPath
    of the element), which rule (the IATI Validator's id), how bad, and why."""

    line: int
    rule: str
    severity: str  # "error" or "warning", as the ruleset says
    message: str
    path: str
    category: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "line": self.line,
            "rule": self.rule,
            "severity": self.severity,
            "message": self.message,
            "path": self.path,
            "category": self.category,
        }


def schema_errors(xml_bytes: bytes) -> list[SchemaError]:
    """Everything that keeps ``xml_bytes`` from being a valid IATI 2.03 activities file.

    Malformed XML is reported the same way (as the parser's errors), so an import screen
    can show one list, by line, whatever went wrong. An empty list means valid.
    """
    parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
    try:
        document = etree.fromstring(xml_bytes, parser)
    except etree.XMLSyntaxError as exc:
        # The parser's own log: ``exc.error_log`` can also hold earlier, unrelated messages
        # from the thread-wide log.
        entries = [SchemaError(e.line or 0, str(e.message)) for e in parser.error_log]
        return entries or [SchemaError(exc.lineno or 0, str(exc.msg))]
    docinfo = document.getroottree().docinfo
    if docinfo.internalDTD is not None or docinfo.externalDTD is not None or docinfo.doctype:
        # IATI needs no DTD; entity declarations are how XML bombs and file reads start.
        return [SchemaError(1, "DOCTYPE declarations (and entities) are not allowed")]
    with _VALIDATION_LOCK:
        schema = _activities_schema()
        try:
            if schema.validate(document):
                return []
        except etree.XMLSchemaValidateError as exc:
            return [SchemaError(0, f"the document cannot be validated: {exc}")]
        return [SchemaError(e.line or 0, str(e.message)) for e in schema.error_log]


def errors_by_line(errors: Iterable[SchemaError]) -> dict[int, list[str]]:
    """Group errors by line, lines in ascending order, for reporting an import back."""
    grouped: dict[int, list[str]] = {}
    for error in sorted(errors, key=lambda e: e.line):
        grouped.setdefault(error.line, []).append(error.message)
    return grouped


@functools.cache
def _activities_schema() -> Any:
    """The compiled activities schema; parsing the XSDs takes long enough to do it once."""
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    # Parsing from the path (not from bytes) gives lxml the base URL it needs to find the
    # included iati-common.xsd and imported xml.xsd in the same folder.
    return etree.XMLSchema(etree.parse(str(ACTIVITIES_XSD), parser))
