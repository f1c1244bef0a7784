"""Leaking equipment and populated areas (issue 12 item 7).

The Stockholm Convention (Annex A Part II (b)(i) and (iii); DOMAIN.md §1) allows PCB
equipment in use only if intact and non-leaking, and, in populated areas (schools,
hospitals), protected and regularly inspected for leaks. An item of a PCB class (P1-P3 or
presumed: DOMAIN.md's "PCB equipment") in use or on standby raises ``leaking_in_use`` when
it leaks and ``inspection_overdue`` in a populated area without an inspection in the
interval up to the date judged. The Convention says "regular", not how often: the interval
is a national choice, a setting (12 months by default).
"""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.inventory.pcb.classes import flag_sql, item_class_sql, item_flags
from services.inventory.pcb.mass import DEFAULT_FLUID_DENSITIES
from services.inventory.pcb.models import PcbInspection, PcbItem
from services.inventory.pcb.queries import last_inspections
from services.inventory.pcb.rules import (
    ComplianceFlag,
    OperatingStatus,
    PcbClass,
    PcbItemFacts,
    Thresholds,
    compliance_flags,
    inspection_overdue,
    months_before,
)
from services.inventory.settings import InventorySettings
from tests.conftest import GATEWAY_PEER
from tests.inventory.conftest import Caller, scratch_draft, validate
from tests.support import assert_problem

T = Thresholds()
LEAK = ComplianceFlag.LEAKING_IN_USE
DUE = ComplianceFlag.INSPECTION_OVERDUE
S = OperatingStatus


@pytest.fixture
def inventory_settings(clean_databases: dict[str, str]) -> InventorySettings:
    """Inspections due every 6 months here, to see the setting at work."""
    return InventorySettings(
        database_url=clean_databases["inventory"],
        access_log=False,
        trusted_proxies=GATEWAY_PEER,
        pcb_inspection_interval_months=6,
    )


# -- the pure rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2025, 1, 15), 12, date(2024, 1, 15)),
        (date(2025, 3, 31), 1, date(2025, 2, 28)),  # February is shorter
        (date(2024, 3, 31), 1, date(2024, 2, 29)),  # a leap year
        (date(2025, 1, 31), 2, date(2024, 11, 30)),
        (date(2025, 12, 31), 12, date(2024, 12, 31)),
        (date(2025, 6, 1), 0, date(2025, 6, 1)),
    ],
)
def test_months_before(day: date, months: int, expected: date) -> None:
    assert months_before(day, months) == expected


def test_inspection_interval_boundaries() -> None:
    as_of = date(2025, 6, 30)
    assert not inspection_overdue(date(2024, 6, 30), as_of, 12)  # exactly 12 months ago
    assert inspection_overdue(date(2024, 6, 29), as_of, 12)  # a day more
    assert not inspection_overdue(as_of, as_of, 12)  # the same day
    assert inspection_overdue(date(2025, 7, 1), as_of, 12)  # after the day judged
    assert inspection_overdue(None, as_of, 12)  # never inspected
    assert inspection_overdue(date(2024, 12, 29), as_of, 6)
    assert not inspection_overdue(date(2024, 12, 30), as_of, 6)


def _facts(pcb_class: PcbClass, status: OperatingStatus, **kw: Any) -> PcbItemFacts:
    return PcbItemFacts(
        pcb_class=pcb_class, status=status, labelled=True, in_food_feed_area=False, **kw
    )


def _conditions(facts: PcbItemFacts, as_of: date, months: int = 12) -> set[ComplianceFlag]:
    return compliance_flags(facts, as_of, T, months) & {LEAK, DUE}


