"""Emission factors and release estimates: plain functions, session first. Releases are
computed by ``rules`` and stored with the factors they used, in the same transaction as
any change to the estimate."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.history import record_change, snapshot
from services.inventory.registry.models import Holder
from services.inventory.releases.models import (
    EmissionFactor,
    MercuryEstimate,
    MercuryRelease,
    UpopsEstimate,
    UpopsRelease,
)
from services.inventory.releases.rules import (
    ND,
    DistributionError,
    NotApplicable,
    NotDetermined,
    Pathway,
    UnitMismatch,
    Vector,
    check_units,
    distribute,
    mercury_input_kg,
    parse_factor,
    releases_by_vector,
    total_releases,
)
from services.inventory.releases.schemas import (
    FactorIn,
    FactorOut,
    FactorPatch,
    MercuryEstimateIn,
    MercuryEstimateOut,
    MercuryEstimatePatch,
    PathwayRelease,
    ReleaseStatus,
    ReleaseTotalOut,
    UpopsEstimateIn,
    UpopsEstimateOut,
    UpopsEstimatePatch,
    VectorRelease,
)
from services.inventory.submissions.models import Submission
from shared.problems import Problem
from shared.security import Principal

# Releases are stored to the picogram (g with 12 decimals): exact for any Toolkit factor.
RELEASE_QUANTUM = Decimal("1e-12")
_KIND = {NotDetermined: "ND", NotApplicable: "NA"}
_STATUS: dict[str, ReleaseStatus] = {
    "value": "determined",
    "ND": "not_determined",
    "NA": "not_applicable",
}


def unprocessable(field: str, message: str) -> Problem:
    """A 422 naming one body field."""
    return Problem(
        422,
        "validation-error",
        message,
        errors=[{"loc": ["body", field], "msg": message, "type": "value_error"}],
    )


# -- catalogue ---------------------------------------------------------------------------


def _factor_columns(text: str) -> dict[str, Any]:
    value = parse_factor(text)
    if isinstance(value, Decimal):
        return {"value_kind": "value", "value_ug_teq_per_unit": value}
    return {"value_kind": str(value), "value_ug_teq_per_unit": None}


def factor_text(kind: str, value: Decimal | None) -> str:
    """A factor as the Toolkit prints it: a number, "NA" or "ND"."""
    if kind == "value" and value is not None:
        return format(value.normalize(), "f")
    return kind


def factor_out(factor: EmissionFactor) -> FactorOut:
    """The API view of a catalogue entry."""
    fields = {k: getattr(factor, k) for k in FactorOut.model_fields if k != "value"}
    return FactorOut(**fields, value=factor_text(factor.value_kind, factor.value_ug_teq_per_unit))


async def create_factor(
    session: AsyncSession, principal: Principal, data: FactorIn
) -> EmissionFactor:
    """Add a factor to the catalogue (409 when its key exists)."""
    key = data.model_dump(
        include={"category", "class_no", "pollutant", "vector", "teq_scheme", "toolkit_edition"}
    )
    existing = await session.scalar(
        select(EmissionFactor.id).where(*(getattr(EmissionFactor, k) == v for k, v in key.items()))
    )
    if existing is not None:
        raise Problem(
            409, "duplicate", f"Factor {existing} has the same key.", existing_id=existing
        )
    fields = data.model_dump(exclude={"value"})
    factor = EmissionFactor(**fields, **_factor_columns(data.value))
    session.add(factor)
    await session.flush()
    record_change(
        session,
        principal,
        entity="emission_factor",
        entity_id=factor.id,
        action="create",
        after=snapshot(factor),
    )
    return factor


async def update_factor(
    session: AsyncSession, principal: Principal, factor: EmissionFactor, patch: FactorPatch
) -> None:
    """Change a catalogue entry. Estimates keep the factor they were computed with until
    they are edited (validated figures never move)."""
    before = snapshot(factor)
    changes = patch.model_dump(exclude_unset=True)
    if "value" in changes:
        changes.update(_factor_columns(changes.pop("value")))
    for name, value in changes.items():
        setattr(factor, name, value)
    await session.flush()
    record_change(
        session,
        principal,
        entity="emission_factor",
        entity_id=factor.id,
        action="update",
        before=before,
        after=snapshot(factor),
    )


# -- shared by both kinds of estimate ------------------------------------------------------


async def _check_holder(
    session: AsyncSession, submission: Submission, holder_id: int | None
) -> None:
    if holder_id is None:
        return
    holder = await session.get(Holder, holder_id)
    if holder is None or holder.org_code != submission.org_code:
        raise unprocessable("holder_id", f"No holder {holder_id} of {submission.org_code}.")


# -- unintentional POPs --------------------------------------------------------------------


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
        raise unprocessable(
            "class_no",
            f"The catalogue has no {estimate.pollutant} factor for category {estimate.category} "
            f"class {estimate.class_no}"
            + (f" ({scheme}, {edition})" if scheme or edition else "")
            + ".",
        )
    variants = {(f.teq_scheme, f.toolkit_edition) for f in factors}
    if len(variants) > 1:
        names = ", ".join(f"{s} {e}" for s, e in sorted(variants))
        raise unprocessable(
            "teq_scheme",
            f"Several factor sets exist ({names}): give teq_scheme and toolkit_edition.",
        )
    return factors


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
            raise unprocessable("activity_unit", str(exc)) from None
    values = {
        v: parse_factor(factor_text(f.value_kind, f.value_ug_teq_per_unit))
        for v, f in by_vector.items()
    }
    releases = releases_by_vector(estimate.activity_rate, values)
    await session.execute(delete(UpopsRelease).where(UpopsRelease.estimate_id == estimate.id))
    rows = []
    for vector, release in releases.items():
        found = by_vector.get(vector)
        kind = "value" if isinstance(release, Decimal) else _KIND[type(release)]
        rows.append(
            UpopsRelease(
                estimate_id=estimate.id,
                vector=vector.value,
                factor_id=found.id if found else None,
                factor_kind=found.value_kind if found else "ND",
                factor_ug_teq_per_unit=found.value_ug_teq_per_unit if found else None,
                release_kind=kind,
                release_g_teq_per_year=(
                    release.quantize(RELEASE_QUANTUM, rounding=ROUND_HALF_UP)
                    if isinstance(release, Decimal)
                    else None
                ),
            )
        )
    session.add_all(rows)
    await session.flush()
    return rows


def upops_out(estimate: UpopsEstimate, rows: Sequence[UpopsRelease]) -> UpopsEstimateOut:
    """The API view of an estimate with its releases and their total."""
    releases = {}
    parts = []
    for row in sorted(rows, key=lambda r: list(Vector).index(Vector(r.vector))):
        releases[row.vector] = VectorRelease(
            status=_STATUS[row.release_kind],
            release_g_teq_per_year=row.release_g_teq_per_year,
            factor=factor_text(row.factor_kind, row.factor_ug_teq_per_unit),
            factor_id=row.factor_id,
        )
        parts.append(
            row.release_g_teq_per_year
            if row.release_kind == "value" and row.release_g_teq_per_year is not None
            else (ND if row.release_kind == "ND" else NotApplicable.NA)
        )
    total = total_releases(parts)
    fields = {
        k: getattr(estimate, k) for k in UpopsEstimateOut.model_fields if hasattr(estimate, k)
    }
    return UpopsEstimateOut(
        **fields,
        releases=releases,
        total=ReleaseTotalOut(
            determined_g_teq_per_year=total.determined_g_teq,
            complete=total.complete,
            not_determined_vectors=[v for v, r in releases.items() if r.status == "not_determined"],
        ),
    )


async def upops_releases(session: AsyncSession, estimate_id: int) -> list[UpopsRelease]:
    """An estimate's release rows."""
    return list(
        await session.scalars(select(UpopsRelease).where(UpopsRelease.estimate_id == estimate_id))
    )


