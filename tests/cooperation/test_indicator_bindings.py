"""Cooperation indicators fed by the inventory: the real inventory behind the real gateway,
the cooperation service reading it through the gateway (an in-process transport) with a
client-credentials token of its own. Actuals equal the metric of validated data, move when
new data is validated, keep their source, survive the gateway failing (stale), are absent
on no data, reach the IATI export; the webhook receiver checks signatures."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from lxml import etree
from standardwebhooks.webhooks import Webhook

from services.cooperation.app import create_app as create_cooperation
from services.cooperation.bindings.catalogue import METRICS
from services.cooperation.iati import parse_activities, ruleset_errors, schema_errors
from services.cooperation.seed import demo_body
from services.cooperation.settings import CooperationSettings
from services.gateway.keys import KeyStore
from tests.conftest import TEST_SECRET, Tokens, asgi_client
from tests.cooperation.conftest import READ, As, Headers, read_data
from tests.inventory.conftest import Caller, minam, minem, oefa, produce, validate
from tests.inventory.inventory_data import ASGM
from tests.support import GATEWAY_PEER, assert_problem

__all__ = ["minam", "minem", "oefa", "produce"]  # inventory callers, used as fixtures here

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
ASGM_ACTIVITY = "PE-RUC-20492966658-MINAM-HG-04"  # public, led by MINAM; EPA funds
PCB_ACTIVITY = "PE-RUC-20492966658-MINAM-PCB-15"  # partners, led by MINAM
ASGM_BINDING = f"{API}/activities/{ASGM_ACTIVITY}/results/1/indicators/0/binding"
FIRST_BINDING = f"{API}/activities/{ASGM_ACTIVITY}/results/0/indicators/0/binding"
SECRET = "whsec_" + "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"  # base64 of 24 bytes, tests only
SERVICE = "cooperation-service"


@pytest.fixture
def cooperation_settings(clean_databases: dict[str, str]) -> CooperationSettings:
    """The cooperation service configured to read the inventory through the gateway (no
    timer: the tests refresh on demand or by event)."""
    return CooperationSettings(
        database_url=clean_databases["cooperation"],
        access_log=False,
        trusted_proxies=GATEWAY_PEER,
        inventory_api_url="http://gateway",
        inventory_client_id=SERVICE,
        inventory_client_secret=TEST_SECRET,
        inventory_refresh_s=0,
        inventory_webhook_secret=SECRET,
    )


class Switch(httpx.AsyncBaseTransport):
    """The cooperation service's way to the gateway: in-process, or made to fail."""

    def __init__(self, gateway_app: FastAPI) -> None:
        self.inner = httpx.ASGITransport(
            app=gateway_app, raise_app_exceptions=False, client=("127.0.0.1", 4711)
        )
        self.mode = "ok"
        self.token_requests = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        if self.mode == "refused":
            raise httpx.ConnectError("connection refused", request=request)
        if self.mode == "timeout":
            raise httpx.ReadTimeout("no answer", request=request)
        if self.mode == "503":
            return httpx.Response(503, json={"status": 503}, request=request)
        if request.url.path == "/oauth/token":
            self.token_requests += 1
        return await self.inner.handle_async_request(request)


@pytest.fixture
async def link(seeded: FastAPI, gateway_app: FastAPI, tokens: Tokens) -> Switch:
    """The service's client registered at the gateway (inventory:read only) and its
    transport pointed at the gateway."""
    await tokens.register(SERVICE, "MINAM", "inventory:read")
    switch = Switch(gateway_app)
    seeded.state.inventory_feed.transport = switch
    return switch


