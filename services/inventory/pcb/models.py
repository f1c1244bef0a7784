"""PCB equipment items, their analyses and status history, and the national schedule of
thresholds and the fluid densities they are judged by (data, with the Stockholm
Convention's values as defaults)."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import UTCDateTime, VersionedMixin, utcnow

# Concentrations in mg/kg: up to 10^6 (pure PCB), three decimals.
Concentration = Numeric(14, 3)
Quantity = Numeric(12, 3)

# What the national summary reads, in the order it reads it. On PostgreSQL the summary is
# an index-only scan of this index (no table access once the visibility map is set).
SUMMARY_COLUMNS = (
    "status",
    "conc_kind",
    "conc_value_mg_per_kg",
    "conc_source",
    "fluid_volume_l",
    "year_manufactured",
    "fluid_kind",
    "fluid_mass_kg",
    "dry_mass_kg",
    "total_mass_kg",
    "labelled",
    "in_food_feed_area",
    "department_code",
    "holder_id",
)


class PcbItem(VersionedMixin, Base):
    """One piece of equipment (transformer, capacitor, drum ...) that may contain PCBs, as
    recorded in one inventory submission.

    ``conc_*`` is the effective concentration derived from the item's analyses; it is
    rewritten in the same transaction as any change to them, so it is never stale. The
    class and the compliance flags are not stored: they depend on the thresholds (data)
    and the date, and are computed when read (``pcb.classes``).
    """

    __tablename__ = "pcb_items"
    # The natural key of an item in a submission: holder, manufacturer and serial number.
    __table_args__ = (
        UniqueConstraint("submission_id", "holder_id", "manufacturer", "serial_number"),
        Index("ix_pcb_items_summary", "submission_id", postgresql_include=list(SUMMARY_COLUMNS)),
        Index("ix_pcb_items_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    equipment_type: Mapped[str] = mapped_column(String(20))
    manufacturer: Mapped[str] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(100))
    # The holder's own inventory number (optional).
    owner_asset_id: Mapped[str | None] = mapped_column(String(40))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    year_manufactured: Mapped[int | None]
    power_kva: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    voltage_kv: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    fluid_trade_name: Mapped[str | None] = mapped_column(String(100))
    fluid_volume_l: Mapped[Decimal | None] = mapped_column(Quantity)
    fluid_mass_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    dry_mass_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    total_mass_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    labelled: Mapped[bool] = mapped_column(default=False)
    leaking: Mapped[bool] = mapped_column(default=False)
    in_populated_area: Mapped[bool] = mapped_column(default=False)
    in_food_feed_area: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(30), index=True)
    status_since: Mapped[date | None]
    org_code: Mapped[str] = mapped_column(String(40), index=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"))
    fluid_kind: Mapped[str | None] = mapped_column(String(20))
    department_code: Mapped[str] = mapped_column(String(2), index=True)
    conc_kind: Mapped[str] = mapped_column(String(10), default="unknown")
    conc_value_mg_per_kg: Mapped[Decimal | None] = mapped_column(Concentration)
    conc_source: Mapped[str | None] = mapped_column(String(10))
    # The date of the analysis the effective concentration comes from.
    conc_analysed_on: Mapped[date | None]


class PcbAnalysis(Base):
    """One analysis of an item's fluid: a screening (above/below a cut-off), a GC result or
    a value read from the nameplate."""

    __tablename__ = "pcb_analyses"
    __table_args__ = (UniqueConstraint("item_id", "method", "analysed_on", "sample_ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("pcb_items.id"), index=True)
    method: Mapped[str] = mapped_column(String(12))
    analysed_on: Mapped[date]
    # Tells apart several analyses of one method on one day ("" when there is one).
    sample_ref: Mapped[str] = mapped_column(String(100), default="")
    value_mg_per_kg: Mapped[Decimal | None] = mapped_column(Concentration)
    screening_cutoff_mg_per_kg: Mapped[Decimal | None] = mapped_column(Concentration)
    screening_positive: Mapped[bool | None]
    technique: Mapped[str | None] = mapped_column(String(100))
    laboratory: Mapped[str | None] = mapped_column(String(200))
    report_ref: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class PcbStatusEvent(Base):
    """One operating-status change of an item (append-only). Moves to ``eliminated`` carry
    the disposal evidence."""

    __tablename__ = "pcb_status_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("pcb_items.id"), index=True)
    from_status: Mapped[str | None] = mapped_column(String(30))
    to_status: Mapped[str] = mapped_column(String(30))
    changed_on: Mapped[date | None]
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    client_id: Mapped[str] = mapped_column(String(64))
    org_code: Mapped[str] = mapped_column(String(40))
    comment: Mapped[str | None] = mapped_column(Text)
    disposal_facility: Mapped[str | None] = mapped_column(String(200))
    disposal_country: Mapped[str | None] = mapped_column(String(2))
    disposed_on: Mapped[date | None]
    certificate_ref: Mapped[str | None] = mapped_column(String(100))
    disposed_mass_kg: Mapped[Decimal | None] = mapped_column(Quantity)
    # The shipment that took the item to its disposal abroad (``wastes``), if recorded.
    shipment_id: Mapped[int | None] = mapped_column(ForeignKey("pcb_shipments.id"), index=True)


class PcbInspection(Base):
    """One inspection of an item (OEFA's, or another inspector's): when, by which
    organisation, what was found, and whether a leak was observed (append-only)."""

    __tablename__ = "pcb_inspections"
    __table_args__ = (Index("ix_pcb_inspections_item_id_inspected_on", "item_id", "inspected_on"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("pcb_items.id"))
    inspected_on: Mapped[date]
    inspector_org: Mapped[str] = mapped_column(String(40))
    findings: Mapped[str] = mapped_column(Text)
    leaking_observed: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_by: Mapped[str] = mapped_column(String(64))


class PcbThresholds(VersionedMixin, Base):
    """The limits and deadlines of one editable named schedule (``national``: the
    country's plan). The Convention's schedule is fixed and not stored
    (``pcb.schedules``)."""

    __tablename__ = "pcb_thresholds"

    id: Mapped[int] = mapped_column(primary_key=True)
    schedule: Mapped[str] = mapped_column(String(20), unique=True)
    p1_mg_per_kg: Mapped[Decimal] = mapped_column(Concentration)
    p2_mg_per_kg: Mapped[Decimal] = mapped_column(Concentration)
    p3_mg_per_kg: Mapped[Decimal] = mapped_column(Concentration)
    large_volume_l: Mapped[Decimal] = mapped_column(Quantity)
    small_volume_l: Mapped[Decimal] = mapped_column(Quantity)
    use_deadline: Mapped[date]
    esm_deadline: Mapped[date]
    presumed_before_year: Mapped[int]
    presumed_min_volume_l: Mapped[Decimal] = mapped_column(Quantity)
    provenance: Mapped[str] = mapped_column(Text)


class FluidDensity(VersionedMixin, Base):
    """Density of an insulating fluid, to estimate a mass from a volume (data to verify)."""

    __tablename__ = "fluid_densities"

    fluid_kind: Mapped[str] = mapped_column(String(20), primary_key=True)
    density_kg_per_l: Mapped[Decimal] = mapped_column(Numeric(6, 3))
    provenance: Mapped[str] = mapped_column(Text)
