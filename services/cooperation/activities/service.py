"""Writing activities: plain functions (session first), each ending with ``sync.record``.

A write turns its input into state form, compares it with the stored state (nothing is
written, stamped or recorded when nothing changes), checks the whole result against the
program and the IATI ruleset, applies only the changed fields to the rows, and records the
change (clock, change feed, history) in the same transaction.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.cooperation.activities.iati_map import activity_iati
from services.cooperation.activities.iati_rules import activity_findings, rule_errors
from services.cooperation.activities.models import (
    Activity,
    ProgressUpdate,
)
from services.cooperation.activities.normalize import (
    Checker,
    Error,
    check_state,
    error,
    normalize,
    transaction,
)
from services.cooperation.activities.rows import WRITABLE, apply, new_activity, transaction_row
from services.cooperation.activities.schemas import (
    NOT_NULL_LISTS,
    ActivityCreate,
    ActivityFields,
    ActualIn,
    ProgressUpdateIn,
    SpendingIn,
)
from services.cooperation.activities.state import (
    FULL_LOAD,
    Refs,
    State,
    day,
    participant_codes,
    state_of,
)
from services.cooperation.activities.sync import Actor, Pending, audience, diff, record
from services.cooperation.bindings.models import IndicatorBinding
from services.cooperation.programs.models import Organisation
from shared.db import utcnow
from shared.problems import Problem


def invalid(errors: list[Error]) -> Problem:
    """The 422 for domain rule violations (same shape as request validation)."""
    return Problem(
        422,
        "validation-error",
        "One or more fields are invalid; see errors.",
        title="Request is not valid",
        errors=errors,
    )


def today() -> date:
    return utcnow().date()


def empty_state() -> State:
    """Defaults of every state field."""
    state: State = dict.fromkeys(WRITABLE)
    state.update({name: [] for name in NOT_NULL_LISTS})
    state.update(
        visibility="participants",
        reporting_org=None,
        lead_org=None,
        published=False,
        progress_updates=[],
        hierarchy=2,  # a child of its work program
        other_dates=[],
        other_descriptions=[],
    )
    return state


def problems(state: State, refs: Refs, *, complete: bool = False) -> list[Error]:
    """The whole-activity rules ``state`` breaks (``normalize.check_state``) and what IATI
    requires; the program's rules and the ruleset only once the basics hold, unless
    ``complete``. Then, unless ``complete``, the IATI Standard ruleset and codelists over the
    activity's IATI form (``iati_rules``)."""
    errors: list[Error] = []
    if not (state["description_en"] or state["description_es"]):
        errors.append(error(("description_en",), "a description (en or es) is required"))
    if not (state["planned_start"] or state["actual_start"]):
        errors.append(error(("planned_start",), "a planned or actual start date is required"))
    if errors and not complete:
        return errors
    to_iati = lambda s: activity_iati(s, refs, utcnow())  # noqa: E731
    errors += check_state(state, refs, today(), to_iati, all_rules=complete)
    if errors or complete:
        return errors
    return iati_rule_problems(state, refs)


def iati_rule_problems(state: State, refs: Refs) -> list[Error]:
    """What the IATI Validator would say of the activity as exported: no rule of severity
    error may be broken by data written here (an import reports them instead)."""
    return rule_errors(activity_findings(activity_iati(state, refs, utcnow()), today()))


def validate(state: State, refs: Refs, *, notes: list[str] | None = None) -> list[Error]:
    """What keeps ``state`` from being written (``problems``).

    With ``notes`` (an IATI import, whose activity is kept as the publisher sent it) only a
    missing work program is an error: every other rule broken is appended to ``notes``.
    """
    if notes is None:
        return problems(state, refs)
    errors = problems(state, refs, complete=True)
    notes += [f"{'.'.join(e['loc'][1:])}: {e['msg']}" for e in errors if e["type"] != "unknown"]
    return [e for e in errors if e["type"] == "unknown"]


def reporting_org(refs: Refs, actor: Actor) -> Organisation:
    """The caller's organisation, which must be registered with an IATI ref to publish."""
    org = refs.orgs.get(actor.org or "")
    if org is None or not org.iati_ref:
        raise Problem(
            403,
            "organisation-not-registered",
            "Your organisation is not registered with an IATI organisation ref.",
        )
    return org


async def load_activity(
    session: AsyncSession, identifier: str, *, for_update: bool = False
) -> Activity | None:
    """An activity with every part loaded; ``for_update`` locks its row first (writes)."""
    if for_update:
        found = await session.scalar(
            select(Activity.id).where(Activity.identifier == identifier).with_for_update()
        )
        if found is None:
            return None
    return await session.scalar(
        select(Activity).where(Activity.identifier == identifier).options(*FULL_LOAD)
    )


