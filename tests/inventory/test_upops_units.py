"""UP-POPs units through the gateway (issue 12, item 1): a factor's unit fits its pollutant
(TEQ for PCDD/F and dl-PCB under a scheme; mass for HCB and PeCBz, which have no TEF), and
totals are per pollutant and TEQ scheme, never added across them; inventories under
different schemes are shown side by side without conversion (the Toolkit gives none).

Expected values: release = activity rate x factor (UNEP Toolkit 2013; DOMAIN.md §2), e.g.
10 000 t x 40 µg TEQ/t = 0.4 g TEQ/a. HCB factors here are test values, in mass.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from typing import Any

from fastapi import FastAPI

from tests.inventory.conftest import Caller, assert_problem, validate
from tests.support import limit

D = Decimal

FACTOR = {
    "source_group": "6",
    "category": "6b",
    "category_name": "Waste burning and accidental fires",
    "class_name": "Open burning",
    "activity_unit": "t",
    "provenance": "test values after DOMAIN.md §2 (UNEP Toolkit 2013)",
}


def _names(response: Any, field: str) -> None:
    """``response`` is a 422 problem whose errors name ``field`` (in loc, or the message
    of a whole-body check)."""
    assert_problem(response, 422)
    body = response.json()
    assert any(field in e["loc"] or field in e["msg"] for e in body["errors"]), body


async def _factor(minam: Caller, **fields: Any) -> dict[str, Any]:
    response = await minam.post("/emission-factors", FACTOR | fields)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _estimate(caller: Caller, submission_id: int, **fields: Any) -> dict[str, Any]:
    body = {"category": "6b", "activity_unit": "t"} | fields
    response = await caller.post(f"/submissions/{submission_id}/upops-estimates", body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _hcb_count(oefa: Caller) -> int:
    listed = await oefa.get("/emission-factors", params={"category": "6b"})
    return sum(f["pollutant"] == "hcb" for f in listed.json()["items"])


async def test_a_factor_unit_must_fit_its_pollutant(minam: Caller, oefa: Caller) -> None:
    base = {"class_no": 9, "vector": "air", "value": "10"}
    # HCB has no TEF: a TEQ unit or a TEQ scheme for it is refused, naming the field.
    _names(
        await minam.post(
            "/emission-factors", FACTOR | base | {"pollutant": "hcb", "value_unit": "µg TEQ"}
        ),
        "value_unit",
    )
    _names(
        await minam.post(
            "/emission-factors", FACTOR | base | {"pollutant": "pecbz", "value_unit": "ug teq"}
        ),
        "value_unit",
    )
    _names(
        await minam.post(
            "/emission-factors", FACTOR | base | {"pollutant": "hcb", "teq_scheme": "WHO-2005"}
        ),
        "teq_scheme",
    )
    # PCDD/F and dl-PCB are TEQ: a plain mass unit is refused.
    for pollutant in ("pcdd_pcdf", "dl_pcb"):
        _names(
            await minam.post(
                "/emission-factors",
                FACTOR | base | {"pollutant": pollutant, "value_unit": "µg"},
            ),
            "value_unit",
        )
    for bad in ("kg", "", "µg TEQ/t", "x" * 21):
        _names(
            await minam.post(
                "/emission-factors", FACTOR | base | {"pollutant": "hcb", "value_unit": bad}
            ),
            "value_unit",
        )
    assert await _hcb_count(oefa) == 0  # rejected writes changed nothing

    hcb = await _factor(minam, **base, pollutant="hcb")
    assert (hcb["value_unit"], hcb["teq_scheme"]) == ("µg", None)
    mg = await _factor(minam, **base | {"vector": "land"}, pollutant="hcb", value_unit="mg")
    assert mg["value_unit"] == "mg"
    dioxin = await _factor(minam, **base, value_unit="ug TEQ")
    assert (dioxin["value_unit"], dioxin["teq_scheme"]) == ("µg TEQ", "WHO-2005")
    assert (await _factor(minam, **base | {"class_no": 8}))["value_unit"] == "µg TEQ"
    whole = await _factor(minam, **base | {"class_no": 7}, value_unit="µg TEQ/t")
    assert whole["value_unit"] == "µg TEQ"  # written whole, per the activity unit
    _names(
        await minam.post(
            "/emission-factors", FACTOR | base | {"class_no": 6, "value_unit": "µg TEQ/TJ"}
        ),
        "value_unit",
    )

    # A patch keeps to the pollutant's kind of unit; a refused one changes nothing.
    path = f"/emission-factors/{hcb['id']}"
    _names(await minam.write("PATCH", path, {"value_unit": "µg TEQ"}), "value_unit")
    _names(await minam.write("PATCH", path, {"value_unit": None}), "value_unit")
    unchanged = (await oefa.get(path)).json()
    assert (unchanged["value_unit"], unchanged["version"]) == ("µg", hcb["version"])
    assert (await minam.ok("PATCH", path, {"value_unit": "ng"}))["value_unit"] == "ng"
    _names(
        await minam.write("PATCH", f"/emission-factors/{dioxin['id']}", {"value_unit": "mg"}),
        "value_unit",
    )


async def test_hcb_and_dioxins_in_one_draft_are_never_summed(minem: Caller, minam: Caller) -> None:
    # The repro: 6b class 9 hcb and 6b class 2 pcdd_pcdf in one draft.
    await _factor(minam, class_no=2, vector="air", value="40")  # µg TEQ/t, WHO-2005
    await _factor(minam, class_no=2, vector="land", value="1")
    await _factor(minam, class_no=9, pollutant="hcb", vector="air", value="0.1", value_unit="mg")
    draft = await minem.submission(2024, "upops")
    sid = draft["id"]
    _names(
        await minem.post(
            f"/submissions/{sid}/upops-estimates",
            {
                "category": "6b",
                "class_no": 9,
                "pollutant": "hcb",
                "teq_scheme": "WHO-2005",
                "activity_rate": "10000",
                "activity_unit": "t",
            },
        ),
        "teq_scheme",
    )
    dioxin = await _estimate(minem, sid, class_no=2, activity_rate="10000")
    assert (dioxin["unit"], dioxin["teq_scheme"]) == ("g TEQ/a", "WHO-2005")
    assert D(dioxin["releases"]["air"]["release"]) == D("0.4")  # 10 000 t x 40 µg TEQ/t
    hcb = await _estimate(minem, sid, class_no=9, pollutant="hcb", activity_rate="10000")
    # 10 000 t x 0.1 mg/t = 1 000 mg = 1 g HCB/a: a mass, not a TEQ.
    assert (hcb["unit"], hcb["teq_scheme"]) == ("g/a", None)
    assert D(hcb["releases"]["air"]["release"]) == D("1")
    assert hcb["releases"]["air"]["unit"] == "g/a"
    assert hcb["releases"]["air"]["release_g_teq_per_year"] is None
    assert (D(hcb["total"]["determined"]), hcb["total"]["unit"]) == (D("1"), "g/a")
    assert hcb["total"]["determined_g_teq_per_year"] is None

    summary = await minem.get("/reports/national-summary", params={"submission_id": sid})
    assert summary.status_code == 200, summary.text
    upops = summary.json()["upops"]
    # Two pollutants: no single sum, by_vector and the g TEQ total are withheld.
    assert upops["by_vector"] is None
    assert upops["by_source_group"] is None
    assert upops["determined_g_teq_per_year"] is None
    totals = {(t["pollutant"], t["teq_scheme"]): t for t in upops["totals"]}
    assert list(totals) == [("pcdd_pcdf", "WHO-2005"), ("hcb", None)]
    dioxins, hcb_total = totals[("pcdd_pcdf", "WHO-2005")], totals[("hcb", None)]
    assert (dioxins["unit"], dioxins["label"]) == ("g TEQ/a", "g TEQ/a (WHO-2005)")
    assert D(dioxins["by_vector"]["air"]["release"]) == D("0.4")
    assert D(dioxins["determined"]) == D("0.41")
    assert (hcb_total["unit"], hcb_total["label"]) == ("g/a", "g/a")
    assert D(hcb_total["by_vector"]["air"]["release"]) == D("1")
    assert hcb_total["by_vector"]["air"]["release_g_teq_per_year"] is None
    assert D(hcb_total["determined"]) == D("1")

    rows = list(
        csv.DictReader(
            io.StringIO(
                (
                    await minem.get(
                        "/reports/national-summary",
                        params={"submission_id": sid, "format": "csv", "section": "upops"},
                    )
                ).text
            )
        )
    )
    air = {r["pollutant"]: r for r in rows if r["vector"] == "air"}
    assert (air["hcb"]["unit"], air["hcb"]["teq_scheme"]) == ("g/a", "")
    assert D(air["hcb"]["release"]) == D("1")
    assert (air["pcdd_pcdf"]["unit"], air["pcdd_pcdf"]["teq_scheme"]) == ("g TEQ/a", "WHO-2005")

    # With the HCB estimate gone, one TEQ pollutant under one scheme: the sum is back.
    await minem.write(
        "DELETE", f"/upops-estimates/{hcb['id']}", etag_of=f"/upops-estimates/{hcb['id']}"
    )
    single = (await minem.get("/reports/national-summary", params={"submission_id": sid})).json()[
        "upops"
    ]
    assert D(single["by_vector"]["air"]["release_g_teq_per_year"]) == D("0.4")
    assert D(single["determined_g_teq_per_year"]) == D("0.41")


async def _inventory(
    owner: Caller, reviewer: Caller, year: int, scheme: str, rate: str
) -> dict[str, Any]:
    submission = await owner.submission(year, "upops")
    edition = "2003" if scheme == "I-TEQ" else "2013"
    await _estimate(
        owner,
        submission["id"],
        class_no=2,
        activity_rate=rate,
        teq_scheme=scheme,
        toolkit_edition=edition,
    )
    await validate(owner, reviewer, submission["id"])
    return submission


async def test_schemes_are_never_summed_and_are_compared_side_by_side(
    minem: Caller,
    minam: Caller,
    oefa: Caller,
    produce: Caller,
    anonymous: Caller,
    inventory_app: FastAPI,
) -> None:
    await _factor(minam, class_no=2, vector="air", value="40")
    await _factor(
        minam, class_no=2, vector="air", value="40", teq_scheme="I-TEQ", toolkit_edition="2003"
    )
    # 2003: 5 000 t x 40 µg I-TEQ/t = 0.2 g I-TEQ/a; 2024: 10 000 t x 40 = 0.4 g WHO-TEQ/a.
    old = await _inventory(minem, minam, 2003, "I-TEQ", "5000")
    await _inventory(minem, minam, 2024, "WHO-2005", "10000")

    # One draft holding both schemes: two totals, never one.
    draft = await produce.submission(2025, "upops")
    for scheme, edition in (("I-TEQ", "2003"), ("WHO-2005", "2013")):
        await _estimate(
            produce,
            draft["id"],
            class_no=2,
            activity_rate="10000",
            teq_scheme=scheme,
            toolkit_edition=edition,
        )
    mixed = (
        await produce.get("/reports/national-summary", params={"submission_id": draft["id"]})
    ).json()["upops"]
    assert mixed["by_vector"] is None
    assert mixed["determined_g_teq_per_year"] is None
    assert [(t["teq_scheme"], D(t["determined"])) for t in mixed["totals"]] == [
        ("I-TEQ", D("0.4")),
        ("WHO-2005", D("0.4")),
    ]

    compared = await oefa.get("/reports/upops-comparison", params={"year": [2003, 2024]})
    assert compared.status_code == 200, compared.text
    body = compared.json()
    assert [(c["year"], c["scope"]) for c in body["columns"]] == [
        (2003, "national"),
        (2024, "national"),
    ]
    rows = {(r["pollutant"], r["teq_scheme"]): r for r in body["rows"]}
    assert list(rows) == [("pcdd_pcdf", "I-TEQ"), ("pcdd_pcdf", "WHO-2005")]
    i_teq, who = rows[("pcdd_pcdf", "I-TEQ")], rows[("pcdd_pcdf", "WHO-2005")]
    assert i_teq["label"] == "g TEQ/a (I-TEQ)"
    assert D(i_teq["values"][0]["determined"]) == D("0.2")
    assert i_teq["values"][1] is None  # never converted into the other scheme
    assert who["values"][0] is None
    assert D(who["values"][1]["determined"]) == D("0.4")
    assert body["conversion"]["applied"] is False
    assert "no general conversion" in body["conversion"]["note"]
    public = await anonymous.get("/public/upops-comparison", params={"year": [2003, 2024]})
    assert public.status_code == 200, public.text
    assert public.json()["rows"] == body["rows"]
    unknown = await anonymous.get("/public/upops-comparison", params={"submission_id": 1})
    # No previews in public: the parameter is not there, and an unknown one is a 400.
    assert unknown.status_code == 400, unknown.text
    assert unknown.json()["unknown"] == ["submission_id"]
    # Time series: each year under its own scheme.
    series = (await oefa.get("/reports/time-series")).json()["years"]
    assert [[t["teq_scheme"] for t in y["upops"]["totals"]] for y in series] == [
        ["I-TEQ"],
        ["WHO-2005"],
    ]

    # A year and a submission the caller may see, side by side.
    both = await produce.get(
        "/reports/upops-comparison", params={"year": 2003, "submission_id": draft["id"]}
    )
    assert both.status_code == 200, both.text
    assert [c["scope"] for c in both.json()["columns"]] == ["national", "submission"]
    assert [D(v["determined"]) for v in both.json()["rows"][0]["values"]] == [D("0.2"), D("0.4")]

    # Bad input: 4xx naming the parameter.
    _names(await oefa.get("/reports/upops-comparison"), "year")
    _names(await oefa.get("/reports/upops-comparison", params={"year": 1800}), "year")
    _names(await oefa.get("/reports/upops-comparison", params={"year": "x"}), "year")
    _names(
        await oefa.get("/reports/upops-comparison", params={"submission_id": 0}), "submission_id"
    )
    pcb = await minem.submission(2024, "pcb")
    _names(
        await minem.get("/reports/upops-comparison", params={"submission_id": pcb["id"]}),
        "submission_id",
    )
    assert_problem(
        await oefa.get("/reports/upops-comparison", params={"submission_id": draft["id"]}), 404
    )
    limit(inventory_app, report_compare_max_columns=2)
    _names(await oefa.get("/reports/upops-comparison", params={"year": [2003, 2024, 2025]}), "year")
    assert (
        await oefa.get("/reports/upops-comparison", params={"year": [2003, 2024]})
    ).status_code == 200
    assert old["year"] == 2003
