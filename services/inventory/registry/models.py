"""Holders of PCB equipment and the sites where it stands."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import ForeignKey, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.inventory.db import Base
from shared.db import VersionedMixin


class Holder(VersionedMixin, Base):
    """A company or public entity holding PCB equipment, identified by its RUC."""

    __tablename__ = "holders"

    id: Mapped[int] = mapped_column(primary_key=True)
    ruc: Mapped[str] = mapped_column(String(11), unique=True)
    name: Mapped[str] = mapped_column(String(300))
    sector: Mapped[str] = mapped_column(String(60))
    is_public: Mapped[bool]
    contact_name: Mapped[str | None] = mapped_column(String(200))
    contact_email: Mapped[str | None] = mapped_column(String(254))
    contact_phone: Mapped[str | None] = mapped_column(String(40))
    # The organisation (gateway org code) that keeps this holder's records.
    org_code: Mapped[str] = mapped_column(String(40), index=True)

    sites: Mapped[list[Site]] = relationship(back_populates="holder", lazy="raise")


class Site(VersionedMixin, Base):
    """A place where a holder keeps equipment."""

    __tablename__ = "sites"
    # The natural key of a site (imports match sites by it).
    __table_args__ = (UniqueConstraint("holder_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    holder_id: Mapped[int] = mapped_column(ForeignKey("holders.id"), index=True)
    name: Mapped[str] = mapped_column(String(300))
    address: Mapped[str] = mapped_column(String(500))
    ubigeo: Mapped[str] = mapped_column(String(6), index=True)
    latitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    longitude: Mapped[Decimal | None] = mapped_column(Numeric(9, 6))
    site_type: Mapped[str] = mapped_column(String(20))

    holder: Mapped[Holder] = relationship(back_populates="sites", lazy="raise")
