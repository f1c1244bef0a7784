"""Donor pull: the change feed (tombstones for deletions and withdrawals), and incremental
sync that misses nothing while records change."""

from __future__ import annotations

import asyncio
import itertools
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import select

from services.cooperation.activities import service
from services.cooperation.activities.models import ActivityChange
from services.cooperation.activities.state import load_refs
from services.cooperation.activities.sync import Actor
from tests.conftest import Tokens
from tests.cooperation.conftest import (
    EPA_REF,
    OEFA_ENF,
    READ,
    WRITE,
    As,
    fetch,
    new_activity,
)

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
Headers = dict[str, str]


async def feed(
    client: httpx.AsyncClient, after: int, headers: Headers | None = None, *, public: bool = False
) -> tuple[list[dict[str, Any]], int]:
    """Every entry after ``after`` (following pages) and the position to keep."""
    path = f"{API}/public/changes" if public else f"{API}/changes"
    entries: list[dict[str, Any]] = []
    while True:
        response = await client.get(path, params={"after": after, "limit": 7}, headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        entries += body["items"]
        if body["next_after"] == after or not body["items"]:
            return entries, body["next_after"]
        after = body["next_after"]


async def write(
    gateway: httpx.AsyncClient,
    method: str,
    path: str,
    headers: Headers,
    body: dict[str, Any] | None = None,
) -> httpx.Response:
    """A write with If-Match from a fresh read, retried when another writer got there first."""
    identifier = path.split("/")[4]
    for _ in range(20):
        current = await gateway.get(f"{API}/activities/{identifier}", headers=headers)
        assert current.status_code == 200, current.text
        response = await gateway.request(
            method, path, json=body, headers=headers | {"If-Match": current.headers["etag"]}
        )
        if response.status_code != 412:
            assert response.status_code < 300, response.text
            return response
    raise AssertionError("no write got through in 20 tries")


async def test_the_change_feed_has_upserts_deletions_and_withdrawals(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa, usaid, oefa = await as_org("EPA"), await as_org("USAID", READ), await as_org("OEFA", READ)
    seen, usaid_at = await feed(gateway, 0, usaid)
    assert len(seen) == 14
    assert {e["kind"] for e in seen} == {"upsert"}
    _, oefa_at = await feed(gateway, 0, oefa)
    _, public_at = await feed(gateway, 0, public=True)

    identifier = f"{EPA_REF}-TEST-01"
    path = f"{API}/activities/{identifier}"
    await gateway.post(f"{API}/activities", json=new_activity(), headers=epa)
    assert (await feed(gateway, usaid_at, usaid))[0] == []  # unpublished: participants only
    entries, oefa_at = await feed(gateway, oefa_at, oefa)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(identifier, "upsert")]

    await write(gateway, "POST", f"{path}/publish", epa)
    entries, usaid_at = await feed(gateway, usaid_at, usaid)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(identifier, "upsert")]

    await write(gateway, "PATCH", path, epa, {"visibility": "participants"})
    entries, usaid_at = await feed(gateway, usaid_at, usaid)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(identifier, "withdrawn")]
    entries, public_at = await feed(gateway, public_at, public=True)
    assert [e["kind"] for e in entries] == ["upsert", "withdrawn"]
    entries, oefa_at = await feed(gateway, oefa_at, oefa)
    assert [e["kind"] for e in entries] == ["upsert", "upsert"]  # still takes part

    await write(gateway, "DELETE", path, epa)
    assert (await feed(gateway, usaid_at, usaid))[0] == []  # it could not see it any more
    entries, oefa_at = await feed(gateway, oefa_at, oefa)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(identifier, "delete")]

    await write(gateway, "DELETE", f"{API}/activities/{OEFA_ENF}", epa)
    entries, _ = await feed(gateway, usaid_at, usaid)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(OEFA_ENF, "delete")]
    entries, _ = await feed(gateway, public_at, public=True)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(OEFA_ENF, "delete")]


