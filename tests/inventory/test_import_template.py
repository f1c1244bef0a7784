"""Issue 14 item 6: the XLSX import template (es/en headers, drop-down lists of codes, an
example row) and its round trip: what the template holds imports as it is."""

from __future__ import annotations

import io
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from services.inventory.imports.rows import COLUMNS, REQUIRED
from services.inventory.imports.template import HEADERS
from tests.inventory.conftest import Caller
from tests.inventory.test_import_api import row, to_csv

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
TEMPLATE = "/inventory/v1/public/templates/pcb-items.xlsx"


async def _template(gateway: httpx.AsyncClient, lang: str) -> Any:
    response = await gateway.get(TEMPLATE, params={"lang": lang})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    assert response.headers["content-language"] == lang
    return load_workbook(io.BytesIO(response.content))


@pytest.mark.parametrize(
    ("lang", "first", "sheets"),
    [("es", 0, ("equipos", "ejemplo", "columnas")), ("en", 1, ("items", "example", "columns"))],
)
async def test_the_template_has_the_columns_in_the_callers_language(
    gateway: httpx.AsyncClient, lang: str, first: int, sheets: tuple[str, ...]
) -> None:
    workbook = await _template(gateway, lang)
    assert workbook.sheetnames[:3] == list(sheets)
    data = workbook[sheets[0]]
    headers = [c.value for c in data[1]]
    assert headers == [HEADERS[c][first] for c in COLUMNS]
    assert data["A1"].comment.text == "holder_ruc"  # the code behind each header
    # Required columns are marked in the reference sheet.
    reference = {r[1]: r for r in workbook[sheets[2]].iter_rows(min_row=2, values_only=True)}
    assert set(reference) == set(COLUMNS)
    for column in REQUIRED:
        assert reference[column][2] in ("sí", "yes")
    assert "electricity_distribution" in reference["holder_sector"][3]


async def test_coded_columns_have_drop_down_lists(gateway: httpx.AsyncClient) -> None:
    workbook = await _template(gateway, "es")
    data = workbook["equipos"]
    column = {c: i for i, c in enumerate(COLUMNS)}
    letter = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    validations = {str(dv.sqref): dv.formula1 for dv in data.data_validations.dataValidation}
    sector_letter = letter[column["holder_sector"]]
    (sector,) = [f for ref, f in validations.items() if ref.startswith(sector_letter + "2:")]
    sheet, _, cells = sector.partition("!")
    codes = [c.value for c in workbook[sheet][cells.replace("$", "").split(":")[0][0]][1:]]
    assert "electricity_distribution" in codes
    assert "mining" in codes
    assert workbook[sheet].sheet_state == "hidden"
    public_letter = letter[column["holder_is_public"]]
    assert any(
        ref.startswith(public_letter + "2:") and f == '"true,false"'
        for ref, f in validations.items()
    )


@pytest.mark.parametrize("lang", ["es", "en"])
async def test_the_example_imports_as_it_is(
    gateway: httpx.AsyncClient, minem: Caller, lang: str
) -> None:
    workbook = await _template(gateway, lang)
    del workbook[workbook.sheetnames[0]]  # the example sheet comes first: the one imported
    body = io.BytesIO()
    workbook.save(body)
    sid = (await minem.submission(2040))["id"]
    answer = await minem.post(
        f"/submissions/{sid}/imports",
        content=body.getvalue(),
        headers={"Content-Type": XLSX},
        params={"dry_run": "true"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["rows_rejected"] == 0, report["errors"]
    assert report["rows_imported"] == 1
    assert report["ignored_columns"] == []


async def test_a_file_with_the_spanish_headers_imports(minem: Caller) -> None:
    sid = (await minem.submission(2041))["id"]
    spanish = {column: HEADERS[column][0] for column in COLUMNS}
    lines = [{spanish[k]: v for k, v in row(1).items()}]
    body = to_csv(lines, header=[spanish[k] for k in row(1)])
    answer = await minem.post(
        f"/submissions/{sid}/imports", content=body, headers={"Content-Type": "text/csv"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["rows_imported"] == 1
    assert answer.json()["ignored_columns"] == []


async def test_the_items_csv_export_imports_back(minem: Caller) -> None:
    """Issue 14 item 6: every export is a valid import: the pcb-items CSV names each item's
    holder by RUC and site by name (the import's keys), booleans as true/false."""
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    sid = (await minem.submission(2042))["id"]
    await minem.item(sid, holder["id"], site["id"])
    exported = await minem.get("/pcb-items", params={"submission_id": sid, "format": "csv"})
    assert exported.status_code == 200, exported.text
    header = exported.text.splitlines()[0].split(",")
    assert header[:2] == ["holder_ruc", "site_name"]
    again = (await minem.submission(2043))["id"]
    answer = await minem.post(
        f"/submissions/{again}/imports",
        content=exported.content,
        headers={"Content-Type": "text/csv"},
        params={"dry_run": "true"},
    )
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert (report["rows_imported"], report["rows_rejected"]) == (1, 0), report["errors"]
    assert "holder_id" in report["ignored_columns"]  # the ids are the export's, not keys