@pytest.mark.parametrize("pcb_class", [PcbClass.P1, PcbClass.P2, PcbClass.P3, PcbClass.PRESUMED])
@pytest.mark.parametrize("status", [S.IN_USE, S.STANDBY])
def test_pcb_equipment_in_use_leaking_or_uninspected_is_flagged(
    pcb_class: PcbClass, status: OperatingStatus
) -> None:
    as_of = date(2025, 6, 30)
    assert _conditions(_facts(pcb_class, status, leaking=True), as_of) == {LEAK}
    populated = _facts(pcb_class, status, in_populated_area=True)
    assert _conditions(populated, as_of) == {DUE}
    inspected = _facts(
        pcb_class, status, in_populated_area=True, last_inspected_on=date(2024, 6, 30)
    )
    assert _conditions(inspected, as_of) == set()
    assert _conditions(inspected, date(2025, 7, 1)) == {DUE}  # a year and a day after
    assert _conditions(inspected, as_of, months=6) == {DUE}
    both = _facts(pcb_class, status, leaking=True, in_populated_area=True)
    assert _conditions(both, as_of) == {LEAK, DUE}


@pytest.mark.parametrize(
    ("pcb_class", "status"),
    [
        (PcbClass.NON_PCB, S.IN_USE),  # not PCB equipment
        (PcbClass.UNKNOWN, S.IN_USE),  # not known to be PCB equipment
        (PcbClass.P1, S.OUT_OF_SERVICE_STORED),  # no longer in use: storage rules apply
        (PcbClass.P1, S.SHIPPED_FOR_DISPOSAL),
        (PcbClass.P1, S.ELIMINATED),
    ],
)
def test_other_items_raise_neither(pcb_class: PcbClass, status: OperatingStatus) -> None:
    facts = _facts(pcb_class, status, leaking=True, in_populated_area=True)
    assert _conditions(facts, date(2025, 6, 30)) == set()


# -- the same rules in SQL ----------------------------------------------------------------


INSPECTED = [None, date(2024, 6, 29), date(2024, 6, 30), date(2025, 6, 30), date(2025, 7, 1)]


async def test_sql_flags_agree_with_the_rules(inventory_app: FastAPI) -> None:
    densities = dict(DEFAULT_FLUID_DENSITIES)
    async with inventory_app.state.db.sessions() as session:
        new_item = await scratch_draft(session)
        combinations = itertools.product(
            list(OperatingStatus), [1980, 1995], [False, True], [False, True], INSPECTED
        )
        for n, (status, year, leaking, populated, inspected) in enumerate(combinations):
            item = new_item(
                serial_number=f"S{n}",
                year_manufactured=year,  # 1980: presumed; 1995: unknown
                fluid_volume_l=300,
                status=status.value,
                leaking=leaking,
                in_populated_area=populated,
            )
            session.add(item)
            await session.flush()
            if inspected is not None:
                session.add(
                    PcbInspection(
                        item_id=item.id,
                        inspected_on=inspected,
                        inspector_org="OEFA",
                        findings="f",
                        created_by="t",
                    )
                )
        await session.flush()
        items = list(await session.scalars(select(PcbItem)))
        cls = item_class_sql(T, densities)
        for as_of, months in (
            (date(2025, 6, 30), 12),
            (date(2025, 6, 30), 6),
            (date(2025, 7, 1), 12),
        ):
            last = await last_inspections(session, [i.id for i in items], as_of)
            for flag in (LEAK, DUE):
                query = select(PcbItem.id).where(
                    flag_sql(flag, T, densities, as_of, cls, None, months)
                )
                flagged = set(await session.scalars(query))
                expected = {
                    i.id
                    for i in items
                    if flag in item_flags(i, T, densities, as_of, None, last.get(i.id), months)
                }
                assert flagged == expected, (flag, as_of, months)
                assert expected  # each flag is raised by some item
        await session.rollback()


# -- through the API -----------------------------------------------------------------------


@pytest.fixture
async def item(minem: Caller) -> dict[str, Any]:
    """A presumed PCB transformer (1980, 300 L, untested) in use in a populated area."""
    holder = await minem.holder()
    site = await minem.site(holder["id"])
    submission = await minem.submission(2024)
    created = await minem.item(
        submission["id"], holder["id"], site["id"], in_populated_area=True, labelled=True
    )
    assert created["pcb_class"] == "presumed"
    return dict(created) | {"submission": submission}


def _flags(body: dict[str, Any]) -> set[str]:
    return set(body["compliance_flags"]) & {LEAK.value, DUE.value}


