"""Subscriptions and their deliveries: plain functions, session first."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.engine import Row
from sqlalchemy.ext.asyncio import AsyncSession

from shared.db import utcnow
from shared.pagination import decode_cursor, encode_cursor
from shared.problems import Problem
from shared.security import Principal
from shared.webhooks.guard import RefusedUrl, check_url
from shared.webhooks.rules import unknown_event_types
from shared.webhooks.schemas import AttemptOut, DeliveryOut, SubscriptionOut
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.signing import new_secret
from shared.webhooks.tables import PENDING, WebhookTables


def field_error(field: str, message: str, *, index: int | None = None) -> Problem:
    """A 422 naming the body field (and the list index) that is wrong."""
    loc: list[str | int] = ["body", field] + ([index] if index is not None else [])
    return Problem(
        422,
        "validation-error",
        message,
        errors=[{"loc": loc, "msg": message, "type": "value_error"}],
    )


async def checked_url(url: str, settings: WebhookSettings) -> str:
    """``url`` if the SSRF guard lets it be called, else a 422 naming ``url``."""
    try:
        await check_url(
            url,
            allow_http=settings.webhook_allow_http,
            allowed_hosts=settings.webhook_allow_list,
        )
    except RefusedUrl as exc:
        raise field_error("url", str(exc)) from None
    return url


def checked_types(wanted: list[str], known: Mapping[str, str]) -> str:
    """The event types as stored (space-separated, in order, once each); a 422 naming
    ``event_types`` for one this service does not send."""
    for index, name in enumerate(wanted):
        if unknown_event_types([name], known):
            allowed = ", ".join(known)
            raise field_error(
                "event_types",
                f"Unknown event type {name!r} (this service sends: {allowed}).",
                index=index,
            )
    return " ".join(dict.fromkeys(wanted))


async def checked_changes(
    changes: dict[str, Any], known: Mapping[str, str], settings: WebhookSettings
) -> dict[str, Any]:
    """A PATCH body's changes as stored, each checked as at creation (422 naming the field)."""
    for name in ("url", "event_types", "active"):
        if name in changes and changes[name] is None:
            raise field_error(name, f"{name} cannot be null.")
    if "event_types" in changes:
        changes["event_types"] = checked_types(changes["event_types"], known)
    if "url" in changes:
        await checked_url(changes["url"], settings)
    return changes


