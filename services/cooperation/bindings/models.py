"""Indicators of an activity bound to an inventory metric, and the values read for them.

A binding is keyed on the activity and the positions of the result and the indicator
(0-based, in the activity's order): an edit rebuilds an activity's results, indicators
and periods as new rows, so their ids do not last, their positions do. An edit that
removes the indicator leaves the binding in place, ``attached`` false: nothing is written
until an indicator exists at that position again (or the binding is deleted); deleting the
activity deletes its bindings.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from services.cooperation.db import Base, cascade
from shared.db import UTCDateTime


class IndicatorBinding(Base):
    """An indicator fed by an inventory metric, for a scope and a schedule.

    ``stale`` is set when the last attempt to read the inventory failed (``failed_at``):
    the values read before are kept.
    """

    __tablename__ = "indicator_bindings"
    __table_args__ = (UniqueConstraint("activity_id", "result_index", "indicator_index"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = cascade("activities", index=True)
    result_index: Mapped[int] = mapped_column(Integer)
    indicator_index: Mapped[int] = mapped_column(Integer)
    metric: Mapped[str] = mapped_column(String(60))
    schedule: Mapped[str] = mapped_column(String(20))
    department: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str | None] = mapped_column(String(60))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    stale: Mapped[bool] = mapped_column(Boolean, default=False)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    values: Mapped[list[BindingValue]] = relationship(
        lazy="raise",
        order_by="BindingValue.year",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class BindingValue(Base):
    """What the inventory answered for one year of a binding: the value (null when
    ``no_data``), its unit, the submissions it came from and when it was read."""

    __tablename__ = "indicator_binding_values"
    __table_args__ = (UniqueConstraint("binding_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    binding_id: Mapped[int] = cascade("indicator_bindings", index=True)
    year: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10))
    value: Mapped[str | None] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(30))
    submissions: Mapped[list[int]] = mapped_column(JSON)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
