"""The pure rules of PCB wastes and shipments: Basel Annex IV codes, the order of a
shipment's dates, and the mass checks."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.inventory.wastes.rules import (
    DISPOSAL_OPERATIONS,
    LotStatus,
    ShipmentDates,
    date_problems,
    is_disposal_operation,
    lot_mass_problem,
    lot_status,
    total_problem,
)

TODAY = date(2026, 12, 2)
TOL = Decimal("0.001")


def test_annex_iv_has_fifteen_d_and_thirteen_r_operations() -> None:
    # Basel Convention Annex IV: section A D1-D15, section B R1-R13.
    assert [c for c in DISPOSAL_OPERATIONS if c.startswith("D")] == [f"D{n}" for n in range(1, 16)]
    assert [c for c in DISPOSAL_OPERATIONS if c.startswith("R")] == [f"R{n}" for n in range(1, 14)]
    assert DISPOSAL_OPERATIONS["D10"] == "Incineration on land"
    for code in ("D0", "D16", "R0", "R14", "d10", "D 10", ""):
        assert not is_disposal_operation(code)


def test_dates_in_order_pass_and_each_wrong_one_is_named() -> None:
    ok = ShipmentDates(date(2024, 6, 1), date(2024, 6, 1), date(2024, 6, 1))
    assert date_problems(ok, TODAY) == []
    assert date_problems(ShipmentDates(TODAY), TODAY) == []
    tomorrow = TODAY + timedelta(days=1)
    assert [f for f, _ in date_problems(ShipmentDates(tomorrow), TODAY)] == ["shipped_on"]
    early = ShipmentDates(date(2024, 6, 1), date(2024, 5, 31))
    assert [f for f, _ in date_problems(early, TODAY)] == ["received_on"]
    unreceived = ShipmentDates(date(2024, 6, 1), None, date(2024, 7, 1))
    assert [f for f, _ in date_problems(unreceived, TODAY)] == ["received_on"]
    before = ShipmentDates(date(2024, 6, 1), date(2024, 6, 10), date(2024, 6, 9))
    assert [f for f, _ in date_problems(before, TODAY)] == ["disposed_on"]


@given(
    st.dates(date(2000, 1, 1), TODAY),
    st.integers(0, 400),
    st.integers(0, 400),
)
def test_received_and_disposed_on_or_after_the_step_before_never_fail(
    shipped: date, to_receipt: int, to_disposal: int
) -> None:
    received = min(shipped + timedelta(days=to_receipt), TODAY)
    disposed = min(received + timedelta(days=to_disposal), TODAY)
    assert date_problems(ShipmentDates(shipped, received, disposed), TODAY) == []


def test_a_lot_is_stored_shipped_or_disposed_after_its_shipment() -> None:
    assert lot_status(None) == LotStatus.STORED
    assert lot_status(ShipmentDates(date(2024, 1, 1))) == LotStatus.SHIPPED
    done = ShipmentDates(date(2024, 1, 1), date(2024, 1, 5), date(2024, 1, 9))
    assert lot_status(done) == LotStatus.DISPOSED


@given(
    st.lists(st.decimals(Decimal("0.001"), Decimal("100000"), places=3), min_size=1, max_size=20),
    st.integers(-1, 1),
)
def test_a_declared_total_within_the_tolerance_of_the_lines_passes(
    lines: list[Decimal], step: int
) -> None:
    carried = sum(lines, Decimal(0))
    assert total_problem(carried + step * TOL, lines, TOL) is None
    assert total_problem(carried + 2 * TOL, lines, TOL) is not None
    assert total_problem(carried - 2 * TOL, lines, TOL) is not None


def test_a_lot_travels_whole_within_the_tolerance() -> None:
    assert lot_mass_problem(Decimal("99.999"), Decimal("100"), TOL) is None
    assert lot_mass_problem(Decimal("100.001"), Decimal("100"), TOL) is None
    assert lot_mass_problem(Decimal("99.998"), Decimal("100"), TOL) is not None
    assert lot_mass_problem(Decimal("100.002"), Decimal("100"), TOL) is not None
