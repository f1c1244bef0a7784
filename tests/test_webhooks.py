"""The parts of event delivery that are the same in every service: backoff, who may see an
event, the SSRF guard at delivery time, and workers sharing the work on PostgreSQL."""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import random
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import insert, select

from services.cooperation.events import TABLES
from services.cooperation.settings import CooperationSettings
from shared.db import Database, utcnow
from shared.webhooks.guard import Target, forbidden
from shared.webhooks.rules import audience, backoff_s, may_see
from shared.webhooks.tables import DELIVERED, FAILED, PENDING
from shared.webhooks.worker import Claimed, _request_for, attempt, claim, prune
from tests.support import WEBHOOK_TEST_SETTINGS, Receiver, postgres_only


@given(attempt_no=st.integers(1, 200), base=st.floats(0.01, 100), cap=st.floats(0.01, 10_000))
def test_backoff_grows_is_capped_and_jittered(attempt_no: int, base: float, cap: float) -> None:
    wait = backoff_s(attempt_no, base_s=base, cap_s=cap)
    ceiling = min(cap, base * 2 ** (attempt_no - 1))
    assert ceiling / 2 <= wait <= ceiling


def test_backoff_doubles_until_the_cap() -> None:
    rng = random.Random(0)
    ceilings = [backoff_s(n, base_s=10, cap_s=60, rng=rng) * 2 for n in range(1, 6)]
    assert all(10 <= c <= 20 for c in ceilings[:1])
    assert all(c <= 120 for c in ceilings)
    assert backoff_s(30, base_s=10, cap_s=60) <= 60


