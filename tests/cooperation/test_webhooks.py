"""Event subscriptions of the cooperation service, through the gateway with real tokens,
delivered by the service's own worker to a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import func, select
from standardwebhooks import Webhook

from services.cooperation.events import TABLES
from services.cooperation.settings import CooperationSettings
from shared.webhooks.outbox import emit
from tests.conftest import Tokens
from tests.cooperation.conftest import EPA_REF, IUU, OEFA_ENF, As, new_activity, publish
from tests.support import WEBHOOK_TEST_SETTINGS, Receiver, assert_problem, limit, wait_until

API = "/cooperation/v1"
SUBSCRIBER = "cooperation:read subscriptions"
ALL_TYPES = ["activity.published", "activity.changed", "activity.withdrawn"]


@pytest.fixture
def cooperation_settings(cooperation_settings: CooperationSettings) -> CooperationSettings:
    """The service's settings with quick deliveries to an allow-listed 127.0.0.1."""
    return cooperation_settings.model_copy(update=WEBHOOK_TEST_SETTINGS)


@pytest.fixture
async def usaid(tokens: Tokens) -> dict[str, str]:
    """A donor's integration that subscribes to events."""
    return await tokens.headers("usaid-hooks", "USAID", SUBSCRIBER)


async def subscribe(
    gateway: httpx.AsyncClient, headers: dict[str, str], url: str, types: list[str] | None = None
) -> dict[str, Any]:
    body = {"url": url, "event_types": types or ALL_TYPES, "description": "test"}
    response = await gateway.post(f"{API}/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def deliveries(
    gateway: httpx.AsyncClient, headers: dict[str, str], subscription_id: int
) -> list[dict[str, Any]]:
    response = await gateway.get(
        f"{API}/subscriptions/{subscription_id}/deliveries", headers=headers
    )
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def verified(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """Every message the receiver got, each checked against its Standard Webhooks
    signature (``verify`` raises on a bad one)."""
    return [Webhook(secret).verify(body, headers) for headers, body in receiver.received]


@pytest.mark.usefixtures("seeded")
async def test_a_published_activity_is_delivered_signed(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str]
) -> None:
    with Receiver() as receiver:
        created = await subscribe(gateway, usaid, receiver.url, ["activity.published"])
        assert created["secret"].startswith("whsec_")
        identifier = await publish(gateway, await as_org("EPA"), new_activity())

        async def arrived() -> bool:
            return len(receiver.received) == 1

        await wait_until(arrived, what="the delivery")
    (message,) = verified(receiver, created["secret"])
    assert message["type"] == "activity.published"
    assert message["data"]["identifier"] == identifier
    assert message["data"]["action"] == "publish"
    headers = receiver.received[0][0]
    assert headers["webhook-id"].startswith("msg_")
    assert headers["webhook-signature"].startswith("v1,")
    with pytest.raises(Exception, match=r"(?i)signature"):
        Webhook(created["secret"]).verify(receiver.received[0][1] + b" ", headers)
    # The secret was shown once: never again.
    one = await gateway.get(f"{API}/subscriptions/{created['id']}", headers=usaid)
    assert one.status_code == 200
    assert "secret" not in one.json()
    assert created["secret"] not in (await gateway.get(f"{API}/subscriptions", headers=usaid)).text
    (log,) = await deliveries(gateway, usaid, created["id"])
    assert log["status"] == "delivered"
    assert log["message_id"] == headers["webhook-id"]
    assert [a["status_code"] for a in log["attempt_log"]] == [200]


@pytest.mark.usefixtures("seeded")
async def test_failures_are_retried_with_backoff_then_delivered(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str]
) -> None:
    with Receiver([500, 500]) as receiver:
        created = await subscribe(gateway, usaid, receiver.url, ["activity.published"])
        await publish(gateway, await as_org("EPA"), new_activity())

        async def delivered() -> bool:
            log = await deliveries(gateway, usaid, created["id"])
            return bool(log) and log[0]["status"] == "delivered"

        await wait_until(delivered, what="the third attempt")
    assert receiver.statuses == [500, 500, 200]
    # Every attempt is the same message, signed again.
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1
    assert len(verified(receiver, created["secret"])) == 3
    (log,) = await deliveries(gateway, usaid, created["id"])
    assert log["attempts"] == 3
    assert [a["status_code"] for a in log["attempt_log"]] == [500, 500, 200]
    assert log["next_attempt_at"] is None


