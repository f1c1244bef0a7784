"""The UP-POPs emission-factor catalogue (UNEP dioxin Toolkit)."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin


class EmissionFactor(VersionedMixin, Base):
    """One Toolkit factor: the mass released per unit of activity by one vector, for one
    class of one source category (or NA: no release expected; ND: not determined). The
    mass is in ``value_unit``: a TEQ (µg TEQ...) under ``teq_scheme`` for PCDD/F and
    dl-PCB, a plain mass (µg...) for HCB and PeCBz, whose ``teq_scheme`` is "" (none)."""

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
    # In ``value_unit`` per ``activity_unit`` (the name predates mass units).
    value_ug_teq_per_unit: Mapped[Decimal | None] = mapped_column(Numeric(20, 6))
    value_unit: Mapped[str] = mapped_column(String(10), server_default="µg TEQ")
    activity_unit: Mapped[str] = mapped_column(String(20))
    teq_scheme: Mapped[str] = mapped_column(String(20))  # "" for HCB and PeCBz
    toolkit_edition: Mapped[str] = mapped_column(String(10))
    provenance: Mapped[str] = mapped_column(Text)
    note: Mapped[str | None] = mapped_column(Text)
