"""Mercury release estimate representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from services.inventory.estimates.schemas import ActivityRate, Department, HolderId, Text, Unit
from services.inventory.mercury.catalogue import FactorChoice
from services.inventory.mercury.rules import Pathway
from services.inventory.registry.schemas import PatchModel, StrictModel, scaled
from services.inventory.vocabulary import MercuryCategory


class MercuryEstimateIn(StrictModel):
    """Input = activity rate x input factor; each pathway gets input x its distribution
    factor (the factors must sum to 1 within 0.001).

    Level 1: ``factor_id`` names a catalogue factor (``/mercury-factors``), whose input
    factor (``input_factor_choice``: default, low or high), unit, distribution and
    provenance are copied into the estimate; the four own-factor fields are then refused.
    Level 2: no ``factor_id``; the estimate gives its own input factor, unit, provenance
    and distribution (all four required)."""

    category: MercuryCategory
    subcategory: Annotated[str, Field(max_length=200)] | None = None
    factor_id: HolderId | None = Field(
        default=None, description="A catalogue factor: makes this a Level 1 estimate."
    )
    input_factor_choice: FactorChoice | None = Field(
        default=None, description="Level 1 only: default (if omitted), low or high."
    )
    toolkit_level: Literal[1, 2] | None = Field(
        default=None,
        description="Follows from factor_id (1 with a catalogue factor, 2 with an own "
        "factor); 422 if it says otherwise.",
    )
    activity_rate: ActivityRate
    activity_unit: Unit
    input_factor_kg_per_unit: (
        Annotated[Decimal, Field(ge=0, max_digits=15, decimal_places=9), scaled(9)] | None
    ) = Field(default=None, description="Level 2: kg Hg per unit of activity (below 10^6)")
    input_factor_unit: Unit | None = Field(
        default=None, description="Level 2: the unit the input factor is per; must match."
    )
    factor_provenance: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    distribution: (
        dict[Pathway, Annotated[Decimal, Field(ge=0, le=1, max_digits=6, decimal_places=5)]] | None
    ) = None
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "asgm",
                    "subcategory": "Whole-ore amalgamation",
                    "toolkit_level": 2,
                    "activity_rate": "20000",
                    "activity_unit": "kg gold",
                    "input_factor_kg_per_unit": "3",
                    "input_factor_unit": "kg gold",
                    "factor_provenance": "Own (Level 2) factor, illustrative: not checked "
                    "against the Toolkit (see the catalogue README)",
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
    toolkit_level: int = Field(description="1: a catalogue factor; 2: the estimate's own.")
    factor_source: Literal["catalogue", "own"]
    factor_id: int | None
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