@pytest.mark.usefixtures("seeded")
async def test_events_of_one_activity_arrive_in_order_while_the_receiver_fails(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str]
) -> None:
    epa = await as_org("EPA")
    with Receiver([500, 503]) as receiver:
        created = await subscribe(gateway, usaid, receiver.url)
        identifier = await publish(gateway, epa, new_activity())
        url = f"{API}/activities/{identifier}"
        for n in range(3):
            current = await gateway.get(url, headers=epa)
            change = {"title_en": f"Renamed {n}"}
            headers = epa | {"If-Match": current.headers["etag"]}
            assert (await gateway.patch(url, json=change, headers=headers)).status_code == 200
        current = await gateway.get(url, headers=epa)
        gone = await gateway.delete(url, headers=epa | {"If-Match": current.headers["etag"]})
        assert gone.status_code == 204

        async def all_delivered() -> bool:
            log = await deliveries(gateway, usaid, created["id"])
            return len(log) == 5 and all(d["status"] == "delivered" for d in log)

        await wait_until(all_delivered, what="five deliveries")
    messages = verified(receiver, created["secret"])
    ok = [m for m, status in zip(messages, receiver.statuses, strict=True) if status == 200]
    # The first event failed twice; nothing after it was sent meanwhile.
    assert receiver.statuses[:3] == [500, 503, 200]
    assert len({json.dumps(m) for m in messages[:3]}) == 1
    assert [m["type"] for m in ok] == [
        "activity.published",
        "activity.changed",
        "activity.changed",
        "activity.changed",
        "activity.withdrawn",
    ]
    stamps = [m["data"]["changed_at"] for m in ok]
    assert stamps == sorted(stamps)


@pytest.mark.usefixtures("seeded")
async def test_subscribers_get_only_the_activities_they_may_see(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str], tokens: Tokens
) -> None:
    produce = await tokens.headers("produce-hooks", "PRODUCE", SUBSCRIBER)
    with Receiver() as usaid_hook, Receiver() as produce_hook:
        usaid_sub = await subscribe(gateway, usaid, usaid_hook.url, ["activity.changed"])
        produce_sub = await subscribe(gateway, produce, produce_hook.url, ["activity.changed"])
        # IUU is seen by its participants only (NOAA, PRODUCE); OEFA_ENF is public.
        for identifier, lead in ((IUU, "PRODUCE"), (OEFA_ENF, "EPA")):
            writer = await as_org(lead)
            url = f"{API}/activities/{identifier}"
            current = await gateway.get(url, headers=writer)
            headers = writer | {"If-Match": current.headers["etag"]}
            done = await gateway.patch(url, json={"title_en": "Changed"}, headers=headers)
            assert done.status_code == 200, done.text

        async def both() -> bool:
            return len(produce_hook.received) == 2 and len(usaid_hook.received) >= 1

        await wait_until(both, what="the deliveries")
    seen_by_usaid = [m["data"]["identifier"] for m in verified(usaid_hook, usaid_sub["secret"])]
    assert seen_by_usaid == [OEFA_ENF]
    produce_got = verified(produce_hook, produce_sub["secret"])
    assert sorted(m["data"]["identifier"] for m in produce_got) == sorted([IUU, OEFA_ENF])


