"""Routes of the activity matrix for authenticated callers: read what you may see, write
what you lead or take part in. Thin: the rules are in ``service`` and ``queries``."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm.exc import StaleDataError

from services.cooperation.activities import service
from services.cooperation.activities.exports import (
    CSV_DESCRIPTION,
    FormatQuery,
    audience_key,
    csv_response,
)
from services.cooperation.activities.models import Activity, IdempotencyKey
from services.cooperation.activities.queries import (
    FiltersDep,
    IdentifierPath,
    activity_page,
    change_page,
    history_page,
    visibility,
    visible_activity,
)
from services.cooperation.activities.schemas import (
    ActivityCreate,
    ActivityFields,
    ActivityOut,
    ActivityPage,
    ActualIn,
    ChangePage,
    HistoryPage,
    ProgressUpdateIn,
    SpendingIn,
)
from services.cooperation.activities.state import activity_out, load_refs, participant_codes
from services.cooperation.activities.state_rows import api_out
from services.cooperation.activities.sync import Actor, can_see
from shared.conditional import combined_etag, etag, not_modified, require_if_match
from shared.db import SessionDep
from shared.exports import wants_csv
from shared.idempotency import body_digest, idempotency_key, remember, replay
from shared.pagination import CursorQuery, LimitQuery, next_link
from shared.problems import Problem
from shared.security import Principal, require_scopes

Reader = Annotated[Principal, require_scopes("cooperation:read")]
Writer = Annotated[Principal, require_scopes("cooperation:write")]
PROBLEM: dict[str, Any] = {"content": {"application/problem+json": {}}}
READ_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "Invalid cursor or parameter", **PROBLEM},
    401: {"description": "No or invalid token", **PROBLEM},
    403: {"description": "Missing scope", **PROBLEM},
    422: {"description": "Invalid query parameter", **PROBLEM},
}
ONE_ERRORS = READ_ERRORS | {404: {"description": "No such activity you may see", **PROBLEM}}
WRITE_ERRORS = ONE_ERRORS | {
    403: {"description": "Missing scope, or not the lead / a participant", **PROBLEM},
    409: {"description": "Identifier already used", **PROBLEM},
    412: {"description": "If-Match does not name the current version", **PROBLEM},
    422: {"description": "Invalid body or a rule broken (see errors)", **PROBLEM},
    428: {"description": "If-Match missing", **PROBLEM},
}
CSV_RESPONSE: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "A page (JSON) or every row (CSV)"}
}
IF_MATCH = "Send If-Match with the activity's current ETag (428 without it, 412 when stale)."

router = APIRouter(prefix="/v1", tags=["activities"])


def activity_etag(activity: Activity) -> str:
    return etag("activity", activity.id, activity.version)


def answer(activity: Activity, response: Response) -> ActivityOut:
    response.headers["ETag"] = activity_etag(activity)
    return activity_out(activity)


@router.get(
    "/activities",
    summary="List activities (donor pull)",
    description="Activities you may see, oldest change first: ordered by (updated_at, id), "
    "filterable, cursor-paginated. Keep `resume_cursor` between syncs and pass it as `cursor`: "
    "everything created or changed since is returned, nothing is missed, even while records "
    "change. Deletions and withdrawals come through `/v1/changes`. Answers 304 to a matching "
    "If-None-Match." + CSV_DESCRIPTION,
    response_model=ActivityPage,
    responses=READ_ERRORS | CSV_RESPONSE | {304: {"description": "Not modified"}},
)
async def list_activities(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    filters: FiltersDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
) -> ActivityPage | Response:
    """A page of the activities the caller may see (or all of them as CSV)."""
    seen = await visibility(session, principal, public_only=False)
    if wants_csv(request.headers.get("accept"), fmt):
        return await csv_response(request, session, seen, filters, audience_key(principal, False))
    return await page_response(request, response, session, seen, filters, limit, cursor)


async def page_response(
    request: Request,
    response: Response,
    session: AsyncSession,
    seen: Any,
    filters: Any,
    limit: int,
    cursor: str | None,
) -> ActivityPage | Response:
    """A page with its ETag and Link header (shared with the public view)."""
    items, next_cursor, resume = await activity_page(
        session, seen, filters, cursor=cursor, limit=limit
    )
    tag = combined_etag([*((a.id, a.version) for a in items), next_cursor, resume])
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    response.headers["ETag"] = tag
    response.headers.update(next_link(request.url, next_cursor))
    return ActivityPage(
        items=[api_out(a) for a in items], next_cursor=next_cursor, resume_cursor=resume
    )


@router.get(
    "/activities/{identifier}",
    summary="Get an activity",
    description="One activity with every part (results, indicators, budgets, transactions, "
    "progress updates ...). 404 when it does not exist or you may not see it. ETag; 304 to "
    "a matching If-None-Match.",
    response_model=ActivityOut,
    responses=ONE_ERRORS | {304: {"description": "Not modified"}},
)
async def get_activity(
    identifier: IdentifierPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
) -> ActivityOut | Response:
    """One activity the caller may see."""
    seen = await visibility(session, principal, public_only=False)
    activity = await visible_activity(session, identifier, seen)
    if activity is None:
        raise Problem(404, "not-found", "No activity with that identifier that you may see.")
    tag = activity_etag(activity)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    return answer(activity, response)


@asynccontextmanager
async def concurrent_write() -> AsyncIterator[None]:
    """A version check lost to a concurrent writer (SQLite has no row locks) is a 412."""
    try:
        yield
    except StaleDataError:
        raise Problem(
            412, "precondition-failed", "The activity changed meanwhile; read it and retry."
        ) from None


async def editable(
    session: AsyncSession, request: Request, identifier: str, principal: Principal
) -> Activity:
    """The activity locked for writing, after the read rule (404) and If-Match (428/412)."""
    activity = await service.load_activity(session, identifier, for_update=True)
    if activity is None or not can_see(activity, principal):
        raise Problem(404, "not-found", "No activity with that identifier that you may see.")
    require_if_match(request, activity_etag(activity))
    return activity


def require_lead(activity: Activity, principal: Principal) -> None:
    if activity.lead_org.code != principal.org:
        raise Problem(
            403, "not-the-lead", "Only the lead organisation edits, publishes or deletes it."
        )


@router.post(
    "/activities",
    status_code=201,
    summary="Create an activity",
    description="A new, unpublished activity reported and led by your organisation; only its "
    "participants see it until it is published. The identifier must start with your "
    "organisation's IATI ref and '-'. Idempotency-Key: a retry with the same key and body "
    "gets the first answer.",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def create_activity(
    body: ActivityCreate,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut | JSONResponse:
    """Create an activity led by the caller's organisation."""
    key = idempotency_key(request)
    digest = body_digest(await request.body())
    if key is not None:
        ids = {"client_id": principal.client_id, "key": key, "request_sha256": digest}
        replayed = await replay(session, IdempotencyKey, **ids)
        if replayed is not None:
            return replayed
    refs = await load_refs(session)
    activity = await service.create_activity(session, Actor.of(principal), body, refs)
    out = answer(activity, response)
    response.headers["Location"] = f"/v1/activities/{activity.identifier}"
    if key is not None:
        body_json = out.model_dump(mode="json")
        await remember(session, IdempotencyKey, **ids, status=201, body=body_json)
    await session.commit()
    return out


