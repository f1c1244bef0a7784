"""Event subscriptions of the inventory service: submission validated and returned, and
target status changes, each sent only to those who may read it."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from standardwebhooks import Webhook

from services.inventory import events
from services.inventory.settings import InventorySettings
from tests.conftest import Tokens
from tests.inventory.conftest import Caller, assert_problem, validate
from tests.inventory.inventory_data import gc_item
from tests.inventory.test_plans import PLAN_TARGETS, make_plan
from tests.support import WEBHOOK_TEST_SETTINGS, Receiver, wait_until

API = "/inventory/v1"
TYPES = ["submission.validated", "submission.returned", "target.status_changed"]


@pytest.fixture
def inventory_settings(inventory_settings: InventorySettings) -> InventorySettings:
    """The service's settings with quick deliveries to an allow-listed 127.0.0.1."""
    return inventory_settings.model_copy(update=WEBHOOK_TEST_SETTINGS)


async def subscribe(gateway: httpx.AsyncClient, headers: dict[str, str], url: str) -> str:
    """Subscribe to every inventory event; the secret."""
    body = {"url": url, "event_types": TYPES}
    response = await gateway.post(f"{API}/subscriptions", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["secret"])


def received(receiver: Receiver, secret: str) -> list[dict[str, Any]]:
    """The messages, each checked against its signature."""
    return [Webhook(secret).verify(body, headers) for headers, body in receiver.received]


async def test_submission_events_reach_the_owner_and_reviewers_returns_no_one_else(
    gateway: httpx.AsyncClient, tokens: Tokens, minem: Caller, minam: Caller
) -> None:
    subscribers = {
        "MINEM": await tokens.headers("minem-hooks", "MINEM", "inventory:read subscriptions"),
        "MINAM": await tokens.headers(
            "minam-hooks", "MINAM", "inventory:read inventory:review subscriptions"
        ),
        "PRODUCE": await tokens.headers("produce-hooks", "PRODUCE", "inventory:read subscriptions"),
    }
    with Receiver() as a, Receiver() as b, Receiver() as c:
        hooks = dict(zip(subscribers, (a, b, c), strict=True))
        secrets = {
            org: await subscribe(gateway, headers, hooks[org].url)
            for org, headers in subscribers.items()
        }
        holder = await minem.holder()
        site = await minem.site(holder["id"])
        submission = await minem.submission(2024)
        await minem.item(submission["id"], holder["id"], site["id"])
        sid = submission["id"]
        await minem.move(sid, "submit")
        await minam.move(sid, "start-review")
        # A return without a comment is refused, and sends nothing.
        assert_problem(await minam.move(sid, "return", " "), 422)
        assert (await minam.move(sid, "return", "Faltan análisis")).status_code == 200
        await minem.move(sid, "submit")
        await minam.move(sid, "start-review")
        assert (await minam.move(sid, "validate")).status_code == 200

        async def all_arrived() -> bool:
            return len(a.received) == len(b.received) == 2 and len(c.received) == 1

        await wait_until(all_arrived, what="the submission events")
    for org in ("MINEM", "MINAM"):
        messages = received(hooks[org], secrets[org])
        assert [m["type"] for m in messages] == ["submission.returned", "submission.validated"]
        assert messages[0]["data"]["comment"] == "Faltan análisis"
        assert messages[1]["data"] == {
            "submission_id": sid,
            "organisation": "MINEM",
            "year": 2024,
            "section": "pcb",
            "revision": 1,
            "status": "validated",
            "supersedes_id": None,
        }
    # Another organisation reads validated data (as through the API), never a return.
    (validated,) = received(c, secrets["PRODUCE"])
    assert validated["type"] == "submission.validated"


async def test_target_status_events_are_the_organisations_and_the_reviewers(
    gateway: httpx.AsyncClient, tokens: Tokens, inventory_app: FastAPI
) -> None:
    owner = await tokens.headers("minem-hooks", "MINEM", "inventory:read subscriptions")
    other = await tokens.headers("oefa-hooks", "OEFA", "inventory:read subscriptions")
    with Receiver() as owner_hook, Receiver() as other_hook:
        owner_secret = await subscribe(gateway, owner, owner_hook.url)
        await subscribe(gateway, other, other_hook.url)
        async with inventory_app.state.db.sessions() as session:
            await events.emit(
                session,
                "target.status_changed",
                {"target_id": 3, "status": "at_risk", "previous_status": "on_track"},
                "MINEM",
                subject="target:3",
            )
            await session.commit()

        async def arrived() -> bool:
            return len(owner_hook.received) == 1

        await wait_until(arrived, what="the target event")
    (message,) = received(owner_hook, owner_secret)
    assert message["type"] == "target.status_changed"
    assert message["data"]["status"] == "at_risk"
    assert other_hook.received == []
    with pytest.raises(ValueError, match="unknown"):
        async with inventory_app.state.db.sessions() as session:
            await events.emit(session, "target.deleted", {}, "MINEM", subject="target:3")


async def test_the_inventory_sends_its_own_event_types_only(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = await tokens.headers("minem-hooks", "MINEM", "inventory:read subscriptions")
    body = {"url": "http://127.0.0.1:9/hook", "event_types": ["activity.published"]}
    response = await gateway.post(f"{API}/subscriptions", json=body, headers=headers)
    assert_problem(response, 422, "validation-error")
    assert response.json()["errors"][0]["loc"] == ["body", "event_types", 0]
    assert "submission.validated" in response.json()["detail"]
    cooperation_reader = await tokens.headers(
        "usaid-hooks", "USAID", "cooperation:read subscriptions"
    )
    refused = await gateway.get(f"{API}/subscriptions", headers=cooperation_reader)
    assert_problem(refused, 403, "insufficient-scope")


async def test_a_validation_that_moves_targets_sends_their_events(
    gateway: httpx.AsyncClient, tokens: Tokens, minem: Caller, minam: Caller, produce: Caller
) -> None:
    """Issue 13 item 5: ``target.status_changed``, signed, for each target a validation moved
    (plans are public: any reader subscribed gets them), and none for a draft."""
    plan = await make_plan(minem, produce, minam, PLAN_TARGETS)
    headers = await tokens.headers("oefa-targets", "OEFA", "inventory:read subscriptions")
    with Receiver() as hook:
        body = {"url": hook.url, "event_types": ["target.status_changed"]}
        created = await gateway.post("/inventory/v1/subscriptions", json=body, headers=headers)
        assert created.status_code == 201, created.text
        secret = created.json()["secret"]
        draft = (await minem.submission(2025, "pcb"))["id"]
        await gc_item(
            minem, draft, plan["holder_a"], plan["site_a_cusco"], "300000", total_mass_kg="2000"
        )
        await validate(minem, minam, draft)

        async def arrived() -> bool:
            return len(hook.received) == 3

        await wait_until(arrived, what="the target events")
    messages = [Webhook(secret).verify(body, headers) for headers, body in hook.received]
    moves = {m["data"]["target_id"]: (m["data"]["from"], m["data"]["to"]) for m in messages}
    assert moves == {
        plan["targets"]["at_risk"]: ("at_risk", "on_track"),
        plan["targets"]["off_track"]: ("off_track", "at_risk"),
        plan["targets"]["share"]: ("on_track", "off_track"),
    }
    assert {m["type"] for m in messages} == {"target.status_changed"}
    assert {m["data"]["cause"]["submission_id"] for m in messages} == {draft}
