"""Refreshing bound indicators from the inventory.

Rule: a period's actual is the metric's value for the year of the period's end (a period
2024-07-01..2025-06-30 reads 2025), for the binding's scope and schedule. ``no_data``
leaves the period without an actual (never a zero). When the inventory cannot be read the
values read before stay, and the binding is marked ``stale`` with the time of the failed
attempt.

A refresh reads what to ask without holding a lock, asks the inventory (no transaction
open meanwhile), then, per activity, locks the activity, stores the answers and writes the
actuals. A change to an actual, or a binding turning stale or fresh again, is a change of
the activity like any other: a new version, an entry in the change feed and the history
(client ``inventory-feed``), so donors that sync see it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from services.cooperation.activities.models import Activity, Indicator, Result
from services.cooperation.activities.service import load_activity_by_id
from services.cooperation.activities.sync import Actor, Pending, audience, record
from services.cooperation.bindings.client import (
    InventoryClient,
    InventoryUnavailable,
    MetricReading,
)
from services.cooperation.bindings.models import BindingValue, IndicatorBinding
from services.cooperation.settings import CooperationSettings
from shared.db import Database, utcnow

log = logging.getLogger(__name__)
FEED_ACTOR = Actor("inventory-feed", None)
RETRY_FIRST_S = 5.0
NOT_CONFIGURED = "the inventory is not configured (COOPERATION_INVENTORY_API_URL)"


def period_year(end: Any) -> int:
    """The year a period's actual is read for: the year of its end."""
    return int(end.year)


def value_text(value: float) -> str:
    """A metric value as an actual (plain decimal text: ``5``, ``12.55``)."""
    text = format(Decimal(repr(value)).normalize(), "f")
    return text


def bound_indicator(activity: Activity, binding: IndicatorBinding) -> Indicator | None:
    """The indicator at the binding's position, if the activity still has one there."""
    results = activity.results
    if binding.result_index >= len(results):
        return None
    indicators = results[binding.result_index].indicators
    if binding.indicator_index >= len(indicators):
        return None
    return indicators[binding.indicator_index]


@dataclass(frozen=True)
class Job:
    """What to ask the inventory for one binding."""

    binding_id: int
    activity_id: int
    metric: str
    schedule: str
    department: str | None
    sector: str | None
    years: tuple[int, ...]


Outcome = dict[int, MetricReading] | str  # the readings by year, or why they failed


async def _jobs(session: AsyncSession, binding_ids: Sequence[int] | None) -> list[Job]:
    stmt = select(IndicatorBinding).order_by(IndicatorBinding.id)
    if binding_ids is not None:
        stmt = stmt.where(IndicatorBinding.id.in_(binding_ids))
    bindings = list(await session.scalars(stmt))
    if not bindings:
        return []
    activity_ids = {b.activity_id for b in bindings}
    results = await session.scalars(
        select(Result)
        .where(Result.activity_id.in_(activity_ids))
        .options(selectinload(Result.indicators).selectinload(Indicator.periods))
        .order_by(Result.id)
    )
    by_activity: dict[int, list[Result]] = defaultdict(list)
    for result in results:
        by_activity[result.activity_id].append(result)
    jobs = []
    for b in bindings:
        found = by_activity.get(b.activity_id, [])
        years: tuple[int, ...] = ()
        if b.result_index < len(found) and b.indicator_index < len(
            found[b.result_index].indicators
        ):
            indicator = found[b.result_index].indicators[b.indicator_index]
            years = tuple(sorted({period_year(p.end) for p in indicator.periods}))
        jobs.append(Job(b.id, b.activity_id, b.metric, b.schedule, b.department, b.sector, years))
    return jobs


async def _read(client: InventoryClient | None, job: Job) -> Outcome:
    if client is None:
        return NOT_CONFIGURED
    readings: dict[int, MetricReading] = {}
    try:
        for year in job.years:
            readings[year] = await client.metric(
                job.metric,
                year=year,
                schedule=job.schedule,
                department=job.department,
                sector=job.sector,
            )
    except InventoryUnavailable as error:
        return str(error)
    return readings


def _store(binding: IndicatorBinding, readings: dict[int, MetricReading], now: datetime) -> None:
    by_year = {v.year: v for v in binding.values}
    for year, reading in readings.items():
        row = by_year.get(year)
        if row is None:
            row = BindingValue(year=year)
            binding.values.append(row)
        row.status = reading.status
        row.value = None if reading.value is None else value_text(reading.value)
        row.unit = reading.unit
        row.submissions = list(reading.submissions)
        row.computed_at = datetime.fromisoformat(reading.computed_at)
        row.read_at = now


def _actuals(activity: Activity, binding: IndicatorBinding, changes: dict[str, Any]) -> None:
    """Write the values read onto the bound indicator's periods."""
    indicator = bound_indicator(activity, binding)
    if indicator is None:
        return
    by_year = {v.year: v for v in binding.values}
    for period in indicator.periods:
        value = by_year.get(period_year(period.end))
        if value is None:
            continue  # never read: the actual stays as it was
        actual = value.value if value.status == "ok" else None
        if period.actual != actual:
            changes[f"indicator_period:{period.id}:actual"] = {
                "before": period.actual,
                "after": actual,
            }
            period.actual = actual


