"""UP-POPs and mercury release estimates through the gateway: the factor catalogue,
release arithmetic, ND never zero, unit checks, distribution factors, corrections."""

from __future__ import annotations

from typing import Any

import pytest

from tests.inventory.conftest import Caller, assert_problem, validate

FACTOR = {
    "source_group": "6",
    "category": "6b",
    "category_name": "Waste burning and accidental fires",
    "class_no": 2,
    "class_name": "Open burning of domestic waste",
    "activity_unit": "t",
    "provenance": "DOMAIN.md §2 example (UNEP Toolkit 2013), to verify",
}


async def _factors(minam: Caller, **values: str) -> list[dict[str, Any]]:
    created = []
    for vector, value in values.items():
        response = await minam.post(
            "/emission-factors", FACTOR | {"vector": vector, "value": value}
        )
        assert response.status_code == 201, response.text
        created.append(response.json())
    return created


async def test_only_reviewers_edit_the_catalogue(
    minem: Caller, minam: Caller, oefa: Caller
) -> None:
    assert_problem(
        await minem.post("/emission-factors", FACTOR | {"vector": "air", "value": "40"}), 403
    )
    air, _ = await _factors(minam, air="40", land="1")
    assert air["value"] == "40"
    assert air["teq_scheme"] == "WHO-2005"
    assert air["toolkit_edition"] == "2013"
    dup = await minam.post("/emission-factors", FACTOR | {"vector": "air", "value": "41"})
    assert_problem(dup, 409, "duplicate")
    for bad in (
        {"value": "-1"},
        {"value": "abc"},
        {"value": "1e12"},
        {"value": "0.0000001"},
        {"category": "7b"},
        {"source_group": "11"},
        {"vector": "sky"},
        {"teq_scheme": "made-up"},
        {"activity_unit": ""},
        {"provenance": ""},
    ):
        response = await minam.post(
            "/emission-factors", FACTOR | {"vector": "water", "value": "1"} | bad
        )
        assert_problem(response, 422)
    nd = await _factors(minam, water="ND", product="NA")
    assert [f["value"] for f in nd] == ["ND", "NA"]
    listed = await oefa.get("/emission-factors", params={"category": "6b"})
    assert [f["vector"] for f in listed.json()["items"]] == ["air", "land", "water", "product"]
    changed = await minam.ok(
        "PATCH", f"/emission-factors/{air['id']}", {"value": "45", "note": "revised"}
    )
    assert changed["value"] == "45"
    assert_problem(
        await minem.write("PATCH", f"/emission-factors/{air['id']}", {"value": "1"}), 403
    )
    assert_problem(
        await minam.write("PATCH", f"/emission-factors/{air['id']}", {"vector": "land"}), 422
    )


async def test_release_is_activity_times_factor_and_nd_is_never_zero(
    minem: Caller, minam: Caller
) -> None:
    await _factors(minam, air="40", land="1", residue="ND", product="NA")
    submission = await minem.submission(2024, "upops")
    response = await minem.post(
        f"/submissions/{submission['id']}/upops-estimates",
        {
            "category": "6b",
            "class_no": 2,
            "activity_rate": "10000",
            "activity_unit": "t",
            "department_code": "15",
        },
    )
    assert response.status_code == 201, response.text
    estimate = response.json()
    releases = estimate["releases"]
    assert list(releases) == ["air", "water", "land", "product", "residue"]
    assert releases["air"]["status"] == "determined"
    assert float(releases["air"]["release_g_teq_per_year"]) == 0.4  # 10 000 t x 40 µg/t
    assert releases["land"]["release_g_teq_per_year"] == "0.010000000000"
    assert releases["residue"] == {
        "status": "not_determined",
        "release": None,
        "unit": "g TEQ/a",
        "release_g_teq_per_year": None,
        "factor": "ND",
        "factor_id": releases["residue"]["factor_id"],
    }
    assert releases["water"]["status"] == "not_determined"  # no factor at all
    assert releases["water"]["factor_id"] is None
    assert releases["product"]["status"] == "not_applicable"
    assert estimate["total"] == {
        "determined": "0.410000000000",
        "unit": "g TEQ/a",
        "determined_g_teq_per_year": "0.410000000000",
        "complete": False,
        "not_determined_vectors": ["water", "residue"],
    }
    assert estimate["source_group"] == "6"
    path = f"/upops-estimates/{estimate['id']}"
    patched = await minem.ok("PATCH", path, {"activity_rate": "2500"})
    assert float(patched["releases"]["air"]["release_g_teq_per_year"]) == 0.1


async def test_units_must_match_the_factor(minem: Caller, minam: Caller) -> None:
    await _factors(minam, air="40")
    submission = await minem.submission(2024, "upops")
    url = f"/submissions/{submission['id']}/upops-estimates"
    base = {"category": "6b", "class_no": 2, "activity_rate": "10"}
    for unit in ("TJ", "kg", "t/a x"):
        assert_problem(
            await minem.post(url, base | {"activity_unit": unit}), 422, "validation-error"
        )
    assert (await minem.post(url, base | {"activity_unit": " T "})).status_code == 201
    assert_problem(await minem.post(url, base | {"activity_unit": "t", "class_no": 9}), 422)
    assert_problem(await minem.post(url, base | {"activity_unit": "t", "activity_rate": "-1"}), 422)
    assert_problem(
        await minem.post(url, base | {"activity_unit": "t", "activity_rate": "1e13"}), 422
    )
    assert_problem(
        await minem.post(url, base | {"activity_unit": "t", "release_g_teq_per_year": "0"}), 422
    )
    pcb = await minem.submission(2024, "pcb")
    assert_problem(
        await minem.post(
            f"/submissions/{pcb['id']}/upops-estimates", base | {"activity_unit": "t"}
        ),
        422,
        "wrong-section",
    )


