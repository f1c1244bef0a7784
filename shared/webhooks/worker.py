"""The delivery worker: outbox rows become deliveries, deliveries become signed POSTs.

One worker runs in each service process (``run``). On PostgreSQL several processes share
the work: one at a time turns events into deliveries (a transaction-scoped advisory lock),
and deliveries are claimed with ``FOR UPDATE SKIP LOCKED`` and leased (their next attempt
moved past the lease) before the request is made, outside any transaction. A process that
dies mid-attempt leaves the delivery to be tried again when the lease ends: at least once.

Order per subject: a delivery is claimed only when no earlier event of the same subject is
still pending for the same subscription (a failed one no longer holds the others back).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import and_, delete, exists, insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import Database, utcnow
from shared.webhooks.guard import RefusedUrl, Target, check_url
from shared.webhooks.rules import backoff_s, may_see
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signing import signed_headers
from shared.webhooks.tables import DELIVERED, FAILED, PENDING, WebhookTables

log = logging.getLogger("enlace.webhooks")
# Any constant: the advisory lock that lets one process at a time fan events out.
FAN_OUT_LOCK = 0x656E6C6163
MAX_ERROR_CHARS = 300


@dataclass(frozen=True)
class Claimed:
    """A delivery leased to this worker, with what its attempt needs."""

    delivery_id: int
    attempts: int
    url: str
    secret: str
    message_id: str
    body: str


@dataclass(frozen=True)
class Outcome:
    """What one attempt got."""

    status_code: int | None
    error: str | None
    duration_ms: int

    @property
    def ok(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


def message_body(event_type: str, created_at: Any, payload: str) -> str:
    """The JSON a subscriber receives (the Standard Webhooks payload shape)."""
    stamp = created_at.isoformat().replace("+00:00", "Z")
    return f'{{"type":{json.dumps(event_type)},"timestamp":"{stamp}","data":{payload}}}'


async def fan_out(session: AsyncSession, tables: WebhookTables, batch: int) -> int:
    """Turn undispatched events into deliveries, oldest first; the number of events done.

    A delivery is made for every active subscription that wants the event's type, existed
    when the event was written, and whose owner may see it, decided now. An event nobody
    wanted is dropped."""
    if session.get_bind().dialect.name == "postgresql":
        locked = await session.scalar(
            text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": FAN_OUT_LOCK}
        )
        if not locked:
            return 0
    ev, sub = tables.events, tables.subscriptions
    events = (
        await session.execute(
            select(ev).where(ev.c.dispatched_at.is_(None)).order_by(ev.c.id).limit(batch)
        )
    ).all()
    if not events:
        return 0
    subscriptions = (await session.execute(select(sub).where(sub.c.active))).all()
    now = utcnow()
    rows: list[dict[str, Any]] = []
    unwanted: list[int] = []
    dispatched: list[int] = []
    for event in events:
        wanted = [
            s.id
            for s in subscriptions
            if event.event_type in s.event_types.split()
            and event.created_at >= s.created_at
            and may_see(event.visibility, org=s.org_code, scopes=s.scopes.split())
        ]
        (dispatched if wanted else unwanted).append(event.id)
        rows += [
            {
                "subscription_id": s,
                "event_id": event.id,
                "subject": event.subject,
                "status": PENDING,
                "attempts": 0,
                "next_attempt_at": now,
                "created_at": now,
            }
            for s in wanted
        ]
    if rows:
        await session.execute(insert(tables.deliveries), rows)
    if dispatched:
        await session.execute(update(ev).where(ev.c.id.in_(dispatched)).values(dispatched_at=now))
    if unwanted:
        await session.execute(delete(ev).where(ev.c.id.in_(unwanted)))
    return len(events)


async def claim(
    session: AsyncSession, tables: WebhookTables, *, batch: int, lease_s: float
) -> list[Claimed]:
    """Lease the deliveries due now (the earliest pending one per subscription and subject)."""
    d, ev, sub = tables.deliveries, tables.events, tables.subscriptions
    earlier = tables.deliveries.alias("earlier")
    now = utcnow()
    due = (
        select(d.c.id)
        .where(
            d.c.status == PENDING,
            d.c.next_attempt_at <= now,
            ~exists().where(
                earlier.c.subscription_id == d.c.subscription_id,
                earlier.c.subject == d.c.subject,
                earlier.c.status == PENDING,
                earlier.c.event_id < d.c.event_id,
            ),
            exists().where(sub.c.id == d.c.subscription_id, sub.c.active),
        )
        .order_by(d.c.id)
        .limit(batch)
    )
    if session.get_bind().dialect.name == "postgresql":
        due = due.with_for_update(skip_locked=True, of=d)
    # One statement takes and leases them: two workers cannot both take a row (SQLite runs
    # it under its write lock; PostgreSQL skips the rows another worker has locked).
    lease_end = now + timedelta(seconds=lease_s)
    leased = (
        update(d)
        .where(d.c.id.in_(due.scalar_subquery()))
        .values(next_attempt_at=lease_end)
        .returning(d.c.id)
    )
    ids = list((await session.scalars(leased)).all())
    if not ids:
        return []
    rows = (
        await session.execute(
            select(
                d.c.id,
                d.c.attempts,
                sub.c.url,
                sub.c.secret,
                ev.c.message_id,
                ev.c.event_type,
                ev.c.created_at,
                ev.c.payload,
            )
            .join(sub, sub.c.id == d.c.subscription_id)
            .join(ev, ev.c.id == d.c.event_id)
            .where(d.c.id.in_(ids))
            .order_by(d.c.id)
        )
    ).all()
    return [
        Claimed(
            r.id,
            r.attempts,
            r.url,
            r.secret,
            r.message_id,
            message_body(r.event_type, r.created_at, r.payload),
        )
        for r in rows
    ]


def _request_for(target: Target) -> tuple[str, dict[str, str], dict[str, Any]]:
    """URL, extra headers and extensions that connect to the checked address while naming
    the host (Host header, TLS server name and certificate check)."""
    if target.address is None:
        return target.url, {}, {}
    parts = httpx.URL(target.url)
    literal = f"[{target.address}]" if target.address.version == 6 else str(target.address)
    pinned = parts.copy_with(host=literal.strip("[]"))
    host_header = parts.host if parts.port is None else f"{parts.host}:{parts.port}"
    return str(pinned), {"host": host_header}, {"sni_hostname": parts.host}


async def attempt(client: httpx.AsyncClient, settings: WebhookSettings, job: Claimed) -> Outcome:
    """POST one delivery (SSRF check first, redirects not followed)."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = await check_url(
            job.url,
            allow_http=settings.webhook_allow_http,
            allowed_hosts=settings.webhook_allow_list,
        )
    except RefusedUrl as exc:
        return Outcome(None, f"refused: {exc}"[:MAX_ERROR_CHARS], took())
    url, extra, extensions = _request_for(target)
    headers = signed_headers(job.secret, job.message_id, utcnow(), job.body) | extra
    request = client.build_request(
        "POST", url, content=job.body.encode(), headers=headers, extensions=extensions
    )
    try:
        # Streamed and closed unread: only the status matters, and a receiver must not be
        # able to make the worker read a large body. The whole attempt is bounded too (the
        # client's timeout is per read): it must end well within its lease.
        async with asyncio.timeout(settings.webhook_timeout_s * 1.5):
            response = await client.send(request, stream=True)
            await response.aclose()
    except httpx.HTTPError as exc:
        return Outcome(None, type(exc).__name__, took())
    except TimeoutError:
        return Outcome(None, "Timeout", took())
    error = None if response.is_success else f"HTTP {response.status_code}"
    return Outcome(response.status_code, error, took())


