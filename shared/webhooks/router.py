"""The subscription routes of a service: ``/v1/subscriptions`` and the delivery log.

No ``from __future__ import annotations`` here: the routes' ``Caller`` annotation is local
to ``subscriptions_router`` (its read scope is the service's), and FastAPI must see it.
"""

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Request, Response

from shared.conditional import etag, require_if_match
from shared.db import SessionDep
from shared.pagination import CursorQuery, LimitQuery, Page, next_link
from shared.security import Principal, require_scopes
from shared.webhooks import service
from shared.webhooks.schemas import (
    DeliveryOut,
    SubscriptionCreated,
    SubscriptionIn,
    SubscriptionOut,
    SubscriptionPatch,
)
from shared.webhooks.settings import WebhookSettings
from shared.webhooks.tables import WebhookTables

SCOPE = "subscriptions"
TAG = "subscriptions"
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid cursor or parameter", **PROBLEM},
    403: {"description": "Missing scope (`subscriptions` and the service's read scope)", **PROBLEM},
}
ONE = ERRORS | {404: {"description": "No such subscription of your client", **PROBLEM}}
WRITE = ONE | {
    412: {"description": "If-Match does not name the current version", **PROBLEM},
    422: {"description": "Invalid body: unknown event type, URL refused (see errors)", **PROBLEM},
    428: {"description": "If-Match missing", **PROBLEM},
}
CREATE = ERRORS | {
    409: {"description": "Too many subscriptions", **PROBLEM},
    422: WRITE[422],
}
IdPath = Annotated[int, Path(ge=1, lt=2**31)]
IF_MATCH = "Send `If-Match` with the subscription's ETag."


def settings_of(request: Request) -> WebhookSettings:
    """The running service's settings (its delivery settings among them)."""
    settings: WebhookSettings = request.app.state.settings
    return settings


def tag_of(row: Any) -> str:
    """The ETag of a subscription row."""
    return etag("subscription", row.id, row.version)


