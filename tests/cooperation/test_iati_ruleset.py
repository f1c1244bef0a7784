"""The IATI Standard ruleset (``rulesets/standard.json``) and codelist membership, applied
to small documents: each rule kind the JSON uses, findings by line, rule id and severity."""

from __future__ import annotations

import json
from datetime import date

import pytest
from lxml import etree

from services.cooperation.iati.codelists import codelist_findings
from services.cooperation.iati.ruleset import KINDS, RULESET, document_findings, ruleset

TODAY = date(2026, 12, 1)
ACTIVITY = """<iati-activities version="2.03">
<iati-activity xml:lang="en" default-currency="USD" last-updated-datetime="2026-11-01T00:00:00Z">
  <iati-identifier>US-GOV-1-ACT-1</iati-identifier>
  <reporting-org ref="US-GOV-1" type="10"><narrative>USAID</narrative></reporting-org>
  <title><narrative>A title</narrative></title>
  <description type="1"><narrative>A description</narrative></description>
  <participating-org ref="US-GOV-1" role="1"/>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2025-01-01"/>
  <activity-date type="3" iso-date="2026-12-31"/>
  <recipient-country code="PE"/>
  <sector code="41010" percentage="60"/>
  <sector code="41020" percentage="40"/>
  <policy-marker vocabulary="1" code="2" significance="1"/>
  <budget type="1" status="1">
    <period-start iso-date="2025-01-01"/>
    <period-end iso-date="2025-12-31"/>
    <value value-date="2025-01-01">1000</value>
  </budget>
  <document-link url="https://example.org/r.pdf" format="application/pdf">
    <title><narrative>Report</narrative></title>
    <category code="A07"/>
    <language code="es"/>
  </document-link>
  <!--MORE-->
</iati-activity>
</iati-activities>
"""


def findings(xml: str) -> list[tuple[int, str, str]]:
    root = etree.fromstring(xml.encode())
    return [(f.line, f.rule, f.severity) for f in document_findings(root, TODAY)]


def changed(old: str, new: str) -> str:
    assert old in ACTIVITY
    return ACTIVITY.replace(old, new)


def test_every_rule_kind_of_the_ruleset_is_implemented() -> None:
    data = json.loads(RULESET.read_text(encoding="utf-8"))
    kinds = {k for rules in data.values() for k in rules} - {"loop"}
    kinds |= {k for rules in data.values() for c in rules.get("loop", {}).get("cases", [])
              for k in c["do"]}  # fmt: skip
    assert kinds <= set(KINDS)
    assert len(ruleset()) == len(data)


def test_a_document_that_keeps_every_rule_has_no_finding() -> None:
    assert findings(ACTIVITY) == []


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        # atleast_one with a condition: a vocabulary-1 policy marker needs a significance.
        (' significance="1"', "", (14, "6.14.1", "error")),
        # atleast_one over two paths: a sector at activity level or in every transaction.
        ('<sector code="41010" percentage="60"/>\n  <sector code="41020" percentage="40"/>',
         "", (2, "6.2.2", "error")),
        # one_or_all: no default currency and a value without @currency.
        (' default-currency="USD"', "", (18, "7.8.1", "error")),
        # one_or_all: no default language and a narrative without xml:lang.
        (' xml:lang="en"', "", (4, "4.1.1", "error")),
        # date_order: planned start after planned end.
        ('type="1" iso-date="2025-01-01"', 'type="1" iso-date="2027-01-01"',
         (9, "11.1.2", "error")),
        # date_order against NOW: an actual start in the future.
        ("<!--MORE-->", '<activity-date type="2" iso-date="2027-01-01"/>',
         (25, "11.1.4", "error")),
        # date_now: last updated in the future.
        ("2026-11-01T00:00:00Z", "2027-01-01T00:00:00Z", (2, "11.1.1", "error")),
        # time_limit: a budget period of more than a year.
        ('<period-end iso-date="2025-12-31"/>', '<period-end iso-date="2026-01-01"/>',
         (15, "7.5.3", "error")),
        # strict_sum (vocabulary 1): percentages that do not add up to 100.
        ('percentage="40"', 'percentage="40.01"', (2, "2.1.2", "error")),
        # unique: the activity identifier equal to the organisation identifier.
        ("<iati-identifier>US-GOV-1-ACT-1", "<iati-identifier>US-GOV-1", (3, "1.1.3", "error")),
        # startswith: the identifier does not begin with the reporting-org ref.
        ("<iati-identifier>US-GOV-1-ACT-1", "<iati-identifier>XM-DAC-1-ACT-1",
         (3, "1.1.21", "warning")),
        # range: a percentage above 100.
        ('<recipient-country code="PE"/>', '<recipient-country code="PE" percentage="101"/>',
         (11, "12.1.1", "error")),
        # if_then: a single recipient country with a percentage other than 100.
        ('<recipient-country code="PE"/>', '<recipient-country code="PE" percentage="50"/>',
         (2, "3.1.4", "error")),
        # regex_matches: a slash in the identifier (of a publisher not on the Registry).
        ("<iati-identifier>US-GOV-1-ACT-1", "<iati-identifier>PE-RUC-20492966658-A/1",
         (3, "1.3.13", "warning")),
        # no_spaces: an identifier ending in a space.
        ("<iati-identifier>US-GOV-1-ACT-1", "<iati-identifier>US-GOV-1-ACT-1 ",
         (3, "1.3.1", "warning")),
        # no_more_than_one: two OECD DAC default aid types.
        ("<!--MORE-->", '<default-aid-type code="A01"/><default-aid-type code="A02"/>',
         (25, "107.1.2", "warning")),
        # date_order in a nested context: an indicator period that ends before it starts.
        ("<!--MORE-->", '<result type="1"><title><narrative>R</narrative></title>'
         '<indicator measure="5"><title><narrative>I</narrative></title><period>'
         '<period-start iso-date="2025-02-01"/><period-end iso-date="2025-01-01"/>'
         "</period></indicator></result>", (25, "8.6.1", "error")),
        # loop + strict_sum: vocabulary-2 sectors that do not add up to 100.
        ("<!--MORE-->", '<sector vocabulary="2" code="410" percentage="50"/>'
         '<sector vocabulary="2" code="311" percentage="20"/>', (2, "2.1.2", "error")),
    ],
)  # fmt: skip
def test_each_rule_kind_reports_its_rule(old: str, new: str, expected: tuple) -> None:
    assert expected in findings(changed(old, new))


