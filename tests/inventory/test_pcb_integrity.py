"""Issue 12 item 8: status and evidence integrity. Each bad write is a 422 problem naming
the field, and changes nothing. Densities after DOMAIN.md §1 (askarel ~1.5 kg/L, mineral
oil ~0.88); countries after ISO 3166-1 (XX is user-assigned, not a country)."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from services.inventory.countries import ISO_3166_1_ALPHA_2
from services.inventory.pcb.mass import DEFAULT_FLUID_DENSITIES, density_problem
from shared.db import utcnow
from tests.inventory.conftest import Caller
from tests.support import assert_problem

D = Decimal
EVIDENCE = {
    "disposal_facility": "Demo ESM plant",
    "country": "FR",
    "disposed_on": "2024-06-01",
    "certificate_ref": "CERT-12",
    "mass_kg": "150",
}


def _field_named(response: Any, name: str) -> None:
    assert_problem(response, 422)
    assert name in response.text, response.text


@pytest.fixture
async def place(minem: Caller) -> dict[str, Any]:
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    submission = await minem.submission(2024)
    return {"holder": holder["id"], "site": site["id"], "submission": submission["id"]}


async def _askarel_drum(minem: Caller, place: dict[str, Any]) -> dict[str, Any]:
    # 100 L of askarel, no mass recorded: known mass 100 L x 1.5 kg/L = 150 kg.
    return dict(
        await minem.item(
            place["submission"],
            place["holder"],
            place["site"],
            equipment_type="container",
            fluid_kind="askarel",
            fluid_volume_l="100",
            total_mass_kg=None,
        )
    )


async def _move(minem: Caller, item_id: int, body: dict[str, Any]) -> Any:
    path = f"/pcb-items/{item_id}"
    return await minem.write("POST", f"{path}/status-events", body, etag_of=path)


async def _history(minem: Caller, item_id: int) -> list[Any]:
    return list((await minem.get(f"/pcb-items/{item_id}/status-events")).json())


async def test_a_status_change_cannot_be_dated_before_the_previous_one(
    minem: Caller, place: dict[str, Any]
) -> None:
    item = await _askarel_drum(minem, place)
    stored = {"to_status": "out_of_service_stored", "changed_on": "2024-05-01"}
    assert (await _move(minem, item["id"], stored)).status_code == 201
    before = await _history(minem, item["id"])
    earlier = {"to_status": "shipped_for_disposal", "changed_on": "2024-04-30"}
    _field_named(await _move(minem, item["id"], earlier), "changed_on")
    assert await _history(minem, item["id"]) == before
    same_day = {"to_status": "shipped_for_disposal", "changed_on": "2024-05-01"}
    assert (await _move(minem, item["id"], same_day)).status_code == 201


async def _shipped(minem: Caller, place: dict[str, Any]) -> dict[str, Any]:
    item = await _askarel_drum(minem, place)
    for to in ("out_of_service_stored", "shipped_for_disposal"):
        body = {"to_status": to, "changed_on": "2024-05-01"}
        assert (await _move(minem, item["id"], body)).status_code == 201
    return item


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"disposed_on": "future"}, "disposed_on"),
        ({"mass_kg": "149.998"}, "mass_kg"),  # 0.002 kg short of 150 kg
        ({"country": "XX"}, "country"),
        ({"country": "ZZ"}, "country"),
    ],
)
async def test_bad_elimination_evidence_is_refused_and_changes_nothing(
    minem: Caller, place: dict[str, Any], change: dict[str, str], field: str
) -> None:
    item = await _shipped(minem, place)
    if change.get("disposed_on") == "future":
        change = {"disposed_on": str(utcnow().date() + timedelta(days=1))}
    body = {"to_status": "eliminated", "changed_on": "2024-06-01", "elimination": EVIDENCE}
    before = await _history(minem, item["id"])
    bad = body | {"elimination": EVIDENCE | change}
    _field_named(await _move(minem, item["id"], bad), field)
    assert await _history(minem, item["id"]) == before
    assert (await minem.get(f"/pcb-items/{item['id']}")).json()["status"] == "shipped_for_disposal"


@pytest.mark.parametrize("mass", ["149.999", "150", "152"])
async def test_disposed_mass_within_the_tolerance_is_accepted(
    minem: Caller, place: dict[str, Any], mass: str
) -> None:
    item = await _shipped(minem, place)
    body = {
        "to_status": "eliminated",
        "changed_on": "2024-06-01",
        "elimination": EVIDENCE | {"mass_kg": mass},
    }
    response = await _move(minem, item["id"], body)
    assert response.status_code == 201, response.text


async def test_created_eliminated_with_short_mass_or_bad_country_is_refused(
    minem: Caller, place: dict[str, Any]
) -> None:
    body = {
        "holder_id": place["holder"],
        "site_id": place["site"],
        "equipment_type": "capacitor",
        "manufacturer": "GE",
        "serial_number": "GONE-12",
        "total_mass_kg": "45",
        "status": "eliminated",
    }
    path = f"/submissions/{place['submission']}/pcb-items"
    short = body | {"elimination": EVIDENCE | {"mass_kg": "44"}}
    _field_named(await minem.post(path, short), "mass_kg")
    _field_named(
        await minem.post(path, body | {"elimination": EVIDENCE | {"country": "XX"}}), "country"
    )
    _field_named(await minem.post(path, body | {"country_of_origin": "XX"}), "country_of_origin")
    listed = await minem.get("/pcb-items", params={"submission_id": place["submission"]})
    assert listed.json()["items"] == []
    ok = await minem.post(path, body | {"elimination": EVIDENCE | {"mass_kg": "45"}})
    assert ok.status_code == 201, ok.text


async def test_volume_and_mass_inconsistent_with_every_density_are_refused(
    minem: Caller, place: dict[str, Any]
) -> None:
    base = {
        "holder_id": place["holder"],
        "site_id": place["site"],
        "equipment_type": "transformer",
        "manufacturer": "ACME",
        "serial_number": "DENSE-1",
    }
    path = f"/submissions/{place['submission']}/pcb-items"
    _field_named(
        await minem.post(path, base | {"fluid_volume_l": "1000", "fluid_mass_kg": "10"}),
        "fluid_mass_kg",
    )
    _field_named(
        await minem.post(path, base | {"fluid_volume_l": "0", "fluid_mass_kg": "10"}),
        "fluid_mass_kg",
    )
    created = await minem.post(path, base | {"fluid_volume_l": "1000", "fluid_mass_kg": "880"})
    assert created.status_code == 201, created.text
    item_path = f"/pcb-items/{created.json()['id']}"
    _field_named(await minem.write("PATCH", item_path, {"fluid_mass_kg": "10"}), "fluid_mass_kg")
    assert (await minem.get(item_path)).json()["fluid_mass_kg"] == "880.000"
    askarel = await minem.write("PATCH", item_path, {"fluid_mass_kg": "1500"})
    assert askarel.status_code == 200, askarel.text


def test_density_check_bounds() -> None:
    d, tol = DEFAULT_FLUID_DENSITIES, D("0.2")
    assert density_problem(D(1000), D(10), d, tol) is not None
    assert density_problem(D(1000), D(880), d, tol) is None
    assert density_problem(D(1000), D(1500), d, tol) is None
    assert density_problem(D(1000), D(1801), d, tol) is not None  # above 1.5 x 1.2
    assert density_problem(D(1000), D(703), d, tol) is not None  # below 0.88 x 0.8
    assert density_problem(None, D(10), d, tol) is None


def test_countries_are_iso_3166_1() -> None:
    assert len(ISO_3166_1_ALPHA_2) == 249
    assert {"PE", "FR", "DE", "US", "SS", "CW"} <= ISO_3166_1_ALPHA_2
    assert not {"XX", "ZZ", "AA", "QM", "EU", "UK"} & ISO_3166_1_ALPHA_2


async def test_imports_apply_the_same_checks(minem: Caller) -> None:
    from tests.inventory.test_import_api import HEADER, _upload, row, to_csv

    sid = (await minem.submission(2024))["id"]
    evidence = {
        "status": "eliminated",
        "disposal_facility": "Demo ESM plant",
        "disposal_country": "FR",
        "disposed_on": "2024-06-01",
        "certificate_ref": "C-1",
        "disposed_mass_kg": "1500",
    }
    header = [*HEADER, "fluid_mass_kg", *list(evidence)[1:]]
    blank = dict.fromkeys(header, "")
    rows = [
        blank | row(1),
        blank | row(2, fluid_volume_l="1000", fluid_mass_kg="10"),
        blank | row(3) | evidence | {"disposed_mass_kg": "1499.998"},
        blank | row(4) | evidence | {"disposal_country": "XX"},
        blank | row(5, status="decontaminated"),
    ]
    response = await _upload(minem, sid, to_csv(rows, header=header))
    assert_problem(response, 422, "import-rejected")
    found = {(e["row"], e["column"]) for e in response.json()["errors"]}
    assert found == {
        (3, "fluid_mass_kg"),
        (4, "disposed_mass_kg"),
        (5, "disposal_country"),
        (6, "status_since"),
    }
    listed = await minem.get("/pcb-items", params={"submission_id": sid})
    assert listed.json()["items"] == []


async def test_imported_status_changes_are_dated_and_in_order(minem: Caller) -> None:
    from tests.inventory.test_import_api import HEADER, _upload, row, to_csv

    sid = (await minem.submission(2024))["id"]
    header = [*HEADER, "status_since"]
    first = row(1, status_since="2024-05-01")
    assert (await _upload(minem, sid, to_csv([first], header=header))).status_code == 200
    earlier = row(1, status="out_of_service_stored", status_since="2024-04-30")
    response = await _upload(minem, sid, to_csv([earlier], header=header))
    assert_problem(response, 422, "import-rejected")
    assert [(e["row"], e["column"]) for e in response.json()["errors"]] == [(2, "status_since")]
    undated = row(1, status="out_of_service_stored", status_since="")
    assert (await _upload(minem, sid, to_csv([undated], header=header))).status_code == 200
    (item,) = (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"]
    history = await _history(minem, item["id"])
    assert [h["changed_on"] for h in history] == ["2024-05-01", str(utcnow().date())]
    assert item["status_since"] == str(utcnow().date())


async def test_a_status_since_in_the_future_is_refused(
    minem: Caller, place: dict[str, Any]
) -> None:
    body = {
        "holder_id": place["holder"],
        "site_id": place["site"],
        "equipment_type": "transformer",
        "manufacturer": "ACME",
        "serial_number": "FUTURE-1",
        "status_since": str(utcnow().date() + timedelta(days=1)),
    }
    path = f"/submissions/{place['submission']}/pcb-items"
    _field_named(await minem.post(path, body), "status_since")
    today = await minem.post(path, body | {"status_since": str(utcnow().date())})
    assert today.status_code == 201, today.text
