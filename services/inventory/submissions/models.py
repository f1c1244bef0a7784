"""Inventory cycles: one organisation's submission for a reporting year and section, and the
append-only record of its workflow moves."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import UTCDateTime, VersionedMixin, utcnow


class Submission(VersionedMixin, Base):
    """An organisation's inventory data for one year and section, reviewed by MINAM.

    Validated submissions are never edited: a correction is a new submission (``revision``
    + 1, ``supersedes_id`` pointing back) that goes through review again; once it is
    validated the previous one gets ``superseded_by_id`` and stops counting nationally.
    """

    __tablename__ = "submissions"
    __table_args__ = (Index("ix_submissions_year_section_status", "year", "section", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    year: Mapped[int]
    section: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))
    revision: Mapped[int] = mapped_column(default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    superseded_by_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"))
    correction_reason: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str] = mapped_column(String(64))
    submitted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    validated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SubmissionEvent(Base):
    """One workflow move of a submission: who, when, from and to which status, and why."""

    __tablename__ = "submission_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
