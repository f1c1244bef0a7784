"""The IATI Standard ruleset and codelists around the API: a write that would break a rule
of severity error is a 422 naming the rule and the field (and changes nothing); an import
keeps what breaks a rule as sent and lists each finding by line, rule id and severity; the
validation report of one activity does the same for its IATI form."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.cooperation.conftest import EPA_REF, IUU, OEFA_ENF, PROGRAM, As, new_activity
from tests.cooperation.test_imports import import_xml

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
LINK = {"url": "https://enlace.example/r.pdf", "format": "application/pdf", "title": "R"}


@pytest.mark.parametrize(
    ("changes", "rule", "loc"),
    [
        ({"policy_markers": [{"code": "2"}]}, "6.14.1", ["body", "policy_markers", "0"]),
        (
            {"budgets": [{"period_start": "2025-01-01", "period_end": "2025-12-31",
                          "value": "10", "value_date": "2025-01-01"}]},
            "7.8.1",
            ["body", "default_currency"],
        ),
        (
            {"document_links": [LINK | {"category": "A07", "format": "application/x-nothing"}]},
            "codelist:FileFormat",
            ["body", "document_links", "0"],
        ),
        (
            {"document_links": [LINK | {"category": "A07", "language": "xx"}]},
            "codelist:Language",
            ["body", "document_links", "0"],
        ),
        (
            {"sectors": [{"code": "999", "vocabulary": "2"}]},
            "codelist:SectorCategory",
            ["body", "sectors", "0"],
        ),
    ],
)  # fmt: skip
async def test_a_write_that_breaks_a_rule_is_a_422_naming_it(
    gateway: httpx.AsyncClient, as_org: As, changes: dict[str, Any], rule: str, loc: list[str]
) -> None:
    epa = await as_org("EPA")
    body = new_activity(f"{EPA_REF}-RULE-01", **changes)
    response = await gateway.post(f"{API}/activities", json=body, headers=epa)
    assert response.status_code == 422, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    errors = response.json()["errors"]
    assert [(e["rule"], e["loc"]) for e in errors] == [(rule, loc)]
    assert errors[0]["msg"].startswith(f"IATI rule {rule}: ")
    missing = await gateway.get(f"{API}/activities/{EPA_REF}-RULE-01", headers=epa)
    assert missing.status_code == 404  # nothing was written


async def test_an_edit_that_breaks_a_rule_changes_nothing(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    before = await gateway.get(f"{API}/activities/{OEFA_ENF}", headers=epa)
    patch = await gateway.patch(
        f"{API}/activities/{OEFA_ENF}",
        json={"policy_markers": [{"code": "5"}]},
        headers=epa | {"If-Match": before.headers["etag"]},
    )
    assert patch.status_code == 422, patch.text
    assert patch.json()["errors"][0]["rule"] == "6.14.1"
    after = await gateway.get(f"{API}/activities/{OEFA_ENF}", headers=epa)
    assert after.json() == before.json()


def imported(identifier: str) -> bytes:
    """An activity (first on line 3) with the values the importer once let through silently."""
    return f"""<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03">
 <iati-activity xml:lang="en" last-updated-datetime="2024-05-01T09:30:00Z">
  <iati-identifier>{identifier}</iati-identifier>
  <reporting-org ref="{EPA_REF}" type="10"><narrative>EPA</narrative></reporting-org>
  <title><narrative>Imported with findings</narrative></title>
  <description type="1"><narrative>Stored as sent.</narrative></description>
  <participating-org role="1" ref="{EPA_REF}"><narrative>EPA</narrative></participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2024-01-01"/>
  <recipient-country code="PE"/>
  <sector vocabulary="2" code="999"/>
  <policy-marker vocabulary="1" code="2"/>
  <budget type="1" status="1">
   <period-start iso-date="2024-01-01"/><period-end iso-date="2024-12-31"/>
   <value value-date="2024-01-01">1000</value>
  </budget>
  <document-link url="https://enlace.example/r.doc" format="application/x-nothing">
   <title><narrative>Report</narrative></title><category code="A07"/><language code="xx"/>
  </document-link>
  <related-activity ref="PE-RUC-20492966658-{PROGRAM}" type="1"/>
 </iati-activity>