def test_who_may_see_an_event() -> None:
    assert may_see(audience(public=True), org="USAID", scopes=["cooperation:read"])
    submission = audience(orgs=["MINEM"], scopes=["inventory:review"])
    assert may_see(submission, org="MINEM", scopes=["inventory:read"])
    assert may_see(submission, org="MINAM", scopes=["inventory:read", "inventory:review"])
    assert not may_see(submission, org="PRODUCE", scopes=["inventory:read", "inventory:write"])
    assert not may_see(audience(orgs=["NOAA", "PRODUCE"]), org="USAID", scopes=[])


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.1",
        "172.16.5.4",
        "192.168.1.1",
        "169.254.169.254",
        "100.64.0.1",
        "0.0.0.0",  # noqa: S104 - an address refused, not one bound
        "224.0.0.251",
        "240.0.0.1",
        "::1",
        "fe80::1",
        "fc00::1",
        "ff02::1",
        "::ffff:10.0.0.1",
        "2002:7f00:1::",
    ],
)
def test_private_and_special_addresses_are_forbidden(address: str) -> None:
    assert forbidden(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", ["93.184.216.34", "2606:4700:4700::1111", "8.8.8.8"])
def test_public_addresses_are_allowed(address: str) -> None:
    assert not forbidden(ipaddress.ip_address(address))


def test_an_attempt_connects_to_the_checked_address_naming_the_host() -> None:
    target = Target(
        "https://hooks.example:8443/in?x=1", "hooks.example", ipaddress.ip_address("93.184.216.34")
    )
    url, headers, extensions = _request_for(target)
    assert url == "https://93.184.216.34:8443/in?x=1"
    assert headers == {"host": "hooks.example:8443"}
    assert extensions == {"sni_hostname": "hooks.example"}
    six = Target("https://hooks.example/in", "hooks.example", ipaddress.ip_address("2606:4700::1"))
    assert _request_for(six)[0] == "https://[2606:4700::1]/in"


async def test_the_guard_runs_again_at_delivery_time() -> None:
    """Allow-listed when registered, no longer when sent (or a name that now resolves to a
    private address): the attempt is refused and nothing reaches the receiver."""
    base = CooperationSettings(database_url="sqlite+aiosqlite://")
    allowed = base.model_copy(update=WEBHOOK_TEST_SETTINGS)
    not_allowed = allowed.model_copy(update={"webhook_allowed_hosts": ""})
    with Receiver() as receiver:
        job = Claimed(1, 0, receiver.url, "whsec_" + "A" * 43 + "=", "msg_1", "{}")
        async with httpx.AsyncClient(follow_redirects=False) as client:
            refused = await attempt(client, not_allowed, job)
            sent = await attempt(client, allowed, job)
            by_name = receiver.url.replace("127.0.0.1", "localhost")
            rebound = await attempt(client, not_allowed, dataclasses.replace(job, url=by_name))
    assert refused.status_code is None
    assert str(refused.error).startswith("refused")
    assert str(rebound.error).startswith("refused")
    assert sent.ok
    assert len(receiver.received) == 1


@pytest.fixture
async def cooperation_db(clean_databases: dict[str, str]) -> AsyncIterator[Database]:
    database = Database(clean_databases["cooperation"])
    yield database
    await database.close()


async def add_deliveries(db: Database, deliveries: list[tuple[str, str, datetime]]) -> list[int]:
    """A subscription and, per (subject, status, created_at), an event and its delivery;
    the delivery ids."""
    now = utcnow() - timedelta(seconds=1)
    ids = []
    async with db.sessions() as session, session.begin():
        sub_id = await session.scalar(
            insert(TABLES.subscriptions)
            .values(
                client_id="c",
                org_code="USAID",
                scopes="cooperation:read subscriptions",
                url="https://hooks.example/in",
                event_types="activity.changed",
                secret="whsec_x",
                active=True,
                created_at=now - timedelta(days=365),
                updated_at=now,
                version=1,
            )
            .returning(TABLES.subscriptions.c.id)
        )
        for n, (subject, status, at) in enumerate(deliveries):
            event_id = await session.scalar(
                insert(TABLES.events)
                .values(
                    message_id=f"msg_{n}",
                    event_type="activity.changed",
                    subject=subject,
                    visibility="public",
                    payload="{}",
                    created_at=at,
                    dispatched_at=at,
                )
                .returning(TABLES.events.c.id)
            )
            delivery_id = await session.scalar(
                insert(TABLES.deliveries)
                .values(
                    subscription_id=sub_id,
                    event_id=event_id,
                    subject=subject,
                    status=status,
                    attempts=0,
                    next_attempt_at=min(at, now),
                    created_at=at,
                )
                .returning(TABLES.deliveries.c.id)
            )
            await session.execute(
                insert(TABLES.attempts).values(
                    delivery_id=delivery_id, at=at, status_code=500, duration_ms=1
                )
            )
            ids.append(int(delivery_id or 0))
    return ids


async def test_the_log_keeps_pending_and_recent_deliveries(cooperation_db: Database) -> None:
    now = utcnow()
    old = now - timedelta(days=40)
    kept_pending, _, kept_recent = await add_deliveries(
        cooperation_db, [("a:1", PENDING, old), ("a:2", DELIVERED, old), ("a:3", FAILED, now)]
    )
    async with cooperation_db.sessions() as session, session.begin():
        await prune(session, TABLES, before=now - timedelta(days=30))
    async with cooperation_db.sessions() as session:
        left = set((await session.scalars(select(TABLES.deliveries.c.id))).all())
        events = set((await session.scalars(select(TABLES.events.c.message_id))).all())
        attempts = set((await session.scalars(select(TABLES.attempts.c.delivery_id))).all())
    assert left == attempts == {kept_pending, kept_recent}
    assert events == {"msg_0", "msg_2"}


@postgres_only
async def test_workers_share_deliveries_with_skip_locked(cooperation_db: Database) -> None:
    """Two workers claiming at once get different deliveries, neither waits for the other,
    and a subject's next event waits until its earlier one is done."""
    now = utcnow() - timedelta(seconds=1)
    subjects = ["a:1", "a:2", "a:3", "a:1"]
    await add_deliveries(cooperation_db, [(s, PENDING, now) for s in subjects])
    async with cooperation_db.sessions() as first, cooperation_db.sessions() as second:  # noqa: SIM117
        # The first worker's transaction is still open (its rows locked) while the second
        # claims.
        async with first.begin():
            mine = await claim(first, TABLES, batch=1, lease_s=30)
            async with second.begin():
                theirs = await claim(second, TABLES, batch=10, lease_s=30)
    assert [j.message_id for j in mine] == ["msg_0"]
    # msg_3 is a:1's second event: it waits for msg_0.
    assert sorted(j.message_id for j in theirs) == ["msg_1", "msg_2"]
    async with cooperation_db.sessions() as session, session.begin():
        assert await claim(session, TABLES, batch=10, lease_s=30) == []


async def test_a_redirect_is_not_followed_and_a_silent_receiver_times_out() -> None:
    base = CooperationSettings(database_url="sqlite+aiosqlite://")
    settings = base.model_copy(update=WEBHOOK_TEST_SETTINGS | {"webhook_timeout_s": 0.2})

    writers: list[asyncio.StreamWriter] = []

    async def silent(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)  # reads nothing, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        with Receiver([302]) as receiver:
            job = Claimed(1, 0, receiver.url, "whsec_" + "A" * 43 + "=", "msg_1", "{}")
            async with httpx.AsyncClient(follow_redirects=False, timeout=0.2) as client:
                redirected = await attempt(client, settings, job)
                hung = dataclasses.replace(job, url=f"http://127.0.0.1:{port}/hook")
                timed_out = await attempt(client, settings, hung)
    finally:
        for writer in writers:
            writer.close()
            await writer.wait_closed()
        server.close()
        await server.wait_closed()
    assert redirected.status_code == 302
    assert not redirected.ok
    assert len(receiver.received) == 1
    assert timed_out.status_code is None
    assert "Timeout" in str(timed_out.error)
