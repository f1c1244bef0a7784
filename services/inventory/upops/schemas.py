"""UP-POPs release estimate representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator

from services.inventory.estimates.schemas import ActivityRate, Department, HolderId, Text, Unit
from services.inventory.factors.schemas import Category, Pollutant, TeqScheme, fit_scheme
from services.inventory.registry.schemas import PatchModel, StrictModel


class UpopsEstimateIn(StrictModel):
    """An activity rate for one source class; the factors come from the catalogue."""

    category: Category
    class_no: Annotated[int, Field(ge=1, le=99)]
    pollutant: Pollutant = Pollutant.PCDD_PCDF
    teq_scheme: TeqScheme | None = Field(
        default=None,
        description="Needed only when the catalogue has several for the class. None for "
        "hcb and pecbz (mass, no TEQ: 422 if given).",
    )
    toolkit_edition: Annotated[str, Field(pattern=r"^[0-9]{4}$")] | None = None
    activity_rate: ActivityRate
    activity_unit: Unit = Field(description="Must be the unit the factors are per (e.g. t).")
    department_code: Department | None = None
    holder_id: HolderId | None = None
    description: Text | None = None

    @field_validator("teq_scheme")
    @classmethod
    def _scheme_fits(cls, value: TeqScheme | None, info: ValidationInfo) -> TeqScheme | None:
        return fit_scheme(info.data.get("pollutant"), value)

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
    """The release by one vector, in ``unit``. ND is "not_determined" with no value,
    never zero."""

    status: ReleaseStatus
    release: Decimal | None = Field(description="In unit: g TEQ/a, or g/a for HCB, PeCBz.")
    unit: str
    release_g_teq_per_year: Decimal | None = Field(
        description="The same for PCDD/F and dl-PCB; null for HCB and PeCBz (not a TEQ)."
    )
    factor: str = Field(description='In the unit of the factor factor_id, "NA" or "ND"')
    factor_id: int | None


class ReleaseTotalOut(BaseModel):
    """The sum over vectors, keeping "not determined" visible."""

    determined: Decimal = Field(description="In unit.")
    unit: str
    determined_g_teq_per_year: Decimal | None = Field(
        description="The same for PCDD/F and dl-PCB; null for HCB and PeCBz (not a TEQ)."
    )
    complete: bool = Field(description="False when some vector is not determined.")
    not_determined_vectors: list[str]


class UpopsEstimateOut(BaseModel):
    """An estimate with its releases per vector, in g TEQ/a under its scheme (PCDD/F,
    dl-PCB) or in g/a (HCB, PeCBz: mass, no scheme)."""

    id: int
    submission_id: int
    org_code: str
    source_group: str
    category: str
    class_no: int
    pollutant: str
    teq_scheme: str | None = Field(description="null for HCB and PeCBz.")
    unit: str = Field(description="Of the releases: g TEQ/a or g/a.")
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
