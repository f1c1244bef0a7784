"""An IATI import keeps what the 2.03 schema allows as the publisher sent it, exports it back
the same (still valid), and refuses an activity only for Enlace's business rules: the
caller reports for its own organisation, leaves others' activities alone, and names a work
program. Everything else the API would refuse is a note of the report."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from services.cooperation.iati import parse_activities, schema_errors
from tests.cooperation.conftest import EPA_REF, OEFA_ENF, PROGRAM, As, fetch
from tests.cooperation.test_imports import as_exported, export_xml, import_xml, only

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
IDENTIFIER = f"{EPA_REF}-AS-SENT-01"
LONG_TITLE = "A title longer than five hundred characters. " * 14
LONG_VALUE = "a qualitative target that takes more than one hundred characters to say " * 2
BIG = "1234567890123456789.99"  # 10^18 and more, with cents


def document(*activities: str) -> bytes:
    """An activities file (its first activity on line 3)."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<iati-activities version="2.03" generated-datetime="2024-05-01T10:00:00">\n'
        + "".join(activities)
        + "</iati-activities>\n"
    ).encode()


def activity(**values: str) -> bytes:
    return document(element(**values))


def element(
    identifier: str = IDENTIFIER, reporter: str = EPA_REF, related: str = "", hierarchy: str = "0"
) -> str:
    """One activity with everything the API refuses and IATI allows (schema-valid); an
    offset-less datetime, dates with a timezone."""
    stamp = 'last-updated-datetime="2024-05-01T09:30:00"'
    return f""" <iati-activity {stamp} xml:lang="fr" hierarchy="{hierarchy}" default-currency="EUR">
  <iati-identifier> {identifier} </iati-identifier>
  <reporting-org ref="{reporter}" type="10"><narrative>EPA</narrative></reporting-org>
  <title><narrative>{LONG_TITLE}</narrative></title>
  <description type="2"><narrative>Objectifs seulement.</narrative></description>
  <participating-org role="4" type="22"><narrative>ONG locale</narrative></participating-org>
  <participating-org role="4" type="22"><narrative>ONG locale</narrative></participating-org>
  <participating-org role="3" ref="XM-OCHA-1"/>
  <participating-org role="3"/>
  <participating-org role="xx" ref="XX-UNKNOWN"/>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2020-01-01Z"/>
  <activity-date type="3" iso-date="2021-06-30+05:00"/>
  <activity-date type="9" iso-date="2019-12-01"/>
  <recipient-country code="AF" percentage="100"/>
  <location><name><narrative>Kandahar</narrative></name></location>
  <location ref="AF-KAN"/>
  <sector vocabulary="1" code="41010" percentage="33.333"/>
  <sector vocabulary="1" code="41081" percentage="66.667"/>
  <sector vocabulary="9" code="13.2" percentage="100"/>
  <policy-marker vocabulary="99" code="PM-01" significance="3"/>
  <budget type="1" status="1">
   <period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
   <value currency="EUR" value-date="2020-01-01">1000.125</value>
  </budget>
  <transaction>
   <transaction-type code="2"/><transaction-date iso-date="2020-02-01"/>
   <value value-date="2020-02-01">{BIG}</value>
  </transaction>
  <document-link url="ftp://files.example.org/report.pdf" format="application/pdf">
   <title><narrative>Rapport</narrative></title><category code="A01"/>
  </document-link>
  {related}
  <result type="1">
   <title><narrative>Results</narrative></title>
   <indicator measure="5">
    <title><narrative>Quality</narrative></title>
    <baseline year="2019" value="{LONG_VALUE}"/>
    <period>
     <period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
     <target value="{LONG_VALUE}"/><actual value="{LONG_VALUE}"/>
    </period>
   </indicator>
  </result>
 </iati-activity>
"""


