"""What the activity matrix answers (money per currency code)."""

from __future__ import annotations

from decimal import Decimal

from pydantic import BaseModel, Field

Money = dict[str, Decimal]


class Cell(BaseModel):
    """Activities and their money (per currency code)."""

    activities: int = 0
    budget: Money = Field(default_factory=dict)
    committed: Money = Field(default_factory=dict)
    disbursed: Money = Field(default_factory=dict)


class AreaRow(BaseModel):
    code: str
    title_en: str
    title_es: str | None
    by_status: dict[str, Cell] = Field(
        description="Keyed by IATI activity status code (1-6, or a code an import kept)."
    )
    total: Cell


class Gap(BaseModel):
    action_area: str
    text_en: str
    text_es: str | None


class OrganisationRow(BaseModel):
    org: str
    name_en: str
    activities: int
    lead: int
    roles: dict[str, int] = Field(
        description="Activities per IATI role (funding ... implementing, or a code an import kept)."
    )
    budget_funded: Money = Field(description="Budgets of the activities it funds (role 1).")


class YearRow(BaseModel):
    year: int
    active: int = Field(description="Activities running that year (actual dates, else planned).")
    budget: Money
    disbursed: Money


class InventoryFed(BaseModel):
    """Indicators whose period actuals come from an inventory metric (bindings)."""

    activities: int = Field(description="Activities with at least one such indicator.")
    indicators: int
    stale: int = Field(description="Of those, the ones whose last read of the inventory failed.")


class MatrixOut(BaseModel):
    program: str
    statuses: dict[str, str]
    total: Cell
    priority_areas: list[AreaRow]
    coverage_gaps: list[Gap]
    organisations: list[OrganisationRow]
    years: list[YearRow]
    inventory_fed: InventoryFed
