"""Unintentional POPs: the emission-factor catalogue and release estimates per vector.
Mercury: release estimates with their input and distribution over the output pathways."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin

ActivityRate = Numeric(20, 6)


class EmissionFactor(VersionedMixin, Base):
    """One Toolkit factor: µg TEQ per unit of activity released by one vector, for one
    class of one source category (or NA: no release expected; ND: not determined)."""

    __tablename__ = "emission_factors"
    __table_args__ = (
        # Named by hand: the conventional name would pass PostgreSQL's 63-character limit.
        UniqueConstraint(
            "category",
            "class_no",
            "pollutant",
            "vector",
            "teq_scheme",
            "toolkit_edition",
            name="uq_emission_factors_key",
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    source_group: Mapped[str] = mapped_column(String(2), index=True)
    category: Mapped[str] = mapped_column(String(10))
    category_name: Mapped[str] = mapped_column(String(300))
    class_no: Mapped[int]
    class_name: Mapped[str] = mapped_column(String(300))
    pollutant: Mapped[str] = mapped_column(String(20))
    vector: Mapped[str] = mapped_column(String(10))
    # "value" (then value_ug_teq_per_unit is set), "NA" or "ND".
    value_kind: Mapped[str] = mapped_column(String(5))
    value_ug_teq_per_unit: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    activity_unit: Mapped[str] = mapped_column(String(20))
    teq_scheme: Mapped[str] = mapped_column(String(20))
    toolkit_edition: Mapped[str] = mapped_column(String(10))
    provenance: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)


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


class MercuryEstimate(VersionedMixin, Base):
    """Mercury input of one source (activity rate x input factor) in one submission; its
    split over the output pathways is ``MercuryRelease`` rows."""

    __tablename__ = "mercury_estimates"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(30))
    subcategory: Mapped[str | None] = mapped_column(String(200))
    toolkit_level: Mapped[int]
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