async def _apply(
    session: AsyncSession,
    activity_id: int,
    outcomes: dict[int, tuple[Job, Outcome]],
    now: datetime,
) -> bool:
    """Store the outcomes of one activity's bindings and write its actuals (locked). A
    binding changed since it was read (another metric or scope) keeps its new state."""
    activity = await load_activity_by_id(session, activity_id, for_update=True)
    if activity is None:
        return False
    bindings = await session.scalars(
        select(IndicatorBinding)
        .where(IndicatorBinding.id.in_(outcomes))
        .options(selectinload(IndicatorBinding.values))
    )
    changes: dict[str, Any] = {}
    for binding in bindings:
        job, outcome = outcomes[binding.id]
        asked = (job.metric, job.schedule, job.department, job.sector)
        if asked != (binding.metric, binding.schedule, binding.department, binding.sector):
            continue
        where = f"binding:{binding.result_index}.{binding.indicator_index}"
        if isinstance(outcome, str):
            if not binding.stale:
                changes[f"{where}:stale"] = {"before": False, "after": True}
            binding.stale, binding.failed_at, binding.error = True, now, outcome
        else:
            if binding.stale:
                changes[f"{where}:stale"] = {"before": True, "after": False}
            binding.stale, binding.failed_at, binding.error = False, None, None
            binding.refreshed_at = now
            _store(binding, outcome, now)
        await session.flush()
        _actuals(activity, binding, changes)
    if changes:
        await record(
            session, FEED_ACTOR, [Pending(activity, "inventory", changes, audience(activity))]
        )
    return bool(changes)


@dataclass(frozen=True)
class Summary:
    bindings: int
    failed: int
    changed_activities: int


class InventoryFeed:
    """Keeps bound indicators up to date: on demand, on a timer (``inventory_refresh_s``,
    the first run right after start-up, in the background) and on inventory events.

    ``transport`` replaces the network for the calls to the gateway (tests: an ASGI
    transport into the gateway app); it may be set until the first refresh.
    """

    def __init__(self, settings: CooperationSettings) -> None:
        self.settings = settings
        self.transport: httpx.AsyncBaseTransport | None = None
        self._client: InventoryClient | None = None
        self._lock = asyncio.Lock()
        self._task: asyncio.Task[None] | None = None
        self._subscriber: asyncio.Task[None] | None = None
        self.subscription_id: int | None = None

    @property
    def configured(self) -> bool:
        s = self.settings
        return bool(s.inventory_api_url and s.inventory_client_id and s.inventory_client_secret)

    def client(self) -> InventoryClient | None:
        s = self.settings
        if self._client is None and self.configured:
            assert s.inventory_api_url is not None
            assert s.inventory_client_id is not None
            assert s.inventory_client_secret is not None
            self._client = InventoryClient(
                s.inventory_api_url,
                s.inventory_client_id,
                s.inventory_client_secret,
                timeout_s=s.inventory_timeout_s,
                transport=self.transport,
            )
        return self._client

    async def refresh(self, db: Database, binding_ids: Iterable[int] | None = None) -> Summary:
        """Read the inventory for the bindings given (every one by default) and write what
        it answered; one refresh at a time per process."""
        ids = None if binding_ids is None else list(binding_ids)
        async with self._lock:
            async with db.read_sessions() as session:
                jobs = await _jobs(session, ids)
            client = self.client()
            outcomes: dict[int, dict[int, tuple[Job, Outcome]]] = defaultdict(dict)
            for job in jobs:
                outcomes[job.activity_id][job.binding_id] = (job, await _read(client, job))
            now = utcnow()
            changed = 0
            for activity_id, by_binding in outcomes.items():
                async with db.sessions() as session:
                    changed += await _apply(session, activity_id, by_binding, now)
                    await session.commit()
            failed = sum(
                isinstance(o, str) for group in outcomes.values() for _, o in group.values()
            )
            if failed:
                log.warning("inventory feed: %d of %d bindings not refreshed", failed, len(jobs))
            return Summary(len(jobs), failed, changed)

    async def _every(self, db: Database, seconds: float) -> None:
        """Refresh every ``seconds``; after a round with failures (the gateway not up yet,
        say) try again sooner: 5 s, then twice as long each time, up to ``seconds``."""
        retry = RETRY_FIRST_S
        while True:
            failed = True
            try:
                failed = (await self.refresh(db)).failed > 0
            except Exception:  # the next round tries again; the service keeps serving
                log.exception("inventory feed: refresh failed")
            await asyncio.sleep(min(retry, seconds) if failed else seconds)
            retry = retry * 2 if failed else RETRY_FIRST_S

    async def _subscribe(self) -> None:
        """Subscribe to the inventory's validations (in the background: the gateway may not
        be up yet), trying again sooner, then later, until it is done."""
        s = self.settings
        client = self.client()
        assert client is not None
        assert s.inventory_events_url
        assert s.inventory_webhook_secret
        retry = RETRY_FIRST_S
        while True:
            try:
                found = await client.subscribe(s.inventory_events_url, s.inventory_webhook_secret)
            except InventoryUnavailable as exc:
                log.warning("inventory feed: not subscribed yet: %s", exc)
            else:
                self.subscription_id = found
                log.info("inventory feed: subscribed", extra={"subscription_id": found})
                return
            await asyncio.sleep(retry)
            retry = min(retry * 2, 300.0)

    def start(self, db: Database) -> None:
        """Refresh now (in the background) and then every ``inventory_refresh_s`` (0
        disables both); subscribe to the inventory's validations when configured."""
        seconds = self.settings.inventory_refresh_s
        if seconds > 0 and self.configured:
            self._task = asyncio.create_task(self._every(db, seconds), name="inventory-feed")
        s = self.settings
        if self.configured and s.inventory_events_url and s.inventory_webhook_secret:
            self._subscriber = asyncio.create_task(self._subscribe(), name="inventory-subscribe")

    async def aclose(self) -> None:
        for task in (self._task, self._subscriber):
            if task is not None:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
        if self._client is not None:
            await self._client.aclose()