def subscription_out(row: Row[Any]) -> SubscriptionOut:
    """The API view of a subscription (never its secret)."""
    return SubscriptionOut(
        id=row.id,
        url=row.url,
        event_types=row.event_types.split(),
        description=row.description,
        active=row.active,
        organisation=row.org_code,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def create_subscription(
    session: AsyncSession,
    tables: WebhookTables,
    principal: Principal,
    *,
    url: str,
    event_types: str,
    description: str | None,
    max_subscriptions: int,
    secret: str | None = None,
) -> tuple[Row[Any], str]:
    """A new subscription of the caller's client, and its secret (``secret`` when the caller
    brings one, else a new one; shown this once)."""
    sub = tables.subscriptions
    count = await session.scalar(select(func.count()).where(sub.c.client_id == principal.client_id))
    if (count or 0) >= max_subscriptions:
        raise Problem(
            409, "too-many-subscriptions", f"A client may have {max_subscriptions} subscriptions."
        )
    secret, now = secret or new_secret(), utcnow()
    new_id = await session.scalar(
        insert(sub)
        .values(
            client_id=principal.client_id,
            org_code=principal.org or "",
            scopes=" ".join(sorted(principal.scopes)),
            url=url,
            description=description,
            event_types=event_types,
            secret=secret,
            active=True,
            created_at=now,
            updated_at=now,
            version=1,
        )
        .returning(sub.c.id)
    )
    row = (await session.execute(select(sub).where(sub.c.id == new_id))).one()
    return row, secret


async def own_subscription(
    session: AsyncSession, tables: WebhookTables, principal: Principal, subscription_id: int
) -> Row[Any]:
    """The caller's client's subscription, else a 404 (another's is not said to exist)."""
    sub = tables.subscriptions
    row = (
        await session.execute(
            select(sub).where(sub.c.id == subscription_id, sub.c.client_id == principal.client_id)
        )
    ).one_or_none()
    if row is None:
        raise Problem(404, "not-found", f"No subscription {subscription_id}.")
    return row


async def list_subscriptions(
    session: AsyncSession,
    tables: WebhookTables,
    principal: Principal,
    *,
    limit: int,
    cursor: str | None,
) -> tuple[list[Row[Any]], str | None]:
    """A page of the caller's client's subscriptions, in id order."""
    sub = tables.subscriptions
    stmt = select(sub).where(sub.c.client_id == principal.client_id)
    return await _id_page(session, stmt, sub.c.id, limit=limit, cursor=cursor)


async def _id_page(
    session: AsyncSession, stmt: Any, id_column: Any, *, limit: int, cursor: str | None
) -> tuple[list[Row[Any]], str | None]:
    if cursor is not None:
        (after,) = decode_cursor(cursor, 1)
        if not isinstance(after, int) or isinstance(after, bool) or not 0 <= after < 2**31:
            raise Problem(400, "invalid-cursor", "The cursor is not one this API issued.")
        stmt = stmt.where(id_column > after)
    rows = list((await session.execute(stmt.order_by(id_column).limit(limit + 1))).all())
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor([rows[-1].id]) if more else None


async def update_subscription(
    session: AsyncSession, tables: WebhookTables, row: Row[Any], changes: dict[str, Any]
) -> Row[Any]:
    """Apply ``changes`` (already checked) and move the version on."""
    sub = tables.subscriptions
    if changes:
        changed = await session.execute(
            update(sub)
            .where(sub.c.id == row.id, sub.c.version == row.version)
            .values(**changes, updated_at=utcnow(), version=row.version + 1)
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            raise Problem(
                412, "precondition-failed", "The subscription changed meanwhile; read it again."
            )
    return (await session.execute(select(sub).where(sub.c.id == row.id))).one()


async def list_deliveries(
    session: AsyncSession,
    tables: WebhookTables,
    subscription_id: int,
    *,
    status: str | None,
    limit: int,
    cursor: str | None,
) -> tuple[list[DeliveryOut], str | None]:
    """A page of a subscription's deliveries, oldest first, each with its attempts."""
    d, ev, at = tables.deliveries, tables.events, tables.attempts
    stmt = (
        select(d, ev.c.message_id, ev.c.event_type)
        .join(ev, ev.c.id == d.c.event_id)
        .where(d.c.subscription_id == subscription_id)
    )
    if status is not None:
        stmt = stmt.where(d.c.status == status)
    rows, next_cursor = await _id_page(session, stmt, d.c.id, limit=limit, cursor=cursor)
    log: dict[int, list[AttemptOut]] = defaultdict(list)
    if rows:
        attempts = await session.execute(
            select(at).where(at.c.delivery_id.in_([r.id for r in rows])).order_by(at.c.id)
        )
        for a in attempts:
            log[a.delivery_id].append(
                AttemptOut(
                    at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms
                )
            )
    return [delivery_out(r, log[r.id]) for r in rows], next_cursor


def delivery_out(row: Row[Any], attempts: list[AttemptOut]) -> DeliveryOut:
    """The API view of a delivery."""
    return DeliveryOut(
        id=row.id,
        message_id=row.message_id,
        event_type=row.event_type,
        subject=row.subject,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at if row.status == PENDING else None,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        created_at=row.created_at,
        attempt_log=attempts,
    )


async def replay(
    session: AsyncSession, tables: WebhookTables, subscription_id: int, delivery_id: int
) -> DeliveryOut:
    """Send a delivery again (failed or delivered): pending, due now, attempts from zero
    (the earlier attempts stay in its log)."""
    d = tables.deliveries
    done = await session.execute(
        update(d)
        .where(d.c.id == delivery_id, d.c.subscription_id == subscription_id)
        .values(status=PENDING, attempts=0, next_attempt_at=utcnow(), delivered_at=None)
    )
    if done.rowcount != 1:  # type: ignore[attr-defined]
        raise Problem(404, "not-found", f"No delivery {delivery_id} of this subscription.")
    ev = tables.events
    row = (
        await session.execute(
            select(d, ev.c.message_id, ev.c.event_type)
            .join(ev, ev.c.id == d.c.event_id)
            .where(d.c.id == delivery_id)
        )
    ).one()
    at = tables.attempts
    attempts = await session.execute(
        select(at).where(at.c.delivery_id == delivery_id).order_by(at.c.id)
    )
    log = [
        AttemptOut(at=a.at, status_code=a.status_code, error=a.error, duration_ms=a.duration_ms)
        for a in attempts
    ]
    return delivery_out(row, log)