async def record_outcome(
    session: AsyncSession,
    tables: WebhookTables,
    settings: WebhookSettings,
    job: Claimed,
    outcome: Outcome,
) -> None:
    """Log the attempt; the delivery is then delivered, due again later, or failed."""
    now = utcnow()
    tries = job.attempts + 1
    await session.execute(
        insert(tables.attempts).values(
            delivery_id=job.delivery_id,
            at=now,
            status_code=outcome.status_code,
            error=outcome.error,
            duration_ms=outcome.duration_ms,
        )
    )
    values: dict[str, Any] = {
        "attempts": tries,
        "last_attempt_at": now,
        "last_status_code": outcome.status_code,
        "last_error": outcome.error,
    }
    if outcome.ok:
        values |= {"status": DELIVERED, "delivered_at": now}
    elif tries >= settings.webhook_max_attempts:
        values |= {"status": FAILED}
    else:
        wait = backoff_s(
            tries, base_s=settings.webhook_backoff_base_s, cap_s=settings.webhook_backoff_cap_s
        )
        values |= {"next_attempt_at": now + timedelta(seconds=wait)}
    d = tables.deliveries
    # Only while still pending: a replay or delete meanwhile is not undone.
    await session.execute(
        update(d).where(and_(d.c.id == job.delivery_id, d.c.status == PENDING)).values(values)
    )


