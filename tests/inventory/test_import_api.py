"""Bulk import through the gateway: CSV, XLSX, JSON and JSON Lines; row-by-row reports,
all-or-nothing and partial modes, idempotent re-imports by natural key, hostile files."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest
from openpyxl import Workbook

from tests.inventory.conftest import Caller, ruc
from tests.support import assert_problem

HEADER = [
    "holder_ruc",
    "holder_name",
    "holder_sector",
    "holder_is_public",
    "site_name",
    "site_address",
    "site_ubigeo",
    "site_latitude",
    "site_longitude",
    "site_type",
    "equipment_type",
    "manufacturer",
    "serial_number",
    "year_manufactured",
    "fluid_trade_name",
    "fluid_volume_l",
    "total_mass_kg",
    "labelled",
    "status",
    "analysis_method",
    "analysis_date",
    "analysis_value_mg_per_kg",
    "analysis_cutoff_mg_per_kg",
    "analysis_positive",
]


def row(n: int, **fields: Any) -> dict[str, Any]:
    base = {
        "holder_ruc": ruc(500 + n % 3),
        "holder_name": f"Empresa {n % 3}",
        "holder_sector": "electricity_distribution",
        "holder_is_public": "no",
        "site_name": f"SE {n % 5}",
        "site_address": "Av. Demo",
        "site_ubigeo": "150101",
        "site_latitude": "-12.05",
        "site_longitude": "-77.04",
        "site_type": "urban",
        "equipment_type": "transformer",
        "manufacturer": "Siemens",
        "serial_number": f"S-{n}",
        "year_manufactured": "1979",
        "fluid_trade_name": "Askarel",
        "fluid_volume_l": "400",
        "total_mass_kg": "1500",
        "labelled": "sí",
        "status": "in_use",
        "analysis_method": "gc",
        "analysis_date": "2023-05-02",
        "analysis_value_mg_per_kg": str(10 * n),
        "analysis_cutoff_mg_per_kg": "",
        "analysis_positive": "",
    }
    return base | fields


def to_csv(
    rows: list[dict[str, Any]], delimiter: str = ",", header: list[str] | None = None
) -> bytes:
    out = io.StringIO()
    writer = csv.DictWriter(
        out, fieldnames=header or HEADER, delimiter=delimiter, lineterminator="\r\n"
    )
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


async def _upload(
    caller: Caller, sid: int, body: bytes, content_type: str = "text/csv", **params: Any
) -> Any:
    return await caller.post(
        f"/submissions/{sid}/imports",
        content=body,
        headers={"Content-Type": content_type},
        params=params,
    )


async def _upload_xlsx(
    caller: Caller, sid: int, header: list[str], rows: list[dict[str, Any]]
) -> Any:
    """Rows (blank cells empty) as the first sheet of a workbook, sent as a multipart file."""
    workbook = Workbook()
    sheet = workbook.active
    sheet.append(header)
    for values in rows:
        sheet.append([values[c] if values[c] != "" else None for c in header])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return await caller.post(
        f"/submissions/{sid}/imports",
        files={"file": ("inventario.xlsx", buffer.getvalue(), "application/octet-stream")},
    )


async def test_csv_import_creates_everything_and_reimport_updates(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    rows = [row(n) for n in range(1, 13)]
    rows.append(
        row(
            12,
            analysis_method="screening",
            analysis_date="2023-01-01",
            analysis_value_mg_per_kg="",
            analysis_cutoff_mg_per_kg="50",
            analysis_positive="true",
        )
    )
    response = await _upload(minem, sid, to_csv(rows))
    assert response.status_code == 200, response.text
    report = response.json()
    assert report | {"errors": []} == report
    assert (report["rows_total"], report["rows_imported"], report["rows_rejected"]) == (13, 13, 0)
    assert (report["holders_created"], report["sites_created"], report["items_created"]) == (
        3,
        12,
        12,
    )
    assert report["analyses_recorded"] == 13
    items = (await minem.get("/pcb-items", params={"submission_id": sid, "limit": 100})).json()[
        "items"
    ]
    assert len(items) == 12
    by_serial = {i["serial_number"]: i for i in items}
    assert by_serial["S-1"]["pcb_class"] == "non_pcb"  # 10 mg/kg
    assert by_serial["S-6"]["pcb_class"] == "P3"  # 60 mg/kg
    assert by_serial["S-12"]["pcb_class"] == "P3"  # GC 120 beats the screening
    assert by_serial["S-1"]["fluid_kind"] == "askarel"
    assert by_serial["S-1"]["labelled"] is True
    assert len((await minem.get(f"/pcb-items/{by_serial['S-12']['id']}/analyses")).json()) == 2
    # The same file again: updates by natural key, never duplicates.
    again = (await _upload(minem, sid, to_csv(rows))).json()
    assert (
        again["items_created"],
        again["items_updated"],
        again["holders_created"],
        again["sites_created"],
    ) == (0, 12, 0, 0)
    assert (
        len(
            (await minem.get("/pcb-items", params={"submission_id": sid, "limit": 100})).json()[
                "items"
            ]
        )
        == 12
    )
    assert len((await minem.get(f"/pcb-items/{by_serial['S-12']['id']}/analyses")).json()) == 2
    assert len((await minem.get("/holders")).json()["items"]) == 3
    # A changed value and an allowed status move, by re-import.
    changed = [row(1, analysis_value_mg_per_kg="700", status="out_of_service_stored")]
    report = (await _upload(minem, sid, to_csv(changed))).json()
    assert report["status_changes"] == 1
    item = (await minem.get(f"/pcb-items/{by_serial['S-1']['id']}")).json()
    assert (item["pcb_class"], item["status"]) == ("P2", "out_of_service_stored")
    history = (await minem.get(f"/pcb-items/{item['id']}/status-events")).json()
    assert [h["to_status"] for h in history] == ["in_use", "out_of_service_stored"]


async def test_bad_rows_are_reported_and_nothing_is_imported(
    minem: Caller, produce: Caller
) -> None:
    foreign = await produce.holder(777)
    sid = (await minem.submission(2024))["id"]
    rows = [
        row(1),
        row(2, holder_ruc="20100326797"),
        row(3, site_ubigeo="260101"),
        row(4, fluid_volume_l="-5"),
        row(5, status="eliminated"),
        row(6, analysis_value_mg_per_kg=""),
        row(7, serial_number=""),
        row(8, year_manufactured="nineteen"),
        row(9, holder_ruc=foreign["ruc"]),
        row(10, site_latitude="40.4", site_longitude="-3.7"),
        row(11, fluid_volume_l="1e30"),
        row(12, labelled="maybe"),
        row(13, analysis_date="2999-01-01"),
    ]
    response = await _upload(minem, sid, to_csv(rows))
    assert_problem(response, 422, "import-rejected")
    body = response.json()
    assert body["rows_total"] == 13
    assert body["rows_rejected"] == 12
    found = {(e["row"], e["column"]) for e in body["errors"]}
    assert {
        (3, "holder_ruc"),
        (4, "site_ubigeo"),
        (5, "fluid_volume_l"),
        (6, "disposal_facility"),
        (7, "analysis_method"),
        (8, "serial_number"),
        (9, "year_manufactured"),
        (10, "holder_ruc"),
        (11, "site_latitude"),
        (12, "fluid_volume_l"),
        (13, "labelled"),
        (14, "analysis_date"),
    } <= found
    assert all(e["reason"] for e in body["errors"])
    assert (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"] == []
    assert (await minem.get("/holders")).json()["items"] == []
    # Partial: the good row goes in, the others are reported.
    partial = await _upload(minem, sid, to_csv(rows), mode="partial")
    assert partial.status_code == 200
    report = partial.json()
    assert (report["rows_imported"], report["rows_rejected"], report["items_created"]) == (1, 12, 1)
    assert len(report["errors"]) >= 12


async def test_unknown_columns_and_forbidden_status_moves(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    # Columns Enlace has no field for are left out and listed (issue 14 item 6): a
    # spreadsheet's own "Observaciones", or an attempt to set the organisation.
    header = [*HEADER, "org_code", "Observaciones"]
    extra = to_csv([row(1) | {"org_code": "MINAM", "Observaciones": "revisar"}], header=header)
    response = await _upload(minem, sid, extra)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["ignored_columns"] == ["Observaciones", "org_code"]
    assert (report["rows_imported"], report["errors"]) == (1, [])
    items = (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"]
    assert [i["org_code"] for i in items] == ["MINEM"]  # the column changed nothing
    again = await _upload(minem, sid, to_csv([row(1)]))
    assert again.status_code == 200
    assert again.json()["ignored_columns"] == []
    evidence = {
        "disposal_facility": "Plant",
        "disposal_country": "FR",
        "disposed_on": "2024-01-01",
        "certificate_ref": "C-1",
        "disposed_mass_kg": "1500",
    }
    jump = await _upload(
        minem,
        sid,
        to_csv([row(1, status="eliminated") | evidence], header=[*HEADER, *evidence]),
        mode="partial",
    )
    errors = jump.json()["errors"]
    assert errors[0]["row"] == 2
    assert "cannot go from in_use to eliminated" in errors[0]["reason"]
    assert errors[0]["column"] == "status"


async def test_xlsx_json_and_json_lines(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    typed = {
        "year_manufactured": 1979,
        "fluid_volume_l": 400.5,
        "holder_is_public": False,
    }
    xlsx = await _upload_xlsx(
        minem, sid, HEADER, [row(n, **typed, analysis_value_mg_per_kg=10 * n) for n in range(1, 4)]
    )
    assert xlsx.status_code == 200, xlsx.text
    assert xlsx.json()["items_created"] == 3
    assert xlsx.json()["format"] == "xlsx"
    as_json = [{k: v for k, v in row(n).items() if v != ""} for n in range(4, 6)]
    as_json[0]["fluid_volume_l"] = 12.25
    response = await _upload(minem, sid, json.dumps(as_json).encode(), "application/json")
    assert response.status_code == 200, response.text
    assert response.json()["items_created"] == 2
    lines = "\n".join(json.dumps({k: v for k, v in row(n).items() if v != ""}) for n in range(6, 9))
    response = await _upload(minem, sid, (lines + "\n\n").encode(), "application/x-ndjson")
    assert response.json()["items_created"] == 3
    bad_lines = '{"holder_ruc": "x"}\nnot json\n[1, 2]\n'
    response = await _upload(minem, sid, bad_lines.encode(), "application/x-ndjson", mode="partial")
    assert {e["row"] for e in response.json()["errors"]} == {1, 2, 3}
    items = (await minem.get("/pcb-items", params={"submission_id": sid, "limit": 100})).json()[
        "items"
    ]
    assert len(items) == 8
    assert {i["fluid_volume_l"] for i in items if i["serial_number"] == "S-4"} == {"12.250"}


async def test_encodings_and_separators(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    latin = to_csv([row(1, holder_name="Compañía Eléctrica")]).decode().encode("cp1252")
    response = await _upload(minem, sid, latin)
    assert_problem(response, 422, "unreadable-file")
    assert "encoding" in response.json()["detail"]
    assert (await _upload(minem, sid, latin, encoding="cp1252")).status_code == 200
    assert (await minem.get("/holders")).json()["items"][0]["name"] == "Compañía Eléctrica"
    semicolons = to_csv([row(2)], delimiter=";")
    assert (await _upload(minem, sid, semicolons)).json()["items_created"] == 1
    assert_problem(await _upload(minem, sid, latin, encoding="klingon"), 422)


HOSTILE = {
    "empty": (b"", "text/csv"),
    "header-only-blank": (b"\r\n", "text/csv"),
    "nul": (b"holder_ruc,site_name\r\n\x00\x00,\x00\r\n", "text/csv"),
    "duplicate-columns": (b"holder_ruc,holder_ruc\r\n1,2\r\n", "text/csv"),
    "not-xlsx": (
        b"PK\x03\x04 garbage",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ),
    "deep-json": (b"[" * 10000 + b"]" * 10000, "application/json"),
    "json-object": (b'{"holder_ruc": "1"}', "application/json"),
    "json-unclosed": (b'[{"holder_ruc": "1"}', "application/json"),
    "json-nan": (b'[{"fluid_volume_l": NaN}]', "application/json"),
    "invalid-utf8-json": (b'[{"manufacturer": "\xff"}]', "application/json"),
    "huge-field": (b"holder_ruc\r\n" + b"9" * 200_000 + b"\r\n", "text/csv"),
}


@pytest.mark.parametrize("kind", list(HOSTILE))
async def test_hostile_files_are_4xx(minem: Caller, kind: str) -> None:
    sid = (await minem.submission(2024))["id"]
    body, content_type = HOSTILE[kind]
    response = await _upload(minem, sid, body, content_type)
    assert 400 <= response.status_code < 500, (kind, response.status_code, response.text)
    assert response.headers["content-type"] == "application/problem+json"


async def test_who_may_import_where(
    minem: Caller, produce: Caller, oefa: Caller, minam: Caller
) -> None:
    sid = (await minem.submission(2024))["id"]
    body = to_csv([row(1)])
    assert_problem(await _upload(oefa, sid, body), 403)
    assert_problem(await _upload(produce, sid, body), 404)
    assert_problem(await _upload(minem, sid, body, "text/plain"), 415)
    mercury = (await minem.submission(2024, "mercury"))["id"]
    assert_problem(await _upload(minem, mercury, body), 422, "wrong-section")
    key = {"Idempotency-Key": "import-1"}
    first = await minem.post(
        f"/submissions/{sid}/imports", content=body, headers={"Content-Type": "text/csv"} | key
    )
    retry = await minem.post(
        f"/submissions/{sid}/imports", content=body, headers={"Content-Type": "text/csv"} | key
    )
    assert first.json() == retry.json()
    assert retry.headers["idempotent-replayed"] == "true"
    other = await minem.post(
        f"/submissions/{sid}/imports",
        content=to_csv([row(2)]),
        headers={"Content-Type": "text/csv"} | key,
    )
    assert_problem(other, 422, "idempotency-key-reused")
    for caller, action in ((minem, "submit"), (minam, "start-review"), (minam, "validate")):
        assert (await caller.move(sid, action)).status_code == 200
    assert_problem(await _upload(minem, sid, body), 409, "submission-not-editable")


async def test_json_values_of_any_type_are_rejected_cells(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    odd = [
        row(1) | {"holder_ruc": "HUGE", "fluid_volume_l": [1, 2], "year_manufactured": {"a": 1}},
        row(2)
        | {
            "holder_ruc": int(ruc(502)),
            "site_ubigeo": 150101,
            "labelled": True,
            "fluid_volume_l": 1.5e3,
        },
        row(3) | {"total_mass_kg": "1e999", "power_kva": 1e-20},
    ]
    response = await _upload(
        minem, sid, json.dumps(odd).encode(), "application/json", mode="partial"
    )
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["rows_imported"] == 1
    assert {e["row"] for e in report["errors"]} == {1, 3}


async def test_owner_asset_id_round_trips_through_every_format(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    header = [*HEADER, "owner_asset_id"]
    csv_rows = [row(n, owner_asset_id=f"INV-{n}") for n in (1, 2)]
    response = await _upload(minem, sid, to_csv(csv_rows, header=header))
    assert response.status_code == 200, response.text
    xlsx = await _upload_xlsx(minem, sid, header, [row(3, owner_asset_id="INV-3")])
    assert xlsx.status_code == 200, xlsx.text
    as_json = [{k: v for k, v in row(4, owner_asset_id="INV-4").items() if v != ""}]
    response = await _upload(minem, sid, json.dumps(as_json).encode(), "application/json")
    assert response.status_code == 200, response.text
    line = json.dumps({k: v for k, v in row(5, owner_asset_id="INV-5").items() if v != ""})
    response = await _upload(minem, sid, line.encode(), "application/x-ndjson")
    assert response.status_code == 200, response.text
    items = (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"]
    assert {i["serial_number"]: i["owner_asset_id"] for i in items} == {
        f"S-{n}": f"INV-{n}" for n in range(1, 6)
    }
    exported = await minem.get("/pcb-items", params={"submission_id": sid, "format": "csv"})
    assert {r["owner_asset_id"] for r in csv.DictReader(io.StringIO(exported.text))} == {
        f"INV-{n}" for n in range(1, 6)
    }
    again = await _upload(minem, sid, to_csv([row(1, owner_asset_id="INV-1b")], header=header))
    assert again.json()["items_updated"] == 1
    too_long = to_csv([row(6, owner_asset_id="A" * 41)], header=header)
    rejected = await _upload(minem, sid, too_long)
    assert_problem(rejected, 422, "import-rejected")
    assert rejected.json()["errors"] == [
        {
            "row": 2,
            "column": "owner_asset_id",
            "code": "invalid",
            "message": "longer than 40 characters",
            "reason": "longer than 40 characters",
        }
    ]
