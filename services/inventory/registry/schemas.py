"""Holder and site representations."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict


class HolderOut(BaseModel):
    """A holder as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    ruc: str
    name: str
    sector: str
    is_public: bool
    contact_name: str | None
    contact_email: str | None
    contact_phone: str | None
    org_code: str
    version: int
    updated_at: datetime


class SiteOut(BaseModel):
    """A site as the API shows it."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    holder_id: int
    name: str
    address: str
    ubigeo: str
    latitude: Decimal | None
    longitude: Decimal | None
    site_type: str
    version: int
    updated_at: datetime
