"""Unintentional POPs: release estimates per source class, and their releases per vector."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from services.inventory.estimates.models import ActivityRate
from shared.db import VersionedMixin


class UpopsEstimate(VersionedMixin, Base):
    """An activity rate of one source class in one submission; its releases per vector are
    ``UpopsRelease`` rows, recomputed whenever the estimate changes."""

    __tablename__ = "upops_estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    source_group: Mapped[str] = mapped_column(String(2))
    category: Mapped[str] = mapped_column(String(10))
    class_no: Mapped[int]
    pollutant: Mapped[str] = mapped_column(String(20))
    teq_scheme: Mapped[str] = mapped_column(String(20))
    toolkit_edition: Mapped[str] = mapped_column(String(10))
    activity_rate: Mapped[Decimal] = mapped_column(ActivityRate)
    activity_unit: Mapped[str] = mapped_column(String(20))
    department_code: Mapped[str | None] = mapped_column(String(2))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"))
    description: Mapped[str | None] = mapped_column(Text)


class UpopsRelease(Base):
    """The release of one estimate by one vector, with the factor it was computed from
    (a copy: later catalogue edits do not change validated figures)."""

    __tablename__ = "upops_releases"
    __table_args__ = (UniqueConstraint("estimate_id", "vector"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("upops_estimates.id"), index=True)
    vector: Mapped[str] = mapped_column(String(10))
    factor_id: Mapped[int | None] = mapped_column(ForeignKey("emission_factors.id"))
    factor_kind: Mapped[str] = mapped_column(String(5))
    factor_ug_teq_per_unit: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    # "value", "NA" or "ND"; ND is never stored or summed as zero.
    release_kind: Mapped[str] = mapped_column(String(5))
    release_g_teq_per_year: Mapped[Decimal | None] = mapped_column(Numeric(30, 12))
