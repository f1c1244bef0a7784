"""Activities of the matrix with their IATI parts, and the records that make donor sync safe
(the change feed, the history, the commit clock)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    ForeignKey,
    Index,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.cooperation.db import Base, ExactDecimal, cascade
from services.cooperation.programs.models import (
    ActionArea,
    Organisation,
    PriorityArea,
    WorkProgram,
)
from shared.db import UTCDateTime, VersionedMixin
from shared.idempotency import IdempotencyMixin

VISIBILITIES = ("public", "partners", "participants")
# Identifiers and indexed codes are bounded (an index entry must fit a page); every other
# text an IATI file may carry is unbounded ``Text``, held as it came.
IDENTIFIER_LENGTH = 500
INDEXED_CODE_LENGTH = 500
# IATI codes are strings (``"2"``, ``"xx"``): imports keep any code the schema allows.
Code = Text


def _children(order_by: str) -> Any:
    # Children live and die with their activity; the database cascades the deletes.
    return relationship(
        lazy="raise", order_by=order_by, cascade="all, delete-orphan", passive_deletes=True
    )


class Activity(VersionedMixin, Base):
    """One activity of the matrix; its IATI identifier never changes once published.

    ``updated_at`` is IATI's ``last-updated-datetime``: it is set, with ``version``, by the
    commit clock (``activities/sync.py``) whenever the activity or any of its parts changes.
    ``hierarchy`` is kept as sent (any ``xsd:int``, null when an import had none);
    ``other_dates`` and ``other_descriptions`` hold, as JSON, the activity dates and
    descriptions of an IATI import that have no column of their own (null when none);
    ``iati_xml`` the whole ``iati-activity`` of the last import, which the export merges
    with the columns so that nothing the publisher sent is lost.
    """

    __tablename__ = "activities"
    __table_args__ = (
        CheckConstraint("visibility IN ('public', 'partners', 'participants')", name="visibility"),
        # Donor pull: every collection is read in (updated_at, id) order.
        Index("ix_activities_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    identifier: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH), unique=True)
    program_id: Mapped[int] = mapped_column(ForeignKey("work_programs.id"), index=True)
    reporting_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    lead_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    title_en: Mapped[str] = mapped_column(Text)
    title_es: Mapped[str | None] = mapped_column(Text)
    description_en: Mapped[str | None] = mapped_column(Text)
    description_es: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(INDEXED_CODE_LENGTH), index=True)
    planned_start: Mapped[date | None]
    planned_end: Mapped[date | None]
    actual_start: Mapped[date | None]
    actual_end: Mapped[date | None]
    default_currency: Mapped[str | None] = mapped_column(Code)
    visibility: Mapped[str] = mapped_column(String(12))
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hierarchy: Mapped[int | None]
    other_dates: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    other_descriptions: Mapped[list[Any] | None] = mapped_column(JSON(none_as_null=True))
    # An imported activity's ``iati-activity`` element as sent (``iati/kept.py``); null
    # for one created through the API.
    iati_xml: Mapped[str | None] = mapped_column(Text)
    # The recipient country and region codes it declares, space-separated (``AF AG``):
    # ``PE`` and none for one entered here, an import's from its XML as sent.
    recipient_countries: Mapped[str] = mapped_column(Text, default="PE", server_default="PE")
    recipient_regions: Mapped[str] = mapped_column(Text, default="", server_default="")

    program: Mapped[WorkProgram] = relationship(lazy="raise")
    reporting_org: Mapped[Organisation] = relationship(
        foreign_keys=[reporting_org_id], lazy="raise"
    )
    lead_org: Mapped[Organisation] = relationship(foreign_keys=[lead_org_id], lazy="raise")
    participants: Mapped[list[Participant]] = _children("Participant.id")
    priority_areas: Mapped[list[PriorityArea]] = relationship(
        secondary="activity_priority_areas", lazy="raise", order_by="PriorityArea.code"
    )
    action_areas: Mapped[list[ActionArea]] = relationship(
        secondary="activity_action_areas", lazy="raise", order_by="ActionArea.id"
    )
    sectors: Mapped[list[Sector]] = _children("Sector.id")
    policy_markers: Mapped[list[PolicyMarker]] = _children("PolicyMarker.id")
    locations: Mapped[list[Location]] = _children("Location.id")
    budgets: Mapped[list[Budget]] = _children("Budget.id")
    transactions: Mapped[list[Transaction]] = _children("Transaction.id")
    document_links: Mapped[list[DocumentLink]] = _children("DocumentLink.id")
    results: Mapped[list[Result]] = _children("Result.id")
    progress_updates: Mapped[list[ProgressUpdate]] = _children("ProgressUpdate.id")


class ActivityPriorityArea(Base):
    """An activity placed in a priority area of its program."""

    __tablename__ = "activity_priority_areas"
    __table_args__ = (Index("ix_activity_priority_areas_area", "priority_area_id", "activity_id"),)

    activity_id: Mapped[int] = cascade("activities", primary_key=True)
    priority_area_id: Mapped[int] = cascade("priority_areas", primary_key=True)


class ActivityActionArea(Base):
    """An activity placed in an action area of its program."""

    __tablename__ = "activity_action_areas"
    __table_args__ = (Index("ix_activity_action_areas_area", "action_area_id", "activity_id"),)

    activity_id: Mapped[int] = cascade("activities", primary_key=True)
    action_area_id: Mapped[int] = cascade("action_areas", primary_key=True)


class Participant(Base):
    """A participating organisation with its IATI role (1 funding, 2 accountable,
    3 extending, 4 implementing). A registered organisation is linked; another one (from an
    IATI import) keeps the ref, name and type it came with."""

    __tablename__ = "activity_participants"
    __table_args__ = (Index("ix_activity_participants_org", "organisation_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    organisation_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    role: Mapped[str] = mapped_column(Code)
    ref: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)
    org_type: Mapped[str | None] = mapped_column(Code)

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")


class Sector(Base):
    """A sector (DAC 5-digit, vocabulary 1, unless said otherwise) with its percentage."""

    __tablename__ = "activity_sectors"
    __table_args__ = (Index("ix_activity_sectors_code", "code", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    vocabulary: Mapped[str] = mapped_column(Code)
    code: Mapped[str] = mapped_column(String(INDEXED_CODE_LENGTH))
    percentage: Mapped[Decimal | None] = mapped_column(ExactDecimal)


class PolicyMarker(Base):
    """A policy marker (OECD DAC vocabulary 1) with its significance (0-4)."""

    __tablename__ = "activity_policy_markers"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    vocabulary: Mapped[str] = mapped_column(Code)
    code: Mapped[str] = mapped_column(Code)
    significance: Mapped[str | None] = mapped_column(Code)


class Location(Base):
    """Where the activity takes place: a Peruvian department (``department`` = its INEI
    code, 2 digits) for activities entered here; an IATI import keeps the location's ref
    (any, or none) and name as they came."""

    __tablename__ = "activity_locations"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    department: Mapped[str | None] = mapped_column(Text)
    name: Mapped[str | None] = mapped_column(Text)


class Budget(Base):
    """A budget: type 1 original / 2 revised, status 1 indicative / 2 committed."""

    __tablename__ = "activity_budgets"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    type: Mapped[str] = mapped_column(Code)
    status: Mapped[str] = mapped_column(Code)
    period_start: Mapped[date]
    period_end: Mapped[date]
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str | None] = mapped_column(Code)
    value_date: Mapped[date]


class Transaction(Base):
    """A transaction (2 commitment, 3 disbursement, 4 expenditure, 11 incoming commitment,
    12 pledge ...); provider and receiver as IATI names them."""

    __tablename__ = "activity_transactions"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    type: Mapped[str] = mapped_column(Code)
    date: Mapped[dt.date]
    value: Mapped[Decimal] = mapped_column(ExactDecimal)
    currency: Mapped[str | None] = mapped_column(Code)
    value_date: Mapped[dt.date]
    description: Mapped[str | None] = mapped_column(Text)
    provider_ref: Mapped[str | None] = mapped_column(Text)
    provider_name: Mapped[str | None] = mapped_column(Text)
    provider_type: Mapped[str | None] = mapped_column(Code)
    receiver_ref: Mapped[str | None] = mapped_column(Text)
    receiver_name: Mapped[str | None] = mapped_column(Text)
    receiver_type: Mapped[str | None] = mapped_column(Code)


class DocumentLink(Base):
    """A document (progress report, evaluation ...) with its IATI category (A01-A12, B01-B18)."""

    __tablename__ = "activity_document_links"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    url: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(Code)
    document_date: Mapped[date | None]
    language: Mapped[str | None] = mapped_column(Code)


class Result(Base):
    """A result (1 output, 2 outcome, 3 impact, 9 other) with its indicators."""

    __tablename__ = "activity_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    type: Mapped[str] = mapped_column(Code)
    title: Mapped[str] = mapped_column(Text)
    description: Mapped[str | None] = mapped_column(Text)
    aggregation_status: Mapped[bool | None]

    indicators: Mapped[list[Indicator]] = _children("Indicator.id")


class Indicator(Base):
    """An indicator (measure 1 unit ... 5 qualitative) with a baseline and periods."""

    __tablename__ = "result_indicators"

    id: Mapped[int] = mapped_column(primary_key=True)
    result_id: Mapped[int] = cascade("activity_results", index=True)
    measure: Mapped[str] = mapped_column(Code)
    title: Mapped[str] = mapped_column(Text)
    ascending: Mapped[bool | None]
    baseline_year: Mapped[int | None]
    baseline_value: Mapped[str | None] = mapped_column(Text)
    baseline_date: Mapped[date | None]

    periods: Mapped[list[IndicatorPeriod]] = _children("IndicatorPeriod.id")


class IndicatorPeriod(Base):
    """A period of an indicator with its target and, once reported, its actual."""

    __tablename__ = "indicator_periods"

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_id: Mapped[int] = cascade("result_indicators", index=True)
    start: Mapped[date]
    end: Mapped[date]
    target: Mapped[str | None] = mapped_column(Text)
    actual: Mapped[str | None] = mapped_column(Text)


class ProgressUpdate(Base):
    """A dated narrative of progress written by a participating organisation."""

    __tablename__ = "activity_progress_updates"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    reported_on: Mapped[date]
    text_en: Mapped[str | None] = mapped_column(Text)
    text_es: Mapped[str | None] = mapped_column(Text)
    author_org_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    author_org: Mapped[Organisation] = relationship(lazy="raise")


class ActivityChange(Base):
    """One entry of the change feed, appended in the transaction that made the change.

    ``seq`` comes from the commit clock, so entries become visible in ``seq`` order. The
    audiences say who could see the activity before and after (``public``, ``partners`` or
    ``,ORG,ORG,`` for participants only; null when it did not exist), which is what turns
    an entry into an upsert, a deletion or a visibility withdrawal for a given reader.
    """

    __tablename__ = "activity_changes"

    seq: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=False)
    activity_id: Mapped[int] = mapped_column(index=True)
    identifier: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    program_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(10))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    audience_before: Mapped[str | None] = mapped_column(Text)
    audience_after: Mapped[str | None] = mapped_column(Text)


class ActivityHistory(Base):
    """Who changed an activity, when, and what (before/after per field). Kept after the
    activity is deleted, so it has no foreign key."""

    __tablename__ = "activity_history"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(index=True)
    identifier: Mapped[str] = mapped_column(String(IDENTIFIER_LENGTH))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    version: Mapped[int | None]
    client_id: Mapped[str] = mapped_column(String(64))
    org: Mapped[str | None] = mapped_column(String(40))
    action: Mapped[str] = mapped_column(String(30))
    changes_json: Mapped[str] = mapped_column(Text)


class SyncClock(Base):
    """One row: the last change-feed sequence number and the last activity timestamp handed
    out. Writers update it at the end of their transaction, which orders commits (see
    ``activities/sync.py``)."""

    __tablename__ = "sync_clock"

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    seq: Mapped[int] = mapped_column(BigInteger)
    stamp: Mapped[datetime] = mapped_column(UTCDateTime)


class IdempotencyKey(IdempotencyMixin, Base):
    """Answers given to creating POSTs and imports, by client and Idempotency-Key."""

    __tablename__ = "idempotency_keys"
