"""Exports through the gateway: IATI 2.03 XML that validates against the official schema and
passes the ruleset, and CSV with one row per activity and stable columns."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from services.cooperation.activities.csv_export import CSV_COLUMNS
from services.cooperation.activities.models import Activity
from services.cooperation.activities.state import FULL_LOAD, load_refs, state_of
from services.cooperation.activities.state_rows import ACTIVITY_COLUMNS, load_states
from services.cooperation.iati import (
    IatiActivity,
    IatiDocumentLink,
    IatiOrganisationRef,
    IatiTransaction,
    parse_activities,
    ruleset_errors,
    schema_errors,
)
from tests.cooperation.conftest import (
    EPA_REF,
    IUU,
    OEFA_ENF,
    PROGRAM,
    READ,
    As,
    fetch,
    full_activity,
    new_activity,
    publish,
)

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
PROGRAM_ID = f"PE-RUC-20492966658-{PROGRAM}"
TODAY = datetime.now(UTC).date()  # the exports' today: the UTC date


async def export(
    gateway: httpx.AsyncClient,
    headers: dict[str, str] | None = None,
    path: str = "iati",
    **params: str,
) -> tuple[bytes, list[IatiActivity]]:
    url = f"{API}/public/iati/activities.xml" if headers is None else f"{API}/{path}/activities.xml"
    response = await gateway.get(url, headers=headers or {}, params=params)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/xml")
    xml = response.content
    assert schema_errors(xml) == []
    return xml, parse_activities(xml)


def check_ruleset(activities: list[IatiActivity]) -> None:
    for activity in activities:
        assert ruleset_errors(activity, TODAY) == [], activity.identifier


async def test_the_export_is_the_program_with_its_activities_and_validates(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    _, activities = await export(gateway, usaid)
    program, *children = activities
    assert program.identifier == PROGRAM_ID
    assert program.hierarchy == 1
    assert program.reporting_org.ref == "PE-RUC-20492966658"
    assert {t.code for t in program.tags} >= {f"GOAL-{c}" for c in "ABCDE"}
    assert {t.code for t in program.tags} >= {f"PA-{c}" for c in "ABCDE"}
    assert len(children) == 14
    assert IUU not in {c.identifier for c in children}
    assert {r.ref for r in program.related_activities} == {c.identifier for c in children}
    assert {r.type for r in program.related_activities} == {"2"}
    for child in children:
        assert child.hierarchy == 2
        assert [(r.ref, r.type) for r in child.related_activities] == [(PROGRAM_ID, "1")]
        assert child.identifier.startswith(child.reporting_org.ref + "-")
        assert child.results, child.identifier
        assert child.policy_markers, child.identifier
    check_ruleset(activities)
    enforcement = next(c for c in children if c.identifier == OEFA_ENF)
    api = (await fetch(gateway, OEFA_ENF, usaid)).json()
    assert enforcement.last_updated == datetime.fromisoformat(api["updated_at"])
    assert {t.code for t in enforcement.tags} == {"PA-A", "PA-A-AA1"}
    assert [(s.code, s.percentage) for s in enforcement.sectors] == [
        ("41010", Decimal("60.00")),
        ("41081", Decimal("40.00")),
    ]
    assert enforcement.titles["es"].startswith("Capacitación")
    assert [loc.ref for loc in enforcement.locations] == ["15", "10"]


async def test_an_activity_with_every_optional_part_exports_valid_iati(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    identifier = await publish(gateway, epa, full_activity())
    xml, activities = await export(gateway, epa, program=PROGRAM)
    check_ruleset(activities)
    full = next(a for a in activities if a.identifier == identifier)
    assert full.titles == {"en": "Test activity", "es": "Actividad de prueba"}
    assert full.descriptions["es"].endswith("<con> & caracteres especiales.")
    assert [d.type for d in full.dates] == ["1", "2", "3", "4"]
    assert full.default_currency == "USD"
    assert [(p.role, p.ref) for p in full.participating_orgs][-1] == ("4", "PE-RUC-20100000001")
    assert [s.percentage for s in full.sectors] == [Decimal("33.33")] * 2 + [Decimal("33.34")]
    assert [(m.code, m.significance) for m in full.policy_markers] == [
        ("2", "2"),
        ("5", "1"),
        ("7", "0"),
    ]
    assert [loc.name for loc in full.locations] == ["Lima", "Callao", "Madre de Dios"]
    assert {t.code for t in full.tags} == {"PA-A", "PA-C", "PA-A-AA1", "PA-A-AA4", "PA-C-AA2"}
    assert [b.value for b in full.budgets] == [Decimal("125000.50"), Decimal("80000.00")]
    assert full.transactions[1] == IatiTransaction(
        "3",
        date(2025, 3, 1),
        Decimal("50000.25"),
        date(2025, 2, 28),
        provider_org=IatiOrganisationRef("US-GOV-1", "USAID"),
        receiver_org=IatiOrganisationRef(None, "Ciudad Saludable", "22"),
    )
    assert full.document_links[0] == IatiDocumentLink(
        "https://enlace.example/reports/full-01.pdf",
        "application/pdf",
        "Progress report 2025",
        "A07",
        date(2025, 12, 20),
        "es",
    )
    indicator = full.results[0].indicators[0]
    assert indicator.baseline is not None
    assert indicator.baseline.iso_date == date(2024, 12, 31)
    assert [(p.target, p.actual) for p in indicator.periods] == [("40", "42"), ("60", None)]
    assert full.results[0].aggregation_status is True
    assert [i.measure for i in full.results[1].indicators] == ["5"]
    assert b"&amp; caracteres" in xml


async def test_drafts_are_in_no_iati_export_until_published(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    # A draft's identifier can still change: a donor must never store one.
    epa, oefa = await as_org("EPA"), await as_org("OEFA")
    draft = f"{EPA_REF}-DRAFT-1"
    created = await gateway.post(f"{API}/activities", json=new_activity(draft), headers=epa)
    assert created.status_code == 201, created.text
    assert (await fetch(gateway, draft, oefa)).json()["published"] is False  # OEFA takes part

    async def exported() -> list[bool]:
        xml = [await export(gateway, epa), await export(gateway, oefa), await export(gateway)]
        return [draft in {a.identifier for a in activities} for _, activities in xml]

    assert await exported() == [False, False, False]
    program = (await export(gateway, epa))[1][0]
    assert draft not in {r.ref for r in program.related_activities}
    published = await gateway.post(
        f"{API}/activities/{draft}/publish", headers=epa | {"If-Match": created.headers["etag"]}
    )
    assert published.status_code == 200
    assert await exported() == [True, True, True]
    program = (await export(gateway, epa))[1][0]
    assert draft in {r.ref for r in program.related_activities}


async def test_the_public_export_has_public_activities_only(gateway: httpx.AsyncClient) -> None:
    _, activities = await export(gateway)
    program, *children = activities
    assert program.identifier == PROGRAM_ID
    assert len(children) == 9
    assert len(program.related_activities) == 9


async def test_export_filters_etag_and_304(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    _, activities = await export(gateway, epa, status="2")
    assert {a.status for a in activities[1:]} == {"2"}
    assert len(activities[0].related_activities) == len(activities) - 1
    url = f"{API}/iati/activities.xml"
    first = await gateway.get(url, headers=epa)
    tag = first.headers["etag"]
    assert (await gateway.get(url, headers=epa | {"If-None-Match": tag})).status_code == 304
    current = await fetch(gateway, OEFA_ENF, epa)
    await gateway.post(
        f"{API}/activities/{OEFA_ENF}/progress-updates",
        json={"reported_on": "2026-02-01", "text_en": "Training done."},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    after = await gateway.get(url, headers=epa | {"If-None-Match": tag})
    assert after.status_code == 200
    assert after.headers["etag"] != tag
    missing = await gateway.get(url, headers=epa, params={"program": "NO-SUCH"})
    assert missing.status_code == 404


async def test_last_updated_moves_when_any_part_changes(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa, oefa = await as_org("EPA"), await as_org("OEFA")

    async def last_updated() -> datetime:
        _, activities = await export(gateway, epa)
        return next(a for a in activities if a.identifier == OEFA_ENF).last_updated

    stamps = [await last_updated()]
    current = await fetch(gateway, OEFA_ENF, oefa)
    period = current.json()["results"][0]["indicators"][0]["periods"][0]["id"]
    await gateway.put(
        f"{API}/activities/{OEFA_ENF}/indicator-periods/{period}/actual",
        json={"actual": "23"},
        headers=oefa | {"If-Match": current.headers["etag"]},
    )
    stamps.append(await last_updated())
    current = await fetch(gateway, OEFA_ENF, epa)
    await gateway.patch(
        f"{API}/activities/{OEFA_ENF}",
        json={"sectors": [{"code": "41010", "percentage": "100"}]},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    stamps.append(await last_updated())
    assert stamps == sorted(set(stamps))


async def test_csv_has_one_row_per_activity_and_stable_columns(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    response = await gateway.get(f"{API}/activities", params={"format": "csv"}, headers=usaid)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(response.text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 14
    records = {r[0]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    enforcement = records[OEFA_ENF]
    assert enforcement["participants"] == "EPA:1;EPA:2;OEFA:4"
    assert enforcement["sectors"] == "41010:60.00;41081:40.00"
    assert enforcement["policy_markers"] == "2:2;3:1"
    assert enforcement["action_areas"] == "A.1"
    assert enforcement["locations"] == "15;10"
    assert enforcement["budget"] == "USD 160000.00"
    assert enforcement["committed"] == "USD 145000.00"
    assert enforcement["disbursed"] == "USD 145000.00"
    assert enforcement["funding_status"] == "disbursed"
    assert enforcement["results_summary"] == (
        "OEFA staff trained as inspection trainers [baseline 0 (2017)]: "
        "target 20, actual 18 (2018-12-31)"
    )
    assert IUU not in records
    by_accept = await gateway.get(f"{API}/activities", headers=usaid | {"Accept": "text/csv"})
    assert by_accept.text == response.text
    public = await gateway.get(f"{API}/public/activities?format=csv&status=4")
    assert len(list(csv.reader(io.StringIO(public.text)))) == 1 + 6
    tag = response.headers["etag"]
    again = await gateway.get(
        f"{API}/activities?format=csv", headers=usaid | {"If-None-Match": tag}
    )
    assert again.status_code == 304


FORMULAS = ["=1+1", "+1+2", "-3+4", "@SUM(A1:A2)", "\t=1+1", "\r=1+1", "  =1+1", "-5"]


async def test_csv_escapes_formulas_and_leaves_the_rest(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    for n, value in enumerate(FORMULAS):
        body = new_activity(f"{EPA_REF}-INJ-{n}", title_en=value, title_es=f"{value} es")
        created = await gateway.post(f"{API}/activities", json=body, headers=epa)
        assert created.status_code == 201, created.text
    response = await gateway.get(f"{API}/activities", params={"format": "csv"}, headers=epa)
    assert response.status_code == 200
    rows = list(csv.reader(io.StringIO(response.text, newline="")))
    records = {r[0]: dict(zip(CSV_COLUMNS, r, strict=True)) for r in rows[1:]}
    for n, value in enumerate(FORMULAS):
        row = records[f"{EPA_REF}-INJ-{n}"]
        assert (row["title_en"], row["title_es"]) == ("'" + value, f"'{value} es")
        assert (row["version"], row["results"], row["published"]) == ("1", "0", "false")
    enforcement = records[OEFA_ENF]
    assert not any(v.startswith("'") for v in enforcement.values())
    assert enforcement["budget"] == "USD 160000.00"


async def test_exports_read_the_same_state_as_the_api(
    gateway: httpx.AsyncClient, as_org: As, seeded: Any
) -> None:
    """Exports read rows, writes read ORM objects: both give one state, field for field."""
    epa = await as_org("EPA")
    created = await gateway.post(f"{API}/activities", json=full_activity(), headers=epa)
    assert created.status_code == 201
    async with seeded.state.db.sessions() as session:
        refs = await load_refs(session)
        orm = list(await session.scalars(select(Activity).options(*FULL_LOAD)))
        rows = list(await session.execute(select(*ACTIVITY_COLUMNS)))
        exported = {e.id: e for e in await load_states(session, rows, refs)}
    assert len(orm) == 16  # the 15 demo activities and the new one
    for activity in orm:
        assert exported[activity.id].state == state_of(activity), activity.identifier
        assert exported[activity.id].version == activity.version