async def test_an_activity_the_api_would_refuse_is_kept_as_sent_and_exported_back(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = activity()
    assert schema_errors(xml) == []
    response = await import_xml(gateway, epa, xml, program=PROGRAM)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["created"] == 1
    notes = " | ".join(n["note"] for n in report["notes"])
    assert "'xx' is not an IATI OrganisationRole code" in notes
    assert "kept as sent and exported as received (not modelled): recipient-country" in notes
    # Read back through the API: everything held as sent (the lead sees it, though the
    # file does not list it as a participant).
    body = (await fetch(gateway, IDENTIFIER, epa)).json()
    assert body["title_en"] == LONG_TITLE
    assert (body["description_en"], body["description_es"]) == (None, None)
    assert body["other_descriptions"] == [{"type": "2", "texts": {"fr": "Objectifs seulement."}}]
    assert (body["planned_start"], body["planned_end"]) == ("2020-01-01", "2021-06-30")
    assert body["other_dates"] == [{"type": "9", "iso_date": "2019-12-01"}]
    assert body["hierarchy"] == 0
    assert [(p["role"], p["ref"], p["name"]) for p in body["participants"]] == [
        (4, None, "ONG locale"),
        (4, None, "ONG locale"),
        (3, "XM-OCHA-1", None),
        (3, None, None),
        ("xx", "XX-UNKNOWN", None),
    ]
    assert [(s["vocabulary"], s["code"], s["percentage"]) for s in body["sectors"]] == [
        ("1", "41010", "33.333"),
        ("1", "41081", "66.667"),
        ("9", "13.2", "100.00"),
    ]
    assert body["policy_markers"] == [{"vocabulary": "99", "code": "PM-01", "significance": "3"}]
    assert body["locations"] == [
        {"department": None, "name": "Kandahar"},
        {"department": "AF-KAN", "name": None},
    ]
    assert body["budgets"][0]["value"] == "1000.125"
    assert body["transactions"][0]["value"] == BIG
    assert body["document_links"][0]["url"] == "ftp://files.example.org/report.pdf"
    indicator = body["results"][0]["indicators"][0]
    assert indicator["baseline"]["value"] == LONG_VALUE
    assert (indicator["periods"][0]["target"], indicator["periods"][0]["actual"]) == (
        LONG_VALUE,
        LONG_VALUE,
    )
    # Exported back: valid, and the same values.
    exported, (again,) = only(await export_xml(gateway, epa), {IDENTIFIER})
    assert schema_errors(exported) == []
    assert again.hierarchy == 0
    assert again.titles == {"fr": LONG_TITLE}  # as sent: the activity is in French
    assert [(d.type, dict(d.texts)) for d in again.other_descriptions] == [
        ("2", {"fr": "Objectifs seulement."})
    ]
    assert [(d.type, d.iso_date.isoformat()) for d in again.dates] == [
        ("1", "2020-01-01"),
        ("3", "2021-06-30"),
        ("9", "2019-12-01"),
    ]
    assert [(p.role, p.ref, p.name) for p in again.participating_orgs] == [
        ("4", None, "ONG locale"),
        ("4", None, "ONG locale"),
        ("3", "XM-OCHA-1", ""),
        ("3", None, ""),
        ("xx", "XX-UNKNOWN", ""),
    ]
    assert [s.percentage for s in again.sectors] == [
        Decimal("33.333"),
        Decimal("66.667"),
        Decimal("100.00"),
    ]
    assert [(s.vocabulary, s.code) for s in again.sectors][2] == ("9", "13.2")
    assert [m.code for m in again.policy_markers] == ["PM-01"]
    assert [(x.ref, x.name) for x in again.locations] == [(None, "Kandahar"), ("AF-KAN", None)]
    assert again.budgets[0].value == Decimal("1000.125")
    assert again.transactions[0].value == Decimal(BIG)
    assert again.document_links[0].url.startswith("ftp://")
    assert again.results[0].indicators[0].periods[0].target == LONG_VALUE
    # The matrix and the CSV take it as it is (exact sums; a location without a ref).
    matrix = await gateway.get(f"{API}/matrix", headers=epa, params={"program": PROGRAM})
    assert matrix.status_code == 200, matrix.text
    assert Decimal(matrix.json()["total"]["budget"]["EUR"]) == Decimal("1000.125")
    table = await gateway.get(f"{API}/activities", headers=epa, params={"format": "csv"})
    assert table.status_code == 200
    assert IDENTIFIER in table.text
    # Importing the export again changes nothing (the activity as exported: it names no
    # parent, as sent, and its program is the one given).
    repeat = await import_xml(
        gateway, epa, as_exported(await export_xml(gateway, epa), {IDENTIFIER}), program=PROGRAM
    )
    assert repeat.status_code == 200, repeat.text
    assert (repeat.json()["updated"], repeat.json()["unchanged"]) == (0, 1)
    # The lead sees it; another organisation does not (participants only, not one of them).
    oefa = await as_org("OEFA")
    hidden = await gateway.get(f"{API}/activities/{IDENTIFIER}", headers=oefa)
    assert hidden.status_code == 404


async def test_an_imported_activity_stays_editable_through_the_api(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    # The API's rules (codes, percentages adding up, the lead taking part ...) do not all
    # hold for it; a change is refused only for a problem it brings.
    epa = await as_org("EPA")
    assert (await import_xml(gateway, epa, activity(), program=PROGRAM)).status_code == 200
    current = await fetch(gateway, IDENTIFIER, epa)
    path = f"{API}/activities/{IDENTIFIER}"
    changed = await gateway.patch(
        path, json={"title_es": "Otro"}, headers=epa | {"If-Match": current.headers["etag"]}
    )
    assert changed.status_code == 200, changed.text
    sectors = [{"code": "41010", "percentage": "60"}]  # no longer adding up to 100
    new_problem = await gateway.patch(
        path, json={"sectors": sectors}, headers=epa | {"If-Match": changed.headers["etag"]}
    )
    assert new_problem.status_code == 422, new_problem.text
    assert [e["type"] for e in new_problem.json()["errors"]] == ["sector-percentages"]


@pytest.mark.parametrize(("reporter", "status"), [(EPA_REF, 200), ("US-GOV-1", 422)])
async def test_the_caller_reports_for_its_own_organisation_only(
    gateway: httpx.AsyncClient, as_org: As, reporter: str, status: int
) -> None:
    xml = activity(reporter=reporter)
    response = await import_xml(gateway, await as_org("EPA"), xml, program=PROGRAM)
    assert response.status_code == status, response.text
    if status == 422:
        (error,) = response.json()["errors"]
        assert (error["type"], error["row"]) == ("not_the_reporter", 3)


async def test_an_activity_another_organisation_leads_is_refused(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    # OEFA imports an activity EPA leads, reporting it as its own.
    oefa_ref = "PE-RUC-20521286769"
    xml = activity(identifier=OEFA_ENF, reporter=oefa_ref)
    response = await import_xml(gateway, await as_org("OEFA"), xml, program=PROGRAM)
    assert response.status_code == 422, response.text
    assert [e["type"] for e in response.json()["errors"]] == ["not_the_lead"]


async def test_an_activity_without_a_work_program_is_refused(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    response = await import_xml(gateway, epa, activity())
    assert response.status_code == 422, response.text
    assert [(e["type"], e["loc"]) for e in response.json()["errors"]] == [
        ("missing", ["body", "program"])
    ]
    unknown = await import_xml(gateway, epa, activity(), program="NO-SUCH-PROGRAM")
    assert unknown.status_code == 422
    # A parent link to a program of ours is enough.
    parent = f'<related-activity ref="PE-RUC-20492966658-{PROGRAM}" type="1"/>'
    linked = await import_xml(gateway, epa, activity(related=parent))
    assert linked.status_code == 200, linked.text
    assert (await fetch(gateway, IDENTIFIER, epa)).json()["program"] == PROGRAM


async def test_an_identifier_twice_in_a_file_keeps_the_later_activity(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = document(element(hierarchy="1"), element(hierarchy="2"))
    assert len(parse_activities(xml)) == 2
    response = await import_xml(gateway, epa, xml, program=PROGRAM)
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 1
    assert any("this one is kept" in n["note"] for n in response.json()["notes"])
    assert (await fetch(gateway, IDENTIFIER, epa)).json()["hierarchy"] == 2


async def test_identifiers_up_to_500_characters_are_kept_and_addressable(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    long = f"{EPA_REF}-" + "X" * (500 - len(EPA_REF) - 1)
    response = await import_xml(gateway, epa, activity(identifier=long), program=PROGRAM)
    assert response.status_code == 200, response.text
    assert (await fetch(gateway, long, epa)).json()["identifier"] == long
    too_long = await import_xml(gateway, epa, activity(identifier=long + "X"), program=PROGRAM)
    assert too_long.status_code == 422
    assert [(e["type"], e["row"]) for e in too_long.json()["errors"]] == [("too_long", 3)]
