"""The mercury factor catalogue (UNEP mercury Toolkit, Inventory Level 1): a default input
factor per unit of activity (with the Toolkit's low and high where it gives a range) and
the distribution of that input over the six output pathways."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin

InputFactor = Numeric(20, 9)
Share = Numeric(6, 5)


class MercuryFactor(VersionedMixin, Base):
    """One Level 1 default: kg Hg input per ``activity_unit`` of one sub-category, and its
    output distribution factors (summing to 1)."""

    __tablename__ = "mercury_factors"
    __table_args__ = (UniqueConstraint("category", "subcategory", "toolkit_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    category: Mapped[str] = mapped_column(String(30), index=True)
    subcategory: Mapped[str] = mapped_column(String(200))
    activity_unit: Mapped[str] = mapped_column(String(20))
    input_factor_default: Mapped[Decimal] = mapped_column(InputFactor)
    input_factor_low: Mapped[Decimal | None] = mapped_column(InputFactor)
    input_factor_high: Mapped[Decimal | None] = mapped_column(InputFactor)
    air: Mapped[Decimal] = mapped_column(Share)
    water: Mapped[Decimal] = mapped_column(Share)
    land: Mapped[Decimal] = mapped_column(Share)
    by_products: Mapped[Decimal] = mapped_column(Share)
    general_waste: Mapped[Decimal] = mapped_column(Share)
    sector_specific: Mapped[Decimal] = mapped_column(Share)
    toolkit_version: Mapped[str] = mapped_column(String(40))
    provenance: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