@pytest.fixture
async def receiver(seeded: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    """A client calling the cooperation service directly, without a token."""
    async with asgi_client(seeded, "http://cooperation") as client:
        yield client


async def mercury(owner: Caller, rate: str, department: str = "17") -> int:
    """A 2024 mercury submission of ``owner`` with one ASGM estimate (a draft)."""
    submission = (await owner.submission(2024, "mercury"))["id"]
    response = await owner.post(
        f"/submissions/{submission}/mercury-estimates",
        ASGM | {"activity_rate": rate, "department_code": department},
    )
    assert response.status_code == 201, response.text
    return int(submission)


async def refresh(gateway: httpx.AsyncClient, headers: Headers, path: str = ASGM_BINDING) -> Any:
    response = await gateway.post(f"{path}/refresh", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def periods(
    gateway: httpx.AsyncClient, headers: Headers, identifier: str = ASGM_ACTIVITY
) -> Any:
    response = await gateway.get(f"{API}/activities/{identifier}", headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"], response.headers["etag"]


async def put(
    gateway: httpx.AsyncClient, headers: Headers, path: str, body: dict[str, Any]
) -> httpx.Response:
    identifier = path.split("/activities/")[1].split("/")[0]
    _, tag = await periods(gateway, headers, identifier)
    return await gateway.put(path, json=body, headers=headers | {"If-Match": tag})


async def test_a_bound_indicator_follows_validated_inventory_data(
    gateway: httpx.AsyncClient,
    as_org: As,
    link: Switch,
    minem: Caller,
    produce: Caller,
    minam: Caller,
    oefa: Caller,
) -> None:
    lead = await as_org("MINAM")
    first = await mercury(minem, "1000")
    await validate(minem, minam, first)
    binding = await refresh(gateway, lead)
    # 1 000 kg gold x 3 kg Hg/kg gold, all pathways, in Madre de Dios.
    metric = await oefa.get(
        "/metrics/asgm_mercury_releases", params={"year": 2024, "department": "17"}
    )
    assert metric.json()["value"] == 3000.0
    assert (binding["metric"], binding["scope"]) == (
        "asgm_mercury_releases",
        {"department": "17", "sector": None},
    )
    y2024, y2025 = binding["periods"]
    assert y2024["actual"] == "3000"
    assert y2024["source"]["submissions"] == [first] == metric.json()["submissions"]
    assert (y2024["source"]["status"], y2024["source"]["unit"]) == ("ok", "kg/a")
    assert y2024["source"]["stale"] is False
    read_at = datetime.fromisoformat(y2024["source"]["read_at"])
    assert (datetime.now(UTC) - read_at).total_seconds() < 60
    # No validated data for 2025: no actual, not a zero.
    assert (y2025["actual"], y2025["source"]["status"]) == (None, "no_data")

    results, _ = await periods(gateway, lead)
    bound = results[1]["indicators"][0]["periods"]
    assert [p["actual"] for p in bound] == ["3000", None]
    assert bound[0]["actual_source"]["metric"] == "asgm_mercury_releases"
    assert bound[0]["actual_source"]["submissions"] == [first]
    assert results[0]["indicators"][0]["periods"][0]["actual_source"] is None  # not bound
    # A bound period's actual is the inventory's, not reported by hand.
    _, tag = await periods(gateway, lead)
    by_hand = await gateway.put(
        f"{API}/activities/{ASGM_ACTIVITY}/indicator-periods/{bound[0]['id']}/actual",
        json={"actual": "1"},
        headers=lead | {"If-Match": tag},
    )
    assert_problem(by_hand, 409, "bound-to-inventory")

    # A draft does not count; once validated, it does.
    second = await mercury(produce, "500")
    assert (await refresh(gateway, lead))["periods"][0]["actual"] == "3000"
    await validate(produce, minam, second)
    moved = (await refresh(gateway, lead))["periods"][0]
    assert moved["actual"] == "4500"
    assert moved["source"]["submissions"] == sorted([first, second])
    # The change is the activity's: donors syncing see it in its history.
    history = await gateway.get(f"{API}/activities/{ASGM_ACTIVITY}/history", headers=lead)
    last = history.json()["items"][-1]
    assert (last["client_id"], last["action"]) == ("inventory-feed", "inventory")
    # One token served every call (cached until shortly before it expires).
    assert link.token_requests == 1


async def test_the_gateway_failing_keeps_the_last_value_marked_stale(
    gateway: httpx.AsyncClient, as_org: As, link: Switch, minem: Caller, minam: Caller
) -> None:
    lead = await as_org("MINAM")
    submission = await mercury(minem, "1000")
    await validate(minem, minam, submission)
    assert (await refresh(gateway, lead))["periods"][0]["actual"] == "3000"
    for mode, reason in (
        ("503", "the gateway answered 503"),
        ("refused", "no connection to the gateway (ConnectError)"),
        ("timeout", "the gateway did not answer in time"),
    ):
        link.mode = mode
        body = await refresh(gateway, lead)
        assert body["stale"] is True, mode
        assert body["failed_at"] is not None
        assert body["error"] == reason
        period = body["periods"][0]
        assert (period["actual"], period["source"]["stale"]) == ("3000", True)
        assert period["source"]["submissions"] == [submission]
        results, _ = await periods(gateway, lead)  # never an error page
        source = results[1]["indicators"][0]["periods"][0]
        assert (source["actual"], source["actual_source"]["stale"]) == ("3000", True)
        assert source["actual_source"]["failed_at"] == body["failed_at"]
    matrix = await gateway.get(
        f"{API}/matrix", params={"program": "US-PE-ECWP-2015-2018"}, headers=lead
    )
    assert matrix.json()["inventory_fed"] == {"activities": 2, "indicators": 2, "stale": 1}
    link.mode = "ok"
    again = await refresh(gateway, lead)
    assert (again["stale"], again["failed_at"], again["periods"][0]["actual"]) == (
        False,
        None,
        "3000",
    )


@pytest.mark.usefixtures("link")
async def test_no_data_leaves_no_actual_rather_than_a_zero(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    lead = await as_org("MINAM")
    results, _ = await periods(gateway, lead)
    assert [p["actual"] for p in results[0]["indicators"][0]["periods"]] == ["2", "3"]
    response = await put(
        gateway, lead, FIRST_BINDING, {"metric": "asgm_mercury_releases", "department": "17"}
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert [(p["actual"], p["source"]["status"]) for p in body["periods"]] == [
        (None, "no_data"),
        (None, "no_data"),
    ]
    assert body["periods"][0]["source"]["value"] is None
    assert body["periods"][0]["source"]["read_at"] is not None
    results, _ = await periods(gateway, lead)
    assert [p["actual"] for p in results[0]["indicators"][0]["periods"]] == [None, None]
    # Unbound: the periods keep what was last written; the binding is gone.
    _, tag = await periods(gateway, lead)
    gone = await gateway.delete(FIRST_BINDING, headers=lead | {"If-Match": tag})
    assert gone.status_code == 204
    assert (await gateway.get(FIRST_BINDING, headers=lead)).status_code == 404


@pytest.mark.usefixtures("link")
async def test_the_iati_export_carries_the_actual_and_its_source(
    gateway: httpx.AsyncClient, as_org: As, minem: Caller, minam: Caller
) -> None:
    lead = await as_org("MINAM")
    submission = await mercury(minem, "1000")
    await validate(minem, minam, submission)
    source = (await refresh(gateway, lead))["periods"][0]["source"]
    response = await gateway.get(f"{API}/iati/activities.xml", headers=lead)
    assert response.status_code == 200
    xml = response.content
    assert schema_errors(xml) == []
    today = datetime.now(UTC).date()
    for activity in parse_activities(xml):
        assert ruleset_errors(activity, today) == [], activity.identifier
    root = etree.fromstring(xml)
    (activity,) = [a for a in root if a.findtext("iati-identifier") == ASGM_ACTIVITY]
    period = activity.findall("result")[1].find("indicator").findall("period")[0]
    actual = period.find("actual")
    assert actual.get("value") == "3000"
    comment = actual.findtext("comment/narrative")
    assert "asgm_mercury_releases" in comment
    assert "department 17" in comment
    assert f"validated submissions {submission}" in comment
    assert datetime.fromisoformat(source["read_at"]).isoformat() in comment
    # The unread 2025 period has no actual, hence no comment.
    assert (
        activity.findall("result")[1].find("indicator").findall("period")[1].find("actual") is None
    )


def signed(body: bytes, secret: str = SECRET) -> dict[str, str]:
    now = datetime.now(UTC)
    signature = Webhook(secret).sign("msg_2u8", now, body.decode())
    return {
        "webhook-id": "msg_2u8",
        "webhook-timestamp": str(int(now.timestamp())),
        "webhook-signature": signature,
        "content-type": "application/json",
    }


@pytest.mark.usefixtures("link")
async def test_a_validation_event_refreshes_every_binding_and_bad_signatures_are_refused(
    gateway: httpx.AsyncClient,
    receiver: httpx.AsyncClient,
    as_org: As,
    minem: Caller,
    minam: Caller,
) -> None:
    """The inventory delivers to the service's own address (the gateway lets no write in
    without a token): the signature is the receiver's authentication."""
    lead = await as_org("MINAM")
    submission = await mercury(minem, "1000")
    await validate(minem, minam, submission)
    event = json.dumps(
        {"type": "submission.validated", "data": {"submission": submission}}
    ).encode()
    url = "/v1/inventory-events"
    other = "whsec_" + "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY"
    for headers in ({"content-type": "application/json"}, signed(event, other)):
        refused = await receiver.post(url, content=event, headers=headers)
        assert_problem(refused, 401, "invalid-signature")
    results, _ = await periods(gateway, lead)
    assert results[1]["indicators"][0]["periods"][0]["actual"] is None  # not read yet
    tampered = signed(event)
    changed = event.replace(b"validated", b"returned")
    assert (await receiver.post(url, content=changed, headers=tampered)).status_code == 401
    ignored = json.dumps({"type": "submission.returned", "data": {}}).encode()
    skip = await receiver.post(url, content=ignored, headers=signed(ignored))
    assert (skip.status_code, skip.json()["bindings"]) == (200, 0)

    done = await receiver.post(url, content=event, headers=signed(event))
    assert done.status_code == 200, done.text
    # Both demo bindings read; only the ASGM actual changed (no PCB data: none stays none).
    assert done.json() == {"bindings": 2, "failed": 0, "changed_activities": 1}
    results, _ = await periods(gateway, lead)
    assert results[1]["indicators"][0]["periods"][0]["actual"] == "3000"
    pcb, _ = await periods(gateway, lead, PCB_ACTIVITY)
    assert pcb[0]["indicators"][0]["periods"][0]["actual_source"]["status"] == "no_data"


@pytest.mark.usefixtures("link")
async def test_only_the_lead_binds_and_bad_input_is_named(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    lead = await as_org("MINAM")
    body = {"metric": "pcb_in_use", "sector": "electricity_distribution"}
    funder = await as_org("EPA")  # takes part (funds), does not lead
    refused = await put(gateway, funder, FIRST_BINDING, body)
    assert_problem(refused, 403, "not-the-lead")
    reader = await as_org("MINAM", READ)
    _, tag = await periods(gateway, lead)
    no_scope = await gateway.put(FIRST_BINDING, json=body, headers=reader | {"If-Match": tag})
    assert no_scope.status_code == 403
    assert (await gateway.put(FIRST_BINDING, json=body, headers=lead)).status_code == 428
    # PCB-15 is for partners: NOAA (a participant of none of it) still sees it, not leads it.
    noaa = await as_org("NOAA")
    pcb_binding = f"{API}/activities/{PCB_ACTIVITY}/results/0/indicators/0/binding"
    assert (await gateway.get(pcb_binding, headers=noaa)).status_code == 200
    assert_problem(await put(gateway, noaa, pcb_binding, body), 403, "not-the-lead")

    for bad, field in (
        ({"metric": "pcb_everywhere"}, "metric"),
        ({"metric": "asgm_mercury_releases", "sector": "mining"}, "sector"),
        ({"metric": "pcb_in_use", "sector": "fishing"}, "sector"),
        ({"metric": "pcb_in_use", "department": "99"}, "department"),
        ({"metric": "pcb_in_use", "schedule": "weekly"}, "schedule"),
        ({"metric": "pcb_in_use", "colour": "red"}, "colour"),
    ):
        response = await put(gateway, lead, FIRST_BINDING, bad)
        assert_problem(response, 422)
        assert [e["loc"][-1] for e in response.json()["errors"]] == [field], bad
    assert (await gateway.get(FIRST_BINDING, headers=lead)).status_code == 404  # nothing made
    for position in ("results/2/indicators/0", "results/0/indicators/1"):
        path = f"{API}/activities/{ASGM_ACTIVITY}/{position}/binding"
        assert_problem(await put(gateway, lead, path, body), 404, "not-found")
        assert (await gateway.get(path, headers=lead)).status_code == 404


async def test_the_local_catalogue_matches_the_inventory(oefa: Caller) -> None:
    items = (await oefa.get("/metrics")).json()["items"]
    assert {m["id"]: (m["unit"], tuple(m["filters"])) for m in items} == {
        m.id: (m.unit, m.filters) for m in METRICS.values()
    }


@pytest.mark.usefixtures("link")
async def test_an_edit_that_removes_the_indicator_detaches_the_binding(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    lead = await as_org("MINAM")
    demo = next(
        a for a in read_data("demo_activities.json")["activities"] if a["own_id"] == "MINAM-HG-04"
    )
    _, tag = await periods(gateway, lead)
    first_only = {"results": demo_body(demo)["results"][:1]}
    edited = await gateway.patch(
        f"{API}/activities/{ASGM_ACTIVITY}", json=first_only, headers=lead | {"If-Match": tag}
    )
    assert edited.status_code == 200, edited.text
    body = await refresh(gateway, lead)
    assert (body["attached"], body["periods"], body["stale"]) == (False, [], False)
    assert (await gateway.get(ASGM_BINDING, headers=lead)).json()["attached"] is False


async def test_the_service_starts_and_serves_while_the_gateway_is_down(
    gateway_app: FastAPI,
    gateway: httpx.AsyncClient,
    as_org: As,
    cooperation_settings: CooperationSettings,
    keys_dir: Path,
) -> None:
    """The first refresh runs in the background after start-up: a gateway that refuses
    connections leaves the bindings stale and the service up."""
    timed = cooperation_settings.model_copy(update={"inventory_refresh_s": 0.05})
    other = create_cooperation(timed, key_source=KeyStore(keys_dir))
    refusing = Switch(gateway_app)
    refusing.mode = "refused"
    other.state.inventory_feed.transport = refusing
    lead = await as_org("MINAM")
    async with other.router.lifespan_context(other):
        async with asgi_client(other, "http://cooperation") as direct:
            assert (await direct.get("/health/live")).status_code == 200
        for _ in range(100):
            binding = (await gateway.get(ASGM_BINDING, headers=lead)).json()
            if binding["stale"]:
                break
            await asyncio.sleep(0.05)
    assert binding["stale"] is True
    assert "no connection" in binding["error"]
    results, _ = await periods(gateway, lead)
    assert results[1]["indicators"][0]["periods"][0]["actual_source"]["stale"] is True
