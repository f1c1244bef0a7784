"""Activity representations: what callers send (strict: unknown or read-only fields are a
422, never ignored) and what they get back."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

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
Money = Annotated[
    Decimal, Field(max_digits=17, decimal_places=2, ge=Decimal("-1e15"), le=Decimal("1e15"))
]
Percentage = Annotated[Decimal, Field(max_digits=5, decimal_places=2, ge=0, le=100)]
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


class ActivityFields(Strict):
    """Everything the lead organisation may set (all optional here: the PATCH body)."""

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
        # null is "clear" for optional fields; these cannot be cleared.
        for name in ("identifier", "program", "title_en", "status", "visibility"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        for name in NOT_NULL_LISTS:
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null (send [] to empty it)")
        return self


NOT_NULL_LISTS = (
    "participants",
    "priority_areas",
    "action_areas",
    "sectors",
    "policy_markers",
    "locations",
    "budgets",
    "transactions",
    "document_links",
    "results",
)


class ActivityCreate(ActivityFields):
    """A new activity; the caller's organisation reports and leads it."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "identifier": "PE-ENLACE-EPA-OEFA-INS-2027",
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


# --- out -----------------------------------------------------------------------------------


class PartyOut(BaseModel):
    ref: str | None
    name: str | None
    type: str | None


class ParticipantOut(BaseModel):
    org: str | None = Field(description="Code of the registered organisation, if it is one.")
    ref: str | None
    name: str | None
    type: str | None
    role: int


class SectorOut(BaseModel):
    vocabulary: str
    code: str
    percentage: Decimal | None


class PolicyMarkerOut(BaseModel):
    vocabulary: str
    code: str
    significance: str | None


class LocationOut(BaseModel):
    department: str
    name: str


class BudgetOut(BaseModel):
    type: str
    status: str
    period_start: date
    period_end: date
    value: Decimal
    currency: str | None
    value_date: date


class TransactionOut(BaseModel):
    id: int
    type: str
    date: dt.date
    value: Decimal
    currency: str | None
    value_date: dt.date
    description: str | None
    provider_org: PartyOut | None
    receiver_org: PartyOut | None


class DocumentLinkOut(BaseModel):
    url: str
    format: str
    title: str
    category: str
    document_date: date | None
    language: str | None


class PeriodOut(BaseModel):
    id: int
    start: date
    end: date
    target: str | None
    actual: str | None


class BaselineOut(BaseModel):
    year: int
    value: str | None
    iso_date: date | None


class IndicatorOut(BaseModel):
    id: int
    measure: str
    title: str
    ascending: bool | None
    baseline: BaselineOut | None
    periods: list[PeriodOut]


class ResultOut(BaseModel):
    id: int
    type: str
    title: str
    description: str | None
    aggregation_status: bool | None
    indicators: list[IndicatorOut]


class ProgressUpdateOut(BaseModel):
    id: int
    reported_on: date
    text_en: str | None
    text_es: str | None
    author_org: str
    created_at: datetime


class ActivityOut(BaseModel):
    """An activity with every part; ``updated_at`` is its IATI last-updated-datetime."""

    identifier: str
    program: str
    reporting_org: str
    lead_org: str
    title_en: str
    title_es: str | None
    description_en: str | None
    description_es: str | None
    status: int
    visibility: Visibility
    published: bool
    published_at: datetime | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    default_currency: str | None
    participants: list[ParticipantOut]
    priority_areas: list[str]
    action_areas: list[str]
    sectors: list[SectorOut]
    policy_markers: list[PolicyMarkerOut]
    locations: list[LocationOut]
    budgets: list[BudgetOut]
    transactions: list[TransactionOut]
    funding_status: str | None = Field(
        description="pledged, committed, partially_disbursed, disbursed or none (derived "
        "from budgets and transactions); null when they mix currencies."
    )
    results: list[ResultOut]
    document_links: list[DocumentLinkOut]
    progress_updates: list[ProgressUpdateOut]
    version: int
    created_at: datetime
    updated_at: datetime


class ActivityPage(BaseModel):
    """One page of activities in (updated_at, identifier) order."""

    items: list[ActivityOut]
    next_cursor: str | None = Field(description="The next page; null on the last page.")
    resume_cursor: str | None = Field(
        description="Keep this for the next sync: passed as `cursor` later it returns what "
        "changed since this page, and nothing is missed."
    )


class ChangeOut(BaseModel):
    """A change feed entry as the caller sees it."""

    seq: int
    identifier: str
    kind: Literal["upsert", "delete", "withdrawn"]
    at: datetime


class ChangePage(BaseModel):
    items: list[ChangeOut]
    next_after: int = Field(description="Pass as `after` to continue; store it between syncs.")


class HistoryEntryOut(BaseModel):
    id: int
    at: datetime
    version: int | None
    client_id: str
    org: str | None
    action: str
    changes: dict[str, dict[str, object]]


class HistoryPage(BaseModel):
    items: list[HistoryEntryOut]
    next_cursor: str | None