async def load_activity_by_id(
    session: AsyncSession, activity_id: int, *, for_update: bool = False
) -> Activity | None:
    """``load_activity`` by the activity's id (background writers such as the inventory
    feed)."""
    if for_update:
        found = await session.scalar(
            select(Activity.id).where(Activity.id == activity_id).with_for_update()
        )
        if found is None:
            return None
    return await session.scalar(
        select(Activity).where(Activity.id == activity_id).options(*FULL_LOAD)
    )


async def _identifier_free(session: AsyncSession, identifier: str) -> bool:
    found = await session.scalar(select(Activity.id).where(Activity.identifier == identifier))
    return found is None


async def record_or_conflict(session: AsyncSession, actor: Actor, pending: list[Pending]) -> None:
    try:
        await record(session, actor, pending)
    except IntegrityError:
        # Two writers raced for one identifier: the loser is told, not given a 500.
        raise Problem(409, "conflict", "An activity with this identifier exists.") from None


async def create_activity(
    session: AsyncSession, actor: Actor, body: ActivityCreate, refs: Refs
) -> Activity:
    """A new, unpublished activity reported and led by the caller's organisation."""
    org = reporting_org(refs, actor)
    fragment, errors = normalize(body, refs)
    if errors:
        raise invalid(errors)
    state = empty_state() | fragment | {"reporting_org": org.code, "lead_org": org.code}
    errors = validate(state, refs)
    if errors:
        raise invalid(errors)
    if not await _identifier_free(session, state["identifier"]):
        raise Problem(409, "conflict", "An activity with this identifier exists.")
    activity = new_activity(state, refs, published=False)
    session.add(activity)
    pending = Pending(activity, "create", diff(None, state), None)
    await record_or_conflict(session, actor, [pending])
    return activity


async def update_activity(
    session: AsyncSession, actor: Actor, activity: Activity, body: ActivityFields, refs: Refs
) -> bool:
    """Apply the fields sent; False when they change nothing (then nothing is written)."""
    fragment, errors = normalize(body, refs)
    if errors:
        raise invalid(errors)
    return await update_from_state(session, actor, activity, fragment, refs, action="update")


async def update_from_state(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    fragment: State,
    refs: Refs,
    *,
    action: str,
    pending: list[Pending] | None = None,
    notes: list[str] | None = None,
) -> bool:
    """Apply a state fragment (from a body or an import) to a loaded, locked activity.

    With ``pending`` the change is added to it for the caller to record (imports record
    all their changes at once); otherwise it is recorded here. ``notes``: as ``validate``.
    Otherwise only problems the change brings are refused: an activity imported as its
    publisher had it (which the API's rules may not all hold for) stays editable.
    """
    current = state_of(activity)
    errors: list[Error] = []
    new_id: str = fragment.get("identifier") or current["identifier"]
    if new_id != current["identifier"]:
        if current["published"]:
            msg = "the identifier cannot change once published"
            errors.append(error(("identifier",), msg, "read_only"))
        elif not await _identifier_free(session, new_id):
            raise Problem(409, "conflict", "An activity with this identifier exists.")
    merged = current | fragment
    errors = errors or _new_problems(current, merged, refs, notes)
    if errors:
        raise invalid(errors)
    changes = diff(current, merged, keys=list(fragment))
    if not changes:
        return False
    before = audience(activity)
    if "program" in changes:
        apply(activity, "program", merged["program"], refs)
        # The areas are rows of the program: re-link them even when their codes stay.
        for name in ("priority_areas", "action_areas"):
            changes.setdefault(name, {"before": current[name], "after": merged[name]})
    for name in changes:
        if name != "program":
            apply(activity, name, merged[name], refs)
    renamed = current["identifier"] if "identifier" in changes else None
    change = Pending(activity, action, changes, before, renamed_from=renamed)
    if pending is not None:
        pending.append(change)
    else:
        await record_or_conflict(session, actor, [change])
    return True


def _new_problems(
    current: State, merged: State, refs: Refs, notes: list[str] | None
) -> list[Error]:
    """What keeps ``merged`` from being written (``validate``); without ``notes``, only the
    problems ``current`` did not have already (an activity valid before: all of them)."""
    if notes is not None:
        return validate(merged, refs, notes=notes)
    errors = validate(merged, refs)
    if not errors:
        return []
    before = problems(current, refs, complete=True)
    if not before and not iati_rule_problems(current, refs):
        return errors
    new = [e for e in problems(merged, refs, complete=True) if e not in before]
    if new:  # the IATI ruleset is checked once the rest holds, as ``problems`` does
        return new
    before = iati_rule_problems(current, refs)
    return [e for e in iati_rule_problems(merged, refs) if e not in before]


