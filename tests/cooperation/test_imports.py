"""Imports through the gateway: IATI 2.03 files (schema errors by line, idempotent, round
trip through the export), and the matrix as CSV or XLSX with row-level reports."""

from __future__ import annotations

import csv
import dataclasses
import io
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from lxml import etree
from openpyxl import Workbook

from services.cooperation.activities.csv_export import CSV_COLUMNS
from services.cooperation.exchange.table_import import READ_ONLY, XLSX
from services.cooperation.iati import IatiActivity, parse_activities, write_activities
from tests.cooperation.conftest import (
    EPA_REF,
    OEFA_ENF,
    PROGRAM,
    As,
    fetch,
    full_activity,
    publish,
)

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
XML = {"Content-Type": "application/xml"}
EPA_LED = {OEFA_ENF, f"{EPA_REF}-OEFA-ADJ-02"}


async def export_xml(gateway: httpx.AsyncClient, headers: dict[str, str]) -> bytes:
    response = await gateway.get(f"{API}/iati/activities.xml", headers=headers)
    assert response.status_code == 200, response.text
    return response.content


async def import_xml(
    gateway: httpx.AsyncClient, headers: dict[str, str], xml: bytes, **params: str
) -> httpx.Response:
    return await gateway.post(
        f"{API}/imports/iati", content=xml, headers=headers | XML, params=params
    )


def only(xml: bytes, identifiers: set[str]) -> tuple[bytes, list[IatiActivity]]:
    """A document with just ``identifiers`` out of ``xml``."""
    kept = [a for a in parse_activities(xml) if a.identifier in identifiers]
    return b"".join(write_activities(kept, generated=datetime.now(UTC))), kept


def as_exported(xml: bytes, identifiers: set[str]) -> bytes:
    """A document with just ``identifiers`` out of ``xml``, their elements as they are."""
    root = etree.fromstring(xml)
    for activity in list(root.iterchildren("iati-activity")):
        if (activity.findtext("iati-identifier") or "").strip() not in identifiers:
            root.remove(activity)
    return bytes(etree.tostring(root, encoding="UTF-8", xml_declaration=True))


def same_but_timestamp(a: IatiActivity) -> IatiActivity:
    return dataclasses.replace(a, last_updated=datetime(2000, 1, 1, tzinfo=UTC))


