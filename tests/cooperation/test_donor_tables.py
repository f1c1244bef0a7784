"""Donor pull as tables and organisation files: CSV and XLSX at three levels (activity,
transaction, budget) with labels in Spanish and English, a BOM for Excel, the activity
list's filters; recipient countries and regions as each activity declares them; the IATI
organisation file of a reporting organisation, valid against the official schema."""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from lxml import etree
from openpyxl import load_workbook

from services.cooperation.activities.csv_export import CSV_COLUMNS
from services.cooperation.activities.tables import BUDGET_COLUMNS, TRANSACTION_COLUMNS, XLSX
from services.cooperation.iati import parse_activities
from services.cooperation.iati.ruleset import ruleset_findings
from services.cooperation.iati.validate import ORGANISATIONS_XSD
from tests.cooperation.conftest import EPA_REF, OEFA_ENF, PROGRAM, READ, As, Headers, fetch
from tests.cooperation.test_activities_read import all_pages
from tests.support import assert_problem

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
ONE = f"{EPA_REF}-DP-1"
TWO = f"{EPA_REF}-DP-2"
BOM = b"\xef\xbb\xbf"

# Two activities as a publisher sends them: the first for Afghanistan and Antigua (60/40),
# budgets and transactions in three currencies (one transaction in the default currency,
# one with 3 decimals, one with a sector and a recipient country of its own); the second
# for a region only, with an original and a revised budget of one period.
FILE = f"""<?xml version="1.0" encoding="UTF-8"?>
<iati-activities version="2.03" generated-datetime="2026-11-30T10:00:00Z">
 <iati-activity default-currency="USD" last-updated-datetime="2026-11-30T10:00:00Z">
  <iati-identifier>{ONE}</iati-identifier>
  <reporting-org ref="{EPA_REF}" type="10"><narrative>EPA</narrative></reporting-org>
  <title><narrative xml:lang="en">Watershed grants</narrative>
   <narrative xml:lang="es">Subvenciones para cuencas</narrative></title>
  <description><narrative xml:lang="en">Grants to watershed committees.</narrative>
  </description>
  <participating-org role="1" ref="{EPA_REF}" type="10"><narrative>EPA</narrative>
  </participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2016-01-01"/>
  <recipient-country code="AF" percentage="60"/>
  <recipient-country code="AG" percentage="40"/>
  <sector vocabulary="1" code="41010" percentage="100"/>
  <budget type="1" status="1">
   <period-start iso-date="2016-01-01"/><period-end iso-date="2016-12-31"/>
   <value value-date="2016-01-01">100000.50</value>
  </budget>
  <budget type="1" status="2">
   <period-start iso-date="2017-01-01"/><period-end iso-date="2017-12-31"/>
   <value currency="EUR" value-date="2017-01-01">20000</value>
  </budget>
  <transaction ref="TX-1">
   <transaction-type code="2"/><transaction-date iso-date="2016-01-15"/>
   <value value-date="2016-01-15">150000</value>
   <description><narrative xml:lang="en">Grant agreement</narrative></description>
   <provider-org ref="{EPA_REF}" type="10"><narrative>EPA</narrative></provider-org>
  </transaction>
  <transaction>
   <transaction-type code="3"/><transaction-date iso-date="2016-03-01"/>
   <value currency="EUR" value-date="2016-03-01">5000.25</value>
   <receiver-org type="22"><narrative>Comité de cuenca</narrative></receiver-org>
   <sector vocabulary="1" code="41010"/>
   <recipient-country code="AF"/>
  </transaction>
  <transaction humanitarian="1">
   <transaction-type code="4"/><transaction-date iso-date="2016-06-30"/>
   <value currency="PEN" value-date="2016-06-30">1234.567</value>
  </transaction>
 </iati-activity>
 <iati-activity default-currency="GBP" last-updated-datetime="2026-11-30T10:00:00Z">
  <iati-identifier>{TWO}</iati-identifier>
  <reporting-org ref="{EPA_REF}" type="10"><narrative>EPA</narrative></reporting-org>
  <title><narrative xml:lang="en">Regional training</narrative></title>
  <description><narrative xml:lang="en">Training in the region.</narrative></description>
  <participating-org role="1" ref="{EPA_REF}" type="10"><narrative>EPA</narrative>
  </participating-org>
  <activity-status code="3"/>
  <activity-date type="1" iso-date="2017-01-01"/>
  <recipient-region code="489" vocabulary="1"/>
  <sector vocabulary="1" code="41010" percentage="100"/>
  <budget type="1" status="2">
   <period-start iso-date="2017-01-01"/><period-end iso-date="2017-12-31"/>
   <value value-date="2017-01-01">8000</value>
  </budget>
  <budget type="2" status="2">
   <period-start iso-date="2017-01-01"/><period-end iso-date="2017-12-31"/>
   <value value-date="2017-06-01">9000.75</value>
  </budget>
 </iati-activity>
</iati-activities>
""".encode()