async def test_the_feed_answers_304_and_validates_its_position(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    first = await gateway.get(f"{API}/changes?after=0", headers=usaid)
    again = await gateway.get(
        f"{API}/changes?after=0", headers=usaid | {"If-None-Match": first.headers["etag"]}
    )
    assert again.status_code == 304
    for bad in ("-1", "x", "99999999999999999999999"):
        response = await gateway.get(f"{API}/changes?after={bad}", headers=usaid)
        assert response.status_code == 422


async def test_a_writer_waits_for_the_clock_until_an_earlier_writer_commits(
    seeded: FastAPI,
) -> None:
    """The property incremental sync relies on: sequence numbers and timestamps become
    visible in the order they were handed out (no reader can see 6 while 5 is in flight)."""
    db = seeded.state.db
    identifiers = [OEFA_ENF, f"{EPA_REF}-OEFA-ADJ-02"]
    actor = Actor("test", "EPA")

    async def change(session: Any, identifier: str, title: str) -> None:
        refs = await load_refs(session)
        activity = await service.load_activity(session, identifier, for_update=True)
        assert activity is not None
        fragment = {"title_en": title}
        await service.update_from_state(session, actor, activity, fragment, refs, action="update")

    async def newest() -> list[tuple[int, str]]:
        async with db.sessions() as session:
            rows = await session.execute(
                select(ActivityChange.seq, ActivityChange.identifier)
                .order_by(ActivityChange.seq.desc())
                .limit(2)
            )
            return [(int(s), str(i)) for s, i in rows]

    before = await newest()
    async with db.sessions() as first:
        await change(first, identifiers[0], "First writer")  # holds the clock, not committed

        async def second() -> None:
            async with db.sessions() as session:
                await change(session, identifiers[1], "Second writer")
                await session.commit()

        task = asyncio.create_task(second())
        await asyncio.sleep(0.5)
        assert not task.done()  # waiting at the clock
        assert await newest() == before  # a reader sees neither change yet
        await first.commit()
    await asyncio.wait_for(task, timeout=10)
    (seq2, id2), (seq1, id1) = await newest()
    assert (id1, id2) == (identifiers[0], identifiers[1])
    assert seq2 == seq1 + 1


async def _writers(
    gateway: httpx.AsyncClient, headers: dict[str, Headers], rounds: int, deletes: bool
) -> list[str]:
    """Concurrent edits by three lead organisations, each on its own activities; with
    ``deletes`` also visibility withdrawals and deletions. Returns the log of what was done."""
    done: list[str] = []

    async def epa() -> None:
        lead = headers["EPA"]
        for n in range(rounds):
            identifier = f"{EPA_REF}-SYNC-{n:02d}"
            path = f"{API}/activities/{identifier}"
            body = new_activity(identifier, title_en=f"Sync {n}")
            created = await gateway.post(f"{API}/activities", json=body, headers=lead)
            assert created.status_code == 201, created.text
            await write(gateway, "POST", f"{path}/publish", lead)
            renamed = {"title_en": f"Renamed {n}"}
            await write(gateway, "PATCH", f"{API}/activities/{OEFA_ENF}", lead, renamed)
            if deletes and n % 3 == 1:
                await write(gateway, "DELETE", path, lead)
            if deletes and n % 3 == 2:
                await write(gateway, "PATCH", path, lead, {"visibility": "participants"})
            done.append(identifier)

    async def minam() -> None:
        lead = headers["MINAM"]
        for n in range(rounds):
            for own in ("MINAM-HG-04", "MINAM-MC-06"):
                path = f"{API}/activities/PE-RUC-20492966658-{own}"
                await write(gateway, "PATCH", path, lead, {"status": 2 + n % 2})
                if deletes and own == "MINAM-MC-06" and n % 4 == 3:
                    visibility = "public" if n % 8 == 7 else "participants"
                    await write(gateway, "PATCH", path, lead, {"visibility": visibility})

    async def oefa() -> None:
        path = f"{API}/activities/{OEFA_ENF}/progress-updates"
        for n in range(rounds):
            report = {"reported_on": "2026-01-15", "text_en": f"Report {n}"}
            await write(gateway, "POST", path, headers["OEFA"], report)

    await asyncio.gather(epa(), minam(), oefa())
    return done


async def _client_headers(tokens: Tokens) -> dict[str, Headers]:
    """Clients with a rate limit that the test's burst of requests cannot reach."""
    headers = {}
    for org in ("EPA", "MINAM", "OEFA", "USAID"):
        token = await tokens.get(f"sync-{org.lower()}", org, WRITE, rate_limit_per_minute=100_000)
        headers[org] = {"Authorization": f"Bearer {token}"}
    return headers


async def _truth(gateway: httpx.AsyncClient, headers: Headers) -> dict[str, int]:
    """identifier -> version of everything the donor may see now (one full pass)."""
    found: dict[str, int] = {}
    cursor = None
    while True:
        params: dict[str, Any] = {"limit": 1000} | ({"cursor": cursor} if cursor else {})
        body = (await gateway.get(f"{API}/activities", params=params, headers=headers)).json()
        found |= {a["identifier"]: a["version"] for a in body["items"]}
        cursor = body["next_cursor"]
        if cursor is None:
            return found


async def test_incremental_sync_by_cursor_misses_nothing_under_concurrent_updates(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = await _client_headers(tokens)
    donor = headers["USAID"]
    mirror: dict[str, int] = {}
    received: list[tuple[str, int]] = []
    resume: str | None = None

    async def sync_once() -> None:
        nonlocal resume
        while True:
            params: dict[str, Any] = {"limit": 2} | ({"cursor": resume} if resume else {})
            response = await gateway.get(f"{API}/activities", params=params, headers=donor)
            assert response.status_code == 200, response.text
            body = response.json()
            for item in body["items"]:
                key = (item["identifier"], item["version"])
                assert item["version"] >= mirror.get(item["identifier"], 0)
                received.append(key)
                mirror[item["identifier"]] = item["version"]
            resume = body["resume_cursor"]
            if body["next_cursor"] is None:
                return

    writers = asyncio.create_task(_writers(gateway, headers, rounds=8, deletes=False))
    while not writers.done():
        await sync_once()
        await asyncio.sleep(0)
    await writers
    await sync_once()
    assert mirror == await _truth(gateway, donor)
    assert len(received) == len(set(received)), "an (identifier, version) came twice"


async def test_incremental_sync_by_change_feed_sees_deletions_and_withdrawals(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    headers = await _client_headers(tokens)
    donor = headers["USAID"]
    mirror: dict[str, int] = {}
    position = 0
    seqs: list[int] = []

    async def sync_once() -> None:
        nonlocal position
        entries, position = await feed(gateway, position, donor)
        for entry in entries:
            seqs.append(entry["seq"])
            if entry["kind"] == "upsert":
                response = await gateway.get(
                    f"{API}/activities/{entry['identifier']}", headers=donor
                )
                if response.status_code == 200:
                    mirror[entry["identifier"]] = response.json()["version"]
                else:  # gone since: a later entry says so
                    assert response.status_code == 404
            else:
                mirror.pop(entry["identifier"], None)

    writers = asyncio.create_task(_writers(gateway, headers, rounds=9, deletes=True))
    for _ in itertools.count():
        await sync_once()
        if writers.done():
            break
        await asyncio.sleep(0)
    done = await writers
    await sync_once()
    assert mirror == await _truth(gateway, donor)
    assert seqs == sorted(set(seqs)), "an entry came twice or out of order"
    deleted = {i for n, i in enumerate(done) if n % 3 == 1}
    withdrawn = {i for n, i in enumerate(done) if n % 3 == 2}
    assert not (deleted | withdrawn) & set(mirror)
    assert set(done) - deleted - withdrawn <= set(mirror)


async def test_a_sync_position_survives_an_empty_page(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    _, position = await feed(gateway, 0, usaid)
    later = await gateway.get(f"{API}/changes", params={"after": position}, headers=usaid)
    assert later.json() == {"items": [], "next_after": position}
    epa = await as_org("EPA")
    current = await fetch(gateway, OEFA_ENF, epa)
    await gateway.patch(
        f"{API}/activities/{OEFA_ENF}",
        json={"status": 3},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    entries, _ = await feed(gateway, position, usaid)
    assert [(e["identifier"], e["kind"]) for e in entries] == [(OEFA_ENF, "upsert")]


async def test_renaming_an_unpublished_activity_leaves_a_tombstone(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa, oefa = await as_org("EPA"), await as_org("OEFA", READ)
    _, position = await feed(gateway, 0, oefa)
    created = await gateway.post(f"{API}/activities", json=new_activity(), headers=epa)
    renamed = await gateway.patch(
        f"{API}/activities/{EPA_REF}-TEST-01",
        json={"identifier": f"{EPA_REF}-TEST-02"},
        headers=epa | {"If-Match": created.headers["etag"]},
    )
    assert renamed.status_code == 200
    entries, _ = await feed(gateway, position, oefa)
    assert [(e["identifier"], e["kind"]) for e in entries] == [
        (f"{EPA_REF}-TEST-01", "upsert"),
        (f"{EPA_REF}-TEST-01", "delete"),
        (f"{EPA_REF}-TEST-02", "upsert"),
    ]
