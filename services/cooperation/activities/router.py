"""Routes of the activity matrix for authenticated callers: read what you may see, write
what you lead or take part in. Thin: the rules are in ``service`` and ``queries``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities import service
from services.cooperation.activities.access import (
    CSV_RESPONSE,
    NOT_MODIFIED,
    ONE_ERRORS,
    READ_ERRORS,
    WRITE_ERRORS,
    Reader,
    Writer,
)
from services.cooperation.activities.csv_export import CSV_DESCRIPTION, FormatQuery, csv_response
from services.cooperation.activities.models import Activity
from services.cooperation.activities.queries import (
    ActivityFilters,
    FiltersDep,
    IdentifierPath,
    activity_page,
    audience_key,
    change_page,
    history_page,
    visibility,
    visible_activity,
)
from services.cooperation.activities.replay import answer_once
from services.cooperation.activities.schemas import (
    ActivityCreate,
    ActivityFields,
    ActualIn,
    ProgressUpdateIn,
    SpendingIn,
)
from services.cooperation.activities.state import activity_out, load_refs, participant_codes
from services.cooperation.activities.state_rows import api_out
from services.cooperation.activities.sync import Actor, can_see
from services.cooperation.activities.views import (
    ActivityOut,
    ActivityPage,
    ChangePage,
    HistoryPage,
)
from shared.conditional import combined_etag, etag, read_answer, require_if_match, tagged
from shared.db import SessionDep
from shared.exports import wants_csv
from shared.pagination import CursorQuery, LimitQuery, next_link
from shared.problems import Problem
from shared.security import Principal

IF_MATCH = "Send If-Match with the activity's current ETag (428 without it, 412 when stale)."
AfterQuery = Annotated[int, Query(ge=0, le=2**62, description="Last seq you have.")]

router = APIRouter(prefix="/v1", tags=["activities"])


def activity_etag(activity: Activity) -> str:
    return etag("activity", activity.id, activity.version)


def answer(activity: Activity, response: Response) -> ActivityOut:
    return tagged(response, activity_out(activity), activity_etag(activity))


def read_activity(
    request: Request, response: Response, activity: Activity | None, missing: str
) -> ActivityOut | Response:
    """One activity with its ETag (a bare 304 when the caller holds it), or 404 ``missing``."""
    if activity is None:
        raise Problem(404, "not-found", missing)
    return read_answer(request, response, activity_out(activity), activity_etag(activity))


@router.get(
    "/activities",
    summary="List activities (donor pull)",
    description="Activities you may see, oldest change first: ordered by (updated_at, id), "
    "filterable, cursor-paginated. Keep `resume_cursor` between syncs and pass it as `cursor`: "
    "everything created or changed since is returned, nothing is missed, even while records "
    "change. Deletions and withdrawals come through `/v1/changes`. Answers 304 to a matching "
    "If-None-Match." + CSV_DESCRIPTION,
    response_model=ActivityPage,
    responses=READ_ERRORS | CSV_RESPONSE | NOT_MODIFIED,
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
    return await list_answer(
        request,
        response,
        session,
        seen,
        filters,
        audience_key(principal, False),
        limit,
        cursor,
        fmt,
    )


async def list_answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    seen: Any,
    filters: ActivityFilters,
    audience: str,
    limit: int,
    cursor: str | None,
    fmt: str | None,
) -> ActivityPage | Response:
    """A page with its ETag and Link header, or every row as streamed CSV (the CSV is a
    ``StreamingResponse``; a bare 304 has no body). Shared with the public view."""
    if wants_csv(request.headers.get("accept"), fmt):
        return await csv_response(request, session, seen, filters, audience)
    items, next_cursor, resume = await activity_page(
        session, seen, filters, cursor=cursor, limit=limit
    )
    tag = combined_etag([*((a.id, a.version) for a in items), next_cursor, resume])
    page = ActivityPage(
        items=[api_out(a) for a in items], next_cursor=next_cursor, resume_cursor=resume
    )
    found = read_answer(request, response, page, tag)
    response.headers.update(next_link(request.url, next_cursor))  # unused by a 304
    return found


@router.get(
    "/activities/{identifier}",
    summary="Get an activity",
    description="One activity with every part (results, indicators, budgets, transactions, "
    "progress updates ...). 404 when it does not exist or you may not see it. ETag; 304 to "
    "a matching If-None-Match.",
    response_model=ActivityOut,
    responses=ONE_ERRORS | NOT_MODIFIED,
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
    return read_activity(
        request, response, activity, "No activity with that identifier that you may see."
    )


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


async def edited(
    request: Request,
    session: AsyncSession,
    identifier: str,
    principal: Principal,
    write: Callable[..., Awaitable[object]],
    *args: object,
    lead: bool = False,
    refs: bool = True,
) -> Activity:
    """The activity after ``write(session, actor, activity, *args[, refs])``: locked, seen,
    If-Match checked, and (``lead``) the caller's organisation leading it. The session
    dependency commits; a version lost to a concurrent writer is the shared 412."""
    activity = await editable(session, request, identifier, principal)
    if lead:
        require_lead(activity, principal)
    extra = (await load_refs(session),) if refs else ()
    await write(session, Actor.of(principal), activity, *args, *extra)
    return activity


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
) -> ActivityOut | Response:
    """Create an activity led by the caller's organisation (a retry with the same
    Idempotency-Key gets the stored first answer: a raw replay)."""

    async def create() -> ActivityOut:
        refs = await load_refs(session)
        activity = await service.create_activity(session, Actor.of(principal), body, refs)
        out = answer(activity, response)
        response.headers["Location"] = f"/v1/activities/{activity.identifier}"
        return out

    return await answer_once(request, session, principal, create, 201)


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
    write = service.update_activity
    activity = await edited(request, session, identifier, principal, write, body, lead=True)
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
    write = service.publish_activity
    activity = await edited(request, session, identifier, principal, write, lead=True, refs=False)
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
    """Delete an activity the caller's organisation leads (no body, so no response model)."""
    write = service.delete_activity
    await edited(request, session, identifier, principal, write, lead=True, refs=False)
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
    write = service.add_progress_update
    return answer(await edited(request, session, identifier, principal, write, body), response)


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
    write = service.set_actual
    activity = await edited(request, session, identifier, principal, write, period_id, body)
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
    write = service.add_spending
    return answer(await edited(request, session, identifier, principal, write, body), response)


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
    responses=READ_ERRORS | NOT_MODIFIED,
)
async def list_changes(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    after: AfterQuery = 0,
    limit: LimitQuery = 100,
) -> ChangePage | Response:
    """The caller's change feed."""
    return await changes_answer(request, response, session, principal, after, limit)


async def changes_answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal | None,
    after: int,
    limit: int,
) -> ChangePage | Response:
    """A page of the change feed with its ETag and Link (a bare 304 has no body)."""
    page = await change_page(session, principal, after=after, limit=limit)
    tag = combined_etag([after, limit, page.next_after, *(c.seq for c in page.items)])
    found = read_answer(request, response, page, tag)
    if page.items:  # the Link is unused by a 304
        link = request.url.include_query_params(after=page.next_after)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return found
