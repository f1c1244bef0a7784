"""National action plans (Stockholm NIP, Minamata ASGM NAP) and their targets."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, ForeignKey, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from services.inventory.db import Base
from shared.db import VersionedMixin

TargetValue = Numeric(20, 6)


class ActionPlan(VersionedMixin, Base):
    """A national action plan: its period, objectives (``[{code, text_en, text_es}]``)
    and the agencies responsible (organisation codes); targets are ``PlanTarget`` rows."""

    __tablename__ = "action_plans"

    id: Mapped[int] = mapped_column(primary_key=True)
    title_en: Mapped[str] = mapped_column(String(300))
    title_es: Mapped[str] = mapped_column(String(300))
    convention: Mapped[str] = mapped_column(String(20))
    start_year: Mapped[int]
    end_year: Mapped[int]
    description: Mapped[str] = mapped_column(Text, default="")
    objectives: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    agencies: Mapped[list[str]] = mapped_column(JSON)
    created_by: Mapped[str] = mapped_column(String(64))


class PlanTarget(VersionedMixin, Base):
    """A target of a plan: an indicator measured by a catalogue metric (in a scope and a
    schedule), a baseline, target values by year (``[{year, value}]``, values as decimal
    strings) and the direction that counts as progress."""

    __tablename__ = "plan_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(ForeignKey("action_plans.id"), index=True)
    objective: Mapped[str] = mapped_column(String(20))
    indicator_en: Mapped[str] = mapped_column(Text)
    indicator_es: Mapped[str] = mapped_column(Text)
    unit: Mapped[str] = mapped_column(String(20))
    metric_id: Mapped[str] = mapped_column(String(60))
    department: Mapped[str | None] = mapped_column(String(2))
    sector: Mapped[str | None] = mapped_column(String(60))
    schedule: Mapped[str] = mapped_column(String(20))
    baseline_year: Mapped[int]
    baseline_value: Mapped[Decimal] = mapped_column(TargetValue)
    target_values: Mapped[list[dict[str, Any]]] = mapped_column(JSON)
    direction: Mapped[str] = mapped_column(String(10))
