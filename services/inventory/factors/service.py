"""The emission-factor catalogue: plain functions, session first."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.estimates.service import unprocessable
from services.inventory.factors.models import EmissionFactor
from services.inventory.factors.rules import fit_value_unit, parse_factor
from services.inventory.factors.schemas import FactorIn, FactorOut, FactorPatch
from services.inventory.history import record_saved, snapshot
from shared.problems import Problem
from shared.security import Principal


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
    fields["teq_scheme"] = factor.teq_scheme or None
    return FactorOut(**fields, value=factor_text(factor.value_kind, factor.value_ug_teq_per_unit))


async def create_factor(
    session: AsyncSession, principal: Principal, data: FactorIn
) -> EmissionFactor:
    """Add a factor to the catalogue (409 when its key exists)."""
    key = data.model_dump(
        include={"category", "class_no", "pollutant", "vector", "teq_scheme", "toolkit_edition"}
    )
    key["teq_scheme"] = key["teq_scheme"] or ""  # HCB, PeCBz: no TEQ scheme
    existing = await session.scalar(
        select(EmissionFactor.id).where(*(getattr(EmissionFactor, k) == v for k, v in key.items()))
    )
    if existing is not None:
        raise Problem(
            409, "duplicate", f"Factor {existing} has the same key.", existing_id=existing
        )
    fields = data.model_dump(exclude={"value"})
    fields["teq_scheme"] = key["teq_scheme"]
    factor = EmissionFactor(**fields, **_factor_columns(data.value))
    session.add(factor)
    await session.flush()
    record_saved(session, principal, "emission_factor", factor)
    return factor


async def update_factor(
    session: AsyncSession, principal: Principal, factor: EmissionFactor, patch: FactorPatch
) -> None:
    """Change a catalogue entry. Estimates keep the factor they were computed with until
    they are edited (validated figures never move)."""
    before = snapshot(factor)
    changes = patch.model_dump(exclude_unset=True)
    if "value_unit" in changes:
        try:
            per = changes.get("activity_unit") or factor.activity_unit
            changes["value_unit"] = fit_value_unit(factor.pollutant, changes["value_unit"], per)
        except ValueError as exc:
            raise unprocessable("value_unit", str(exc)) from None
    if "value" in changes:
        changes.update(_factor_columns(changes.pop("value")))
    for name, value in changes.items():
        setattr(factor, name, value)
    await session.flush()
    record_saved(session, principal, "emission_factor", factor, "update", before=before)
