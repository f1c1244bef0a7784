"""Files in the style of real publishers (``data/iati/publishers``: USAID, UNDP, a Peruvian
ministry), each imported by the organisation that reports it: accepted, exported back the
same (compared canonically), no new ruleset finding on the export, and pulled as tables
and organisation files by donors."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree

from services.cooperation.iati import parse_activities, schema_errors
from services.cooperation.iati.ruleset import document_findings
from services.cooperation.iati.validate import ORGANISATIONS_XSD
from tests.cooperation.conftest import PROGRAM, As
from tests.cooperation.test_iati_standard_files import DATA, IMPORT, XML, round_trip

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
PUBLISHERS = DATA / "publishers"
# file -> (the organisation that reports it, its IATI ref)
FILES = {
    "usaid.xml": ("USAID", "US-GOV-1"),
    "usaid-extensions.xml": ("USAID", "US-GOV-1"),
    "undp.xml": ("UNDP", "XM-DAC-41114"),
    "minam.xml": ("MINAM", "PE-RUC-20492966658"),
}
# What the ruleset finds in the files as sent (UNDP declares recipient countries both on
# the activity and on two of its transactions): kept as sent, reported by line.
AS_SENT = {"undp.xml": [(4, "3.6.2", "error")]}


def ruleset_findings(xml: bytes) -> list[tuple[int, str, str]]:
    today = datetime.now(UTC).date()
    return [(f.line, f.rule, f.severity) for f in document_findings(etree.fromstring(xml), today)]


async def imported(gateway: httpx.AsyncClient, as_org: As, name: str) -> dict[str, Any]:
    org, _ref = FILES[name]
    headers = await as_org(org)
    xml = (PUBLISHERS / name).read_bytes()
    response = await gateway.post(
        IMPORT,
        content=xml,
        headers=headers | XML,
        params={"program": PROGRAM, "visibility": "public"},
    )
    assert response.status_code == 200, response.text
    return {"headers": headers, "xml": xml, "report": response.json()}


@pytest.mark.parametrize("name", sorted(FILES))
async def test_a_publisher_file_imports_and_round_trips(
    gateway: httpx.AsyncClient, as_org: As, name: str
) -> None:
    xml = (PUBLISHERS / name).read_bytes()
    assert schema_errors(xml) == []
    assert ruleset_findings(xml) == AS_SENT.get(name, [])
    found = await imported(gateway, as_org, name)
    report, headers = found["report"], found["headers"]
    identifiers = [a.identifier for a in parse_activities(xml)]
    assert report["created"] == len(identifiers)
    assert [(f["line"], f["rule"], f["severity"]) for f in report["findings"]] == AS_SENT.get(
        name, []
    )
    notes = " ".join(n["note"] for n in report["notes"])
    if name == "usaid-extensions.xml":  # elements of other namespaces: kept and exported
        assert "usg:treasury-account, akvo:photo-url" in notes
    assert await round_trip(gateway, headers, xml) == []
    # No finding on the export that the file did not have.
    export = await gateway.get(
        f"{API}/iati/activities.xml", params={"iati_identifier": identifiers}, headers=headers
    )
    assert export.status_code == 200, export.text
    assert Counter(f[1:] for f in ruleset_findings(export.content)) == Counter(
        f[1:] for f in AS_SENT.get(name, [])
    )


def transactions_in(xml: bytes) -> Counter[tuple[str, str, Decimal, str]]:
    root = etree.fromstring(xml)
    found: Counter[tuple[str, str, Decimal, str]] = Counter()
    for activity in root.iter("iati-activity"):
        identifier = activity.findtext("iati-identifier") or ""
        default = activity.get("default-currency") or ""
        for t in activity.iterchildren("transaction"):
            kind = t.find("transaction-type").get("code")
            value = t.find("value")
            found[(identifier, kind, Decimal(value.text), value.get("currency") or default)] += 1
    return found


async def test_donors_pull_every_transaction_of_the_files(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    sent: Counter[tuple[str, str, Decimal, str]] = Counter()
    identifiers: list[str] = []
    for name in FILES:
        found = await imported(gateway, as_org, name)
        sent += transactions_in(found["xml"])
        identifiers += [a.identifier for a in parse_activities(found["xml"])]
    usaid = await as_org("USAID")
    response = await gateway.get(
        f"{API}/activities",
        params={"format": "csv", "level": "transaction", "iati_identifier": identifiers},
        headers=usaid,
    )
    assert response.status_code == 200, response.text
    rows = list(csv.DictReader(io.StringIO(response.text)))
    pulled = Counter(
        (r["activity_identifier"], r["transaction_type_code"], Decimal(r["value"]), r["currency"])
        for r in rows
    )
    assert pulled == sent
    by_ref = {r["transaction_ref"] for r in rows if r["transaction_ref"]}
    assert by_ref == {"AID-527-A-17-00003-OBL-1", "KFW-2021-001"}
    ecuador = [r for r in rows if r["recipient_country_code"] == "EC"]
    assert [(r["sectors"], r["currency"]) for r in ecuador] == [("31220", "EUR")]

    async def listed(**params: Any) -> set[str]:
        found = await gateway.get(
            f"{API}/activities", params=params | {"limit": 200}, headers=usaid
        )
        assert found.status_code == 200, found.text
        return {a["identifier"] for a in found.json()["items"]}

    assert await listed(recipient_country="EC") == {"XM-DAC-41114-OUTPUT-00118523"}
    assert await listed(recipient_region="489") == {"XM-DAC-41114-OUTPUT-00118524"}


@pytest.mark.parametrize("name", sorted(FILES))
async def test_the_reporting_organisation_file_of_each_publisher_validates(
    gateway: httpx.AsyncClient, as_org: As, name: str
) -> None:
    await imported(gateway, as_org, name)
    _org, ref = FILES[name]
    response = await gateway.get(f"{API}/public/iati/organisations/{ref}.xml")
    assert response.status_code == 200, response.text
    schema = etree.XMLSchema(etree.parse(str(ORGANISATIONS_XSD)))
    document = etree.fromstring(response.content)
    schema.assertValid(document)
    assert document.findtext("iati-organisation/organisation-identifier") == ref
    assert document.findall("iati-organisation/total-budget")
    assert ruleset_findings(response.content) == []  # the organisation rules too
