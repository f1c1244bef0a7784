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
from services.inventory.mercury.catalogue import distribution_of, input_factor
from services.inventory.mercury.factors import MercuryFactor
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
    return MercuryEstimateOut(
        **estimates.shown(estimate, MercuryEstimateOut),
        factor_source="catalogue" if estimate.factor_id is not None else "own",
        releases=releases,
    )


# The fields a Level 2 estimate gives and a Level 1 estimate copies from its factor.
OWN_FACTOR_FIELDS = ("input_factor_kg_per_unit", "input_factor_unit", "factor_provenance")


async def _factor_fields(
    session: AsyncSession, data: MercuryEstimateIn
) -> tuple[dict[str, Any], dict[Pathway, Decimal]]:
    """The estimate's factor columns and distribution: copied from the catalogue factor
    (Level 1) or as given (Level 2). 422 naming the field that does not fit."""
    own = (*OWN_FACTOR_FIELDS, "distribution")
    if data.factor_id is None:
        if data.toolkit_level == 1:
            raise estimates.unprocessable(
                "toolkit_level", "A Level 1 estimate uses a catalogue factor: give factor_id."
            )
        if data.input_factor_choice is not None:
            raise estimates.unprocessable(
                "input_factor_choice", "Only a catalogue factor (factor_id) has a choice."
            )
        for name in own:
            if getattr(data, name) is None:
                raise estimates.unprocessable(
                    name, f"{name} is required without factor_id (a Level 2 estimate)."
                )
        assert data.distribution is not None
        fields = {name: getattr(data, name) for name in OWN_FACTOR_FIELDS}
        return fields | {"toolkit_level": 2, "factor_id": None}, data.distribution
    factor = await session.get(MercuryFactor, data.factor_id)
    if factor is None:
        raise estimates.unprocessable("factor_id", f"No mercury factor {data.factor_id}.")
    if data.toolkit_level == 2:
        raise estimates.unprocessable(
            "toolkit_level", "An estimate with a catalogue factor is a Level 1 estimate."
        )
    for name in own:
        if getattr(data, name) is not None:
            raise estimates.unprocessable(
                name, f"{name} comes from the catalogue factor {factor.id}; leave it out."
            )
    if factor.category != data.category.value:
        raise estimates.unprocessable(
            "category", f"Mercury factor {factor.id} is of category {factor.category}."
        )
    choice = data.input_factor_choice or "default"
    value = input_factor(factor, choice)
    if value is None:
        raise estimates.unprocessable(
            "input_factor_choice", f"Mercury factor {factor.id} gives no {choice} value."
        )
    fields = {
        "input_factor_kg_per_unit": value,
        "input_factor_unit": factor.activity_unit,
        "factor_provenance": (
            f"Level 1 catalogue factor {factor.id} ({choice}), {factor.toolkit_version}: "
            f"{factor.provenance}"
        )[:4000],
        "toolkit_level": 1,
        "factor_id": factor.id,
        "subcategory": data.subcategory or factor.subcategory,
    }
    return fields, distribution_of(factor)


async def create_mercury(
    session: AsyncSession, principal: Principal, submission: Submission, data: MercuryEstimateIn
) -> tuple[MercuryEstimate, list[MercuryRelease]]:
    """Add a mercury estimate to an editable mercury submission: Level 1 with a catalogue
    factor (copied), Level 2 with its own."""
    fields, distribution = await _factor_fields(session, data)
    given = data.model_dump(
        exclude={"distribution", "input_factor_choice", *OWN_FACTOR_FIELDS, "toolkit_level"}
    )
    estimate = MercuryEstimate(**(given | fields), input_kg_per_year=Decimal(0))

    async def compute() -> list[MercuryRelease]:
        return await _store_mercury(session, estimate, distribution)

    return await estimates.add_estimate(
        session,
        principal,
        submission,
        estimate,
        compute,
        check=lambda: _mercury_rows(estimate, distribution),
    )


async def update_mercury(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: MercuryEstimate,
    patch: MercuryEstimatePatch,
) -> list[MercuryRelease]:
    """Change a mercury estimate and recompute input and pathways. A Level 1 estimate's
    factor fields come from its catalogue factor and cannot be changed; the level follows
    from the factor and cannot be changed either."""
    changes = patch.model_dump(exclude_unset=True)
    if "toolkit_level" in changes and changes["toolkit_level"] != estimate.toolkit_level:
        raise estimates.unprocessable(
            "toolkit_level",
            "The level follows from the factor (1: catalogue factor, 2: own factor).",
        )
    if estimate.factor_id is not None:
        for name in (*OWN_FACTOR_FIELDS, "distribution"):
            if name in changes:
                raise estimates.unprocessable(
                    name, f"{name} comes from the catalogue factor {estimate.factor_id}."
                )
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
