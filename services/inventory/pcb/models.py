"""PCB equipment items of the national inventory."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin


class PcbItem(VersionedMixin, Base):
    """One piece of equipment (transformer, capacitor, drum ...) that may contain PCBs."""

    __tablename__ = "pcb_items"
    # The natural key of an item: its holder, manufacturer and serial number.
    __table_args__ = (UniqueConstraint("holder_id", "manufacturer", "serial_number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id"), index=True)
    equipment_type: Mapped[str] = mapped_column(String(20))
    manufacturer: Mapped[str] = mapped_column(String(200))
    serial_number: Mapped[str] = mapped_column(String(100))
    country_of_origin: Mapped[str | None] = mapped_column(String(2))
    year_manufactured: Mapped[int | None]
    power_kva: Mapped[Decimal | None] = mapped_column(Numeric(12, 2))
    voltage_kv: Mapped[Decimal | None] = mapped_column(Numeric(10, 2))
    fluid_trade_name: Mapped[str | None] = mapped_column(String(100))
    fluid_volume_l: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    fluid_mass_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    dry_mass_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    total_mass_kg: Mapped[Decimal | None] = mapped_column(Numeric(12, 3))
    labelled: Mapped[bool] = mapped_column(default=False)
    leaking: Mapped[bool] = mapped_column(default=False)
    in_populated_area: Mapped[bool] = mapped_column(default=False)
    in_food_feed_area: Mapped[bool] = mapped_column(default=False)
    status: Mapped[str] = mapped_column(String(30), index=True)
    status_since: Mapped[date | None]
    org_code: Mapped[str] = mapped_column(String(40), index=True)
