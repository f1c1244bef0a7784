"""Reports by the holders' sector (issue 12 item 13), beside department and holder: e.g.
"the progress of the electricity sector in fulfilling commitments on PCBs" (seed 000).
Expected figures follow DOMAIN.md section 1: > 50 mg/kg with > 0.05 L is PCB, unknown
concentration made before 1987 with > 5 L is presumed PCB, use to end by 2025-12-31.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory.conftest import Caller, assert_problem, validate

ELECTRICITY = ["electricity_generation", "electricity_transmission", "electricity_distribution"]
AFTER_2025 = "2026-06-30"


@pytest.fixture
async def sectors_2024(minem: Caller, minam: Caller) -> dict[str, Any]:
    """A validated 2024 inventory: a distributor with a P1 item and a presumed one, a
    generator with a P2 item, a mine with a non-PCB item; all in use, 300 L each."""
    pcb = await minem.submission(2024, "pcb")
    holders = {}
    for sector, concentrations in (
        ("electricity_distribution", ["200000", None]),
        ("electricity_generation", ["1000"]),
        ("mining", ["10"]),
    ):
        holder = await minem.holder(sector=sector)
        site = await minem.site(holder["id"])
        for mg_per_kg in concentrations:
            item = await minem.item(pcb["id"], holder["id"], site["id"])  # 1980, 300 L
            if mg_per_kg is not None:
                await minem.analysis(
                    item["id"], method="gc", analysed_on="2024-02-01", value_mg_per_kg=mg_per_kg
                )
        holders[sector] = holder
    await validate(minem, minam, pcb["id"])
    return holders


def _pcb(part: dict[str, Any]) -> tuple[int, int, int]:
    """Items, PCB items (P1/P2/P3/presumed), items overdue for the use deadline."""
    pcb = part["pcb"]
    return pcb["items"], pcb["pcb_items"], pcb["deadlines"]["use"]["items_overdue"]


@pytest.mark.usefixtures("sectors_2024")
async def test_figures_by_sector(oefa: Caller) -> None:
    params = {"year": 2024, "as_of": AFTER_2025}
    report = (await oefa.get("/reports/by-sector", params=params)).json()
    assert (report["schedule"], report["sector_filter"]) == ("convention", None)
    by_sector = {s["sector"]: s for s in report["sectors"]}
    assert list(by_sector) == ["electricity_distribution", "electricity_generation", "mining"]
    assert _pcb(by_sector["electricity_distribution"]) == (2, 2, 2)
    assert _pcb(by_sector["electricity_generation"]) == (1, 1, 1)
    assert _pcb(by_sector["mining"]) == (1, 0, 0)
    assert by_sector["electricity_distribution"]["pcb"]["by_class"]["P1"]["items"] == 1
    assert by_sector["electricity_distribution"]["pcb"]["by_class"]["presumed"]["items"] == 1
    labels = (by_sector["mining"]["sector_label_es"], by_sector["mining"]["sector_label_en"])
    assert labels == ("Minería", "Mining")
    # The parts add up to the national figures.
    national = (await oefa.get("/reports/national-summary", params=params)).json()
    assert _pcb(national) == (4, 3, 3)


async def test_the_electricity_sector_alone(oefa: Caller, sectors_2024: dict[str, Any]) -> None:
    electricity = {"year": 2024, "as_of": AFTER_2025, "sector": ELECTRICITY}
    summary = (await oefa.get("/reports/national-summary", params=electricity)).json()
    assert summary["sector_filter"] == sorted(ELECTRICITY)
    assert _pcb(summary) == (3, 3, 3)
    by_department = (await oefa.get("/reports/by-department", params=electricity)).json()
    assert [_pcb(d) for d in by_department["departments"]] == [(3, 3, 3)]
    by_sector = (await oefa.get("/reports/by-sector", params=electricity)).json()
    assert [s["sector"] for s in by_sector["sectors"]] == [
        "electricity_distribution",
        "electricity_generation",
    ]
    mining = {"year": 2024, "sector": "mining"}
    by_holder = (await oefa.get("/reports/by-holder", params=mining)).json()
    assert [h["holder_id"] for h in by_holder["holders"]] == [sectors_2024["mining"]["id"]]
    series = (await oefa.get("/reports/time-series", params={"sector": "mining"})).json()
    assert [y["pcb"]["items"] for y in series["years"]] == [1]


@pytest.mark.usefixtures("sectors_2024")
async def test_public_and_csv_by_sector(oefa: Caller, anonymous: Caller) -> None:
    public = await anonymous.get("/public/by-sector", params={"year": 2024, "sector": "mining"})
    assert public.status_code == 200, public.text
    assert [s["sector"] for s in public.json()["sectors"]] == ["mining"]
    csv = await oefa.get("/reports/by-sector", params={"year": 2024, "format": "csv"})
    header, *rows = csv.text.splitlines()
    assert header.startswith("year,sector,pcb_class,status,items")
    line = "2024,mining,non_pcb,in_use,1,"
    assert [r for r in rows if r.startswith(line)] != []


async def test_figures_follow_a_holder_changing_sector(
    minem: Caller, oefa: Caller, sectors_2024: dict[str, Any]
) -> None:
    params = {"year": 2024, "as_of": AFTER_2025}
    first = await oefa.get("/reports/by-sector", params=params)
    tag = first.headers["etag"]
    mine = sectors_2024["mining"]["id"]
    await minem.ok("PATCH", f"/holders/{mine}", {"sector": "electricity_generation"})
    again = await oefa.get("/reports/by-sector", params=params, headers={"If-None-Match": tag})
    assert again.status_code == 200
    by_sector = {s["sector"]: _pcb(s) for s in again.json()["sectors"]}
    assert by_sector == {"electricity_distribution": (2, 2, 2), "electricity_generation": (2, 1, 1)}


@pytest.mark.parametrize(
    "path",
    [
        "/reports/national-summary",
        "/reports/by-department",
        "/reports/by-sector",
        "/reports/by-holder",
        "/reports/time-series",
    ],
)
async def test_an_unknown_sector_is_a_problem_naming_the_parameter(oefa: Caller, path: str) -> None:
    response = await oefa.get(path, params={"sector": ["mining", "bakery"]})
    assert_problem(response, 422, "validation-error")
    assert [e["loc"][:2] for e in response.json()["errors"]] == [["query", "sector"]]


async def test_a_holder_sector_outside_the_vocabulary_changes_nothing(minem: Caller) -> None:
    holder = await minem.holder(sector="mining")
    path = f"/holders/{holder['id']}"
    response = await minem.write("PATCH", path, {"sector": "bakery"})
    assert_problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"][:2] == ["body", "sector"]
    assert (await minem.get(path)).json()["sector"] == "mining"
    listed = await minem.get("/holders", params={"sector": "bakery"})
    assert_problem(listed, 422, "validation-error")
