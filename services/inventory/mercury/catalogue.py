"""The mercury Level 1 factor catalogue: representations and plain functions, session
first. Factors are data with provenance (``data/README.md``); estimates copy the factor
they were computed with, so later catalogue edits never move recorded figures."""

from __future__ import annotations

import csv
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.inventory.estimates.schemas import Text, Unit
from services.inventory.history import record_saved
from services.inventory.mercury.factors import MercuryFactor
from services.inventory.mercury.rules import Pathway
from services.inventory.registry.schemas import StrictModel, scaled
from services.inventory.vocabulary import MercuryCategory
from shared.problems import Problem
from shared.security import Principal
from shared.tokens import VerifiedToken

Factor = Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=9), scaled(9)]
Share = Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=5), scaled(5)]
# The tolerance estimates use for distribution factors (``rules.distribute``).
SUM_TOLERANCE = Decimal("0.001")
FactorChoice = Literal["default", "low", "high"]


class MercuryFactorIn(StrictModel):
    """A Level 1 default (reviewers): kg Hg input per unit of activity and its distribution
    over the six pathways (pathways left out are 0; the shares sum to 1 within 0.001)."""

    category: MercuryCategory
    subcategory: Annotated[str, Field(min_length=1, max_length=200)]
    activity_unit: Unit = Field(description="The unit the input factor is per, e.g. kg gold.")
    input_factor_default: Factor = Field(description="kg Hg per activity unit.")
    input_factor_low: Factor | None = None
    input_factor_high: Factor | None = None
    distribution: dict[Pathway, Share]
    toolkit_version: Annotated[str, Field(min_length=1, max_length=40)] = "2019 Level 1 v2.1"
    provenance: Annotated[str, Field(min_length=1, max_length=4000)]
    note: Text | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "waste_deposition",
                    "subcategory": "Controlled landfills/deposits",
                    "activity_unit": "t waste",
                    "input_factor_default": "0.000005",
                    "distribution": {"air": "0.01", "water": "0.0001", "land": "0.9899"},
                    "provenance": "UNEP mercury Toolkit, Inventory Level 1 (2019), table ...",
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _consistent(self) -> MercuryFactorIn:
        low, high, default = (
            self.input_factor_low,
            self.input_factor_high,
            self.input_factor_default,
        )
        if low is not None and low > default:
            raise ValueError("input_factor_low is above input_factor_default")
        if high is not None and high < default:
            raise ValueError("input_factor_high is below input_factor_default")
        total = sum(self.distribution.values(), Decimal(0))
        if abs(total - 1) > SUM_TOLERANCE:
            raise ValueError(f"distribution sums to {total}, not 1 (±{SUM_TOLERANCE})")
        return self


class MercuryFactorOut(BaseModel):
    """A catalogue entry."""

    id: int
    category: str
    subcategory: str
    activity_unit: str
    input_factor_default: Decimal
    input_factor_low: Decimal | None
    input_factor_high: Decimal | None
    distribution: dict[str, Decimal] = Field(description="All six pathways, summing to 1.")
    toolkit_version: str
    provenance: str
    note: str | None
    version: int
    updated_at: datetime


def distribution_of(factor: MercuryFactor) -> dict[Pathway, Decimal]:
    """The factor's share per pathway (all six)."""
    return {p: getattr(factor, p.value) for p in Pathway}


def factor_out(factor: MercuryFactor) -> MercuryFactorOut:
    """The API view of a catalogue entry."""
    fields = {k: getattr(factor, k) for k in MercuryFactorOut.model_fields if k != "distribution"}
    shares = {p.value: v for p, v in distribution_of(factor).items()}
    return MercuryFactorOut(**fields, distribution=shares)


def input_factor(factor: MercuryFactor, choice: FactorChoice) -> Decimal | None:
    """The catalogue's default, low or high input factor (None where it gives none)."""
    value: Decimal | None = getattr(factor, f"input_factor_{choice}")
    return value


async def find_factor(session: AsyncSession, data: MercuryFactorIn) -> int | None:
    """The id of the factor with the same key (category, sub-category, version)."""
    return await session.scalar(
        select(MercuryFactor.id).where(
            MercuryFactor.category == data.category.value,
            MercuryFactor.subcategory == data.subcategory,
            MercuryFactor.toolkit_version == data.toolkit_version,
        )
    )


async def create_factor(
    session: AsyncSession, principal: Principal, data: MercuryFactorIn
) -> MercuryFactor:
    """Add a factor (409 when one with the same key exists)."""
    existing = await find_factor(session, data)
    if existing is not None:
        raise Problem(
            409, "duplicate", f"Mercury factor {existing} has the same key.", existing_id=existing
        )
    nothing = Decimal(0).quantize(Decimal("0.00001"))  # as the column reads it back
    shares = {p.value: data.distribution.get(p, nothing) for p in Pathway}
    factor = MercuryFactor(**data.model_dump(exclude={"distribution", "category"}), **shares)
    factor.category = data.category.value
    session.add(factor)
    await session.flush()
    record_saved(session, principal, "mercury_factor", factor)
    return factor


# -- the catalogue as shipped ------------------------------------------------------------

DATA = Path(__file__).parent / "data" / "level1_2019.csv"
LOADER = VerifiedToken(
    client_id="toolkit-catalogue", org="MINAM", scopes=frozenset(), jti="catalogue", exp=0
)


def read_mercury_catalogue(path: Path = DATA) -> list[MercuryFactorIn]:
    """The factors of the data file (one row each, the six shares in their own columns),
    validated as the API validates a new factor (ValueError naming the line)."""
    factors = []
    with path.open(encoding="utf-8", newline="") as f:
        for line, row in enumerate(csv.DictReader(f), start=2):
            fields: dict[str, object] = {
                k: v for k, v in row.items() if v != "" and k not in {p.value for p in Pathway}
            }
            fields["distribution"] = {p.value: row[p.value] for p in Pathway if row[p.value]}
            try:
                factors.append(MercuryFactorIn.model_validate(fields))
            except ValueError as exc:
                raise ValueError(f"{path.name} line {line}: {exc}") from exc
    return factors


async def load_mercury_catalogue(
    session: AsyncSession, principal: Principal = LOADER, path: Path = DATA
) -> int:
    """Add the data file's factors the catalogue lacks (by category, sub-category and
    version; existing ones are never changed); return how many were added."""
    added = 0
    for data in read_mercury_catalogue(path):
        if await find_factor(session, data) is None:
            await create_factor(session, principal, data)
            added += 1
    await session.flush()
    return added