def test_sectors_in_every_transaction_instead_of_the_activity_pass_6_7_2() -> None:
    without = changed(
        '<sector code="41010" percentage="60"/>\n  <sector code="41020" percentage="40"/>', ""
    )
    transaction = (
        '<transaction><transaction-type code="3"/><transaction-date iso-date="2025-02-01"/>'
        '<value value-date="2025-02-01">10</value>{}</transaction>'
    )
    sector = '<sector vocabulary="1" code="41010"/>'
    both = without.replace("<!--MORE-->", transaction.format(sector) * 2)
    assert findings(both) == []
    one = without.replace("<!--MORE-->", transaction.format(sector) + transaction.format(""))
    assert [f[1:] for f in findings(one)] == [("6.7.2", "error")]


def test_registered_identifiers_and_agency_prefixes_pass_1_14_8() -> None:
    # US-GOV-1 (the IATI Registry's id for USAID) is no agency prefix but registered.
    assert findings(ACTIVITY) == []
    local = ACTIVITY.replace("US-GOV-1", "PE-ENLACE-EPA")
    assert (4, "1.14.8", "warning") in findings(local)
    ruc = ACTIVITY.replace("US-GOV-1", "PE-RUC-20492966658")
    assert findings(ruc) == []


@pytest.mark.parametrize(
    ("old", "new", "rule"),
    [
        ('format="application/pdf"', 'format="application/x-unknown"', "codelist:FileFormat"),
        ('<language code="es"/>', '<language code="xx"/>', "codelist:Language"),
        ('xml:lang="en"', 'xml:lang="xx"', "codelist:Language"),
        ("<!--MORE-->", '<sector vocabulary="2" code="999"/>', "codelist:SectorCategory"),
        ('code="41010"', 'code="99999"', "codelist:Sector"),
        ('default-currency="USD"', 'default-currency="XXX"', "codelist:Currency"),
        ('significance="1"', 'significance="9"', "codelist:PolicySignificance"),
    ],
)
def test_values_outside_their_codelist_are_findings(old: str, new: str, rule: str) -> None:
    root = etree.fromstring(changed(old, new).encode())
    found = codelist_findings(root)
    assert [f.rule for f in found] == [rule]
    assert found[0].severity == "error"
    assert found[0].line == next(n for n, line in enumerate(changed(old, new).split("\n"), 1)
                                 if new.strip("<>/") in line)  # fmt: skip


def test_other_vocabularies_are_the_publishers_own_codes() -> None:
    own = changed("<!--MORE-->", '<policy-marker vocabulary="99" code="PM-01" significance="1">'
                  "<narrative>Own marker</narrative></policy-marker>")  # fmt: skip
    assert findings(own) == []
