"""Convention reports through the gateway (Stockholm Article 15, Minamata Article 21):
figures derived by hand from data validated through the real workflow, the XLSX holding
the same numbers, a year with drafts only, bad parameters."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import pytest
from openpyxl import load_workbook

from tests.inventory.conftest import Caller, assert_problem, validate

D = Decimal
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
EVIDENCE = {
    "disposal_facility": "Demo ESM plant",
    "country": "FR",
    "disposed_on": "2024-05-01",
    "certificate_ref": "CERT-9",
    "mass_kg": "1200",
}


@pytest.fixture
async def year_2024(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    """Validated 2024 data: MINEM's PCB items and ASGM/incineration mercury estimates,
    PRODUCE's open-burning UP-POPs estimates (PCDD/PCDF and HCB). Drafts only for 2023."""
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    pcb = (await minem.submission(2024, "pcb"))["id"]

    async def item(mg: str | None, **fields: Any) -> Any:
        made = await minem.item(pcb, holder["id"], site["id"], **fields)
        if mg is not None:
            await minem.analysis(
                made["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg=mg
            )
        return made

    # P1 in use: 4 t, 850 L of askarel (1.275 t at 1.5 kg/L).
    await item("300000", fluid_volume_l="850", fluid_kind="askarel", total_mass_kg="4000")
    # P1 out of service, stored: 2 t, 500 L of askarel (0.75 t).
    stored = await item("250000", fluid_volume_l="500", fluid_kind="askarel", total_mass_kg="2000")
    await minem.ok(
        "POST",
        f"/pcb-items/{stored['id']}/status-events",
        {"to_status": "out_of_service_stored", "changed_on": "2024-02-01"},
        etag_of=f"/pcb-items/{stored['id']}",
    )
    # P2 eliminated: 1.2 t, 264 kg of fluid.
    p2 = await item("1200", total_mass_kg="1200", fluid_mass_kg="264")
    for to in ("out_of_service_stored", "shipped_for_disposal"):
        await minem.ok(
            "POST",
            f"/pcb-items/{p2['id']}/status-events",
            {"to_status": to, "changed_on": "2024-03-01"},
            etag_of=f"/pcb-items/{p2['id']}",
        )
    await minem.ok(
        "POST",
        f"/pcb-items/{p2['id']}/status-events",
        {"to_status": "eliminated", "changed_on": "2024-05-01", "elimination": EVIDENCE},
        etag_of=f"/pcb-items/{p2['id']}",
    )
    # P3 in use: 1 L, 50 kg, 1 kg of fluid.
    await item("100", fluid_volume_l="1", fluid_mass_kg="1", total_mass_kg="50")
    # Presumed (1975, 300 L, not analysed): 1 t, fluid of unknown kind (not weighed).
    await item(None, year_manufactured=1975, total_mass_kg="1000")
    # Contaminated (100 mg/kg) but 0.04 L: below the volume rule; 10 kg.
    await item("100", fluid_volume_l="0.04", total_mass_kg="10")
    # Non-PCB: in no figure.
    await item("3", year_manufactured=1999, total_mass_kg="800")
    await validate(minem, minam, pcb)
    # PRODUCE's own 2024 PCB inventory: one P3 item in use, 2 L, 100 kg, 2 kg of fluid.
    produce_holder = await produce.holder()
    produce_site = await produce.site(produce_holder["id"])
    produce_pcb = (await produce.submission(2024, "pcb"))["id"]
    p3 = await produce.item(
        produce_pcb,
        produce_holder["id"],
        produce_site["id"],
        fluid_volume_l="2",
        fluid_mass_kg="2",
        total_mass_kg="100",
    )
    await produce.analysis(p3["id"], method="gc", analysed_on="2024-01-10", value_mg_per_kg="80")
    await validate(produce, minam, produce_pcb)

    for pollutant, vector, value in (
        ("pcdd_pcdf", "air", "40"),
        ("pcdd_pcdf", "land", "1"),
        ("pcdd_pcdf", "residue", "ND"),
        ("hcb", "air", "5"),
    ):
        response = await minam.post(
            "/emission-factors",
            {
                "source_group": "6",
                "category": "6b",
                "category_name": "Waste burning",
                "class_no": 2,
                "class_name": "Open burning of domestic waste",
                "pollutant": pollutant,
                "vector": vector,
                "value": value,
                "activity_unit": "t",
                "provenance": "test",
            },
        )
        assert response.status_code == 201, response.text
    upops = (await produce.submission(2024, "upops"))["id"]
    for pollutant in ("pcdd_pcdf", "hcb"):
        response = await produce.post(
            f"/submissions/{upops}/upops-estimates",
            {
                "category": "6b",
                "class_no": 2,
                "pollutant": pollutant,
                "activity_rate": "10000",
                "activity_unit": "t",
            },
        )
        assert response.status_code == 201, response.text
    await validate(produce, minam, upops)

    mercury = (await minem.submission(2024, "mercury"))["id"]
    produce_mercury = (await produce.submission(2024, "mercury"))["id"]
    for owner, sid, category, rate, department, distribution in (
        (minem, mercury, "asgm", "1000", "17", {"air": "0.25", "water": "0.3", "land": "0.45"}),
        (minem, mercury, "asgm", "100", "21", {"air": "0.25", "water": "0.3", "land": "0.45"}),
        (produce, produce_mercury, "waste_incineration", "10", "15", {"air": "1"}),
    ):
        response = await owner.post(
            f"/submissions/{sid}/mercury-estimates",
            {
                "category": category,
                "activity_rate": rate,
                "activity_unit": "t",
                "input_factor_kg_per_unit": "3" if category == "asgm" else "0.5",
                "input_factor_unit": "t",
                "factor_provenance": "test",
                "distribution": distribution,
                "department_code": department,
            },
        )
        assert response.status_code == 201, response.text
    await validate(minem, minam, mercury)
    await validate(produce, minam, produce_mercury)

    # 2023: drafts only (one submitted, not validated).
    draft = (await minem.submission(2023, "pcb"))["id"]
    await minem.item(draft, holder["id"], site["id"], total_mass_kg="99999")
    assert (await minem.move(draft, "submit")).status_code == 200
    hg_draft = (await minem.submission(2023, "mercury"))["id"]
    await minem.post(
        f"/submissions/{hg_draft}/mercury-estimates",
        {
            "category": "asgm",
            "activity_rate": "5",
            "activity_unit": "t",
            "input_factor_kg_per_unit": "3",
            "input_factor_unit": "t",
            "factor_provenance": "test",
            "distribution": {"air": "1"},
            "department_code": "17",
        },
    )
    return {
        "pcb": pcb,
        "produce_pcb": produce_pcb,
        "upops": upops,
        "mercury": mercury,
        "produce_mercury": produce_mercury,
    }


def _pick(report: dict[str, Any], section: str, figure: str, **dims: Any) -> dict[str, Any]:
    (part,) = [s for s in report["sections"] if s["section"] == section]
    found = [
        f
        for f in part["figures"]
        if f["figure"] == figure and all(f["dimensions"].get(k) == v for k, v in dims.items())
    ]
    assert len(found) == 1, (figure, dims, found)
    return found[0]


async def test_stockholm_article_15(oefa: Caller, year_2024: dict[str, Any]) -> None:
    response = await oefa.get("/reports/stockholm-article-15", params={"year": 2024})
    assert response.status_code == 200, response.text
    report = response.json()
    assert (report["convention"], report["article"], report["year"]) == ("stockholm", "15", 2024)
    assert report["status"] == "validated"
    both = sorted([year_2024["pcb"], year_2024["produce_pcb"]])
    assert [s["submission_id"] for s in report["sources"]] == sorted([*both, year_2024["upops"]])

    def pcb(state: str, measure: str, category: str) -> dict[str, Any]:
        return _pick(report, "annex_a_part_ii_pcb", f"pcb.{state}.{measure}", category=category)

    def value(state: str, measure: str, category: str) -> Any:
        found = pcb(state, measure, category)
        return found["value"] if measure.endswith("items") else D(found["value"])

    # (i) P1: one in use (4 t, 1.275 t of liquid), one stored (2 t, 0.75 t).
    assert value("identified", "equipment_items", "i") == 2
    assert value("identified", "equipment_mass", "i") == D("6.000")
    assert value("identified", "liquid_mass", "i") == D("2.025")
    assert value("in_use", "equipment_items", "i") == 1
    assert value("removed_from_use", "equipment_mass", "i") == D("2.000")
    assert value("esm", "equipment_items", "i") == 0
    assert value("awaiting_esm", "equipment_items", "i") == 2
    # (ii) P2: eliminated.
    assert value("esm", "equipment_items", "ii") == 1
    assert value("esm", "liquid_mass", "ii") == D("0.264")
    assert value("in_use", "equipment_items", "ii") == 0
    # (iii) P3, presumed, below the volume rule.
    assert value("in_use", "liquid_mass", "iii") == D("0.003")  # 1 kg + PRODUCE's 2 kg
    presumed_liquid = pcb("identified", "liquid_mass", "presumed")
    assert (D(presumed_liquid["value"]), presumed_liquid["not_weighed_items"]) == (D(0), 1)
    assert value("identified", "equipment_mass", "presumed") == D("1.000")
    assert value("awaiting_esm", "equipment_items", "below_volume_rule") == 1
    # Every PCB category: 6 items, 8.35 t, 2.292 t of liquid (1 not weighed).
    assert value("identified", "equipment_items", "all_pcb") == 6
    assert value("identified", "equipment_mass", "all_pcb") == D("8.350")
    liquid = pcb("identified", "liquid_mass", "all_pcb")
    assert (D(liquid["value"]), liquid["not_weighed_items"]) == (D("2.292"), 1)
    # Figures name their metric, question and sources.
    in_use = pcb("in_use", "equipment_items", "all_pcb")
    assert in_use["metric"] == "pcb_in_use"
    assert in_use["question"].startswith("Part C")
    # Each figure's sources: the submissions holding what it counts; a zero comes from all.
    assert in_use["source_submissions"] == both
    assert pcb("in_use", "equipment_items", "i")["source_submissions"] == [year_2024["pcb"]]
    assert pcb("esm", "equipment_items", "i")["source_submissions"] == both  # none: 0
    assert pcb("esm", "equipment_items", "ii")["metric"] == "pcb_eliminated_cumulative"
    unanalysed = _pick(report, "annex_a_part_ii_pcb", "pcb.unanalysed.items")
    assert (unanalysed["metric"], unanalysed["value"]) == ("pcb_unanalysed", 1)

    # Annex C: 10 000 t x 40 ug TEQ/t = 0.4 g TEQ/a to air, 0.01 to land, residue ND;
    # HCB 10 000 t x 5 ug/t = 0.05 g/a, in mass, never added to the TEQ.
    def release(pollutant: str, group: str, vector: str) -> dict[str, Any]:
        return _pick(
            report,
            "annex_c_releases",
            "annex_c.release",
            pollutant=pollutant,
            source_group=group,
            vector=vector,
        )

    air = release("pcdd_pcdf", "6", "air")
    assert (D(air["value"]), air["unit"], air["metric"]) == (
        D("0.4"),
        "g TEQ/a (WHO-2005)",
        "pcdd_pcdf_releases",
    )
    assert air["dimensions"]["teq_scheme"] == "WHO-2005"
    assert air["source_submissions"] == [year_2024["upops"]]
    assert D(release("pcdd_pcdf", "6", "land")["value"]) == D("0.01")
    residue = release("pcdd_pcdf", "6", "residue")
    assert (residue["value"], residue["status"]) == (None, "not_determined")
    hcb = release("hcb", "6", "air")
    assert (D(hcb["value"]), hcb["unit"], hcb["metric"]) == (D("0.05"), "g/a", None)
    assert D(release("pcdd_pcdf", "all", "air")["value"]) == D("0.4")


async def test_minamata_article_21(oefa: Caller, year_2024: dict[str, Any]) -> None:
    response = await oefa.get("/reports/minamata-article-21", params={"year": 2024})
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["status"] == "validated"
    assert [s["submission_id"] for s in report["sources"]] == [
        year_2024["mercury"],
        year_2024["produce_mercury"],
    ]
    again = await oefa.get(
        "/reports/minamata-article-21",
        params={"year": 2024},
        headers={"If-None-Match": response.headers["etag"]},
    )
    assert again.status_code == 304

    def hg(category: str, pathway: str) -> dict[str, Any]:
        return _pick(report, "releases", "mercury.release", category=category, pathway=pathway)

    # ASGM: (1000 + 100) t x 3 kg/t = 3300 kg, 25 % to air; incineration 10 x 0.5 = 5 kg.
    assert D(hg("asgm", "air")["value"]) == 825
    assert D(hg("asgm", "land")["value"]) == D("1485")
    assert hg("asgm", "air")["metric"] == "asgm_mercury_releases"
    assert hg("asgm", "air")["question"].startswith("Article 8")
    assert hg("asgm", "water")["question"].startswith("Article 9")
    assert D(hg("waste_incineration", "air")["value"]) == 5
    assert hg("waste_incineration", "air")["metric"] is None
    assert hg("waste_incineration", "air")["source_submissions"] == [year_2024["produce_mercury"]]
    assert hg("asgm", "air")["source_submissions"] == [year_2024["mercury"]]
    assert D(hg("all", "air")["value"]) == 830
    assert hg("all", "air")["source_submissions"] == [
        year_2024["mercury"],
        year_2024["produce_mercury"],
    ]

    def asgm(department: str, pathway: str) -> Decimal:
        found = _pick(report, "asgm", "asgm.release", department_code=department, pathway=pathway)
        assert found["metric"] == "asgm_mercury_releases"
        assert found["source_submissions"] == [year_2024["mercury"]]
        return D(found["value"])

    assert asgm("17", "air") == 750
    assert asgm("17", "water") == 900
    assert asgm("21", "land") == D("135")
    (part,) = [s for s in report["sections"] if s["section"] == "asgm"]
    assert {f["dimensions"]["department_code"] for f in part["figures"]} == {"17", "21"}


@pytest.mark.usefixtures("year_2024")
@pytest.mark.parametrize("path", ["/reports/stockholm-article-15", "/reports/minamata-article-21"])
async def test_xlsx_holds_the_same_numbers(oefa: Caller, path: str) -> None:
    report = (await oefa.get(path, params={"year": 2024})).json()
    response = await oefa.get(path, params={"year": 2024, "format": "xlsx"})
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == XLSX
    by_accept = await oefa.get(path, params={"year": 2024}, headers={"Accept": XLSX})
    assert by_accept.headers["content-type"] == XLSX
    book = load_workbook(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in book["report"].iter_rows(values_only=True)}
    assert (about["year"], about["status"]) == (2024, "validated")
    for section in report["sections"]:
        rows = list(book[section["section"]].iter_rows(values_only=True))
        header, body = rows[0], rows[1:]
        assert len(body) == len(section["figures"])
        at = {name: i for i, name in enumerate(header)}
        for row, figure in zip(body, section["figures"], strict=True):
            assert row[at["figure"]] == figure["figure"]
            assert row[at["metric"]] == figure["metric"]
            for dim, dim_value in figure["dimensions"].items():
                assert row[at[dim]] == dim_value
            if figure["value"] is None:
                assert row[at["value"]] is None
            else:
                assert D(str(row[at["value"]])) == D(str(figure["value"]))
            sources = " ".join(str(i) for i in figure["source_submissions"])
            assert str(row[at["source_submissions"]]) == sources
    sources = list(book["sources"].iter_rows(values_only=True))[1:]
    assert [r[0] for r in sources] == [s["submission_id"] for s in report["sources"]]


@pytest.mark.usefixtures("year_2024")
@pytest.mark.parametrize("path", ["/reports/stockholm-article-15", "/reports/minamata-article-21"])
async def test_a_year_with_drafts_only_says_so(oefa: Caller, minem: Caller, path: str) -> None:
    # Even the owner of the drafts gets no draft figure in a Convention report.
    for caller in (oefa, minem):
        report = (await caller.get(path, params={"year": 2023})).json()
        assert report["status"] == "no_validated_data"
        assert "No validated data for 2023" in report["status_note"]
        assert report["sources"] == []
        assert all(s["figures"] == [] for s in report["sections"])
        assert {s["status"] for s in report["sections"]} == {"no_validated_data"}
    response = await oefa.get(path, params={"year": 2023, "format": "xlsx"})
    book = load_workbook(io.BytesIO(response.content))
    about = {row[0]: row[1] for row in book["report"].iter_rows(values_only=True)}
    assert about["status"] == "no_validated_data"


async def test_report_bad_parameters_name_the_parameter(oefa: Caller, anonymous: Caller) -> None:
    cases = [
        ("/reports/stockholm-article-15", {}, "year"),
        ("/reports/stockholm-article-15", {"year": "twenty"}, "year"),
        ("/reports/stockholm-article-15", {"year": 2024, "schedule": "x"}, "schedule"),
        ("/reports/minamata-article-21", {"year": 1800}, "year"),
        ("/reports/minamata-article-21", {"year": 2024, "format": "pdf"}, "format"),
    ]
    for path, params, name in cases:
        response = await oefa.get(path, params=params)
        assert_problem(response, 422)
        assert [e["loc"] for e in response.json()["errors"]] == [["query", name]], params
    response = await anonymous.get("/reports/minamata-article-21", params={"year": 2024})
    assert response.status_code == 401
