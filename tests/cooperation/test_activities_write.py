"""Writing activities through the gateway: who may write what, If-Match, rejected fields,
domain rules, the history, and last-updated moving with every part."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.cooperation.conftest import (
    EPA_REF,
    IUU,
    OEFA_ENF,
    READ,
    As,
    fetch,
    full_activity,
    new_activity,
)
from tests.support import PROBLEM, PUBLIC_URL, assert_problem

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"


async def create(
    gateway: httpx.AsyncClient, headers: dict[str, str], body: dict[str, Any]
) -> httpx.Response:
    response = await gateway.post(f"{API}/activities", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response


def errors_of(response: httpx.Response) -> list[dict[str, Any]]:
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM
    return list(response.json()["errors"])


async def test_create_gives_an_unpublished_activity_seen_by_participants_only(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    response = await create(gateway, epa, new_activity())
    body = response.json()
    location = response.headers["location"]
    assert location == f"{PUBLIC_URL}{API}/activities/{EPA_REF}-TEST-01"
    assert (await gateway.get(location, headers=epa)).json() == body
    assert response.headers["etag"]
    assert (body["reporting_org"], body["lead_org"], body["published"]) == ("EPA", "EPA", False)
    assert body["version"] == 1
    identifier = body["identifier"]
    oefa = await as_org("OEFA", READ)
    assert (await gateway.get(f"{API}/activities/{identifier}", headers=oefa)).status_code == 200
    usaid = await as_org("USAID", READ)
    assert (await gateway.get(f"{API}/activities/{identifier}", headers=usaid)).status_code == 404
    assert (await gateway.get(f"{API}/public/activities/{identifier}")).status_code == 404


async def test_every_optional_part_can_be_set_and_read_back(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    sent = full_activity()
    body = (await create(gateway, await as_org("EPA"), sent)).json()
    assert body["title_es"] == sent["title_es"]
    assert [p["org"] for p in body["participants"]] == ["USAID", "EPA", "EPA", "OEFA", None]
    assert body["participants"][4] == {
        "org": None,
        "ref": "PE-RUC-20100000001",
        "name": "Ciudad Saludable",
        "type": "22",
        "role": 4,
    }
    assert [s["percentage"] for s in body["sectors"]] == ["33.33", "33.33", "33.34"]
    assert body["budgets"][1]["value"] == "80000.00"
    assert body["transactions"][1]["value_date"] == "2025-02-28"
    assert body["transactions"][2]["value_date"] == "2025-06-30"  # defaults to the date
    assert body["transactions"][0]["provider_org"] == {
        "ref": "US-GOV-1",
        "name": "United States Agency for International Development",
        "type": "10",
    }
    assert body["document_links"][1]["document_date"] is None
    assert body["results"][0]["indicators"][0]["periods"][0]["actual"] == "42"
    assert body["funding_status"] == "partially_disbursed"


@pytest.mark.parametrize(
    "field",
    ["reporting_org", "lead_org", "updated_at", "created_at", "version", "history", "published"],
)
async def test_fields_a_caller_may_not_set_are_rejected(
    gateway: httpx.AsyncClient, as_org: As, field: str
) -> None:
    epa = await as_org("EPA")
    response = await gateway.post(
        f"{API}/activities", json=new_activity(**{field: "x"}), headers=epa
    )
    assert any(e["type"] == "extra_forbidden" for e in errors_of(response))
    created = await create(gateway, epa, new_activity())
    response = await gateway.patch(
        f"{API}/activities/{created.json()['identifier']}",
        json={field: "x"},
        headers=epa | {"If-Match": created.headers["etag"]},
    )
    assert any(e["type"] == "extra_forbidden" for e in errors_of(response))


@pytest.mark.parametrize(
    ("changes", "loc"),
    [
        ({"identifier": "PE-RUC-20492966658-NOT-MINE"}, "identifier"),
        ({"sectors": [{"code": "41010", "percentage": "60"}]}, "sectors"),
        ({"sectors": [{"code": "99999", "percentage": "100"}]}, "sectors"),
        ({"policy_markers": [{"code": "2", "significance": "9"}]}, "policy_markers"),
        ({"participants": [{"org": "OEFA", "role": 4}]}, "participants"),
        ({"participants": [{"org": "NOBODY", "role": 4}]}, "participants"),
        ({"action_areas": ["B.1"]}, "action_areas"),
        ({"action_areas": ["A.9"]}, "action_areas"),
        ({"priority_areas": ["Z"], "action_areas": []}, "priority_areas"),
        ({"locations": ["26"]}, "locations"),
        ({"actual_start": "2150-01-01"}, "dates"),
        ({"planned_start": "2026-01-01", "planned_end": "2025-01-01"}, "dates"),
        (
            {
                "budgets": [
                    {
                        "period_start": "2025-01-01",
                        "period_end": "2026-06-30",
                        "value": "10",
                        "value_date": "2025-01-01",
                    }
                ]
            },
            "budgets",
        ),
        ({"transactions": [{"type": "3", "date": "2150-01-01", "value": "1"}]}, "transactions"),
        ({"transactions": [{"type": "99", "date": "2020-01-01", "value": "1"}]}, "transactions"),
        ({"default_currency": "XXQ"}, "default_currency"),
        ({"description_en": None}, "description_en"),
        ({"program": "NOPE"}, "program"),
        ({"status": 7}, "status"),
        ({"title_en": ""}, "title_en"),
        ({"sectors": [{"code": "41010", "percentage": "100.001"}]}, "sectors"),
        ({"budgets": [{"value": "1e30"}]}, "budgets"),
        ({"identifier": f"{EPA_REF}-with/slash"}, "identifier"),
        ({"results": [{"type": "1", "title": "No indicator", "indicators": []}]}, "results"),
    ],
)
async def test_domain_rules_are_422_with_the_field(
    gateway: httpx.AsyncClient, as_org: As, changes: dict[str, Any], loc: str
) -> None:
    response = await gateway.post(
        f"{API}/activities", json=new_activity(**changes), headers=await as_org("EPA")
    )
    errors = errors_of(response)
    assert any(loc in e["loc"] for e in errors), errors


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"{not json", (422, "validation-error")),
        (b"[]", (422, "validation-error")),
        (b'{"identifier": ' + b"[" * 10000 + b"]" * 10000 + b"}", (400, "bad-request")),
        (b"\xff\xfe\x00bad utf-8", (422, "validation-error")),
        (b'{"identifier": 5}', (422, "validation-error")),
    ],
)
async def test_malformed_bodies_are_problems(
    gateway: httpx.AsyncClient, as_org: As, raw: bytes, expected: tuple[int, str]
) -> None:
    headers = await as_org("EPA") | {"Content-Type": "application/json"}
    response = await gateway.post(f"{API}/activities", content=raw, headers=headers)
    assert_problem(response, *expected)
    assert response.headers["content-type"] == PROBLEM


async def test_duplicate_identifier_is_a_conflict(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    await create(gateway, epa, new_activity())
    again = await gateway.post(f"{API}/activities", json=new_activity(), headers=epa)
    assert again.status_code == 409


async def test_idempotency_key_replays_the_first_answer(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    headers = await as_org("EPA") | {"Idempotency-Key": "create-test-01"}
    first = await create(gateway, headers, new_activity())
    second = await gateway.post(f"{API}/activities", json=new_activity(), headers=headers)
    assert second.status_code == 201
    assert second.headers["idempotent-replayed"] == "true"
    assert second.json() == first.json()
    other = await gateway.post(
        f"{API}/activities", json=new_activity(title_en="Other"), headers=headers
    )
    assert other.status_code == 422


async def test_an_organisation_without_an_iati_ref_cannot_create(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    response = await gateway.post(
        f"{API}/activities", json=new_activity(), headers=await as_org("NOT-REGISTERED")
    )
    assert response.status_code == 403


async def test_writes_need_the_write_scope(gateway: httpx.AsyncClient, as_org: As) -> None:
    reader = await as_org("EPA", READ)
    response = await gateway.post(f"{API}/activities", json=new_activity(), headers=reader)
    assert response.status_code == 403


async def test_edit_needs_if_match_and_the_lead(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa, oefa, usaid = await as_org("EPA"), await as_org("OEFA"), await as_org("USAID")
    current = await fetch(gateway, OEFA_ENF, epa)
    url = f"{API}/activities/{OEFA_ENF}"
    change = {"title_en": "Inspection and enforcement training (renamed)"}
    assert (await gateway.patch(url, json=change, headers=epa)).status_code == 428
    stale = await gateway.patch(url, json=change, headers=epa | {"If-Match": '"stale"'})
    assert stale.status_code == 412
    tag = {"If-Match": current.headers["etag"]}
    assert (await gateway.patch(url, json=change, headers=oefa | tag)).status_code == 403
    assert (await gateway.patch(url, json=change, headers=usaid | tag)).status_code == 403
    hidden = await gateway.patch(f"{API}/activities/{IUU}", json=change, headers=usaid | tag)
    assert hidden.status_code == 404
    done = await gateway.patch(url, json=change, headers=epa | tag)
    assert done.status_code == 200
    body = done.json()
    assert body["title_en"] == change["title_en"]
    assert body["version"] == current.json()["version"] + 1
    assert body["updated_at"] > current.json()["updated_at"]
    assert done.headers["etag"] != current.headers["etag"]
    # The old ETag is now stale: no lost update.
    assert (await gateway.patch(url, json=change, headers=epa | tag)).status_code == 412


async def test_an_edit_that_changes_nothing_writes_nothing(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    current = await fetch(gateway, OEFA_ENF, epa)
    same = {k: current.json()[k] for k in ("title_en", "status", "priority_areas")}
    same["sectors"] = [
        {"code": "41081", "percentage": 40},
        {"code": "41010", "percentage": "60.0"},
    ][::-1]
    done = await gateway.patch(
        f"{API}/activities/{OEFA_ENF}",
        json=same,
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    assert done.status_code == 200
    assert done.json()["version"] == current.json()["version"]
    assert done.json()["updated_at"] == current.json()["updated_at"]


async def test_identifier_changes_until_published_then_never(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    created = await create(gateway, epa, new_activity())
    renamed = await gateway.patch(
        f"{API}/activities/{EPA_REF}-TEST-01",
        json={"identifier": f"{EPA_REF}-TEST-02"},
        headers=epa | {"If-Match": created.headers["etag"]},
    )
    assert renamed.status_code == 200, renamed.text
    published = await gateway.post(
        f"{API}/activities/{EPA_REF}-TEST-02/publish",
        headers=epa | {"If-Match": renamed.headers["etag"]},
    )
    assert published.status_code == 200
    assert published.json()["published"] is True
    refused = await gateway.patch(
        f"{API}/activities/{EPA_REF}-TEST-02",
        json={"identifier": f"{EPA_REF}-TEST-03"},
        headers=epa | {"If-Match": published.headers["etag"]},
    )
    assert [e["type"] for e in errors_of(refused)] == ["read_only"]
    # Now public: everyone sees it.
    assert (await gateway.get(f"{API}/public/activities/{EPA_REF}-TEST-02")).status_code == 200


async def test_delete(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    current = await fetch(gateway, OEFA_ENF, epa)
    url = f"{API}/activities/{OEFA_ENF}"
    assert (await gateway.delete(url, headers=epa)).status_code == 428
    oefa = await as_org("OEFA") | {"If-Match": current.headers["etag"]}
    assert (await gateway.delete(url, headers=oefa)).status_code == 403
    deleted = await gateway.delete(url, headers=epa | {"If-Match": current.headers["etag"]})
    assert deleted.status_code == 204
    assert (await gateway.get(url, headers=epa)).status_code == 404


async def test_participants_report_progress_and_last_updated_moves(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    oefa = await as_org("OEFA")  # implementing partner, not the lead
    current = await fetch(gateway, OEFA_ENF, oefa)
    report = {"reported_on": "2026-01-15", "text_es": "Se capacitó a 22 inspectores."}
    url = f"{API}/activities/{OEFA_ENF}/progress-updates"
    assert (await gateway.post(url, json=report, headers=oefa)).status_code == 428
    tag = {"If-Match": current.headers["etag"]}
    usaid = await as_org("USAID")  # can see it, does not take part
    assert (await gateway.post(url, json=report, headers=usaid | tag)).status_code == 403
    future = report | {"reported_on": "2150-01-01"}
    assert (await gateway.post(url, json=future, headers=oefa | tag)).status_code == 422
    empty = {"reported_on": "2026-01-15"}
    assert (await gateway.post(url, json=empty, headers=oefa | tag)).status_code == 422
    done = await gateway.post(url, json=report, headers=oefa | tag)
    assert done.status_code == 201, done.text
    body = done.json()
    assert body["progress_updates"][-1]["author_org"] == "OEFA"
    assert body["progress_updates"][-1]["text_es"] == report["text_es"]
    assert body["updated_at"] > current.json()["updated_at"]
    assert body["version"] == current.json()["version"] + 1


async def test_participants_report_actuals(gateway: httpx.AsyncClient, as_org: As) -> None:
    oefa = await as_org("OEFA")
    current = await fetch(gateway, OEFA_ENF, oefa)
    period = current.json()["results"][0]["indicators"][0]["periods"][1]
    url = f"{API}/activities/{OEFA_ENF}/indicator-periods/{period['id']}/actual"
    tag = {"If-Match": current.headers["etag"]}
    done = await gateway.put(url, json={"actual": "19"}, headers=oefa | tag)
    assert done.status_code == 200, done.text
    periods = done.json()["results"][0]["indicators"][0]["periods"]
    assert periods[1]["actual"] == "19"
    assert done.json()["updated_at"] > current.json()["updated_at"]
    missing = f"{API}/activities/{OEFA_ENF}/indicator-periods/999999/actual"
    tag = {"If-Match": done.headers["etag"]}
    response = await gateway.put(missing, json={"actual": "1"}, headers=oefa | tag)
    assert response.status_code == 404
    bad = await gateway.put(url, json={"actual": "1", "target": "2"}, headers=oefa | tag)
    assert bad.status_code == 422


async def test_participants_report_spending(gateway: httpx.AsyncClient, as_org: As) -> None:
    oefa = await as_org("OEFA")
    current = await fetch(gateway, OEFA_ENF, oefa)
    url = f"{API}/activities/{OEFA_ENF}/transactions"
    tag = {"If-Match": current.headers["etag"]}
    spent = {"type": "4", "date": "2026-02-01", "value": "1500.00", "currency": "USD"}
    commitment = spent | {"type": "2"}
    assert (await gateway.post(url, json=commitment, headers=oefa | tag)).status_code == 422
    future = spent | {"date": "2150-01-01"}
    assert (await gateway.post(url, json=future, headers=oefa | tag)).status_code == 422
    mixed = spent | {"currency": "PEN"}
    done = await gateway.post(url, json=spent, headers=oefa | tag)
    assert done.status_code == 201, done.text
    assert done.json()["transactions"][-1]["value"] == "1500.00"
    assert mixed["currency"] == "PEN"


async def test_history_records_who_when_and_what(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA")
    current = await fetch(gateway, OEFA_ENF, epa)
    await gateway.patch(
        f"{API}/activities/{OEFA_ENF}",
        json={"status": 3, "locations": ["15"]},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    history = await gateway.get(f"{API}/activities/{OEFA_ENF}/history", headers=epa)
    assert history.status_code == 200
    entries = history.json()["items"]
    assert [e["action"] for e in entries] == ["seed", "update"]
    update = entries[-1]
    assert (update["client_id"], update["org"]) == ("epa-w", "EPA")
    assert update["version"] == current.json()["version"] + 1
    assert update["changes"]["status"] == {"before": 4, "after": 3}
    assert update["changes"]["locations"]["after"] == [{"department": "15", "name": "Lima"}]
    assert set(update["changes"]) == {"status", "locations"}
    usaid = await as_org("USAID", READ)
    forbidden = await gateway.get(f"{API}/activities/{OEFA_ENF}/history", headers=usaid)
    assert forbidden.status_code == 403


async def test_the_documented_example_is_accepted(gateway: httpx.AsyncClient, as_org: As) -> None:
    paths = (await gateway.get("/openapi.json")).json()["components"]["schemas"]
    example = next(v for k, v in paths.items() if k.endswith("ActivityCreate"))["examples"][0]
    await create(gateway, await as_org("EPA"), example)


async def test_money_and_percentages_are_exact_at_any_scale(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    # What an IATI file may hold, the API takes too: 3-decimal percentages and money,
    # amounts of 10^15 and more.
    body = full_activity(f"{EPA_REF}-EXACT-01")
    body["sectors"] = [
        {"code": "41010", "percentage": "33.333"},
        {"code": "41081", "percentage": "66.667"},
    ]
    body["budgets"][0]["value"] = "1000.125"
    body["transactions"][0]["value"] = "1234567890123456789.99"
    created = (await create(gateway, await as_org("EPA"), body)).json()
    assert [s["percentage"] for s in created["sectors"]] == ["33.333", "66.667"]
    assert created["budgets"][0]["value"] == "1000.125"
    assert created["transactions"][0]["value"] == "1234567890123456789.99"
