"""Routes of indicators fed by the inventory: bind an indicator to a metric (the lead
organisation), read the binding with each period's source, refresh on demand, and the
receiver of the inventory's signed events."""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from services.cooperation.activities import service as activities
from services.cooperation.activities.access import ONE_ERRORS, PROBLEM, WRITE_ERRORS, Reader, Writer
from services.cooperation.activities.editing import NOT_SEEN, Edit, activity_etag
from services.cooperation.activities.queries import IdentifierPath, visibility, visible_activity
from services.cooperation.activities.sync import can_see
from services.cooperation.bindings import service
from services.cooperation.bindings.feed import InventoryFeed
from services.cooperation.bindings.schemas import BindingIn, BindingOut, RefreshOut
from shared.db import SessionDep
from shared.problems import Problem

router = APIRouter(prefix="/v1", tags=["inventory indicators"])

BINDING = "/activities/{identifier}/results/{result}/indicators/{indicator}/binding"
ResultPath = Annotated[int, Path(ge=0, le=9999, description="The result's position (from 0).")]
IndicatorPath = Annotated[
    int, Path(ge=0, le=9999, description="The indicator's position in its result (from 0).")
]
RULE = (
    "Each period's actual is the metric's value for the year of the period's end, for the "
    "binding's scope and schedule, read from the inventory through the gateway; no_data "
    "leaves no actual (never a zero); when the inventory cannot be read the last values "
    "stay, marked stale."
)
EVENT_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing or invalid Standard Webhooks signature", **PROBLEM},
    422: {"description": "The body is not an event", **PROBLEM},
}


def feed_of(request: Request) -> InventoryFeed:
    feed: InventoryFeed = request.app.state.inventory_feed
    return feed


async def _answer(
    response: Response, session: Any, identifier: str, result: int, indicator: int
) -> BindingOut:
    """The binding as stored now (after a commit: read again, not from the identity map)."""
    session.expire_all()
    activity = await activities.load_activity(session, identifier)
    if activity is None:
        raise Problem(404, "not-found", NOT_SEEN)
    binding = await service.find_binding(session, activity.id, result, indicator)
    if binding is None:
        raise Problem(404, "not-found", service.NO_BINDING)
    response.headers["ETag"] = activity_etag(activity)
    return service.binding_out(activity, binding)


@router.get(
    BINDING,
    summary="The inventory metric an indicator is bound to",
    description="The metric, scope and schedule, and for each period of the indicator its "
    f"actual with its source (metric, year, when read, which submissions). {RULE} 404 when "
    "the indicator is not bound.",
    response_model=BindingOut,
    responses=ONE_ERRORS,
)
async def get_binding(
    identifier: IdentifierPath,
    result: ResultPath,
    indicator: IndicatorPath,
    session: SessionDep,
    principal: Reader,
) -> BindingOut:
    """A binding of an activity the caller may see."""
    seen = await visibility(session, principal, public_only=False)
    activity = await visible_activity(session, identifier, seen)
    if activity is None:
        raise Problem(404, "not-found", NOT_SEEN)
    binding = await service.find_binding(session, activity.id, result, indicator)
    if binding is None:
        raise Problem(404, "not-found", service.NO_BINDING)
    return service.binding_out(activity, binding)


