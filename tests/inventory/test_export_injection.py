"""Formula injection in the inventory's pcb-items and sites CSV exports (the reports' in
test_reports_api): text that a spreadsheet would run is written behind a single quote;
ordinary text and numbers are not touched. Inputs are stripped of surrounding whitespace,
so a leading tab or CR never reaches these exports (the shared writer's test covers them)."""

from __future__ import annotations

import csv
import io
from typing import Any

from tests.inventory.conftest import Caller

DANGEROUS = ["=1+1", "+1+2", "-3+4", "@SUM(A1:A2)", "-5", '=HYPERLINK("http://x")']


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


async def test_sites_csv_escapes_formulas_and_keeps_numbers(minem: Caller) -> None:
    holder = await minem.holder(60)
    made = [await minem.site(holder["id"], name=v, address=f"{v} addr") for v in DANGEROUS]
    plain = await minem.site(holder["id"], name="Planta Norte", address="Av. Demo 1")
    exported = await minem.get("/sites", params={"format": "csv", "holder_id": holder["id"]})
    assert exported.status_code == 200, exported.text
    by_id = {int(r["id"]): r for r in rows_of(exported.text)}
    for site in made:
        row = by_id[site["id"]]
        assert row["name"] == "'" + site["name"]
        assert row["address"] == "'" + site["address"]
    row = by_id[plain["id"]]
    assert (row["name"], row["address"]) == ("Planta Norte", "Av. Demo 1")
    # Negative coordinates are numbers, not text: never escaped.
    assert (row["latitude"], row["longitude"]) == ("-12.050000", "-77.040000")
    assert "'-12.05" not in exported.text


async def test_pcb_items_csv_escapes_formulas_and_keeps_numbers(minem: Caller) -> None:
    holder = await minem.holder(61)
    site = await minem.site(holder["id"])
    submission = await minem.submission()
    items: list[Any] = [
        await minem.item(
            submission["id"], holder["id"], site["id"], manufacturer=v, serial_number=f"{v}#{n}"
        )
        for n, v in enumerate(DANGEROUS)
    ]
    plain = await minem.item(submission["id"], holder["id"], site["id"], manufacturer="ACME")
    exported = await minem.get(
        "/pcb-items", params={"submission_id": submission["id"], "format": "csv"}
    )
    assert exported.status_code == 200, exported.text
    by_id = {int(r["id"]): r for r in rows_of(exported.text)}
    for item in items:
        row = by_id[item["id"]]
        assert row["manufacturer"] == "'" + item["manufacturer"]
        assert row["serial_number"] == "'" + item["serial_number"]
    row = by_id[plain["id"]]
    assert row["manufacturer"] == "ACME"
    assert row["serial_number"] == plain["serial_number"]
    assert (row["fluid_volume_l"], row["total_mass_kg"]) == ("300.000", "1200.000")
    assert row["year_manufactured"] == "1980"
