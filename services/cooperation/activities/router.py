"""Routes of the activity matrix for authenticated callers: read what you may see, write
what you lead or take part in. Thin: the rules are in ``service`` and ``queries``."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities import service
from services.cooperation.activities.access import (
    CREATE_ERRORS,
    NOT_MODIFIED,
    ONE_ERRORS,
    PROBLEM,
    READ_ERRORS,
    WRITE_ERRORS,
    Reader,
    Writer,
)
from services.cooperation.activities.editing import (
    NOT_SEEN,
    Edit,
    Editing,
    answer,
    read_activity,
)
from services.cooperation.activities.filters import ActivityFilters, FiltersDep
from services.cooperation.activities.queries import (
    IdentifierPath,
    View,
    activity_rows,
    activity_total,
    change_page,
    history_page,
    page_states,
    view_of,
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
from services.cooperation.activities.state import load_refs, participant_codes
from services.cooperation.activities.state_rows import api_out
from services.cooperation.activities.sync import Actor
from services.cooperation.activities.tables import (
    TABLE_DESCRIPTION,
    TABLE_RESPONSE,
    FormatQuery,
    TableAsk,
    TableDep,
    table_response,
)
from services.cooperation.activities.views import (
    ActivityOut,
    ActivityPage,
    ChangePage,
    HistoryPage,
)
from services.cooperation.bindings.service import bindings_of, with_sources
from shared.conditional import combined_etag, not_modified, read_answer, tagged
from shared.db import SessionDep
from shared.openapi_contract import IDEMPOTENT
from shared.pagination import CursorQuery, LimitQuery, next_link
from shared.problems import Problem
from shared.security import Principal

IF_MATCH = "Send If-Match with the activity's current ETag (428 without it, 412 when stale)."
AfterQuery = Annotated[int, Query(ge=0, le=2**62, description="Last seq you have.")]

router = APIRouter(prefix="/v1", tags=["activities"])


@dataclass(frozen=True)
class Listing:
    """What a list of activities is asked for: the filters, the page, the format."""

    filters: ActivityFilters
    limit: int
    cursor: str | None
    table: TableAsk | None
    count: bool = False


CountQuery = Annotated[
    bool,
    Query(description="Add `total`: how many activities match the filters (JSON pages)."),
]


def listing(
    filters: FiltersDep,
    table: TableDep,
    limit: LimitQuery = 50,
    cursor: CursorQuery = None,
    fmt: FormatQuery = None,
    count: CountQuery = False,
) -> Listing:
    del fmt  # declared here; ``table`` reads it with the Accept header
    return Listing(filters, limit, cursor, table, count)


ListingDep = Annotated[Listing, Depends(listing)]


@dataclass(frozen=True)
class Feed:
    """What a page of the change feed is asked for: the entries after ``after``."""

    after: int
    limit: int


def feed(after: AfterQuery = 0, limit: LimitQuery = 100) -> Feed:
    return Feed(after, limit)


FeedDep = Annotated[Feed, Depends(feed)]


@router.get(
    "/activities",
    summary="List activities (donor pull)",
    description="Activities you may see, oldest change first: ordered by (updated_at, id), "
    "filterable, cursor-paginated. Keep `resume_cursor` between syncs and pass it as `cursor`: "
    "everything created or changed since is returned, nothing is missed, even while records "
    "change. Deletions and withdrawals come through `/v1/changes`. Answers 304 to a matching "
    "If-None-Match." + TABLE_DESCRIPTION,
    response_model=ActivityPage,
    responses=READ_ERRORS | TABLE_RESPONSE | NOT_MODIFIED,
)
async def list_activities(
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Reader,
    asked: ListingDep,
) -> ActivityPage | Response:
    """A page of the activities the caller may see (or all of them as CSV)."""
    return await list_answer(request, response, session, await view_of(session, principal), asked)


async def list_answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    view: View,
    asked: Listing,
) -> ActivityPage | Response:
    """A page with its ETag and Link header, or every row as streamed CSV (the CSV is a
    ``StreamingResponse``; a bare 304 has no body). Shared with the public view."""
    filters = asked.filters
    if asked.table is not None:
        return await table_response(request, session, view, filters, asked.table)
    rows, next_cursor, resume = await activity_rows(
        session, view.seen, filters, cursor=asked.cursor, limit=asked.limit
    )
    total = await activity_total(session, view.seen, filters) if asked.count else None
    tag = combined_etag([*((a.id, a.version) for a in rows), next_cursor, resume, total])
    if not_modified(request, tag):  # known from the rows alone: nothing more is read
        return Response(status_code=304, headers={"ETag": tag})
    states = await page_states(session, rows)
    bound = await bindings_of(session, [a.id for a in states])
    page = ActivityPage(
        items=[with_sources(api_out(a), bound.get(a.id, [])) for a in states],
        next_cursor=next_cursor,
        resume_cursor=resume,
        total=total,
    )
    found = tagged(response, page, tag)
    response.headers.update(next_link(request.url, next_cursor))
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
    """One activity the caller may see, each bound period's actual with its source."""
    seen = await visibility(session, principal, public_only=False)
    activity = await visible_activity(session, identifier, seen)
    return await read_activity(request, response, session, activity, NOT_SEEN)