OURS = {"iati_identifier": [ONE, TWO]}

# The rows above, by hand: (column -> value) per transaction, in the file's order.
TRANSACTIONS_EN = [
    {
        "activity_identifier": ONE,
        "activity_title": "Watershed grants",
        "reporting_org_ref": EPA_REF,
        "transaction_ref": "TX-1",
        "transaction_type_code": "2",
        "transaction_type_label": "Outgoing Commitment",
        "transaction_date": "2016-01-15",
        "value": "150000.00",
        "currency": "USD",
        "value_date": "2016-01-15",
        "description": "Grant agreement",
        "provider_org_ref": EPA_REF,
        "provider_org_name": "EPA",
        "provider_org_type_code": "10",
        "provider_org_type_label": "Government",
    },
    {
        "activity_identifier": ONE,
        "activity_title": "Watershed grants",
        "reporting_org_ref": EPA_REF,
        "transaction_type_code": "3",
        "transaction_type_label": "Disbursement",
        "transaction_date": "2016-03-01",
        "value": "5000.25",
        "currency": "EUR",
        "value_date": "2016-03-01",
        "receiver_org_name": "Comité de cuenca",
        "receiver_org_type_code": "22",
        "receiver_org_type_label": "National NGO",
        "sectors": "41010",
        "recipient_country_code": "AF",
        "recipient_country_label": "Afghanistan",
    },
    {
        "activity_identifier": ONE,
        "activity_title": "Watershed grants",
        "reporting_org_ref": EPA_REF,
        "transaction_type_code": "4",
        "transaction_type_label": "Expenditure",
        "transaction_date": "2016-06-30",
        "value": "1234.567",
        "currency": "PEN",
        "value_date": "2016-06-30",
        "humanitarian": "1",
    },
]
W, R = (ONE, "Watershed grants", EPA_REF), (TWO, "Regional training", EPA_REF)
Y16, Y17 = ("2016-01-01", "2016-12-31"), ("2017-01-01", "2017-12-31")
BUDGETS_EN = [
    [*W, "1", "Original", "1", "Indicative", *Y16, "100000.50", "USD", "2016-01-01"],
    [*W, "1", "Original", "2", "Committed", *Y17, "20000.00", "EUR", "2017-01-01"],
    [*R, "1", "Original", "2", "Committed", *Y17, "8000.00", "GBP", "2017-01-01"],
    [*R, "2", "Revised", "2", "Committed", *Y17, "9000.75", "GBP", "2017-06-01"],
]