async def test_catalogue_edits_do_not_move_recorded_estimates(minem: Caller, minam: Caller) -> None:
    (air,) = await _factors(minam, air="40")
    submission = await minem.submission(2024, "upops")
    estimate = (
        await minem.post(
            f"/submissions/{submission['id']}/upops-estimates",
            {"category": "6b", "class_no": 2, "activity_rate": "10000", "activity_unit": "t"},
        )
    ).json()
    await minam.ok("PATCH", f"/emission-factors/{air['id']}", {"value": "80"})
    path = f"/upops-estimates/{estimate['id']}"
    assert float((await minem.get(path)).json()["releases"]["air"]["release_g_teq_per_year"]) == 0.4
    edited = await minem.ok("PATCH", path, {"description": "recomputed"})
    assert float(edited["releases"]["air"]["release_g_teq_per_year"]) == 0.8


MERCURY = {
    "category": "asgm",
    "subcategory": "Whole-ore amalgamation",
    "activity_rate": "1000",
    "activity_unit": "kg gold",
    "input_factor_kg_per_unit": "3",
    "input_factor_unit": "kg gold",
    "factor_provenance": "demo, to verify",
    "distribution": {"air": "0.25", "water": "0.3", "land": "0.45"},
}


async def test_mercury_input_is_split_over_the_pathways(
    minem: Caller, oefa: Caller, minam: Caller
) -> None:
    submission = await minem.submission(2024, "mercury")
    url = f"/submissions/{submission['id']}/mercury-estimates"
    response = await minem.post(url, MERCURY)
    assert response.status_code == 201, response.text
    estimate = response.json()
    assert estimate["input_kg_per_year"] == "3000.000"
    releases = estimate["releases"]
    assert list(releases) == [
        "air",
        "water",
        "land",
        "by_products",
        "general_waste",
        "sector_specific",
    ]
    assert {k: v["release_kg_per_year"] for k, v in releases.items()} == {
        "air": "750.000",
        "water": "900.000",
        "land": "1350.000",
        "by_products": "0.000",
        "general_waste": "0.000",
        "sector_specific": "0.000",
    }
    # A third each: largest-remainder rounding keeps the parts summing to the input.
    third = {"air": "0.33333", "water": "0.33333", "land": "0.33334"}
    split = (
        await minem.post(
            url,
            MERCURY
            | {"activity_rate": "1", "input_factor_kg_per_unit": "0.001", "distribution": third},
        )
    ).json()
    assert sum(
        float(r["release_kg_per_year"]) for r in split["releases"].values()
    ) == pytest.approx(0.001)
    for bad in (
        {"distribution": {"air": "0.5", "water": "0.4"}},
        {"distribution": {"air": "0.5", "water": "0.6"}},
        {"distribution": {"air": "1.0", "sky": "0"}},
        {"distribution": {"air": "-0.1", "water": "1.1"}},
        {"input_factor_unit": "t ore"},
        {"input_factor_kg_per_unit": "1e7"},
        {"category": "gold"},
        {"toolkit_level": 3},
        {"input_kg_per_year": "1"},
    ):
        assert_problem(await minem.post(url, MERCURY | bad), 422)
    path = f"/mercury-estimates/{estimate['id']}"
    assert_problem(await oefa.get(path), 404)
    changed = await minem.ok("PATCH", path, {"activity_rate": "2000"})
    assert changed["releases"]["air"]["release_kg_per_year"] == "1500.000"
    assert_problem(await minem.write("PATCH", path, {"distribution": {"air": "0.9"}}), 422)
    await validate(minem, minam, submission["id"])
    assert (await oefa.get(path)).status_code == 200
    listed = await oefa.get("/mercury-estimates", params={"category": "asgm", "current": "true"})
    assert len(listed.json()["items"]) == 2
    assert_problem(await minem.write("DELETE", path), 409, "submission-not-editable")


async def test_corrections_copy_estimates(minem: Caller, minam: Caller) -> None:
    await _factors(minam, air="40")
    upops = await minem.submission(2024, "upops")
    await minem.post(
        f"/submissions/{upops['id']}/upops-estimates",
        {"category": "6b", "class_no": 2, "activity_rate": "10000", "activity_unit": "t"},
    )
    mercury = await minem.submission(2024, "mercury")
    await minem.post(f"/submissions/{mercury['id']}/mercury-estimates", MERCURY)
    for submission, kind in ((upops, "upops"), (mercury, "mercury")):
        await validate(minem, minam, submission["id"])
        correction = await minem.ok(
            "POST",
            f"/submissions/{submission['id']}/corrections",
            {"reason": "revisión"},
            etag_of=f"/submissions/{submission['id']}",
        )
        copies = (
            await minem.get(f"/{kind}-estimates", params={"submission_id": correction["id"]})
        ).json()["items"]
        originals = (
            await minem.get(f"/{kind}-estimates", params={"submission_id": submission["id"]})
        ).json()["items"]
        assert len(copies) == len(originals) == 1
        assert copies[0]["releases"] == originals[0]["releases"]
        assert copies[0]["id"] != originals[0]["id"]
        deleted = await minem.write("DELETE", f"/{kind}-estimates/{copies[0]['id']}")
        assert deleted.status_code == 204