def subscriptions_router(
    tables: WebhookTables, *, read_scope: str, event_types: Mapping[str, str]
) -> APIRouter:
    """The routes, for a service whose events need ``read_scope`` to be seen and which
    sends ``event_types`` (name -> description)."""
    router = APIRouter(prefix="/v1/subscriptions", tags=[TAG])
    Caller = Annotated[Principal, require_scopes(SCOPE, read_scope)]
    types_doc = "; ".join(f"`{k}`: {v}" for k, v in event_types.items())

    @router.post(
        "",
        status_code=201,
        summary="Subscribe to events",
        description="Register a URL and the event types it receives. The answer holds the "
        "signing secret, shown this once. The URL must be HTTPS and must not resolve to a "
        f"private, loopback or link-local address. Event types: {types_doc}. Not idempotent "
        "(an `Idempotency-Key` replay would hand the secret out again): after a lost answer, "
        "list your subscriptions and delete a duplicate.",
        responses=CREATE,
    )
    async def create_subscription(
        body: SubscriptionIn,
        request: Request,
        response: Response,
        session: SessionDep,
        principal: Caller,
    ) -> SubscriptionCreated:
        """Create a subscription of the caller's client."""
        settings = settings_of(request)
        stored_types = service.checked_types(body.event_types, event_types)
        await service.checked_url(body.url, settings)
        row, secret = await service.create_subscription(
            session,
            tables,
            principal,
            url=body.url,
            event_types=stored_types,
            description=body.description,
            max_subscriptions=settings.webhook_max_subscriptions,
            secret=body.secret,
        )
        response.headers["ETag"] = tag_of(row)
        location = request.url_for("get_subscription", subscription_id=row.id)
        response.headers["Location"] = str(location)
        out = service.subscription_out(row)
        return SubscriptionCreated(**out.model_dump(), secret=secret)

    @router.get("", summary="List your subscriptions", responses=ERRORS)
    async def list_subscriptions(
        request: Request,
        response: Response,
        session: SessionDep,
        principal: Caller,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[SubscriptionOut]:
        """The caller's client's subscriptions, in id order."""
        rows, next_cursor = await service.list_subscriptions(
            session, tables, principal, limit=limit, cursor=cursor
        )
        response.headers.update(next_link(request.url, next_cursor))
        return Page(items=[service.subscription_out(r) for r in rows], next_cursor=next_cursor)

    @router.get("/{subscription_id}", summary="Get a subscription", responses=ONE)
    async def get_subscription(
        subscription_id: IdPath, response: Response, session: SessionDep, principal: Caller
    ) -> SubscriptionOut:
        """One subscription of the caller's client (without its secret)."""
        row = await service.own_subscription(session, tables, principal, subscription_id)
        response.headers["ETag"] = tag_of(row)
        return service.subscription_out(row)

    @router.patch(
        "/{subscription_id}",
        summary="Change a subscription",
        description=f"Fields sent replace the stored ones; `active: false` pauses it. {IF_MATCH}",
        responses=WRITE,
    )
    async def patch_subscription(
        subscription_id: IdPath,
        body: SubscriptionPatch,
        request: Request,
        response: Response,
        session: SessionDep,
        principal: Caller,
    ) -> SubscriptionOut:
        """Change the URL, event types, description or active flag."""
        row = await service.own_subscription(session, tables, principal, subscription_id)
        require_if_match(request, tag_of(row))
        changes = await service.checked_changes(
            body.model_dump(exclude_unset=True), event_types, settings_of(request)
        )
        row = await service.update_subscription(session, tables, row, changes)
        response.headers["ETag"] = tag_of(row)
        return service.subscription_out(row)

    @router.delete(
        "/{subscription_id}",
        status_code=204,
        summary="Delete a subscription",
        description=f"Its pending deliveries and its delivery log go with it. {IF_MATCH}",
        responses=WRITE,
    )
    async def delete_subscription(
        subscription_id: IdPath, request: Request, session: SessionDep, principal: Caller
    ) -> Response:
        """Delete a subscription of the caller's client."""
        row = await service.own_subscription(session, tables, principal, subscription_id)
        require_if_match(request, tag_of(row))
        await session.execute(
            tables.subscriptions.delete().where(tables.subscriptions.c.id == row.id)
        )
        return Response(status_code=204)

    @router.get(
        "/{subscription_id}/deliveries",
        summary="The delivery log of a subscription",
        description="Every event sent or to be sent, oldest first: status, attempts (time, "
        "HTTP status, error), next retry. Filter with `status`.",
        responses=ONE,
    )
    async def list_deliveries(
        subscription_id: IdPath,
        request: Request,
        response: Response,
        session: SessionDep,
        principal: Caller,
        status: Annotated[
            Literal["pending", "delivered", "failed"] | None, Query(description="Only these.")
        ] = None,
        limit: LimitQuery = 50,
        cursor: CursorQuery = None,
    ) -> Page[DeliveryOut]:
        """A page of the subscription's deliveries."""
        await service.own_subscription(session, tables, principal, subscription_id)
        items, next_cursor = await service.list_deliveries(
            session, tables, subscription_id, status=status, limit=limit, cursor=cursor
        )
        response.headers.update(next_link(request.url, next_cursor))
        return Page(items=items, next_cursor=next_cursor)

    @router.post(
        "/{subscription_id}/deliveries/{delivery_id}/replay",
        status_code=202,
        summary="Send a delivery again",
        description="A failed (or delivered) delivery becomes pending and is sent again at "
        "once, with the same `webhook-id`; its earlier attempts stay in the log.",
        responses=ONE | {404: {"description": "No such subscription or delivery", **PROBLEM}},
    )
    async def replay_delivery(
        subscription_id: IdPath, delivery_id: IdPath, session: SessionDep, principal: Caller
    ) -> DeliveryOut:
        """Queue the delivery again."""
        await service.own_subscription(session, tables, principal, subscription_id)
        return await service.replay(session, tables, subscription_id, delivery_id)

    return router
