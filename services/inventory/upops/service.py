"""UP-POPs release estimates: plain functions, session first. Releases are computed by
``rules`` from the catalogue's factors and stored with the factors they used, in the same
transaction as any change to the estimate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.estimates import service as estimates
from services.inventory.estimates.rules import UnitMismatch, check_units
from services.inventory.factors.models import EmissionFactor
from services.inventory.factors.rules import (
    GRAM_EXPONENT,
    ND,
    NotApplicable,
    NotDetermined,
    Vector,
    is_teq,
    parse_factor,
    release_unit,
)
from services.inventory.factors.service import factor_text
from services.inventory.submissions.models import Submission
from services.inventory.upops.models import UpopsEstimate, UpopsRelease
from services.inventory.upops.rules import ReleaseValue, releases_by_vector, total_releases
from services.inventory.upops.schemas import (
    ReleaseStatus,
    ReleaseTotalOut,
    UpopsEstimateIn,
    UpopsEstimateOut,
    UpopsEstimatePatch,
    VectorRelease,
)
from shared.security import Principal

# Releases are stored to the picogram (g with 12 decimals): exact for any Toolkit factor.
RELEASE_QUANTUM = Decimal("1e-12")
_KIND = {NotDetermined: "ND", NotApplicable: "NA"}
_STATUS: dict[str, ReleaseStatus] = {
    "value": "determined",
    "ND": "not_determined",
    "NA": "not_applicable",
}


async def _factors(
    session: AsyncSession, estimate: UpopsEstimate, scheme: str | None, edition: str | None
) -> list[EmissionFactor]:
    query = select(EmissionFactor).where(
        EmissionFactor.category == estimate.category,
        EmissionFactor.class_no == estimate.class_no,
        EmissionFactor.pollutant == estimate.pollutant,
    )
    if scheme is not None:
        query = query.where(EmissionFactor.teq_scheme == scheme)
    if edition is not None:
        query = query.where(EmissionFactor.toolkit_edition == edition)
    factors = list(await session.scalars(query))
    if not factors:
        raise estimates.unprocessable(
            "class_no",
            f"The catalogue has no {estimate.pollutant} factor for category {estimate.category} "
            f"class {estimate.class_no}"
            + (f" ({scheme}, {edition})" if scheme or edition else "")
            + ".",
        )
    variants = {(f.teq_scheme, f.toolkit_edition) for f in factors}
    if len(variants) > 1:
        names = ", ".join(f"{s} {e}" for s, e in sorted(variants))
        raise estimates.unprocessable(
            "teq_scheme",
            f"Several factor sets exist ({names}): give teq_scheme and toolkit_edition.",
        )
    return factors


def _release_row(
    estimate_id: int, vector: Vector, release: ReleaseValue, found: EmissionFactor | None
) -> UpopsRelease:
    return UpopsRelease(
        estimate_id=estimate_id,
        vector=vector.value,
        factor_id=found.id if found else None,
        factor_kind=found.value_kind if found else "ND",
        factor_ug_teq_per_unit=found.value_ug_teq_per_unit if found else None,
        release_kind="value" if isinstance(release, Decimal) else _KIND[type(release)],
        release_g_teq_per_year=(
            release.quantize(RELEASE_QUANTUM, rounding=ROUND_HALF_UP)
            if isinstance(release, Decimal)
            else None
        ),
    )


async def compute_upops(
    session: AsyncSession,
    estimate: UpopsEstimate,
    *,
    scheme: str | None = None,
    edition: str | None = None,
) -> list[UpopsRelease]:
    """(Re)compute an estimate's releases from the catalogue: activity x factor / 10^6 per
    vector; a vector without factor is ND. 422 when units do not match."""
    factors = await _factors(session, estimate, scheme, edition)
    estimate.source_group = factors[0].source_group
    estimate.teq_scheme, estimate.toolkit_edition = (
        factors[0].teq_scheme,
        factors[0].toolkit_edition,
    )
    by_vector = {Vector(f.vector): f for f in factors}
    for factor in factors:
        if factor.value_kind != "value":
            continue  # NA and ND are unitless answers
        try:
            check_units(estimate.activity_unit, factor.activity_unit)
        except UnitMismatch as exc:
            raise estimates.unprocessable("activity_unit", str(exc)) from None
    values = {
        v: parse_factor(factor_text(f.value_kind, f.value_ug_teq_per_unit))
        for v, f in by_vector.items()
    }
    exponents = {v: GRAM_EXPONENT[f.value_unit] for v, f in by_vector.items()}
    releases = releases_by_vector(estimate.activity_rate, values, exponents)
    await session.execute(delete(UpopsRelease).where(UpopsRelease.estimate_id == estimate.id))
    rows = [
        _release_row(estimate.id, vector, release, by_vector.get(vector))
        for vector, release in releases.items()
    ]
    session.add_all(rows)
    await session.flush()
    return rows


def upops_out(estimate: UpopsEstimate, rows: Sequence[UpopsRelease]) -> UpopsEstimateOut:
    """The API view of an estimate with its releases and their total."""
    releases = {}
    parts = []
    teq = is_teq(estimate.pollutant)
    unit = release_unit(estimate.pollutant)
    for row in sorted(rows, key=lambda r: list(Vector).index(Vector(r.vector))):
        releases[row.vector] = VectorRelease(
            status=_STATUS[row.release_kind],
            release=row.release_g_teq_per_year,
            unit=unit,
            release_g_teq_per_year=row.release_g_teq_per_year if teq else None,
            factor=factor_text(row.factor_kind, row.factor_ug_teq_per_unit),
            factor_id=row.factor_id,
        )
        parts.append(
            row.release_g_teq_per_year
            if row.release_kind == "value" and row.release_g_teq_per_year is not None
            else (ND if row.release_kind == "ND" else NotApplicable.NA)
        )
    total = total_releases(parts)
    shown = estimates.shown(estimate, UpopsEstimateOut)
    shown["teq_scheme"] = estimate.teq_scheme or None
    return UpopsEstimateOut(
        **shown,
        unit=unit,
        releases=releases,
        total=ReleaseTotalOut(
            determined=total.determined_g_teq,
            unit=unit,
            determined_g_teq_per_year=total.determined_g_teq if teq else None,
            complete=total.complete,
            not_determined_vectors=[v for v, r in releases.items() if r.status == "not_determined"],
        ),
    )


async def upops_releases(session: AsyncSession, estimate_id: int) -> list[UpopsRelease]:
    """An estimate's release rows."""
    return await estimates.release_rows(session, UpopsRelease, estimate_id)