@router.patch(
    "/activities/{identifier}",
    summary="Edit an activity (lead organisation)",
    description="Fields sent replace the stored ones (lists as a whole); fields not sent stay. "
    "Read-only fields (reporting and lead organisation, timestamps, history, the identifier "
    f"once published) are rejected with 422. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def patch_activity(
    identifier: IdentifierPath,
    body: ActivityFields,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut:
    """Edit an activity the caller's organisation leads."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        require_lead(activity, principal)
        refs = await load_refs(session)
        await service.update_activity(session, Actor.of(principal), activity, body, refs)
        await session.commit()
    return answer(activity, response)


@router.post(
    "/activities/{identifier}/publish",
    summary="Publish an activity (lead organisation)",
    description=f"From now on its identifier is fixed and its visibility applies. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def publish_activity(
    identifier: IdentifierPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut:
    """Publish an activity the caller's organisation leads."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        require_lead(activity, principal)
        await service.publish_activity(session, Actor.of(principal), activity)
        await session.commit()
    return answer(activity, response)


@router.delete(
    "/activities/{identifier}",
    status_code=204,
    summary="Delete an activity (lead organisation)",
    description=f"Readers of the change feed get a tombstone. {IF_MATCH}",
    responses=WRITE_ERRORS,
)
async def delete_activity(
    identifier: IdentifierPath, request: Request, session: SessionDep, principal: Writer
) -> Response:
    """Delete an activity the caller's organisation leads."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        require_lead(activity, principal)
        await service.delete_activity(session, Actor.of(principal), activity)
        await session.commit()
    return Response(status_code=204)


@router.post(
    "/activities/{identifier}/progress-updates",
    status_code=201,
    summary="Add a progress update (participating organisation)",
    description=f"A dated narrative; your organisation is its author. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def add_progress_update(
    identifier: IdentifierPath,
    body: ProgressUpdateIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut:
    """Report progress on an activity the caller's organisation takes part in."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        refs = await load_refs(session)
        await service.add_progress_update(session, Actor.of(principal), activity, body, refs)
        await session.commit()
    return answer(activity, response)


@router.put(
    "/activities/{identifier}/indicator-periods/{period_id}/actual",
    summary="Report an indicator's actual (participating organisation)",
    description="The value reached in one indicator period (its id is in the activity's "
    f"results). {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def set_actual(
    identifier: IdentifierPath,
    period_id: Annotated[int, Path(ge=1, le=2**62)],
    body: ActualIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut:
    """Report the actual of an indicator period."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        refs = await load_refs(session)
        await service.set_actual(session, Actor.of(principal), activity, period_id, body, refs)
        await session.commit()
    return answer(activity, response)


@router.post(
    "/activities/{identifier}/transactions",
    status_code=201,
    summary="Report money spent (participating organisation)",
    description="A disbursement (type 3) or expenditure (type 4), dated today or earlier. "
    f"{IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def add_spending(
    identifier: IdentifierPath,
    body: SpendingIn,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> ActivityOut:
    """Report actual spending on an activity the caller's organisation takes part in."""
    async with concurrent_write():
        activity = await editable(session, request, identifier, principal)
        refs = await load_refs(session)
        await service.add_spending(session, Actor.of(principal), activity, body, refs)
        await session.commit()
    return answer(activity, response)


@router.get(
    "/activities/{identifier}/history",
    summary="History of an activity (participating organisations)",
    description="Every change, oldest first: when, which client and organisation, what "
    "(before/after per field).",
    response_model=HistoryPage,
    responses=ONE_ERRORS,
)
async def get_history(
    identifier: IdentifierPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
) -> HistoryPage:
    """The change history of an activity the caller's organisation takes part in."""
    seen = await visibility(session, principal, public_only=False)
    activity = await visible_activity(session, identifier, seen)
    if activity is None:
        raise Problem(404, "not-found", "No activity with that identifier that you may see.")
    if principal.org not in participant_codes(activity):
        raise Problem(403, "not-a-participant", "The history is shown to participants only.")
    page = await history_page(session, activity.id, cursor=cursor, limit=limit)
    response.headers.update(next_link(request.url, page.next_cursor))
    return page


@router.get(
    "/changes",
    summary="Change feed",
    description="What changed, in commit order: `upsert` (created or changed: fetch it), "
    "`delete`, and `withdrawn` (you may no longer see it). Pass `next_after` as `after` next "
    "time; entries are never skipped, even under concurrent writes.",
    response_model=ChangePage,
    responses=READ_ERRORS | {304: {"description": "Not modified"}},
)
async def list_changes(
    request: Request,
    session: SessionDep,
    principal: Reader,
    after: Annotated[int, Query(ge=0, le=2**62, description="Last seq you have.")] = 0,
    limit: LimitQuery = 100,
) -> ChangePage | Response:
    """The caller's change feed."""
    return await changes_response(request, session, principal, after, limit)


async def changes_response(
    request: Request, session: AsyncSession, principal: Principal | None, after: int, limit: int
) -> ChangePage | Response:
    page = await change_page(session, principal, after=after, limit=limit)
    tag = combined_etag([after, limit, page.next_after, *(c.seq for c in page.items)])
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    headers = {"ETag": tag}
    if page.items:
        link = request.url.include_query_params(after=page.next_after)
        headers["Link"] = f'<{link}>; rel="next"'
    return JSONResponse(page.model_dump(mode="json"), headers=headers)
