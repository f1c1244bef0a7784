"""Mercury release estimates: plain functions, session first. Input and pathways are
computed by ``rules`` and stored in the same transaction as any change to the estimate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import delete
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.estimates import service as estimates
from services.inventory.estimates.rules import UnitMismatch, check_units
from services.inventory.mercury.models import MercuryEstimate, MercuryRelease
from services.inventory.mercury.rules import (
    DistributionError,
    Pathway,
    distribute,
    mercury_input_kg,
)
from services.inventory.mercury.schemas import (
    MercuryEstimateIn,
    MercuryEstimateOut,
    MercuryEstimatePatch,
    PathwayRelease,
)
from services.inventory.submissions.models import Submission
from shared.security import Principal


def _mercury_rows(
    estimate: MercuryEstimate, distribution: dict[Pathway, Decimal]
) -> list[MercuryRelease]:
    try:
        check_units(estimate.activity_unit, estimate.input_factor_unit)
    except UnitMismatch as exc:
        raise estimates.unprocessable("activity_unit", str(exc)) from None
    estimate.input_kg_per_year = mercury_input_kg(
        estimate.activity_rate, estimate.input_factor_kg_per_unit
    )
    try:
        parts = distribute(estimate.input_kg_per_year, distribution)
    except DistributionError as exc:
        raise estimates.unprocessable("distribution", str(exc)) from None
    return [
        MercuryRelease(
            estimate_id=estimate.id,
            pathway=pathway.value,
            distribution_factor=distribution.get(pathway, Decimal(0)),
            release_kg_per_year=parts[pathway],
        )
        for pathway in Pathway
    ]


async def _store_mercury(
    session: AsyncSession, estimate: MercuryEstimate, distribution: dict[Pathway, Decimal]
) -> list[MercuryRelease]:
    rows = _mercury_rows(estimate, distribution)
    await session.execute(delete(MercuryRelease).where(MercuryRelease.estimate_id == estimate.id))
    session.add_all(rows)
    await session.flush()
    return rows


async def mercury_releases(session: AsyncSession, estimate_id: int) -> list[MercuryRelease]:
    """An estimate's pathway rows."""
    return await estimates.release_rows(session, MercuryRelease, estimate_id)


def mercury_out(estimate: MercuryEstimate, rows: Sequence[MercuryRelease]) -> MercuryEstimateOut:
    """The API view of a mercury estimate."""
    order = list(Pathway)
    releases = {
        r.pathway: PathwayRelease(
            distribution_factor=r.distribution_factor, release_kg_per_year=r.release_kg_per_year
        )
        for r in sorted(rows, key=lambda r: order.index(Pathway(r.pathway)))
    }
    return MercuryEstimateOut(**estimates.shown(estimate, MercuryEstimateOut), releases=releases)


async def create_mercury(
    session: AsyncSession, principal: Principal, submission: Submission, data: MercuryEstimateIn
) -> tuple[MercuryEstimate, list[MercuryRelease]]:
    """Add a mercury estimate to an editable mercury submission."""
    estimate = MercuryEstimate(
        **data.model_dump(exclude={"distribution"}), input_kg_per_year=Decimal(0)
    )

    async def compute() -> list[MercuryRelease]:
        return await _store_mercury(session, estimate, data.distribution)

    return await estimates.add_estimate(
        session,
        principal,
        submission,
        estimate,
        compute,
        check=lambda: _mercury_rows(estimate, data.distribution),
    )


async def update_mercury(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: MercuryEstimate,
    patch: MercuryEstimatePatch,
) -> list[MercuryRelease]:
    """Change a mercury estimate and recompute input and pathways."""

    kept: dict[Pathway, Decimal] = {}
    if patch.distribution is None:
        # Read before the estimate changes: one UPDATE of it, one new version.
        kept = {
            Pathway(r.pathway): r.distribution_factor
            for r in await mercury_releases(session, estimate.id)
        }

    async def recompute(given: dict[str, Any]) -> list[MercuryRelease]:
        return await _store_mercury(session, estimate, given.get("distribution", kept))

    return await estimates.update_estimate(
        session, principal, submission, estimate, patch, recompute, apart=("distribution",)
    )


async def copy_mercury(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy every mercury estimate (with its pathways) into a correction."""
    return await estimates.copy_estimates(
        session, MercuryEstimate, MercuryRelease, from_id=from_id, to_id=to_id
    )
