"""Mercury release estimate representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.estimates.schemas import ActivityRate, Department, HolderId, Text, Unit
from services.inventory.mercury.rules import Pathway
from services.inventory.registry.schemas import PatchModel, StrictModel, scaled
from services.inventory.vocabulary import MercuryCategory


class MercuryEstimateIn(StrictModel):
    """Input = activity rate x input factor; each pathway gets input x its distribution
    factor (the factors must sum to 1 within 0.001)."""

    category: MercuryCategory
    subcategory: Annotated[str, Field(max_length=200)] | None = None
    toolkit_level: Literal[1, 2] = 1
    activity_rate: ActivityRate
    activity_unit: Unit
    input_factor_kg_per_unit: Annotated[
        Decimal, Field(ge=0, max_digits=15, decimal_places=9), scaled(9)
    ] = Field(description="kg Hg per unit of activity (below 10^6)")
    input_factor_unit: Unit = Field(description="The unit the input factor is per; must match.")
    factor_provenance: Annotated[str, Field(min_length=1, max_length=4000)]
    distribution: dict[
        Pathway, Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=5)]
    ]
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "asgm",
                    "subcategory": "Whole-ore amalgamation",
                    "toolkit_level": 1,
                    "activity_rate": "20000",
                    "activity_unit": "kg gold",
                    "input_factor_kg_per_unit": "3",
                    "input_factor_unit": "kg gold",
                    "factor_provenance": "UNEP mercury Toolkit Level 1 (2019), to verify",
                    "distribution": {"air": "0.25", "water": "0.3", "land": "0.45"},
                }
            ]
        }
    )


class MercuryEstimatePatch(PatchModel):
    """What may change in a mercury estimate (input and pathways are recomputed)."""

    _not_null: ClassVar[tuple[str, ...]] = (
        "activity_rate",
        "activity_unit",
        "input_factor_kg_per_unit",
        "input_factor_unit",
        "factor_provenance",
        "distribution",
        "toolkit_level",
    )

    subcategory: Annotated[str, Field(max_length=200)] | None = None
    toolkit_level: Literal[1, 2] | None = None
    activity_rate: ActivityRate | None = None
    activity_unit: Unit | None = None
    input_factor_kg_per_unit: (
        Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=9), scaled(9)] | None
    ) = None
    input_factor_unit: Unit | None = None
    factor_provenance: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    distribution: (
        dict[Pathway, Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=5)]] | None
    ) = None
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None


class PathwayRelease(BaseModel):
    """One output pathway's share."""

    distribution_factor: Decimal
    release_kg_per_year: Decimal


class MercuryEstimateOut(BaseModel):
    """A mercury estimate: input and releases per pathway, kg Hg/a."""

    id: int
    submission_id: int
    org_code: str
    category: str
    subcategory: str | None
    toolkit_level: int
    activity_rate: Decimal
    activity_unit: str
    input_factor_kg_per_unit: Decimal
    input_factor_unit: str
    factor_provenance: str
    input_kg_per_year: Decimal
    releases: dict[str, PathwayRelease]
    department_code: str | None
    holder_id: int | None
    description: str | None
    version: int
    updated_at: datetime