@pytest.fixture
async def epa(gateway: httpx.AsyncClient, as_org: As) -> Headers:
    """EPA's headers, once it has imported ``FILE`` (public, so the public view has it)."""
    headers = await as_org("EPA")
    response = await gateway.post(
        f"{API}/imports/iati",
        content=FILE,
        headers=headers | {"Content-Type": "application/xml"},
        params={"program": PROGRAM, "visibility": "public"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 2
    return headers


async def table(
    gateway: httpx.AsyncClient, headers: Headers, path: str = "/activities", **params: Any
) -> list[list[str]]:
    response = await gateway.get(f"{API}{path}", params={"format": "csv"} | params, headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def records(rows: list[list[str]]) -> list[dict[str, str]]:
    return [dict(zip(rows[0], r, strict=True)) for r in rows[1:]]


def transaction_record(given: dict[str, str]) -> dict[str, str]:
    """A whole row of the transaction level: the given columns, every other one empty."""
    return dict.fromkeys(TRANSACTION_COLUMNS, "") | given


async def test_one_row_per_transaction_derived_by_hand(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    rows = await table(gateway, epa, level="transaction", lang="en", **OURS)
    assert tuple(rows[0]) == TRANSACTION_COLUMNS
    assert records(rows) == [transaction_record(t) for t in TRANSACTIONS_EN]


async def test_one_row_per_budget_derived_by_hand(gateway: httpx.AsyncClient, epa: Headers) -> None:
    rows = await table(gateway, epa, level="budget", lang="en", **OURS)
    assert tuple(rows[0]) == BUDGET_COLUMNS
    assert sorted(rows[1:]) == sorted(BUDGETS_EN)


async def test_labels_in_spanish_by_lang_or_accept_language(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    by_lang = records(await table(gateway, epa, level="transaction", lang="es", **OURS))
    assert [r["transaction_type_label"] for r in by_lang] == [
        "Compromiso otorgado",
        "Desembolso",
        "Gasto",
    ]
    assert by_lang[0]["provider_org_type_label"] == "Gobierno"
    assert by_lang[1]["receiver_org_type_label"] == "ONG nacional"
    assert by_lang[0]["activity_title"] == "Subvenciones para cuencas"
    spanish = epa | {"Accept-Language": "es-PE,es;q=0.9,en;q=0.5"}
    assert records(await table(gateway, spanish, level="transaction", **OURS)) == by_lang
    english = epa | {"Accept-Language": "en-GB"}
    budgets = records(await table(gateway, english, level="budget", **OURS))
    assert {r["budget_status_label"] for r in budgets} == {"Indicative", "Committed"}
    budgets_es = records(await table(gateway, spanish, level="budget", **OURS))
    assert {r["budget_type_label"] for r in budgets_es} == {"Original", "Revisado"}
    assert {r["budget_status_label"] for r in budgets_es} == {"Indicativo", "Comprometido"}
    activities = records(await table(gateway, epa, lang="es", **OURS))
    assert {(r["status"], r["status_label"]) for r in activities} == {
        ("2", "Implementación"),
        ("3", "Finalización"),
    }


async def test_a_bom_only_when_asked(gateway: httpx.AsyncClient, epa: Headers) -> None:
    for level in ("activity", "transaction", "budget"):
        params = {"format": "csv", "level": level} | OURS
        plain = await gateway.get(f"{API}/activities", params=params, headers=epa)
        marked = await gateway.get(
            f"{API}/activities", params=params | {"bom": "true"}, headers=epa
        )
        assert not plain.content.startswith(BOM)
        assert marked.content == BOM + plain.content


@pytest.mark.parametrize(("fmt", "media_type"), [("csv", "text/csv"), ("xlsx", XLSX)])
async def test_the_activity_table_imports_back_unchanged(
    gateway: httpx.AsyncClient, epa: Headers, fmt: str, media_type: str
) -> None:
    """With labels in Spanish, a BOM, numbers in cells: the matrix import reads it back."""
    params = {"format": fmt, "lang": "es", "bom": "true"} | OURS
    table = await gateway.get(f"{API}/activities", params=params, headers=epa)
    assert table.status_code == 200, table.text
    again = await gateway.post(
        f"{API}/imports/matrix",
        content=table.content,
        params={"dry_run": "true"},
        headers=epa | {"Content-Type": media_type},
    )
    assert again.status_code == 200, again.text
    assert (again.json()["updated"], again.json()["unchanged"]) == (0, 2)


async def test_xlsx_at_each_level_holds_the_csv_rows_with_numbers(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    for level, columns in (
        ("activity", CSV_COLUMNS),
        ("transaction", TRANSACTION_COLUMNS),
        ("budget", BUDGET_COLUMNS),
    ):
        params = {"level": level, "lang": "en"} | OURS
        response = await gateway.get(
            f"{API}/activities", params=params | {"format": "xlsx"}, headers=epa
        )
        assert response.status_code == 200, response.text
        assert response.headers["content-type"] == XLSX
        sheet = load_workbook(io.BytesIO(response.content), read_only=True).active
        assert sheet is not None
        cells = [list(row) for row in sheet.iter_rows(values_only=True)]
        assert tuple(cells[0]) == columns
        from_csv = await table(gateway, epa, **params)
        assert len(cells) == len(from_csv)
        if level != "activity":
            values = [r[columns.index("value")] for r in cells[1:]]
            assert all(isinstance(v, int | float) for v in values)
            expected = [Decimal(r[columns.index("value")]) for r in from_csv[1:]]
            assert [Decimal(str(v)) for v in values] == expected
    # Asked for with the Accept header too.
    accept = epa | {"Accept": XLSX}
    response = await gateway.get(
        f"{API}/activities", params={"level": "budget"} | OURS, headers=accept
    )
    assert response.headers["content-type"] == XLSX


async def test_the_filters_apply_to_every_level(gateway: httpx.AsyncClient, epa: Headers) -> None:
    def identifiers(rows: list[list[str]]) -> set[str]:
        return {r[0] for r in rows[1:]}

    for level in ("activity", "transaction", "budget"):
        found = identifiers(await table(gateway, epa, level=level, recipient_country="AF"))
        assert found == {ONE}
        found = identifiers(await table(gateway, epa, level=level, recipient_region="489"))
        assert found == ({TWO} if level != "transaction" else set())
        assert identifiers(await table(gateway, epa, level=level, q="watershed grants")) == {ONE}
        assert identifiers(await table(gateway, epa, level=level, status="3", **OURS)) == (
            {TWO} if level != "transaction" else set()
        )
    # The same filters on the public list: one published public activity.
    public = await table(gateway, {}, "/public/activities", level="transaction", **OURS)
    assert len(public) == 1 + len(TRANSACTIONS_EN)
    seeded = await table(gateway, epa, level="budget", iati_identifier=OEFA_ENF)
    assert identifiers(seeded) == {OEFA_ENF}


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("format=csv&levle=transaction", 400),
        ("format=csv&level=transactions", 422),
        ("format=csv&lang=fr", 422),
        ("format=pdf", 422),
        ("format=xlsx&bom=maybe", 422),
    ],
)
async def test_unknown_or_bad_table_parameters(
    gateway: httpx.AsyncClient, as_org: As, query: str, status: int
) -> None:
    usaid = await as_org("USAID", READ)
    response = await gateway.get(f"{API}/activities?{query}", headers=usaid)
    assert_problem(response, status)


async def test_recipient_country_and_region_as_each_activity_declares(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    everything = {a["identifier"] for a in await all_pages(gateway, f"{API}/activities", epa)}

    async def listed(**params: Any) -> set[str]:
        return {
            a["identifier"] for a in await all_pages(gateway, f"{API}/activities", epa, **params)
        }

    assert await listed(recipient_country="AF") == {ONE}
    assert await listed(recipient_country="AG,BO") == {ONE}
    assert await listed(recipient_country="PE") == everything - {ONE, TWO}
    assert await listed(recipient_region="489") == {TWO}
    assert await listed(recipient_country="A_") == set()  # a code, not a pattern
    rows = records(await table(gateway, epa, **OURS))
    assert {r["identifier"]: (r["recipient_countries"], r["recipient_regions"]) for r in rows} == {
        ONE: ("AF;AG", ""),
        TWO: ("", "489"),
    }
    xml = await gateway.get(
        f"{API}/iati/activities.xml", params={"recipient_country": "AG"}, headers=epa
    )
    assert xml.status_code == 200, xml.text
    assert {a.identifier for a in parse_activities(xml.content) if a.hierarchy != 1} == {ONE}


PER_TRANSACTION = f"""<iati-activities version="2.03">
 <iati-activity default-currency="USD" xml:lang="en">
  <iati-identifier>{EPA_REF}-DP-3</iati-identifier>
  <reporting-org ref="{EPA_REF}" type="10"><narrative>EPA</narrative></reporting-org>
  <title><narrative>Border rivers</narrative></title>
  <description><narrative>Shared rivers of Peru and Bolivia.</narrative></description>
  <participating-org role="1" ref="{EPA_REF}" type="10"><narrative>EPA</narrative>
  </participating-org>
  <activity-status code="2"/>
  <activity-date type="1" iso-date="2016-01-01"/>
  <sector vocabulary="1" code="41010"/>
  <transaction>
   <transaction-type code="3"/><transaction-date iso-date="2016-03-01"/>
   <value value-date="2016-03-01">10</value><recipient-country code="BO"/>
  </transaction>
  <transaction>
   <transaction-type code="3"/><transaction-date iso-date="2016-04-01"/>
   <value value-date="2016-04-01">20</value><recipient-region code="489"/>
  </transaction>
 </iati-activity>
</iati-activities>""".encode()


async def test_recipients_declared_on_each_transaction_are_the_activitys(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    response = await gateway.post(
        f"{API}/imports/iati",
        content=PER_TRANSACTION,
        headers=epa | {"Content-Type": "application/xml"},
        params={"program": PROGRAM},
    )
    assert response.status_code == 200, response.text
    found = await all_pages(gateway, f"{API}/activities", epa, recipient_country="BO")
    assert [a["identifier"] for a in found] == [f"{EPA_REF}-DP-3"]
    found = await all_pages(gateway, f"{API}/activities", epa, recipient_region="489")
    assert {a["identifier"] for a in found} == {TWO, f"{EPA_REF}-DP-3"}


def organisations_schema() -> etree.XMLSchema:
    return etree.XMLSchema(etree.parse(str(ORGANISATIONS_XSD)))


def budget_sums(rows: list[dict[str, str]]) -> dict[tuple[str, str, str], Decimal]:
    """Per period and currency: the budgets, a revised one replacing the originals of its
    activity's period."""
    periods: dict[tuple[str, str, str], list[dict[str, str]]] = defaultdict(list)
    for r in rows:
        periods[(r["activity_identifier"], r["period_start"], r["period_end"])].append(r)
    sums: dict[tuple[str, str, str], Decimal] = defaultdict(Decimal)
    for items in periods.values():
        revised = [r for r in items if r["budget_type_code"] == "2"]
        for r in revised or items:
            sums[(r["period_start"], r["period_end"], r["currency"])] += Decimal(r["value"])
    return dict(sums)


async def test_the_organisation_file_validates_and_sums_the_budgets(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    response = await gateway.get(f"{API}/iati/organisations/{EPA_REF}.xml", headers=epa)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    document = etree.fromstring(response.content)
    organisations_schema().assertValid(document)
    today = datetime.now(UTC).date()
    assert [f.rule for f in ruleset_findings(document, today)] == []
    (org,) = document.findall("iati-organisation")
    assert org.findtext("organisation-identifier") == EPA_REF
    assert org.find("reporting-org").get("ref") == EPA_REF
    languages = {n.get("{http://www.w3.org/XML/1998/namespace}lang") for n in org.iter("narrative")}
    assert "es" in languages
    totals = {
        (
            b.find("period-start").get("iso-date"),
            b.find("period-end").get("iso-date"),
            b.find("value").get("currency"),
        ): Decimal(b.findtext("value"))
        for b in org.findall("total-budget")
    }
    # The same sums as the budget rows of every published activity EPA reports.
    rows = records(await table(gateway, epa, level="budget", reporting_org_ref=EPA_REF))
    published = {
        a["identifier"]
        for a in await all_pages(gateway, f"{API}/activities", epa, reporting_org_ref=EPA_REF)
        if a["published"]
    }
    assert totals == budget_sums([r for r in rows if r["activity_identifier"] in published])
    assert totals[("2017-01-01", "2017-12-31", "GBP")] == Decimal("9000.75")
    assert totals[("2017-01-01", "2017-12-31", "EUR")] == Decimal("20000")
    # By country: only activities with one recipient country (neither of the imported).
    by_country = {
        (
            b.find("recipient-country").get("code"),
            b.find("period-start").get("iso-date"),
            b.find("period-end").get("iso-date"),
            b.find("value").get("currency"),
        ): Decimal(b.findtext("value"))
        for b in org.findall("recipient-country-budget")
    }
    peru = [r for r in rows if r["activity_identifier"] in published - {ONE, TWO}]
    assert peru
    assert by_country == {("PE", *key): value for key, value in budget_sums(peru).items()}
    link = org.find("document-link")
    assert link.get("url").endswith(f"/public/iati/activities.xml?reporting_org_ref={EPA_REF}")
    follow = await gateway.get(link.get("url"))
    assert follow.status_code == 200
    again = await gateway.get(
        f"{API}/iati/organisations/{EPA_REF}.xml",
        headers=epa | {"If-None-Match": response.headers["ETag"]},
    )
    assert again.status_code == 304


def total_budgets(document: Any) -> dict[tuple[str, str, str], Decimal]:
    return {
        (
            b.find("period-start").get("iso-date"),
            b.find("period-end").get("iso-date"),
            b.find("value").get("currency"),
        ): Decimal(b.findtext("value"))
        for b in document.iter("total-budget")
    }


async def test_the_public_organisation_file_sums_public_activities_only(
    gateway: httpx.AsyncClient, epa: Headers
) -> None:
    current = await fetch(gateway, TWO, epa)
    hidden = await gateway.patch(
        f"{API}/activities/{TWO}",
        json={"visibility": "partners"},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    assert hidden.status_code == 200, hidden.text
    response = await gateway.get(f"{API}/public/iati/organisations/{EPA_REF}.xml")
    assert response.status_code == 200, response.text
    document = etree.fromstring(response.content)
    organisations_schema().assertValid(document)
    public = records(
        await table(gateway, {}, "/public/activities", level="budget", reporting_org_ref=EPA_REF)
    )
    everything = records(await table(gateway, epa, level="budget", reporting_org_ref=EPA_REF))
    assert len(public) == len(everything) - 2  # TWO's two budgets are for partners only
    assert total_budgets(document) == budget_sums(public)
    assert ("2017-01-01", "2017-12-31", "GBP") not in total_budgets(document)
    assert_problem(await gateway.get(f"{API}/public/iati/organisations/XX-NOBODY-1.xml"), 404)
    assert_problem(await gateway.get(f"{API}/iati/organisations/{EPA_REF}.xml"), 401)


async def test_declared_in_the_openapi_document(cooperation: httpx.AsyncClient) -> None:
    document = (await cooperation.get("/openapi.json")).json()
    listing = document["paths"]["/v1/activities"]["get"]
    names = {p["name"] for p in listing["parameters"]}
    assert {"format", "level", "lang", "bom", "recipient_country", "recipient_region"} <= names
    assert {"text/csv", XLSX} <= set(listing["responses"]["200"]["content"])
    for path in (
        "/v1/iati/organisations/{org_ref}.xml",
        "/v1/public/iati/organisations/{org_ref}.xml",
    ):
        operation = document["paths"][path]["get"]
        assert operation["summary"]
        assert "application/xml" in operation["responses"]["200"]["content"]
