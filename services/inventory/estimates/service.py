"""What UP-POPs and mercury estimates share: an estimate belongs to a submission, may name
one of its organisation's holders, has release rows (one per vector or pathway), and is
copied whole into a correction. Plain functions, session first."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from pydantic import BaseModel
from sqlalchemy import Select, delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import record_change, record_saved, snapshot
from services.inventory.registry.models import Holder
from services.inventory.submissions.access import submission_visible
from services.inventory.submissions.models import Submission
from services.inventory.submissions.service import counts_nationally
from shared.problems import Problem
from shared.security import Principal


def unprocessable(field: str, message: str, where: str = "body") -> Problem:
    """A 422 naming one field of the body (or of ``where``: "query")."""
    return Problem(
        422,
        "validation-error",
        message,
        errors=[{"loc": [where, field], "msg": message, "type": "value_error"}],
    )


async def check_holder(
    session: AsyncSession, submission: Submission, holder_id: int | None
) -> None:
    """422 unless ``holder_id`` (when given) is a holder of the submission's organisation."""
    if holder_id is None:
        return
    holder = await session.get(Holder, holder_id)
    if holder is None or holder.org_code != submission.org_code:
        raise unprocessable("holder_id", f"No holder {holder_id} of {submission.org_code}.")


async def add_estimate(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: Any,
    compute: Callable[[], Awaitable[list[Any]]],
    check: Callable[[], object] = lambda: None,
) -> tuple[Any, list[Any]]:
    """Add a new estimate to ``submission`` with the release rows ``compute`` stores for it,
    and log it. 422 for a holder of another organisation, or when ``check`` raises (before
    anything is written)."""
    await check_holder(session, submission, estimate.holder_id)
    check()
    estimate.submission_id = submission.id
    estimate.org_code = submission.org_code
    session.add(estimate)
    await session.flush()
    rows = await compute()
    record_estimate_change(session, principal, estimate, "create")
    return estimate, rows


def shown(estimate: Any, out: type[BaseModel]) -> dict[str, Any]:
    """The estimate's columns the answer ``out`` shows."""
    return {k: getattr(estimate, k) for k in out.model_fields if hasattr(estimate, k)}


async def release_rows(session: AsyncSession, table: type[Any], estimate_id: int) -> list[Any]:
    """An estimate's release rows (of ``table``: one per vector or pathway)."""
    return list(await session.scalars(select(table).where(table.estimate_id == estimate_id)))


async def visible_estimate(
    session: AsyncSession, principal: Principal, table: type[Any], estimate_id: int
) -> tuple[Any, Submission]:
    """The estimate and its submission if the caller may see them, else a 404."""
    row = (
        await session.execute(
            select(table, Submission)
            .join(Submission, Submission.id == table.submission_id)
            .where(table.id == estimate_id, submission_visible(principal))
        )
    ).first()
    if row is None:
        raise Problem(404, "not-found", f"No estimate {estimate_id}.")
    return row[0], row[1]


def estimates_query(
    principal: Principal,
    table: type[Any],
    *,
    submission_id: int | None,
    org: str | None,
    year: int | None,
    current: bool | None,
) -> Select[Any]:
    """The estimates the caller may see, filtered."""
    stmt = (
        select(table)
        .join(Submission, Submission.id == table.submission_id)
        .where(submission_visible(principal))
    )
    for column, value in (
        (table.submission_id, submission_id),
        (table.org_code, org),
        (Submission.year, year),
    ):
        if value is not None:
            stmt = stmt.where(column == value)
    if current is not None:
        stmt = stmt.where(counts_nationally() if current else ~counts_nationally())
    return stmt


def entity_name(estimate: Any) -> str:
    """The change-log entity of an estimate: ``upops_estimate``, ``mercury_estimate``."""
    return str(estimate.__tablename__).removesuffix("s")


def record_estimate_change(
    session: AsyncSession,
    principal: Principal,
    estimate: Any,
    action: str,
    before: dict[str, Any] | None = None,
) -> None:
    """Log a created or changed estimate in the change feed."""
    record_saved(session, principal, entity_name(estimate), estimate, action, before=before)


async def update_estimate(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: Any,
    patch: BaseModel,
    recompute: Callable[[dict[str, Any]], Awaitable[list[Any]]],
    *,
    apart: tuple[str, ...] = (),
) -> list[Any]:
    """Apply ``patch`` to an estimate and recompute its release rows: ``recompute`` gets
    the changed fields named in ``apart`` (they are not columns of the estimate)."""
    before = snapshot(estimate)
    changes = patch.model_dump(exclude_unset=True)
    await check_holder(session, submission, changes.get("holder_id"))
    given = {name: changes.pop(name) for name in apart if name in changes}
    for name, value in changes.items():
        setattr(estimate, name, value)
    rows = await recompute(given)
    record_estimate_change(session, principal, estimate, "update", before)
    return rows


async def delete_estimate(
    session: AsyncSession, principal: Principal, estimate: Any, releases: type[Any]
) -> None:
    """Remove an estimate (and its ``releases`` rows) from an editable submission."""
    before = snapshot(estimate)
    await session.execute(delete(releases).where(releases.estimate_id == estimate.id))
    await session.delete(estimate)
    await session.flush()
    record_change(
        session,
        principal,
        entity=entity_name(estimate),
        entity_id=before["id"],
        action="delete",
        before=before,
    )


def _copy(record: Any, **overrides: Any) -> Any:
    fields = {
        k: getattr(record, k)
        for k in snapshot(record)
        if k not in ("id", "created_at", "updated_at", "version")
    }
    return type(record)(**(fields | overrides))


async def copy_estimates(
    session: AsyncSession, table: type[Any], releases: type[Any], *, from_id: int, to_id: int
) -> int:
    """Copy every estimate of ``table`` (with its releases as computed) into a correction."""
    estimates = list(await session.scalars(select(table).where(table.submission_id == from_id)))
    for old in estimates:
        new = _copy(old, submission_id=to_id)
        session.add(new)
        await session.flush()
        for row in await release_rows(session, releases, old.id):
            session.add(_copy(row, estimate_id=new.id))
    await session.flush()
    return len(estimates)
