"""How the activity routes answer (the activity with its ETag) and write: the activity
locked, seen by the caller, its If-Match checked and, for the lead's writes, led by the
caller's organisation; then the change, and the answer with the new version's ETag."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities import service
from services.cooperation.activities.access import Writer
from services.cooperation.activities.models import Activity
from services.cooperation.activities.queries import IdentifierPath
from services.cooperation.activities.state import activity_out, load_refs
from services.cooperation.activities.sync import Actor, can_see
from services.cooperation.activities.views import ActivityOut
from services.cooperation.bindings.service import bindings_of, with_sources
from shared.conditional import etag, not_modified, require_if_match, tagged
from shared.db import SessionDep
from shared.problems import Problem
from shared.security import Principal

NOT_SEEN = "No activity with that identifier that you may see."


def activity_etag(activity: Activity) -> str:
    return etag("activity", activity.id, activity.version)


def answer(activity: Activity, response: Response) -> ActivityOut:
    return tagged(response, activity_out(activity), activity_etag(activity))


async def read_activity(
    request: Request,
    response: Response,
    session: AsyncSession,
    activity: Activity | None,
    missing: str,
) -> ActivityOut | Response:
    """One activity with its ETag and each bound period's source (a bare 304 when the
    caller holds it), or 404 ``missing``."""
    if activity is None:
        raise Problem(404, "not-found", missing)
    tag = activity_etag(activity)
    if not_modified(request, tag):
        return Response(status_code=304, headers={"ETag": tag})
    bindings = (await bindings_of(session, [activity.id])).get(activity.id, [])
    out: ActivityOut = with_sources(activity_out(activity), bindings)
    return tagged(response, out, tag)


def require_lead(activity: Activity, principal: Principal) -> None:
    if activity.lead_org.code != principal.org:
        raise Problem(
            403, "not-the-lead", "Only the lead organisation edits, publishes or deletes it."
        )


@dataclass(frozen=True)
class Edit:
    """A write to the activity ``identifier`` by ``principal`` (the session dependency
    commits it; a version lost to a concurrent writer is the shared 412)."""

    identifier: str
    request: Request
    response: Response
    session: AsyncSession
    principal: Principal

    async def editable(self) -> Activity:
        """The activity locked for writing, after the read rule (404) and If-Match (428/412)."""
        activity = await service.load_activity(self.session, self.identifier, for_update=True)
        if activity is None or not can_see(activity, self.principal):
            raise Problem(404, "not-found", NOT_SEEN)
        require_if_match(self.request, activity_etag(activity))
        return activity

    async def apply(
        self,
        write: Callable[..., Awaitable[object]],
        *args: object,
        lead: bool = False,
        refs: bool = True,
    ) -> Activity:
        """The activity after ``write(session, actor, activity, *args[, refs])`` (``lead``:
        only the lead organisation may)."""
        activity = await self.editable()
        if lead:
            require_lead(activity, self.principal)
        extra = (await load_refs(self.session),) if refs else ()
        await write(self.session, Actor.of(self.principal), activity, *args, *extra)
        return activity

    async def __call__(
        self, write: Callable[..., Awaitable[object]], *args: object, **options: bool
    ) -> ActivityOut:
        """``apply``, answered with the activity and its new ETag."""
        activity = await self.apply(write, *args, **options)
        bindings = (await bindings_of(self.session, [activity.id])).get(activity.id, [])
        out: ActivityOut = with_sources(activity_out(activity), bindings)
        return tagged(self.response, out, activity_etag(activity))


def editing(
    identifier: IdentifierPath,
    request: Request,
    response: Response,
    session: SessionDep,
    principal: Writer,
) -> Edit:
    return Edit(identifier, request, response, session, principal)


Editing = Annotated[Edit, Depends(editing)]