async def test_a_change_that_rolls_back_sends_nothing(
    gateway: httpx.AsyncClient, seeded: FastAPI, as_org: As, usaid: dict[str, str]
) -> None:
    epa = await as_org("EPA")
    with Receiver() as receiver:
        created = await subscribe(gateway, usaid, receiver.url)
        # A rejected write (stale If-Match) and an event written in a transaction that
        # then rolls back.
        url = f"{API}/activities/{OEFA_ENF}"
        stale = epa | {"If-Match": '"stale"'}
        assert (await gateway.patch(url, json={"title_en": "X"}, headers=stale)).status_code == 412
        async with seeded.state.db.sessions() as session:
            await emit(
                session, TABLES, "activity.changed", {"x": 1}, "EPA", "public", subject="a:1"
            )
            await session.rollback()
        # Then one that commits: once it has arrived, the others would have too.
        identifier = await publish(gateway, epa, new_activity())

        async def arrived() -> bool:
            return len(receiver.received) >= 1

        await wait_until(arrived, what="the committed change")
    (message,) = verified(receiver, created["secret"])
    assert message["type"] == "activity.published"
    assert message["data"]["identifier"] == identifier
    async with seeded.state.db.sessions() as session:
        events = await session.scalar(select(func.count()).select_from(TABLES.events))
        sent = await session.scalar(select(func.count()).select_from(TABLES.deliveries))
    assert sent == len(await deliveries(gateway, usaid, created["id"])) == 1
    # The outbox keeps the published event only: the draft's creation (seen by its
    # participants, who did not subscribe) was dropped, the rolled back one never written.
    assert events == 1


@pytest.mark.usefixtures("seeded")
async def test_a_failed_delivery_can_be_replayed(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str]
) -> None:
    with Receiver([500, 500, 500]) as receiver:
        created = await subscribe(gateway, usaid, receiver.url, ["activity.published"])
        await publish(gateway, await as_org("EPA"), new_activity())
        base = f"{API}/subscriptions/{created['id']}/deliveries"

        async def failed() -> bool:
            failed = await gateway.get(base, params={"status": "failed"}, headers=usaid)
            return bool(failed.json()["items"])

        await wait_until(failed, what="the delivery to fail")
        (log,) = await deliveries(gateway, usaid, created["id"])
        assert log["attempts"] == 3
        assert log["last_status_code"] == 500
        assert log["next_attempt_at"] is None
        replayed = await gateway.post(f"{base}/{log['id']}/replay", headers=usaid)
        assert replayed.status_code == 202, replayed.text
        assert replayed.json()["status"] == "pending"

        async def delivered() -> bool:
            return (await deliveries(gateway, usaid, created["id"]))[0]["status"] == "delivered"

        await wait_until(delivered, what="the replay")
    assert receiver.statuses == [500, 500, 500, 200]
    assert len({h["webhook-id"] for h, _ in receiver.received}) == 1
    (log,) = await deliveries(gateway, usaid, created["id"])
    assert [a["status_code"] for a in log["attempt_log"]] == [500, 500, 500, 200]
    missing = await gateway.post(f"{base}/999999/replay", headers=usaid)
    assert_problem(missing, 404)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/hook",
        "https://10.1.2.3/hook",
        "https://169.254.169.254/latest/meta-data",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://localhost/hook",
        "https://224.0.0.1/hook",
        "https://user:pw@hooks.example/hook",
        "ftp://hooks.example/hook",
        "not a url",
    ],
)
async def test_urls_into_private_networks_are_refused(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, usaid: dict[str, str], url: str
) -> None:
    limit(cooperation_app)  # a fresh copy of the settings, changed below
    cooperation_app.state.settings = cooperation_app.state.settings.model_copy(
        update={"webhook_allowed_hosts": ""}
    )
    body = {"url": url, "event_types": ["activity.changed"]}
    response = await gateway.post(f"{API}/subscriptions", json=body, headers=usaid)
    assert_problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"] == ["body", "url"]
    assert (await gateway.get(f"{API}/subscriptions", headers=usaid)).json()["items"] == []


async def test_http_is_refused_outside_development(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, usaid: dict[str, str]
) -> None:
    cooperation_app.state.settings = cooperation_app.state.settings.model_copy(
        update={"webhook_allow_http": False}
    )
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["activity.changed"]}
    response = await gateway.post(f"{API}/subscriptions", json=body, headers=usaid)
    assert_problem(response, 422)
    assert "https" in response.json()["detail"]


