"""Issue 14 item 6: raw spreadsheet coordinates (10 or more decimals) are rounded to 6 and
noted, not refused; a coordinate that cannot be read is reported as itself, not as a
missing pair."""

from __future__ import annotations

from tests.inventory.conftest import Caller
from tests.inventory.test_import_api import _upload, row, to_csv


async def test_coordinates_are_rounded_to_6_decimals_and_noted(minem: Caller) -> None:
    sid = (await minem.submission(2033))["id"]
    raw = row(1, site_name="SE Raw", site_latitude="-12.04641234567", site_longitude="-77.0427935")
    answer = await _upload(minem, sid, to_csv([raw]))
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["rows_imported"] == 1
    assert report["notes"] == [
        {"row": 2, "column": "site_latitude", "note": "rounded to 6 decimals"},
        {"row": 2, "column": "site_longitude", "note": "rounded to 6 decimals"},
    ]
    sites = (await minem.get("/sites", params={"limit": 100})).json()["items"]
    site = next(s for s in sites if s["name"] == "SE Raw")
    assert (site["latitude"], site["longitude"]) == ("-12.046412", "-77.042794")


async def test_an_unreadable_coordinate_is_one_error(minem: Caller) -> None:
    sid = (await minem.submission(2034))["id"]
    bad = row(1, site_name="SE Bad", site_latitude="12,05 S")
    answer = await _upload(minem, sid, to_csv([bad]), mode="partial")
    assert answer.status_code == 200, answer.text
    errors = answer.json()["errors"]
    assert [(e["row"], e["column"]) for e in errors] == [(2, "site_latitude")]
    assert "both coordinates" not in errors[0]["reason"]


async def test_row_errors_have_the_shape_both_services_share(minem: Caller) -> None:
    """Issue 14 item 6: {row, column, code, message} in the inventory's report (the
    cooperation's matrix import answers the same shape: tests/cooperation/test_imports.py)."""
    sid = (await minem.submission(2050))["id"]
    body = to_csv([row(1, serial_number=""), row(2, year_manufactured="nineteen")])
    answer = await minem.post(
        f"/submissions/{sid}/imports",
        content=body,
        headers={"Content-Type": "text/csv"},
        params={"mode": "partial"},
    )
    assert answer.status_code == 200, answer.text
    errors = {(e["row"], e["column"]): e for e in answer.json()["errors"]}
    missing, invalid = errors[(2, "serial_number")], errors[(3, "year_manufactured")]
    assert (missing["code"], missing["message"]) == ("required", "required")
    assert invalid["code"] == "invalid"
    assert invalid["message"] == invalid["reason"]
