"""Emission-factor catalogue representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, ClassVar

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationInfo,
    field_validator,
    model_validator,
)

from services.inventory.estimates.schemas import Text, Unit
from services.inventory.factors.rules import Vector, fit_value_unit, is_teq, parse_factor
from services.inventory.registry.schemas import PatchModel, StrictModel
from services.inventory.vocabulary import SOURCE_GROUPS


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
    Field(max_length=30, description='In value_unit per unit of activity, "NA" or "ND"'),
    AfterValidator(_factor_text),
]
ValueUnit = Annotated[
    str,
    Field(
        max_length=20,
        description="The factor's mass unit: µg TEQ (or ng TEQ, mg TEQ) for pcdd_pcdf and "
        "dl_pcb; µg (or ng, mg) for hcb and pecbz, which have no TEQ. Default: µg TEQ, "
        "resp. µg.",
    ),
]


def fit_scheme(pollutant: Pollutant | None, scheme: TeqScheme | None) -> TeqScheme | None:
    """The TEQ scheme of a pollutant's factor or estimate: none for HCB and PeCBz (a
    ValueError if one is given)."""
    if pollutant is None or is_teq(pollutant.value):
        return scheme
    if scheme is not None:
        raise ValueError(f"{pollutant.value} is reported in mass and has no TEQ scheme")
    return None


SourceGroup = Annotated[str, Field(max_length=2), AfterValidator(_source_group)]
Category = Annotated[
    str,
    Field(pattern=r"^(10|[1-9])[a-z]$", description="Toolkit source category, e.g. 1c, 6b"),
]


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
    value_unit: ValueUnit | None = Field(default=None, validate_default=True)
    teq_scheme: TeqScheme | None = Field(
        default=None,
        validate_default=True,
        description="pcdd_pcdf, dl_pcb: default WHO-2005. hcb, pecbz: none (422 if given).",
    )
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

    @field_validator("value_unit")
    @classmethod
    def _unit_fits(cls, value: str | None, info: ValidationInfo) -> str | None:
        pollutant = info.data.get("pollutant")
        per = info.data.get("activity_unit")
        return value if pollutant is None else fit_value_unit(pollutant.value, value, per)

    @field_validator("teq_scheme")
    @classmethod
    def _scheme_fits(cls, value: TeqScheme | None, info: ValidationInfo) -> TeqScheme | None:
        pollutant = info.data.get("pollutant")
        scheme = fit_scheme(pollutant, value)
        if scheme is None and pollutant is not None and is_teq(pollutant.value):
            return TeqScheme.WHO_2005
        return scheme

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
        "value_unit",
        "activity_unit",
        "provenance",
    )

    category_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    class_name: Annotated[str, Field(min_length=1, max_length=300)] | None = None
    value: FactorText | None = None
    value_unit: ValueUnit | None = Field(
        default=None, description="Must fit the factor's pollutant (TEQ or mass), else 422."
    )
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
    value: str = Field(description='In value_unit per activity_unit, "NA" or "ND"')
    value_unit: str = Field(description="µg TEQ (TEQ pollutants) or µg (HCB, PeCBz)...")
    activity_unit: str
    teq_scheme: str | None = Field(description="null for HCB and PeCBz (mass, no TEQ).")
    toolkit_edition: str
    provenance: str
    note: str | None
    version: int
    updated_at: datetime