@router.post(
    "/activities",
    status_code=201,
    summary="Create an activity",
    description="A new, unpublished activity reported and led by your organisation; only its "
    "participants see it until it is published. The identifier must start with your "
    "organisation's IATI ref and '-'. Idempotency-Key: a retry with the same key and body "
    "gets the first answer.",
    response_model=ActivityOut,
    responses=CREATE_ERRORS,
    openapi_extra=IDEMPOTENT,
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
        # Absolute, on the request's public origin and prefix (behind the gateway).
        location = request.url_for("get_activity", identifier=activity.identifier)
        response.headers["Location"] = str(location)
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
async def patch_activity(body: ActivityFields, edit: Editing) -> ActivityOut:
    """Edit an activity the caller's organisation leads."""
    return await edit(service.update_activity, body, lead=True)


@router.post(
    "/activities/{identifier}/publish",
    summary="Publish an activity (lead organisation)",
    description=f"From now on its identifier is fixed and its visibility applies. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def publish_activity(edit: Editing) -> ActivityOut:
    """Publish an activity the caller's organisation leads."""
    return await edit(service.publish_activity, lead=True, refs=False)


@router.delete(
    "/activities/{identifier}",
    status_code=204,
    summary="Delete an activity (lead organisation)",
    description=f"Readers of the change feed get a tombstone. {IF_MATCH}",
    responses=WRITE_ERRORS,
)
async def delete_activity(edit: Editing) -> Response:
    """Delete an activity the caller's organisation leads (no body, so no response model)."""
    await edit.apply(service.delete_activity, lead=True, refs=False)
    return Response(status_code=204)


@router.post(
    "/activities/{identifier}/progress-updates",
    status_code=201,
    summary="Add a progress update (participating organisation)",
    description=f"A dated narrative; your organisation is its author. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def add_progress_update(body: ProgressUpdateIn, edit: Editing) -> ActivityOut:
    """Report progress on an activity the caller's organisation takes part in."""
    return await edit(service.add_progress_update, body)


@router.put(
    "/activities/{identifier}/indicator-periods/{period_id}/actual",
    summary="Report an indicator's actual (participating organisation)",
    description="The value reached in one indicator period (its id is in the activity's "
    "results). A period of an indicator bound to an inventory metric takes its actual from "
    f"the inventory: 409 `bound-to-inventory`. {IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS
    | {409: {"description": "The indicator is fed by the inventory", **PROBLEM}},
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
    """Report the actual of an indicator period. The Edit is made here, not by ``Editing``:
    a dependency's ``identifier`` would follow ``period_id`` in the OpenAPI parameters."""
    edit = Edit(identifier, request, response, session, principal)
    return await edit(service.set_actual, period_id, body)


@router.post(
    "/activities/{identifier}/transactions",
    status_code=201,
    summary="Report money spent (participating organisation)",
    description="A disbursement (type 3) or expenditure (type 4), dated today or earlier. "
    f"{IF_MATCH}",
    response_model=ActivityOut,
    responses=WRITE_ERRORS,
)
async def add_spending(body: SpendingIn, edit: Editing) -> ActivityOut:
    """Report actual spending on an activity the caller's organisation takes part in."""
    return await edit(service.add_spending, body)


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
        raise Problem(404, "not-found", NOT_SEEN)
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
    request: Request, response: Response, session: SessionDep, principal: Reader, asked: FeedDep
) -> ChangePage | Response:
    """The caller's change feed."""
    return await changes_answer(request, response, session, principal, asked)


async def changes_answer(
    request: Request,
    response: Response,
    session: AsyncSession,
    principal: Principal | None,
    asked: Feed,
) -> ChangePage | Response:
    """A page of the change feed with its ETag and Link (a bare 304 has no body)."""
    after, limit = asked.after, asked.limit
    page = await change_page(session, principal, after=after, limit=limit)
    tag = combined_etag([after, limit, page.next_after, *(c.seq for c in page.items)])
    found = read_answer(request, response, page, tag)
    if page.items:  # the Link is unused by a 304
        link = request.url.include_query_params(after=page.next_after)
        response.headers["Link"] = f'<{link}>; rel="next"'
    return found