@router.put(
    BINDING,
    summary="Bind an indicator to an inventory metric (lead organisation)",
    description="The indicator at that result and indicator position (from 0) takes its "
    f"period actuals from the inventory metric, and is read at once. {RULE} A metric of "
    "another id or scope drops the values read before. The binding stays with the "
    "position: an edit that removes the indicator leaves it detached (`attached` false, "
    "nothing written) until it is deleted. Send If-Match with the activity's ETag.",
    response_model=BindingOut,
    responses=WRITE_ERRORS,
)
async def put_binding(
    identifier: IdentifierPath,
    result: ResultPath,
    indicator: IndicatorPath,
    body: BindingIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> BindingOut:
    """Bind, then refresh the new binding."""
    edit = Edit(identifier, request, response, session, principal)
    activity = await edit.apply(service.put_binding, result, indicator, body, lead=True, refs=False)
    binding = await service.find_binding(session, activity.id, result, indicator)
    assert binding is not None
    await session.commit()
    await feed_of(request).refresh(request.app.state.db, [binding.id])
    return await _answer(response, session, identifier, result, indicator)


@router.delete(
    BINDING,
    status_code=204,
    summary="Unbind an indicator (lead organisation)",
    description="The indicator is no longer fed by the inventory; its periods keep the "
    "actuals last written. Send If-Match with the activity's ETag.",
    responses=WRITE_ERRORS,
)
async def delete_binding(
    identifier: IdentifierPath,
    result: ResultPath,
    indicator: IndicatorPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> Response:
    """Unbind."""
    edit = Edit(identifier, request, response, session, principal)
    activity = await edit.apply(service.delete_binding, result, indicator, lead=True, refs=False)
    return Response(status_code=204, headers={"ETag": activity_etag(activity)})


@router.post(
    f"{BINDING}/refresh",
    summary="Read a bound indicator from the inventory now",
    description=f"Asks the inventory again (any organisation taking part). {RULE} Answers "
    "200 with the binding even when the inventory cannot be read (then `stale`).",
    response_model=BindingOut,
    responses=WRITE_ERRORS,
)
async def refresh_binding(
    identifier: IdentifierPath,
    result: ResultPath,
    indicator: IndicatorPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> BindingOut:
    """Refresh one binding."""
    activity = await activities.load_activity(session, identifier)
    if activity is None or not can_see(activity, principal):
        raise Problem(404, "not-found", NOT_SEEN)
    binding = await service.find_binding(session, activity.id, result, indicator)
    if binding is None:
        raise Problem(404, "not-found", service.NO_BINDING)
    await session.commit()
    await feed_of(request).refresh(request.app.state.db, [binding.id])
    return await _answer(response, session, identifier, result, indicator)


@router.post(
    "/inventory-events",
    summary="Receive the inventory's events (Standard Webhooks)",
    description="The inventory's signed events (`webhook-id`, `webhook-timestamp`, "
    "`webhook-signature`, verified with COOPERATION_INVENTORY_WEBHOOK_SECRET). On "
    "`submission.validated` every bound indicator is refreshed before the answer; other "
    "events are acknowledged and ignored. No token: the signature is the authentication.",
    response_model=RefreshOut,
    responses=EVENT_ERRORS,
    openapi_extra={
        "requestBody": {
            "content": {
                "application/json": {
                    "schema": {"type": "object"},
                    "example": {
                        "type": "submission.validated",
                        "timestamp": "2026-12-02T00:40:00Z",
                        "data": {"submission": 7, "year": 2024, "section": "mercury"},
                    },
                }
            },
            "required": True,
        }
    },
)
async def inventory_event(request: Request) -> RefreshOut:
    """Verify the signature; refresh on a validated submission."""
    secret = request.app.state.settings.inventory_webhook_secret
    body = await request.body()
    if secret is None:
        raise Problem(401, "invalid-signature", "No webhook secret is configured here.")
    try:
        Webhook(secret.get_secret_value()).verify(body, dict(request.headers), json_parse=False)
    except (WebhookVerificationError, ValueError):
        raise Problem(401, "invalid-signature", "The webhook signature is not valid.") from None
    try:
        event = json.loads(body)
    except ValueError:
        event = None
    if not isinstance(event, dict) or not isinstance(event.get("type"), str):
        raise Problem(422, "validation-error", "The event has no type.")
    if event["type"] != "submission.validated":
        return RefreshOut(bindings=0, failed=0, changed_activities=0)
    done = await feed_of(request).refresh(request.app.state.db)
    return RefreshOut(
        bindings=done.bindings, failed=done.failed, changed_activities=done.changed_activities
    )