async def create_upops(
    session: AsyncSession, principal: Principal, submission: Submission, data: UpopsEstimateIn
) -> tuple[UpopsEstimate, list[UpopsRelease]]:
    """Add an estimate to an editable UP-POPs submission and compute its releases."""
    await _check_holder(session, submission, data.holder_id)
    estimate = UpopsEstimate(
        **data.model_dump(exclude={"teq_scheme", "toolkit_edition"}),
        submission_id=submission.id,
        org_code=submission.org_code,
        source_group="",
        teq_scheme="",
        toolkit_edition="",
    )
    session.add(estimate)
    await session.flush()
    scheme = data.teq_scheme.value if data.teq_scheme else None
    rows = await compute_upops(session, estimate, scheme=scheme, edition=data.toolkit_edition)
    record_change(
        session,
        principal,
        entity="upops_estimate",
        entity_id=estimate.id,
        action="create",
        after=snapshot(estimate),
    )
    return estimate, rows


async def update_upops(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: UpopsEstimate,
    patch: UpopsEstimatePatch,
) -> list[UpopsRelease]:
    """Change an estimate and recompute its releases from the current catalogue."""
    before = snapshot(estimate)
    changes = patch.model_dump(exclude_unset=True)
    if "holder_id" in changes:
        await _check_holder(session, submission, changes["holder_id"])
    for name, value in changes.items():
        setattr(estimate, name, value)
    rows = await compute_upops(
        session, estimate, scheme=estimate.teq_scheme, edition=estimate.toolkit_edition
    )
    record_change(
        session,
        principal,
        entity="upops_estimate",
        entity_id=estimate.id,
        action="update",
        before=before,
        after=snapshot(estimate),
    )
    return rows


# -- mercury -------------------------------------------------------------------------------