async def create_upops(
    session: AsyncSession, principal: Principal, submission: Submission, data: UpopsEstimateIn
) -> tuple[UpopsEstimate, list[UpopsRelease]]:
    """Add an estimate to an editable UP-POPs submission and compute its releases."""
    estimate = UpopsEstimate(
        **data.model_dump(exclude={"teq_scheme", "toolkit_edition"}),
        source_group="",
        teq_scheme="",
        toolkit_edition="",
    )
    scheme = data.teq_scheme.value if data.teq_scheme else None

    async def compute() -> list[UpopsRelease]:
        return await compute_upops(session, estimate, scheme=scheme, edition=data.toolkit_edition)

    return await estimates.add_estimate(session, principal, submission, estimate, compute)


async def update_upops(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: UpopsEstimate,
    patch: UpopsEstimatePatch,
) -> list[UpopsRelease]:
    """Change an estimate and recompute its releases from the current catalogue."""

    async def recompute(_: dict[str, Any]) -> list[UpopsRelease]:
        return await compute_upops(
            session, estimate, scheme=estimate.teq_scheme, edition=estimate.toolkit_edition
        )

    return await estimates.update_estimate(
        session, principal, submission, estimate, patch, recompute
    )


async def copy_upops(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy every UP-POPs estimate (with its releases as computed) into a correction."""
    return await estimates.copy_estimates(
        session, UpopsEstimate, UpopsRelease, from_id=from_id, to_id=to_id
    )