</iati-activities>
""".encode()


EXPECTED = {
    (12, "codelist:SectorCategory", "error"),
    (13, "6.14.1", "error"),
    (16, "7.8.1", "error"),
    (18, "codelist:FileFormat", "error"),
    (19, "codelist:Language", "error"),
    (3, "102.1.1", "warning"),  # a sector, but none of vocabulary 1
}


async def test_an_import_keeps_what_breaks_a_rule_and_reports_each_finding(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    identifier = f"{EPA_REF}-FINDINGS-01"
    response = await import_xml(gateway, epa, imported(identifier))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1
    assert report["rejected"] == []
    found = {(f["line"], f["rule"], f["severity"]) for f in report["findings"]}
    assert found == EXPECTED
    assert {f["row"] for f in report["findings"]} == {3}
    assert {f["identifier"] for f in report["findings"]} == {identifier}

    stored = await gateway.get(f"{API}/activities/{identifier}", headers=epa)
    body = stored.json()
    assert body["policy_markers"][0]["significance"] is None
    assert body["sectors"][0]["code"] == "999"
    assert body["document_links"][0]["format"] == "application/x-nothing"

    validation = await gateway.get(f"{API}/activities/{identifier}/validation", headers=epa)
    assert validation.status_code == 200, validation.text
    result = validation.json()
    assert result["valid"] is False
    rules = {f["rule"] for f in result["findings"] if f["severity"] == "error"}
    assert {"6.14.1", "7.8.1", "codelist:FileFormat", "codelist:Language"} <= rules
    lines = result["document"].split("\n")
    marker = next(f for f in result["findings"] if f["rule"] == "6.14.1")
    assert "<policy-marker" in lines[marker["line"] - 1]

    # Still editable: only a problem an edit brings is refused.
    url, etag = f"{API}/activities/{identifier}", stored.headers["etag"]
    edit = await gateway.patch(url, json={"title_en": "Renamed"}, headers=epa | {"If-Match": etag})
    assert edit.status_code == 200, edit.text
    markers = [{"code": "2"}, {"code": "5"}]
    worse = await gateway.patch(
        url, json={"policy_markers": markers}, headers=epa | {"If-Match": edit.headers["etag"]}
    )
    assert worse.status_code == 422, worse.text
    assert [(e["rule"], e["loc"]) for e in worse.json()["errors"]] == [
        ("6.14.1", ["body", "policy_markers", "1"])
    ]


async def test_the_validation_report_has_the_access_rules_of_the_activity(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa, produce = await as_org("EPA"), await as_org("PRODUCE")
    ok = await gateway.get(f"{API}/activities/{OEFA_ENF}/validation", headers=epa)
    assert ok.status_code == 200
    assert ok.json()["valid"] is True
    assert ok.json()["errors"] == 0
    assert (await gateway.get(f"{API}/activities/{IUU}/validation", headers=epa)).status_code == 404
    seen = await gateway.get(f"{API}/activities/{IUU}/validation", headers=produce)
    assert seen.status_code == 200
    assert (await gateway.get(f"{API}/activities/{OEFA_ENF}/validation")).status_code == 401
    unknown = await gateway.get(f"{API}/activities/{EPA_REF}-NONE/validation", headers=epa)
    assert unknown.status_code == 404
    assert unknown.headers["content-type"].startswith("application/problem+json")
    paths = (await gateway.get("/openapi.json")).json()["paths"]
    route = paths[f"{API}/activities/{{identifier}}/validation"]["get"]
    assert route["security"] == [{"OAuth2": ["cooperation:read"]}]
    assert set(route["responses"]) >= {"200", "401", "404"}
