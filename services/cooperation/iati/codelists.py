"""IATI codelists: their codes, and the attribute values of a document that are not in them.

The codelists are copied, unchanged, into ``schemas/codelists/`` (sources and licence in
its ``LICENSE``). The XSD does not hold codes to their lists, the IATI Validator does: each
value outside its codelist is a finding with rule id ``codelist:<Codelist>`` (the
Validator names the codelist the same way in its messages), severity ``error``.
Vocabulary-dependent lists apply only to their vocabulary: Sector to sectors of vocabulary
1 (or none), SectorCategory to vocabulary 2, PolicyMarker to policy markers of vocabulary 1
(or none); other vocabularies (98, 99 ...) are the publisher's own codes.
"""

from __future__ import annotations

import functools
from pathlib import Path

from lxml import etree

from .validate import Finding

CODELISTS = Path(__file__).parent / "schemas" / "codelists"

DAC = "not(@vocabulary) or @vocabulary='' or @vocabulary='1'"  # vocabulary 1, or none
# (XPath of the values, codelist) for an iati-activities document.
ACTIVITY_CODES: tuple[tuple[str, str], ...] = (
    ("//@default-currency | //@currency", "Currency"),
    ("/iati-activities/iati-activity/@xml:lang | //narrative/@xml:lang", "Language"),
    ("//document-link/language/@code", "Language"),
    ("//document-link/@format", "FileFormat"),
    ("//document-link/category/@code", "DocumentCategory"),
    ("//activity-status/@code", "ActivityStatus"),
    ("//activity-date/@type", "ActivityDateType"),
    ("//participating-org/@role", "OrganisationRole"),
    ("//reporting-org/@type | //participating-org/@type", "OrganisationType"),
    ("//provider-org/@type | //receiver-org/@type", "OrganisationType"),
    ("//recipient-country/@code", "Country"),
    (f"//sector[{DAC}]/@code", "Sector"),
    ("//sector[@vocabulary='2']/@code", "SectorCategory"),
    ("//sector/@vocabulary", "SectorVocabulary"),
    (f"//policy-marker[{DAC}]/@code", "PolicyMarker"),
    ("//policy-marker/@significance", "PolicySignificance"),
    ("//policy-marker/@vocabulary", "PolicyMarkerVocabulary"),
    ("//budget/@type", "BudgetType"),
    ("//budget/@status", "BudgetStatus"),
    ("//transaction/transaction-type/@code", "TransactionType"),
    ("//result/@type", "ResultType"),
    ("//result/indicator/@measure", "IndicatorMeasure"),
    ("/iati-activities/iati-activity/description/@type", "DescriptionType"),
    ("//related-activity/@type", "RelatedActivityType"),
    ("//tag/@vocabulary", "TagVocabulary"),
)  # fmt: skip


@functools.cache
def labels(codelist: str) -> dict[str, str]:
    """``{code: English name}`` of the codelist's items that are not withdrawn."""
    path: Path = CODELISTS / f"{codelist}.xml"
    parser = etree.XMLParser(resolve_entities=False, no_network=True)
    root = etree.parse(str(path), parser).getroot()
    found: dict[str, str] = {}
    for item in root.iter("codelist-item"):
        if item.get("status") == "withdrawn":
            continue
        code = item.findtext("code")
        name = item.find("name")
        narrative = name.findtext("narrative") if name is not None else None
        if code:
            found[code.strip()] = (narrative or "").strip()
    return found


@functools.cache
def codes(codelist: str) -> frozenset[str]:
    """The codes of a codelist that are not withdrawn."""
    return frozenset(labels(codelist))


def codelist_findings(root: etree._Element) -> list[Finding]:
    """Each attribute value of an iati-activities document that is not in its codelist."""
    tree = root.getroottree()
    findings = []
    for xpath, codelist in ACTIVITY_CODES:
        allowed = codes(codelist)
        for value in root.xpath(xpath):
            if str(value) in allowed:
                continue
            element = value.getparent()
            name = value.attrname if hasattr(value, "attrname") else ""
            name = name.replace("{http://www.w3.org/XML/1998/namespace}", "xml:")
            findings.append(
                Finding(
                    line=element.sourceline or 0,
                    rule=f"codelist:{codelist}",
                    severity="error",
                    message=f"{element.tag}/@{name} {str(value)!r} is not a code of the "
                    f"{codelist} codelist.",
                    path=f"{tree.getpath(element)}/@{name}",
                    category="codelists",
                )
            )
    findings.sort(key=lambda f: f.line)
    return findings
