"""Summary cells: the PCB items of a validated submission counted by department, class,
status and the facts the flags depend on, computed by one INSERT ... SELECT when the
submission is validated.

Validated items never change, so their counts only depend on the thresholds and fluid
densities they were classified with: each cell records that ``basis`` and reports use
cells only when it is the one of the schedule asked for (otherwise they aggregate the
items themselves). Cells are kept for every schedule's basis.
National figures over a million items then read a few thousand rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    Boolean,
    ForeignKey,
    Numeric,
    Select,
    String,
    and_,
    delete,
    func,
    insert,
    literal,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from services.inventory.pcb.classes import (
    contaminated_sql,
    fluid_basis_sql,
    fluid_mass_sql,
    item_class_sql,
    total_basis_sql,
    total_mass_sql,
)
from services.inventory.pcb.models import PcbItem
from services.inventory.pcb.rules import AnalysisMethod, ConcentrationKind, Thresholds


class PcbSummaryCell(Base):
    """Items of one validated submission with the same department, class, status, label,
    food/feed location and screening-only evidence."""

    __tablename__ = "pcb_summary_cells"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    basis: Mapped[str] = mapped_column(String(32))
    department_code: Mapped[str] = mapped_column(String(2))
    pcb_class: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(30))
    fluid_basis: Mapped[str] = mapped_column(String(40))
    total_basis: Mapped[str] = mapped_column(String(20))
    # Fluid proven above 0.005 % whatever the volume (the ESM obligation's scope).
    contaminated: Mapped[bool] = mapped_column(Boolean)
    labelled: Mapped[bool] = mapped_column(Boolean)
    in_food_feed_area: Mapped[bool] = mapped_column(Boolean)
    screening_only: Mapped[bool] = mapped_column(Boolean)
    items: Mapped[int]
    total_mass_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3))
    fluid_mass_kg: Mapped[Decimal] = mapped_column(Numeric(20, 3))


# Bumped whenever the cells' columns or meaning change: older cells then stop counting.
CELLS_VERSION = "cells-3"


def basis(thresholds: Thresholds, densities: dict[str, Decimal]) -> str:
    """A fingerprint of everything a class or a mass depends on besides the item."""
    parts: list[Any] = [
        CELLS_VERSION,
        thresholds.p1_mg_per_kg,
        thresholds.p2_mg_per_kg,
        thresholds.p3_mg_per_kg,
        thresholds.large_volume_l,
        thresholds.small_volume_l,
        thresholds.presumed_before_year,
        thresholds.presumed_min_volume_l,
        *(f"{k}={v.normalize()}" for k, v in sorted(densities.items())),
    ]
    text = "|".join(str(p.normalize()) if isinstance(p, Decimal) else str(p) for p in parts)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def screening_only() -> Any:
    """SQL: the item's class rests on a positive screening alone."""
    return and_(
        PcbItem.conc_kind == ConcentrationKind.ABOVE.value,
        PcbItem.conc_source == AnalysisMethod.SCREENING.value,
    )


def item_groups_statement(
    submission_ids: Sequence[int],
    thresholds: Thresholds,
    densities: dict[str, Decimal],
    *,
    by: Sequence[Any] = (),
    flags: bool = True,
    where: Sequence[Any] = (),
) -> Select[Any]:
    """Items of the submissions counted (and weighed) by ``by``, class and status; with
    ``flags`` also by the facts the label, location and GC flags depend on.

    On PostgreSQL this is a scan of ``ix_pcb_items_summary`` (index-only once vacuumed)
    feeding a hash aggregate of a few hundred groups.
    """
    cls = item_class_sql(thresholds, densities)
    keys: list[Any] = [
        *by,
        cls,
        PcbItem.status,
        fluid_basis_sql(densities),
        total_basis_sql(densities),
        contaminated_sql(thresholds),
    ]
    if flags:
        keys += [PcbItem.labelled, PcbItem.in_food_feed_area, screening_only()]
    return (
        select(
            *keys,
            func.count(),
            func.coalesce(func.sum(total_mass_sql(densities)), 0),
            func.coalesce(func.sum(fluid_mass_sql(densities)), 0),
        )
        .where(PcbItem.submission_id.in_(list(submission_ids)), *where)
        .group_by(*keys)
    )


async def refresh(
    session: AsyncSession,
    submission_ids: Sequence[int],
    schedules: Sequence[Thresholds],
    densities: dict[str, Decimal],
) -> None:
    """(Re)compute the cells of validated submissions, in SQL: once per distinct basis of
    the ``schedules`` (the Convention's and the national plan's share their cells unless
    the plan changes a limit, not only a deadline)."""
    ids = list(submission_ids)
    if not ids:
        return
    await session.execute(delete(PcbSummaryCell).where(PcbSummaryCell.submission_id.in_(ids)))
    done: set[str] = set()
    for thresholds in schedules:
        fingerprint = basis(thresholds, densities)
        if fingerprint in done:
            continue
        done.add(fingerprint)
        groups = item_groups_statement(
            ids, thresholds, densities, by=[PcbItem.submission_id, PcbItem.department_code]
        )
        # basis goes last in the SELECT: add it as a literal column of the grouped query.
        rows = groups.add_columns(literal(fingerprint))
        await session.execute(insert(PcbSummaryCell).from_select(_CELL_COLUMNS, rows))


_CELL_COLUMNS = [
    "submission_id",
    "department_code",
    "pcb_class",
    "status",
    "fluid_basis",
    "total_basis",
    "contaminated",
    "labelled",
    "in_food_feed_area",
    "screening_only",
    "items",
    "total_mass_kg",
    "fluid_mass_kg",
    "basis",
]


def cell_groups_statement(
    submission_ids: Sequence[int], current_basis: str, *, by: Sequence[Any] = ()
) -> Select[Any]:
    """The same groups as :func:`item_groups_statement` (with flags), from cells."""
    c = PcbSummaryCell
    keys: list[Any] = [
        *by,
        c.pcb_class,
        c.status,
        c.fluid_basis,
        c.total_basis,
        c.contaminated,
        c.labelled,
        c.in_food_feed_area,
        c.screening_only,
    ]
    return (
        select(*keys, func.sum(c.items), func.sum(c.total_mass_kg), func.sum(c.fluid_mass_kg))
        .where(c.submission_id.in_(list(submission_ids)), c.basis == current_basis)
        .group_by(*keys)
    )


async def fresh_submissions(
    session: AsyncSession, submission_ids: Sequence[int], current_basis: str
) -> set[int]:
    """Which of the submissions have cells computed on the current basis."""
    if not submission_ids:
        return set()
    found = await session.scalars(
        select(PcbSummaryCell.submission_id)
        .where(
            PcbSummaryCell.submission_id.in_(list(submission_ids)),
            PcbSummaryCell.basis == current_basis,
        )
        .distinct()
    )
    return set(found)