async def _inspect(minem: Caller, item_id: int, **fields: Any) -> Any:
    body = {"inspected_on": "2024-08-20", "inspector_org": "OEFA", "findings": "ok"} | fields
    path = f"/pcb-items/{item_id}"
    return await minem.write("POST", f"{path}/inspections", body, etag_of=path)


async def test_an_inspection_clears_the_overdue_flag_for_the_interval(
    minem: Caller, oefa: Caller, minam: Caller, item: dict[str, Any]
) -> None:
    path = f"/pcb-items/{item['id']}"
    assert _flags((await minem.get(path, params={"as_of": "2025-02-20"})).json()) == {DUE.value}
    before = (await minem.get(path)).headers["etag"]
    response = await _inspect(minem, item["id"], findings="Fenced, labelled; no leak seen.")
    assert response.status_code == 201, response.text
    assert response.headers["etag"] != before  # the flags may have changed
    # Inspections due every 6 months (the setting): 2024-08-20 covers up to 2025-02-20.
    on = {
        d: _flags((await minem.get(path, params={"as_of": d})).json())
        for d in ("2024-08-19", "2024-08-20", "2025-02-20", "2025-02-21")
    }
    assert on == {
        "2024-08-19": {DUE.value},  # not inspected yet on that day
        "2024-08-20": set(),
        "2025-02-20": set(),
        "2025-02-21": {DUE.value},
    }
    listed = (await minem.get(f"{path}/inspections")).json()
    assert [(i["inspected_on"], i["inspector_org"], i["findings"]) for i in listed] == [
        ("2024-08-20", "OEFA", "Fenced, labelled; no leak seen.")
    ]
    assert listed[0]["leaking_observed"] is False
    overdue = await minem.get("/pcb-items", params={"flag": DUE.value, "as_of": "2025-02-21"})
    assert [i["id"] for i in overdue.json()["items"]] == [item["id"]]
    covered = await minem.get("/pcb-items", params={"flag": DUE.value, "as_of": "2025-02-20"})
    assert covered.json()["items"] == []
    # Others see the inspections once the data is validated, not before.
    assert_problem(await oefa.get(f"{path}/inspections"), 404)
    await validate(minem, minam, item["submission"]["id"])
    assert len((await oefa.get(f"{path}/inspections")).json()) == 1


async def test_an_inspection_that_sees_a_leak_marks_the_item_leaking(
    minem: Caller, item: dict[str, Any]
) -> None:
    path = f"/pcb-items/{item['id']}"
    assert item["leaking"] is False
    response = await _inspect(minem, item["id"], leaking_observed=True, findings="Oil on floor")
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["leaking"] is True
    assert LEAK.value in body["compliance_flags"]
    # A later inspection without a leak does not clear it: the holder does, once repaired.
    later = await _inspect(minem, item["id"], inspected_on="2024-09-01")
    assert later.json()["leaking"] is True
    repaired = await minem.ok("PATCH", path, {"leaking": False})
    assert LEAK.value not in repaired["compliance_flags"]
    leaking = await minem.ok("PATCH", path, {"leaking": True})
    assert LEAK.value in leaking["compliance_flags"]
    moved = {"to_status": "out_of_service_stored", "changed_on": "2024-10-01"}
    stored = await minem.ok("POST", f"{path}/status-events", moved, etag_of=path)
    assert LEAK.value not in stored["compliance_flags"]  # no longer in use
    # Judged on a day before it was stored, it was leaking in use then.
    then = (await minem.get(path, params={"as_of": "2024-09-30"})).json()
    assert LEAK.value in then["compliance_flags"]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"inspected_on": "2999-01-01"}, "inspected_on"),  # in the future
        ({"inspected_on": "2024-02-30"}, "inspected_on"),
        ({"inspected_on": None}, "inspected_on"),
        ({"inspector_org": ""}, "inspector_org"),
        ({"inspector_org": "OE FA"}, "inspector_org"),
        ({"inspector_org": "X" * 41}, "inspector_org"),
        ({"inspector_org": 7}, "inspector_org"),
        ({"findings": ""}, "findings"),
        ({"findings": "   "}, "findings"),
        ({"findings": "x" * 4001}, "findings"),
        ({"leaking_observed": "sometimes"}, "leaking_observed"),
        ({"inspector": "OEFA"}, "inspector"),  # unknown field
    ],
)
async def test_bad_inspections_are_422_naming_the_field_and_change_nothing(
    minem: Caller, item: dict[str, Any], fields: dict[str, Any], field: str
) -> None:
    path = f"/pcb-items/{item['id']}"
    before = (await minem.get(path)).headers["etag"]
    response = await _inspect(minem, item["id"], **fields)
    assert_problem(response, 422)
    assert field in {str(part) for e in response.json()["errors"] for part in e["loc"]}
    assert (await minem.get(path)).headers["etag"] == before
    assert (await minem.get(f"{path}/inspections")).json() == []


