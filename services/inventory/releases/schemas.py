"""Emission factor, UP-POPs estimate and mercury estimate representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from services.inventory.registry.schemas import PatchModel, StrictModel, scaled
from services.inventory.releases.rules import Pathway, Vector, parse_factor
from services.inventory.vocabulary import SOURCE_GROUPS, MercuryCategory


class Pollutant(StrEnum):
    PCDD_PCDF = "pcdd_pcdf"
    DL_PCB = "dl_pcb"
    HCB = "hcb"
    PECBZ = "pecbz"


class TeqScheme(StrEnum):
    WHO_2005 = "WHO-2005"
    WHO_1998 = "WHO-1998"
    I_TEQ = "I-TEQ"


def _factor_text(value: str) -> str:
    try:
        parsed = parse_factor(value)
    except ValueError:
        raise ValueError('a factor is a non-negative number, "NA" or "ND"') from None
    if isinstance(parsed, Decimal):
        if parsed >= Decimal("1e9") or parsed != parsed.quantize(Decimal("0.000001")):
            raise ValueError("a factor is below 10^9 with at most 6 decimals")
        return format(parsed.normalize(), "f")
    return str(parsed)


def _source_group(value: str) -> str:
    if value not in SOURCE_GROUPS:
        raise ValueError("source groups are 1 to 10")
    return value


FactorText = Annotated[
    str,
    Field(max_length=30, description='µg TEQ per unit of activity, "NA" or "ND"'),
    AfterValidator(_factor_text),
]
SourceGroup = Annotated[str, Field(max_length=2), AfterValidator(_source_group)]
Category = Annotated[
    str,
    Field(pattern=r"^(10|[1-9])[a-z]$", description="Toolkit source category, e.g. 1c, 6b"),
]
Unit = Annotated[str, Field(min_length=1, max_length=20, pattern=r"^[^\s].*$")]
ActivityRate = Annotated[
    Decimal, Field(ge=0, max_digits=18, decimal_places=6, description="Below 10^12"), scaled(6)
]
Department = Annotated[str, Field(pattern=r"^(0[1-9]|1[0-9]|2[0-5])$")]
HolderId = Annotated[int, Field(ge=1, le=2**31 - 1)]
Text = Annotated[str, Field(max_length=4000)]


class FactorIn(StrictModel):
    """A new catalogue entry (reviewers)."""

    source_group: SourceGroup
    category: Category
    category_name: Annotated[str, Field(min_length=1, max_length=300)]
    class_no: Annotated[int, Field(ge=1, le=99)]
    class_name: Annotated[str, Field(min_length=1, max_length=300)]
    pollutant: Pollutant = Pollutant.PCDD_PCDF
    vector: Vector
    value: FactorText
    activity_unit: Unit
    teq_scheme: TeqScheme = TeqScheme.WHO_2005
    toolkit_edition: Annotated[str, Field(pattern=r"^[0-9]{4}$")] = "2013"
    provenance: Annotated[str, Field(min_length=1, max_length=4000)]
    note: Text | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "source_group": "1",
                    "category": "1c",
                    "category_name": "Medical waste incineration",
                    "class_no": 1,
                    "class_name": "Uncontrolled batch combustion, no APCS",
                    "vector": "air",
                    "value": "40000",
                    "activity_unit": "t",
                    "provenance": "UNEP Toolkit 2013, annex (to verify)",
                }
            ]
        }
    )

    @model_validator(mode="after")
    def _group_matches(self) -> FactorIn:
        if (
            not self.category.startswith(self.source_group)
            or not self.category[len(self.source_group)].isalpha()
        ):
            raise ValueError("category must start with its source group (e.g. 1c in group 1)")
        return self


class FactorPatch(PatchModel):
    """Fields of a factor that may change; the key (category, class, pollutant, vector,
    scheme, edition) does not."""

    _not_null: ClassVar[tuple[str, ...]] = (
        "category_name",
        "class_name",
        "value",
        "activity_unit",
        "provenance",
    )

    category_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    class_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    value: FactorText | None = None
    activity_unit: Unit | None = None
    provenance: Annotated[str, Field(min_length=1, max_length=4000)] | None = None
    note: Text | None = None


class FactorOut(BaseModel):
    """A catalogue entry."""

    id: int
    source_group: str
    category: str
    category_name: str
    class_no: int
    class_name: str
    pollutant: str
    vector: str
    value: str = Field(description='µg TEQ per unit of activity, "NA" or "ND"')
    activity_unit: str
    teq_scheme: str
    toolkit_edition: str
    provenance: str
    note: str | None
    version: int
    updated_at: datetime


class UpopsEstimateIn(StrictModel):
    """An activity rate for one source class; the factors come from the catalogue."""

    category: Category
    class_no: Annotated[int, Field(ge=1, le=99)]
    pollutant: Pollutant = Pollutant.PCDD_PCDF
    teq_scheme: TeqScheme | None = Field(
        default=None, description="Needed only when the catalogue has several for the class."
    )
    toolkit_edition: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None
    activity_rate: ActivityRate
    activity_unit: Unit = Field(description="Must be the unit the factors are per (e.g. t).")
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "category": "6b",
                    "class_no": 2,
                    "activity_rate": "10000",
                    "activity_unit": "t",
                    "description": "Open burning of domestic waste, national estimate",
                }
            ]
        }
    )


class UpopsEstimatePatch(PatchModel):
    """What may change in an estimate (its releases are recomputed)."""

    _not_null: ClassVar[tuple[str, ...]] = ("activity_rate", "activity_unit")

    activity_rate: ActivityRate | None = None
    activity_unit: Unit | None = None
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None


ReleaseStatus = Literal["determined", "not_determined", "not_applicable"]


class VectorRelease(BaseModel):
    """The release by one vector. ND is "not_determined" with no value, never zero."""

    status: ReleaseStatus
    release_g_teq_per_year: Decimal | None
    factor: str = Field(description='µg TEQ per unit, "NA" or "ND"')
    factor_id: int | None


class ReleaseTotalOut(BaseModel):
    """The sum over vectors, keeping "not determined" visible."""

    determined_g_teq_per_year: Decimal
    complete: bool = Field(description="False when some vector is not determined.")
    not_determined_vectors: list[str]


class UpopsEstimateOut(BaseModel):
    """An estimate with its releases per vector, in g TEQ/a."""

    id: int
    submission_id: int
    org_code: str
    source_group: str
    category: str
    class_no: int
    pollutant: str
    teq_scheme: str
    toolkit_edition: str
    activity_rate: Decimal
    activity_unit: str
    department_code: str | None
    holder_id: int | None
    description: str | None
    releases: dict[str, VectorRelease]
    total: ReleaseTotalOut
    version: int
    updated_at: datetime


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