async def test_importing_our_own_export_changes_nothing(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    full = await publish(gateway, epa, full_activity())
    before = {i: (await fetch(gateway, i, epa)).json()["version"] for i in EPA_LED | {full}}
    xml = await export_xml(gateway, epa)
    strict = await import_xml(gateway, epa, xml)
    assert strict.status_code == 422
    problem = strict.json()
    assert problem["report"]["rejected_rows"] == 15 - 3  # the others' activities
    assert all(isinstance(e["row"], int) and e["row"] > 1 for e in problem["errors"])
    report = (await import_xml(gateway, epa, xml, mode="partial")).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    assert {e["type"] for e in report["rejected"]} == {"not_the_lead"}
    # The row-error shape both services share (issue 14 item 6).
    assert {e["code"] for e in report["rejected"]} == {"not_the_lead"}
    assert all({"row", "column", "code", "message"} <= set(e) for e in report["rejected"])
    after = {i: (await fetch(gateway, i, epa)).json()["version"] for i in before}
    assert after == before


async def test_export_import_export_round_trip_preserves_the_data(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    full = await publish(gateway, epa, full_activity())
    identifiers = EPA_LED | {full}
    xml, original = only(await export_xml(gateway, epa), identifiers)
    for identifier in identifiers:
        current = await fetch(gateway, identifier, epa)
        deleted = await gateway.delete(
            f"{API}/activities/{identifier}", headers=epa | {"If-Match": current.headers["etag"]}
        )
        assert deleted.status_code == 204
    response = await import_xml(gateway, epa, xml, visibility="public")
    assert response.status_code == 200, response.text
    assert response.json()["created"] == 3
    _, again = only(await export_xml(gateway, epa), identifiers)
    by_id = {a.identifier: same_but_timestamp(a) for a in again}
    assert {a.identifier: same_but_timestamp(a) for a in original} == by_id
    history = (await gateway.get(f"{API}/activities/{full}/history", headers=epa)).json()
    assert [e["action"] for e in history["items"]] == ["import-iati"]


async def test_an_import_updates_by_identifier(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    before = (await fetch(gateway, OEFA_ENF, epa)).json()
    xml, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    changed = xml.replace(b"Environmental inspection and enforcement training", b"Renamed")
    report = (await import_xml(gateway, epa, changed)).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 1, 0)
    after = (await fetch(gateway, OEFA_ENF, epa)).json()
    assert after["title_en"].startswith("Renamed")
    assert after["version"] == before["version"] + 1
    assert after["progress_updates"] == before["progress_updates"]
    assert after["visibility"] == before["visibility"]
    again = (await import_xml(gateway, epa, changed)).json()
    assert (again["updated"], again["unchanged"]) == (0, 1)


async def test_schema_errors_are_reported_by_line(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    xml, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    broken = xml.replace(b"<activity-status", b"<activity-state", 1)
    response = await import_xml(gateway, epa, broken)
    assert response.status_code == 422
    errors = response.json()["errors"]
    line = next(n for n, text in enumerate(broken.splitlines(), 1) if b"activity-state" in text)
    assert line in {e["line"] for e in errors}
    malformed = await import_xml(gateway, epa, b"<iati-activities>\n<iati-activity>\n</oops>")
    assert malformed.status_code == 422
    assert malformed.json()["errors"][0]["line"] == 3


@pytest.mark.parametrize("value", ["0", "-1", "+7"])
async def test_any_xsd_int_hierarchy_is_kept_and_exported_as_sent(
    gateway: httpx.AsyncClient, as_org: As, value: str
) -> None:
    epa = await as_org("EPA")
    xml, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    assert b'hierarchy="2"' in xml
    changed = xml.replace(b'hierarchy="2"', f'hierarchy="{value}"'.encode(), 1)
    response = await import_xml(gateway, epa, changed)
    assert response.status_code == 200, response.text
    assert response.json()["updated"] == 1
    assert (await fetch(gateway, OEFA_ENF, epa)).json()["hierarchy"] == int(value)
    _, (again,) = only(await export_xml(gateway, epa), {OEFA_ENF})
    assert again.hierarchy == int(value)


@pytest.mark.parametrize("value", ["1.5", "two", "9999999999"])
async def test_a_hierarchy_that_is_not_an_xsd_int_is_a_422_naming_the_line(
    gateway: httpx.AsyncClient, as_org: As, value: str
) -> None:
    epa = await as_org("EPA")
    xml, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    bad = xml.replace(b'hierarchy="2"', f'hierarchy="{value}"'.encode(), 1)
    response = await import_xml(gateway, epa, bad)
    assert response.status_code == 422, response.text
    assert response.json()["type"].endswith("invalid-iati")
    line = next(n for n, text in enumerate(bad.splitlines(), 1) if b"<iati-activity " in text)
    errors = response.json()["errors"]
    assert line in {e["line"] for e in errors}
    assert any("hierarchy" in e["msg"] for e in errors), errors


BOMB = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<iati-activities version="2.03"><iati-activity><iati-identifier>&lol9;</iati-identifier>
</iati-activity></iati-activities>"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<iati-activities version="2.03"><iati-activity><iati-identifier>&secret;</iati-identifier>
</iati-activity></iati-activities>"""


@pytest.mark.parametrize(
    "body",
    [BOMB, EXTERNAL, b"", b"\x00\x01garbage", b"<a>" * 100_000, "<x>ñ</x>".encode("latin-1")],
    ids=["billion-laughs", "external-entity", "empty", "binary", "deep", "latin-1"],
)
async def test_hostile_xml_is_rejected_never_500(
    gateway: httpx.AsyncClient, as_org: As, body: bytes
) -> None:
    response = await import_xml(gateway, await as_org("EPA"), body)
    assert response.status_code == 422, response.text
    assert "root:" not in response.text


async def test_import_needs_xml_write_scope_and_a_sane_size(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    wrong = await gateway.post(
        f"{API}/imports/iati", content=b"<x/>", headers=epa | {"Content-Type": "text/plain"}
    )
    assert wrong.status_code == 415
    reader = await as_org("EPA", "cooperation:read")
    assert (await import_xml(gateway, reader, b"<x/>")).status_code == 403
    huge = await import_xml(gateway, epa, b"<x>" + b" " * (6 * 1024 * 1024) + b"</x>")
    assert huge.status_code == 413


async def test_import_idempotency_key(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA") | {"Idempotency-Key": "import-1"}
    xml, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    first = await import_xml(gateway, epa, xml)
    second = await import_xml(gateway, epa, xml)
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()


# --- the matrix as a spreadsheet -----------------------------------------------------------


async def export_csv(gateway: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await gateway.get(f"{API}/activities", params={"format": "csv"}, headers=headers)
    assert response.status_code == 200
    return response.text


async def import_table(
    gateway: httpx.AsyncClient,
    headers: dict[str, str],
    data: bytes,
    kind: str = "text/csv",
    **params: str,
) -> httpx.Response:
    return await gateway.post(
        f"{API}/imports/matrix",
        content=data,
        headers=headers | {"Content-Type": kind},
        params=params,
    )


def table(rows: list[dict[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]))
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


NEW_ROW = {
    "identifier": f"{EPA_REF}-CSV-01",
    "program": PROGRAM,
    "visibility": "public",
    "status": "2",
    "title_en": "Imported from a spreadsheet",
    "description_en": "A row of the matrix.",
    "planned_start": "2025-01-01",
    "participants": "EPA:2;OEFA:4;PE-RUC-20504794637:4",
    "priority_areas": "A;C",
    "action_areas": "A.1;C.3",
    "sectors": "41010:50;41081:50",
    "policy_markers": "2:1",
    "locations": "15;07",
}


async def test_the_csv_export_imports_back_unchanged(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    full = await publish(gateway, epa, full_activity())
    before = (await fetch(gateway, full, epa)).json()
    report = (
        await import_table(gateway, epa, (await export_csv(gateway, epa)).encode(), mode="partial")
    ).json()
    assert (report["created"], report["updated"], report["unchanged"]) == (0, 0, 3)
    assert set(report["ignored_columns"]) == set(READ_ONLY)
    assert (await fetch(gateway, full, epa)).json() == before


async def test_csv_rows_create_and_update(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    report = (await import_table(gateway, epa, table([NEW_ROW]))).json()
    assert report["created"] == 1, report
    body = (await fetch(gateway, NEW_ROW["identifier"], epa)).json()
    assert body["published"] is True
    assert [p["org"] for p in body["participants"]] == ["EPA", "OEFA", "PRODUCE"]
    assert body["action_areas"] == ["A.1", "C.3"]
    assert [s["percentage"] for s in body["sectors"]] == ["50.00", "50.00"]
    assert (
        await gateway.get(f"{API}/public/activities/{NEW_ROW['identifier']}")
    ).status_code == 200
    update = {"identifier": NEW_ROW["identifier"], "status": "3", "title_es": ""}
    report = (await import_table(gateway, epa, table([update]))).json()
    assert report["updated"] == 1
    after = (await fetch(gateway, NEW_ROW["identifier"], epa)).json()
    assert (after["status"], after["title_es"], after["sectors"]) == (3, None, body["sectors"])


async def test_csv_rows_are_rejected_with_row_column_and_reason(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    rows = [
        NEW_ROW,
        NEW_ROW | {"identifier": f"{EPA_REF}-CSV-02", "sectors": "41010:50"},
        NEW_ROW | {"identifier": f"{EPA_REF}-CSV-03", "status": "9", "participants": "EPA"},
        NEW_ROW | {"identifier": OEFA_ENF.replace("EPA", "XX"), "title_en": ""},
        NEW_ROW,
    ]
    response = await import_table(gateway, epa, table(rows))
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert {e["row"] for e in errors} == {3, 4, 5, 6}
    assert any(e["row"] == 3 and "sectors" in e["loc"] for e in errors)
    assert any(e["row"] == 4 and "participants" in e["loc"] for e in errors)
    assert any(e["row"] == 6 and e["type"] == "duplicate" for e in errors)
    assert (
        await gateway.get(f"{API}/activities/{NEW_ROW['identifier']}", headers=epa)
    ).status_code == 404
    partial = (await import_table(gateway, epa, table(rows), mode="partial")).json()
    assert (partial["created"], partial["rejected_rows"]) == (1, 4)


@pytest.mark.parametrize(
    ("data", "kind", "status"),
    [
        (b"identifier,favourite_colour\nx,blue\n", "text/csv", 422),
        (b"title_en\nx\n", "text/csv", 422),
        (b"", "text/csv", 422),
        (b"\xff\xfeidentifier\n", "text/csv", 422),
        (b"not a zip", XLSX, 422),
        (b"identifier\n", "application/json", 415),
    ],
)
async def test_bad_spreadsheets_are_problems(
    gateway: httpx.AsyncClient, as_org: As, data: bytes, kind: str, status: int
) -> None:
    response = await import_table(gateway, await as_org("EPA"), data, kind)
    assert response.status_code == status, response.text


async def test_xlsx_import(gateway: httpx.AsyncClient, as_org: As) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(list(NEW_ROW))
    values: list[Any] = list(NEW_ROW.values())
    values[3] = 2  # a number cell
    # A date cell: Excel cells have no time zone (openpyxl refuses aware datetimes).
    values[6] = datetime(2025, 1, 1)  # noqa: DTZ001
    sheet.append(values)
    out = io.BytesIO()
    book.save(out)
    report = await import_table(gateway, await as_org("EPA"), out.getvalue(), XLSX)
    assert report.status_code == 200, report.text
    assert report.json()["created"] == 1
    assert set(CSV_COLUMNS) >= set(NEW_ROW)
