"""What callers get back about activities: the activity, its pages, the change feed and
the history (what they send is in ``schemas``)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, Field

from services.cooperation.activities.schemas import Visibility
from services.cooperation.bindings.schemas import ActualSourceOut


class PartyOut(BaseModel):
    ref: str | None
    name: str | None
    type: str | None


# IATI codes: a whole number as the codelists have them, or the text an IATI import brought
# when it is not one (the schema allows any code; Enlace keeps it as sent).
CODE = "IATI code: an integer for the codelist's codes, else the code an import gave, as text."


class ParticipantOut(BaseModel):
    org: str | None = Field(description="Code of the registered organisation, if it is one.")
    ref: str | None
    name: str | None
    type: str | None
    role: int | str = Field(description=CODE)


class SectorOut(BaseModel):
    vocabulary: str
    code: str
    percentage: Decimal | None


class PolicyMarkerOut(BaseModel):
    vocabulary: str
    code: str
    significance: str | None


class LocationOut(BaseModel):
    department: str | None = Field(
        description="The location's ref: an INEI department code for activities entered "
        "here; an IATI import keeps the ref it had (any, or none)."
    )
    name: str | None


class DateOut(BaseModel):
    """An activity date of a type with no field of its own (from an IATI import)."""

    type: str
    iso_date: date


class DescriptionOut(BaseModel):
    """A description other than the general one (from an IATI import)."""

    type: str
    texts: dict[str, str] = Field(description="Text by language code.")


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
    actual_source: ActualSourceOut | None = Field(
        None,
        description="When the indicator is bound to an inventory metric: where the actual "
        "comes from (metric, scope, when read, which submissions, stale). Shown by "
        "`GET /v1/activities/{identifier}`.",
    )


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
    status: int | str = Field(description=CODE)
    visibility: Visibility
    published: bool
    published_at: datetime | None
    planned_start: date | None
    planned_end: date | None
    actual_start: date | None
    actual_end: date | None
    default_currency: str | None
    hierarchy: int | None = Field(description="IATI hierarchy, as an import sent it (2 here).")
    other_dates: list[DateOut]
    other_descriptions: list[DescriptionOut]
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
    total: int | None = Field(
        None,
        description="With `count=true`: how many activities match the filters (every page, "
        "not only this one); null otherwise.",
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
