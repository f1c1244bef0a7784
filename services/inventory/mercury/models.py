"""Mercury: release estimates with their input and its distribution over the output
pathways."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from services.inventory.estimates.models import ActivityRate
from shared.db import VersionedMixin


class MercuryEstimate(VersionedMixin, Base):
    """Mercury input of one source (activity rate x input factor) in one submission; its
    split over the output pathways is ``MercuryRelease`` rows."""

    __tablename__ = "mercury_estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(30))
    subcategory: Mapped[str | None] = mapped_column(String(200))
    # 1: computed from the catalogue factor ``factor_id`` (copied here); 2: its own factor.
    toolkit_level: Mapped[int]
    factor_id: Mapped[int | None] = mapped_column(ForeignKey("mercury_factors.id"))
    activity_rate: Mapped[Decimal] = mapped_column(ActivityRate)
    activity_unit: Mapped[str] = mapped_column(String(20))
    input_factor_kg_per_unit: Mapped[Decimal] = mapped_column(Numeric(20, 9))
    input_factor_unit: Mapped[str] = mapped_column(String(20))
    factor_provenance: Mapped[str] = mapped_column(Text)
    input_kg_per_year: Mapped[Decimal] = mapped_column(Numeric(24, 3))
    department_code: Mapped[str | None] = mapped_column(String(2))
    holder_id: Mapped[int | None] = mapped_column(ForeignKey("holders.id"))
    description: Mapped[str | None] = mapped_column(Text)


class MercuryRelease(Base):
    """The share of one estimate's input going to one output pathway."""

    __tablename__ = "mercury_releases"
    __table_args__ = (UniqueConstraint("estimate_id", "pathway"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estimate_id: Mapped[int] = mapped_column(ForeignKey("mercury_estimates.id"), index=True)
    pathway: Mapped[str] = mapped_column(String(20))
    distribution_factor: Mapped[Decimal] = mapped_column(Numeric(6, 5))
    release_kg_per_year: Mapped[Decimal] = mapped_column(Numeric(24, 3))