async def publish_activity(session: AsyncSession, actor: Actor, activity: Activity) -> bool:
    """Publish: from now on the identifier is fixed and the visibility applies."""
    if activity.published_at is not None:
        return False
    before = audience(activity)
    activity.published_at = utcnow()
    changes = {"published": {"before": False, "after": True}}
    await record(session, actor, [Pending(activity, "publish", changes, before)])
    return True


async def delete_activity(session: AsyncSession, actor: Actor, activity: Activity) -> None:
    """Delete; readers of the change feed get a tombstone."""
    current = state_of(activity)
    before = audience(activity)
    await session.delete(activity)
    changes = diff(current, dict.fromkeys(current))
    await record(session, actor, [Pending(activity, "delete", changes, before, deleted=True)])


def participant_org(refs: Refs, actor: Actor, activity: Activity) -> Organisation:
    """The caller's organisation if it takes part in the activity, else 403."""
    if actor.org not in participant_codes(activity):
        raise Problem(
            403,
            "not-a-participant",
            "Only organisations taking part in the activity may do this.",
        )
    return refs.orgs[actor.org]


async def add_progress_update(
    session: AsyncSession, actor: Actor, activity: Activity, body: ProgressUpdateIn, refs: Refs
) -> ProgressUpdate:
    """A participating organisation reports progress."""
    author = participant_org(refs, actor, activity)
    if body.reported_on > today():
        raise invalid([error(("reported_on",), "is in the future", "date_in_future")])
    update = ProgressUpdate(
        reported_on=body.reported_on,
        text_en=body.text_en,
        text_es=body.text_es,
        author_org=author,
        created_at=utcnow(),
    )
    activity.progress_updates.append(update)
    item = {
        "reported_on": day(body.reported_on),
        "text_en": body.text_en,
        "text_es": body.text_es,
        "author_org": author.code,
    }
    changes = {"progress_updates": {"before": None, "after": item}}
    pending = Pending(activity, "progress-update", changes, audience(activity))
    await record(session, actor, [pending])
    return update


async def set_actual(
    session: AsyncSession,
    actor: Actor,
    activity: Activity,
    period_id: int,
    body: ActualIn,
    refs: Refs,
) -> bool:
    """A participating organisation reports the actual value of an indicator period."""
    participant_org(refs, actor, activity)
    periods = (p for r in activity.results for i in r.indicators for p in i.periods)
    period = next((p for p in periods if p.id == period_id), None)
    if period is None:
        raise Problem(404, "not-found", "The activity has no indicator period with that id.")
    if await _fed_by_inventory(session, activity, period_id):
        raise Problem(
            409,
            "bound-to-inventory",
            "This period's actual comes from an inventory metric (see the indicator's "
            "binding); unbind the indicator to report it by hand.",
        )
    if body.actual is not None and period.start > today():
        raise invalid([error(("actual",), "the period has not started yet", "date_in_future")])
    if period.actual == body.actual:
        return False
    key = f"indicator_period:{period_id}:actual"
    changes = {key: {"before": period.actual, "after": body.actual}}
    period.actual = body.actual
    await record(session, actor, [Pending(activity, "actual", changes, audience(activity))])
    return True


async def _fed_by_inventory(session: AsyncSession, activity: Activity, period_id: int) -> bool:
    """The period belongs to an indicator bound to an inventory metric."""
    for r, result in enumerate(activity.results):
        for i, indicator in enumerate(result.indicators):
            if any(p.id == period_id for p in indicator.periods):
                found = await session.scalar(
                    select(IndicatorBinding.id).where(
                        IndicatorBinding.activity_id == activity.id,
                        IndicatorBinding.result_index == r,
                        IndicatorBinding.indicator_index == i,
                    )
                )
                return found is not None
    return False


async def add_spending(
    session: AsyncSession, actor: Actor, activity: Activity, body: SpendingIn, refs: Refs
) -> None:
    """A participating organisation reports money actually disbursed or spent."""
    participant_org(refs, actor, activity)
    check = Checker()
    item = transaction(body, refs, check, ("transaction",))
    errors = check.errors
    current = state_of(activity)
    merged = current | {"transactions": [*current["transactions"], item]}
    errors = errors or validate(merged, refs)
    if errors:
        raise invalid(errors)
    activity.transactions.append(transaction_row(item))
    changes = {"transactions": {"before": None, "after": item}}
    await record(session, actor, [Pending(activity, "spending", changes, audience(activity))])
