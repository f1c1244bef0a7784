"""PCB item representations."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class PcbItemOut(BaseModel):
    """A PCB equipment item as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    holder_id: int
    site_id: int
    equipment_type: str
    manufacturer: str
    serial_number: str
    country_of_origin: str | None
    year_manufactured: int | None
    power_kva: Decimal | None
    voltage_kv: Decimal | None
    fluid_trade_name: str | None
    fluid_volume_l: Decimal | None
    fluid_mass_kg: Decimal | None
    dry_mass_kg: Decimal | None
    total_mass_kg: Decimal | None
    labelled: bool
    leaking: bool
    in_populated_area: bool
    in_food_feed_area: bool
    status: str
    status_since: date | None
    org_code: str
    version: int
    updated_at: datetime