async def work_once(
    db: Database,
    tables: WebhookTables,
    settings: WebhookSettings,
    client: httpx.AsyncClient,
) -> bool:
    """One round: fan out, claim, send, record. True when there was something to do."""
    async with db.sessions() as session, session.begin():
        fanned = await fan_out(session, tables, settings.webhook_batch * 10)
    lease_s = settings.webhook_timeout_s * 2 + 5
    async with db.sessions() as session, session.begin():
        jobs = await claim(session, tables, batch=settings.webhook_batch, lease_s=lease_s)
    if not jobs:
        return fanned > 0
    outcomes: Sequence[Outcome] = await asyncio.gather(
        *(attempt(client, settings, job) for job in jobs)
    )
    async with db.sessions() as session, session.begin():
        for job, outcome in zip(jobs, outcomes, strict=True):
            await record_outcome(session, tables, settings, job, outcome)
    return True


async def prune(session: AsyncSession, tables: WebhookTables, *, before: datetime) -> None:
    """Forget deliveries done (delivered or failed) before ``before``, with their attempts,
    and the events no delivery refers to any more. Pending ones are kept, however old."""
    d, ev = tables.deliveries, tables.events
    await session.execute(delete(d).where(d.c.status != PENDING, d.c.created_at < before))
    await session.execute(
        delete(ev).where(ev.c.dispatched_at < before, ~exists().where(d.c.event_id == ev.c.id))
    )


PRUNE_EVERY_S = 3600


async def run(db: Database, tables: WebhookTables, settings: WebhookSettings) -> None:
    """Deliver until cancelled; an error (the database away) is logged and waited out (the
    worker must outlive an outage). Once an hour the delivery log is pruned to
    ``webhook_retention_days``."""
    timeout = httpx.Timeout(settings.webhook_timeout_s)
    loop = asyncio.get_running_loop()
    next_prune = loop.time()
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=False) as client:
        while True:
            try:
                if loop.time() >= next_prune:
                    kept = timedelta(days=settings.webhook_retention_days)
                    async with db.sessions() as session, session.begin():
                        await prune(session, tables, before=utcnow() - kept)
                    next_prune = loop.time() + PRUNE_EVERY_S
                busy = await work_once(db, tables, settings, client)
            except Exception as exc:
                log.warning("webhook worker round failed: %s", type(exc).__name__)
                busy = False
            if not busy:
                await asyncio.sleep(settings.webhook_poll_s)


def worker_task(tables: WebhookTables) -> Callable[[FastAPI], Coroutine[Any, Any, None]]:
    """The background job of a service app (``shared.app.build_service_app``)."""

    async def job(app: FastAPI) -> None:
        await run(app.state.db, tables, app.state.settings)

    return job