async def test_subscriptions_need_their_scope_and_the_read_scope(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["activity.changed"]}
    reader = await tokens.headers("usaid-reader", "USAID", "cooperation:read")
    refused = await gateway.post(f"{API}/subscriptions", json=body, headers=reader)
    assert_problem(refused, 403, "insufficient-scope")
    assert "subscriptions" in refused.json()["detail"]
    no_read = await tokens.headers("hooks-only", "USAID", "subscriptions")
    refused = await gateway.get(f"{API}/subscriptions", headers=no_read)
    assert_problem(refused, 403, "insufficient-scope")
    assert "cooperation:read" in refused.json()["detail"]
    # The subscriptions scope opens no other route.
    assert_problem(await gateway.get(f"{API}/activities", headers=no_read), 403)


async def test_bad_subscriptions_are_422_naming_the_field(
    gateway: httpx.AsyncClient, usaid: dict[str, str]
) -> None:
    base = {"url": "http://127.0.0.1:9/hook"}
    for body, loc in (
        (base | {"event_types": ["activity.changed", "submission.validated"]}, "event_types"),
        (base | {"event_types": []}, "event_types"),
        (base | {"event_types": ["activity.changed"], "secret": "mine"}, "secret"),
        ({"event_types": ["activity.changed"]}, "url"),
    ):
        response = await gateway.post(f"{API}/subscriptions", json=body, headers=usaid)
        assert_problem(response, 422)
        assert loc in response.json()["errors"][0]["loc"], response.text
    assert (await gateway.get(f"{API}/subscriptions", headers=usaid)).json()["items"] == []


async def test_a_subscription_is_its_clients_own_and_changes_with_if_match(
    gateway: httpx.AsyncClient, tokens: Tokens, usaid: dict[str, str]
) -> None:
    created = await subscribe(gateway, usaid, "http://127.0.0.1:9/hook")
    url = f"{API}/subscriptions/{created['id']}"
    other = await tokens.headers("epa-hooks", "EPA", SUBSCRIBER)
    assert_problem(await gateway.get(url, headers=other), 404)
    assert (await gateway.get(f"{API}/subscriptions", headers=other)).json()["items"] == []
    current = await gateway.get(url, headers=usaid)
    assert_problem(await gateway.patch(url, json={"active": False}, headers=usaid), 428)
    tag = {"If-Match": current.headers["etag"]}
    assert_problem(await gateway.patch(url, json={"active": False}, headers=other | tag), 404)
    bad = await gateway.patch(url, json={"url": "https://10.0.0.1/x"}, headers=usaid | tag)
    assert_problem(bad, 422)
    paused = await gateway.patch(url, json={"active": False}, headers=usaid | tag)
    assert paused.status_code == 200
    assert paused.json()["active"] is False
    assert_problem(await gateway.delete(url, headers=usaid | tag), 412)
    fresh = {"If-Match": paused.headers["etag"]}
    assert (await gateway.delete(url, headers=usaid | fresh)).status_code == 204
    assert_problem(await gateway.get(url, headers=usaid), 404)


@pytest.mark.usefixtures("seeded")
async def test_a_paused_subscription_gets_nothing(
    gateway: httpx.AsyncClient, as_org: As, usaid: dict[str, str]
) -> None:
    with Receiver() as paused_hook, Receiver() as live_hook:
        paused = await subscribe(gateway, usaid, paused_hook.url, ["activity.published"])
        live = await subscribe(gateway, usaid, live_hook.url, ["activity.published"])
        url = f"{API}/subscriptions/{paused['id']}"
        current = await gateway.get(url, headers=usaid)
        headers = usaid | {"If-Match": current.headers["etag"]}
        assert (await gateway.patch(url, json={"active": False}, headers=headers)).is_success
        await publish(gateway, await as_org("EPA"), new_activity(f"{EPA_REF}-TEST-02"))

        async def arrived() -> bool:
            return len(live_hook.received) == 1

        await wait_until(arrived, what="the live subscription's delivery")
    assert paused_hook.received == []
    assert await deliveries(gateway, usaid, paused["id"]) == []
    assert len(await deliveries(gateway, usaid, live["id"])) == 1
