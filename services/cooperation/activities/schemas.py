"""What callers send about an activity (strict: unknown or read-only fields are a 422, never
ignored). What they get back is in ``views``."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, ClassVar, Literal, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.cooperation.iati import MAX_DECIMAL_DIGITS
from shared.openapi_contract import NotNullInSchema

# Bounded everything: a caller cannot make the service store or check unbounded input.
Code = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z]{1,10}$")]
OrgCode = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z_-]{1,40}$")]
Currency = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2}$")]
Department = Annotated[str, StringConstraints(pattern=r"^[0-9]{2}$")]
AreaCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}$")]
ActionAreaCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{1,4}\.[0-9]{1,3}$")]
# IATI: an identifier never contains "/", "&", "|" or "?", nor white space.
Identifier = Annotated[
    str, StringConstraints(min_length=3, max_length=150, pattern=r"^[^\s/&|?#%\\]+$")
]
Title = Annotated[str, StringConstraints(min_length=1, max_length=500)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=20000)]
ShortText = Annotated[str, StringConstraints(max_length=100)]
Name = Annotated[str, StringConstraints(min_length=1, max_length=300)]
Ref = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=r"^\S+$")]
Day = Annotated[date, Field(ge=date(1900, 1, 1), le=date(2199, 12, 31))]
# Exact, at any scale (IATI has 3-decimal money, amounts of 10^15 and more): what the
# database holds, up to MAX_DECIMAL_DIGITS digits.
Money = Annotated[Decimal, Field(max_digits=MAX_DECIMAL_DIGITS, allow_inf_nan=False)]
Percentage = Annotated[
    Decimal, Field(max_digits=MAX_DECIMAL_DIGITS, ge=0, le=100, allow_inf_nan=False)
]
Visibility = Literal["public", "partners", "participants"]
Status = Annotated[int, Field(ge=1, le=6, description="IATI ActivityStatus 1-6")]


class Strict(BaseModel):
    """Input: fields the caller may not set are rejected, not ignored."""

    model_config = ConfigDict(extra="forbid")


class PartyIn(Strict):
    """An organisation: a registered one by ``org`` code, or any other by ref/name/type."""

    org: OrgCode | None = None
    ref: Ref | None = None
    name: Name | None = None
    type: Code | None = None

    @model_validator(mode="after")
    def _one_way(self) -> PartyIn:
        if self.org is not None:
            if self.ref is not None or self.name is not None or self.type is not None:
                raise ValueError("ref, name and type come from the registered organisation")
        elif self.ref is None and self.name is None:
            raise ValueError("give org (a registered organisation's code), or a ref or name")
        return self


class ParticipantIn(PartyIn):
    """A participating organisation and its IATI role."""

    role: int = Field(
        ge=1, le=4, description="1 funding, 2 accountable, 3 extending, 4 implementing"
    )


class SectorIn(Strict):
    vocabulary: Code = "1"
    code: Code
    percentage: Percentage | None = None


class PolicyMarkerIn(Strict):
    vocabulary: Code = "1"
    code: Code
    significance: Code | None = None


class BudgetIn(Strict):
    type: Code = "1"
    status: Code = "1"
    period_start: Day
    period_end: Day
    value: Money
    currency: Currency | None = None
    value_date: Day


class TransactionIn(Strict):
    type: Code
    date: Day
    value: Money
    currency: Currency | None = None
    value_date: Day | None = Field(default=None, description="Defaults to the date.")
    description: LongText | None = None
    provider_org: PartyIn | None = None
    receiver_org: PartyIn | None = None


class DocumentLinkIn(Strict):
    url: Annotated[str, StringConstraints(max_length=2000, pattern=r"^https?://\S+$")]
    format: Annotated[str, StringConstraints(max_length=100, pattern=r"^[\w.+-]+/[\w.+-]+$")]
    title: Title
    category: Code
    document_date: Day | None = None
    language: Language | None = None


class PeriodIn(Strict):
    start: Day
    end: Day
    target: ShortText | None = None
    actual: ShortText | None = None


class BaselineIn(Strict):
    year: int = Field(ge=1900, le=2199)
    value: ShortText | None = None
    iso_date: Day | None = None


class IndicatorIn(Strict):
    measure: Code
    title: Title
    ascending: bool | None = None
    baseline: BaselineIn | None = None
    periods: list[PeriodIn] = Field(default_factory=list, max_length=100)


class ResultIn(Strict):
    type: Code
    title: Title
    description: LongText | None = None
    aggregation_status: bool | None = None
    indicators: list[IndicatorIn] = Field(
        min_length=1, max_length=100, description="IATI needs one or more per result."
    )


class ActivityFields(NotNullInSchema, Strict):
    """Everything the lead organisation may set (all optional here: the PATCH body)."""

    # null is "clear" for optional fields; these cannot be cleared (the lists are added
    # below, once the fields are known).
    _not_null: ClassVar[tuple[str, ...]] = (
        "identifier",
        "program",
        "title_en",
        "status",
        "visibility",
    )

    identifier: Identifier | None = Field(
        default=None, description="Only while the activity is unpublished."
    )
    program: Annotated[str, StringConstraints(max_length=60)] | None = None
    title_en: Title | None = None
    title_es: Title | None = None
    description_en: LongText | None = None
    description_es: LongText | None = None
    status: Status | None = None
    visibility: Visibility | None = None
    planned_start: Day | None = None
    planned_end: Day | None = None
    actual_start: Day | None = None
    actual_end: Day | None = None
    default_currency: Currency | None = None
    participants: list[ParticipantIn] | None = Field(default=None, max_length=50)
    priority_areas: list[AreaCode] | None = Field(default=None, max_length=20)
    action_areas: list[ActionAreaCode] | None = Field(default=None, max_length=100)
    sectors: list[SectorIn] | None = Field(default=None, max_length=50)
    policy_markers: list[PolicyMarkerIn] | None = Field(default=None, max_length=30)
    locations: list[Department] | None = Field(default=None, max_length=30)
    budgets: list[BudgetIn] | None = Field(default=None, max_length=200)
    transactions: list[TransactionIn] | None = Field(default=None, max_length=2000)
    document_links: list[DocumentLinkIn] | None = Field(default=None, max_length=200)
    results: list[ResultIn] | None = Field(default=None, max_length=100)

    @model_validator(mode="after")
    def _required_stay_set(self) -> ActivityFields:
        for name in ("identifier", "program", "title_en", "status", "visibility"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        for name in NOT_NULL_LISTS:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null (send [] to empty it)")
        return self


# The list fields: null cannot clear them (send [] to empty one).
NOT_NULL_LISTS = tuple(
    name
    for name, field in ActivityFields.model_fields.items()
    if list in {get_origin(t) for t in get_args(field.annotation)}
)
ActivityFields._not_null += NOT_NULL_LISTS


class ActivityCreate(ActivityFields):
    """A new activity; the caller's organisation reports and leads it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "US-GOV-32-OEFA-INS-2027",
                    "program": "US-PE-ECWP-2015-2018",
                    "title_en": "Inspection training for OEFA",
                    "title_es": "Capacitación en inspecciones para el OEFA",
                    "description_en": "Train-the-trainer course on compliance inspections.",
                    "status": 1,
                    "visibility": "public",
                    "planned_start": "2027-01-01",
                    "planned_end": "2027-12-31",
                    "default_currency": "USD",
                    "participants": [{"org": "EPA", "role": 2}, {"org": "OEFA", "role": 4}],
                    "priority_areas": ["A"],
                    "action_areas": ["A.1"],
                    "sectors": [{"code": "41010", "percentage": "100"}],
                    "policy_markers": [{"code": "2", "significance": "2"}],
                    "locations": ["15"],
                }
            ]
        }
    )

    identifier: Identifier = Field(
        description="Your organisation's IATI ref, '-', your own id: never reused."
    )
    program: Annotated[str, StringConstraints(max_length=60)]
    title_en: Title
    status: Status
    visibility: Visibility = "participants"
    participants: list[ParticipantIn] = Field(min_length=1, max_length=50)


class ProgressUpdateIn(Strict):
    """A dated progress narrative (in English, Spanish or both)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"reported_on": "2026-03-31", "text_es": "Se capacitó a 22 inspectores."}]
        }
    )

    reported_on: Day
    text_en: LongText | None = None
    text_es: LongText | None = None

    @model_validator(mode="after")
    def _some_text(self) -> ProgressUpdateIn:
        if self.text_en is None and self.text_es is None:
            raise ValueError("give text_en, text_es or both")
        return self


class ActualIn(Strict):
    """The actual value reached in an indicator period (null withdraws it)."""

    actual: ShortText | None


class SpendingIn(TransactionIn):
    """Money actually spent: a disbursement (3) or an expenditure (4)."""

    type: Literal["3", "4"]