async def test_missing_fields_and_other_callers_are_refused(
    minem: Caller, produce: Caller, minam: Caller, oefa: Caller, item: dict[str, Any]
) -> None:
    path = f"/pcb-items/{item['id']}"
    for missing in ("inspected_on", "inspector_org", "findings"):
        body = {"inspected_on": "2024-08-20", "inspector_org": "OEFA", "findings": "ok"}
        del body[missing]
        response = await minem.write("POST", f"{path}/inspections", body, etag_of=path)
        assert_problem(response, 422)
        assert missing in str(response.json()["errors"])
    assert_problem(await _inspect(produce, item["id"]), 404)  # another organisation's draft
    assert_problem(await _inspect(oefa, item["id"]), 403)  # no inventory:write scope
    stale = await minem.post(
        f"{path}/inspections",
        {"inspected_on": "2024-08-20", "inspector_org": "OEFA", "findings": "ok"},
        headers={"If-Match": '"stale"'},
    )
    assert_problem(stale, 412)
    await validate(minem, minam, item["submission"]["id"])
    assert_problem(await _inspect(minem, item["id"]), 409)  # validated data is immutable
    assert (await minem.get(f"{path}/inspections")).json() == []
    assert_problem(await minem.get("/pcb-items/999999/inspections"), 404)


async def test_idempotency_key_records_one_inspection(minem: Caller, item: dict[str, Any]) -> None:
    path = f"/pcb-items/{item['id']}"
    tag = (await minem.get(path)).headers["etag"]
    body = {"inspected_on": "2024-08-20", "inspector_org": "OEFA", "findings": "ok"}
    headers = {"If-Match": tag, "Idempotency-Key": "inspection-1"}
    first = await minem.post(f"{path}/inspections", body, headers=headers)
    again = await minem.post(f"{path}/inspections", body, headers=headers)
    assert (first.status_code, again.status_code) == (201, 201), again.text
    assert again.json() == first.json()
    assert len((await minem.get(f"{path}/inspections")).json()) == 1


async def test_a_correction_keeps_the_inspections_and_deleting_an_item_removes_them(
    minem: Caller, minam: Caller, item: dict[str, Any]
) -> None:
    assert (await _inspect(minem, item["id"], leaking_observed=True)).status_code == 201
    sid = item["submission"]["id"]
    await validate(minem, minam, sid)
    correction = await minem.ok(
        "POST", f"/submissions/{sid}/corrections", {"reason": "r"}, etag_of=f"/submissions/{sid}"
    )
    page = await minem.get("/pcb-items", params={"submission_id": correction["id"]})
    [copy] = page.json()["items"]
    assert copy["leaking"] is True
    copy_path = f"/pcb-items/{copy['id']}"
    copied = (await minem.get(f"{copy_path}/inspections")).json()
    assert [(i["inspected_on"], i["inspector_org"], i["leaking_observed"]) for i in copied] == [
        ("2024-08-20", "OEFA", True)
    ]
    assert (await minem.write("DELETE", copy_path)).status_code == 204
    assert_problem(await minem.get(f"{copy_path}/inspections"), 404)
    assert len((await minem.get(f"/pcb-items/{item['id']}/inspections")).json()) == 1
