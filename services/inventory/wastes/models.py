"""Stored PCB waste lots and their shipments for disposal, with what each shipment
carries (lots and PCB items, with the mass of each)."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import JSON, ForeignKey, Index, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin

Mass = Numeric(12, 3)


class PcbWasteLot(VersionedMixin, Base):
    """A quantity of PCB waste a holder keeps in storage (drained liquid, drained
    equipment, contaminated material), recorded in a PCB submission like its items.

    ``status`` follows the shipments (stored until one carries the lot, disposed once the
    shipment's disposal is recorded); it is rewritten by the shipment writes only.
    """

    __tablename__ = "pcb_waste_lots"
    # The holder's own label of the lot identifies it in a submission.
    __table_args__ = (
        UniqueConstraint("submission_id", "holder_id", "lot_ref"),
        Index("ix_pcb_waste_lots_updated_at_id", "updated_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    lot_ref: Mapped[str] = mapped_column(String(40))
    kind: Mapped[str] = mapped_column(String(30))
    description: Mapped[str] = mapped_column(Text)
    mass_kg: Mapped[Decimal] = mapped_column(Mass)
    pcb_mg_per_kg: Mapped[Decimal | None] = mapped_column(Numeric(14, 3))
    concentration_basis: Mapped[str | None] = mapped_column(String(20))
    site_id: Mapped[int | None] = mapped_column(ForeignKey("sites.id"))
    storage_address: Mapped[str | None] = mapped_column(String(500))
    ubigeo: Mapped[str] = mapped_column(String(6))
    department_code: Mapped[str] = mapped_column(String(2))
    stored_since: Mapped[date]
    status: Mapped[str] = mapped_column(String(20), default="stored")


class PcbWasteSource(Base):
    """A PCB item a lot came from (e.g. the askarel drained from a transformer)."""

    __tablename__ = "pcb_waste_sources"

    lot_id: Mapped[int] = mapped_column(ForeignKey("pcb_waste_lots.id"), primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("pcb_items.id"), primary_key=True, index=True)


class PcbShipment(VersionedMixin, Base):
    """A transboundary movement of a holder's PCB wastes for disposal (Basel Convention
    Article 6: notification and movement document), recorded in a PCB submission."""

    __tablename__ = "pcb_shipments"
    __table_args__ = (Index("ix_pcb_shipments_updated_at_id", "updated_at", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    org_code: Mapped[str] = mapped_column(String(40))
    notification_number: Mapped[str] = mapped_column(String(40))
    movement_document_numbers: Mapped[list[str]] = mapped_column(JSON)
    exporter: Mapped[str] = mapped_column(String(300))
    carrier: Mapped[str] = mapped_column(String(300))
    facility_name: Mapped[str] = mapped_column(String(300))
    facility_country: Mapped[str] = mapped_column(String(2))
    disposal_operation: Mapped[str] = mapped_column(String(3))
    shipped_on: Mapped[date]
    received_on: Mapped[date | None]
    disposed_on: Mapped[date | None]
    certificate_ref: Mapped[str | None] = mapped_column(String(100))
    mass_kg: Mapped[Decimal] = mapped_column(Mass)


class PcbShipmentLine(Base):
    """One lot or one PCB item a shipment carries, and the mass shipped of it. A lot or an
    item travels in one shipment only: unique, so two concurrent shipments of it cannot
    both be written (the loser gets a 409)."""

    __tablename__ = "pcb_shipment_lines"
    __table_args__ = (UniqueConstraint("lot_id"), UniqueConstraint("item_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    shipment_id: Mapped[int] = mapped_column(ForeignKey("pcb_shipments.id"), index=True)
    lot_id: Mapped[int | None] = mapped_column(ForeignKey("pcb_waste_lots.id"))
    item_id: Mapped[int | None] = mapped_column(ForeignKey("pcb_items.id"))
    mass_kg: Mapped[Decimal] = mapped_column(Mass)