def _mercury_rows(
    estimate: MercuryEstimate, distribution: dict[Pathway, Decimal]
) -> list[MercuryRelease]:
    try:
        check_units(estimate.activity_unit, estimate.input_factor_unit)
    except UnitMismatch as exc:
        raise unprocessable("activity_unit", str(exc)) from None
    estimate.input_kg_per_year = mercury_input_kg(
        estimate.activity_rate, estimate.input_factor_kg_per_unit
    )
    try:
        parts = distribute(estimate.input_kg_per_year, distribution)
    except DistributionError as exc:
        raise unprocessable("distribution", str(exc)) from None
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
    return list(
        await session.scalars(
            select(MercuryRelease).where(MercuryRelease.estimate_id == estimate_id)
        )
    )


def mercury_out(estimate: MercuryEstimate, rows: Sequence[MercuryRelease]) -> MercuryEstimateOut:
    """The API view of a mercury estimate."""
    order = list(Pathway)
    releases = {
        r.pathway: PathwayRelease(
            distribution_factor=r.distribution_factor, release_kg_per_year=r.release_kg_per_year
        )
        for r in sorted(rows, key=lambda r: order.index(Pathway(r.pathway)))
    }
    fields = {
        k: getattr(estimate, k) for k in MercuryEstimateOut.model_fields if hasattr(estimate, k)
    }
    return MercuryEstimateOut(**fields, releases=releases)


async def create_mercury(
    session: AsyncSession, principal: Principal, submission: Submission, data: MercuryEstimateIn
) -> tuple[MercuryEstimate, list[MercuryRelease]]:
    """Add a mercury estimate to an editable mercury submission."""
    await _check_holder(session, submission, data.holder_id)
    estimate = MercuryEstimate(
        **data.model_dump(exclude={"distribution"}),
        submission_id=submission.id,
        org_code=submission.org_code,
        input_kg_per_year=Decimal(0),
    )
    _mercury_rows(estimate, data.distribution)  # validate before anything is written
    session.add(estimate)
    await session.flush()
    rows = await _store_mercury(session, estimate, data.distribution)
    record_change(
        session,
        principal,
        entity="mercury_estimate",
        entity_id=estimate.id,
        action="create",
        after=snapshot(estimate),
    )
    return estimate, rows


async def update_mercury(
    session: AsyncSession,
    principal: Principal,
    submission: Submission,
    estimate: MercuryEstimate,
    patch: MercuryEstimatePatch,
) -> list[MercuryRelease]:
    """Change a mercury estimate and recompute input and pathways."""
    before = snapshot(estimate)
    changes = patch.model_dump(exclude_unset=True)
    if "holder_id" in changes:
        await _check_holder(session, submission, changes["holder_id"])
    distribution = changes.pop("distribution", None)
    if distribution is None:
        distribution = {
            Pathway(r.pathway): r.distribution_factor
            for r in await mercury_releases(session, estimate.id)
        }
    for name, value in changes.items():
        setattr(estimate, name, value)
    rows = await _store_mercury(session, estimate, distribution)
    record_change(
        session,
        principal,
        entity="mercury_estimate",
        entity_id=estimate.id,
        action="update",
        before=before,
        after=snapshot(estimate),
    )
    return rows


# -- deletion and corrections ---------------------------------------------------------------


async def delete_estimate(
    session: AsyncSession, principal: Principal, estimate: UpopsEstimate | MercuryEstimate
) -> None:
    """Remove an estimate (and its release rows) from an editable submission."""
    before = snapshot(estimate)
    if isinstance(estimate, UpopsEstimate):
        await session.execute(delete(UpopsRelease).where(UpopsRelease.estimate_id == estimate.id))
        entity = "upops_estimate"
    else:
        await session.execute(
            delete(MercuryRelease).where(MercuryRelease.estimate_id == estimate.id)
        )
        entity = "mercury_estimate"
    await session.delete(estimate)
    await session.flush()
    record_change(
        session, principal, entity=entity, entity_id=before["id"], action="delete", before=before
    )


def _copy(record: Any, **overrides: Any) -> Any:
    columns = snapshot(record)
    fields = {
        k: getattr(record, k)
        for k in columns
        if k not in ("id", "created_at", "updated_at", "version")
    }
    return type(record)(**(fields | overrides))


async def copy_upops(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy every UP-POPs estimate (with its releases as computed) into a correction."""
    estimates = list(
        await session.scalars(select(UpopsEstimate).where(UpopsEstimate.submission_id == from_id))
    )
    for old in estimates:
        new = _copy(old, submission_id=to_id)
        session.add(new)
        await session.flush()
        for row in await upops_releases(session, old.id):
            session.add(_copy(row, estimate_id=new.id))
    await session.flush()
    return len(estimates)


async def copy_mercury(session: AsyncSession, *, from_id: int, to_id: int) -> int:
    """Copy every mercury estimate (with its pathways) into a correction."""
    estimates = list(
        await session.scalars(
            select(MercuryEstimate).where(MercuryEstimate.submission_id == from_id)
        )
    )
    for old in estimates:
        new = _copy(old, submission_id=to_id)
        session.add(new)
        await session.flush()
        for row in await mercury_releases(session, old.id):
            session.add(_copy(row, estimate_id=new.id))
    await session.flush()
    return len(estimates)
