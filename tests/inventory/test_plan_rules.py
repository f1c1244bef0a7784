"""The status rule of a target, alone: interpolation, the tolerance, each branch."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from services.inventory.plans.rules import (
    TOLERANCE,
    Direction,
    Point,
    TargetStatus,
    judge,
    latest_status,
    trajectory_value,
)

D = Decimal
BASE = Point(2024, D(100))
TARGETS = [Point(2030, D(0)), Point(2026, D(60))]  # unordered on purpose


def test_the_trajectory_interpolates_between_points() -> None:
    assert trajectory_value(BASE, TARGETS, 2023) is None
    assert trajectory_value(BASE, TARGETS, 2024) == 100
    assert trajectory_value(BASE, TARGETS, 2025) == 80
    assert trajectory_value(BASE, TARGETS, 2026) == 60
    assert trajectory_value(BASE, TARGETS, 2028) == 30
    assert trajectory_value(BASE, TARGETS, 2035) == 0


def test_each_branch() -> None:
    down = Direction.DECREASE
    # 2025: 80 on the trajectory; tolerance 10 % of 100.
    assert judge(D(80), D(80), BASE, TARGETS, down) is TargetStatus.ON_TRACK
    assert judge(D(70), D(80), BASE, TARGETS, down) is TargetStatus.ON_TRACK
    assert judge(D(90), D(80), BASE, TARGETS, down) is TargetStatus.AT_RISK
    assert judge(D("90.001"), D(80), BASE, TARGETS, down) is TargetStatus.OFF_TRACK
    assert judge(None, D(80), BASE, TARGETS, down) is TargetStatus.NO_DATA
    up = Direction.INCREASE
    base, targets = Point(2024, D(20)), [Point(2030, D(80))]
    assert judge(D(25), D(30), base, targets, up) is TargetStatus.AT_RISK
    assert judge(D(35), D(30), base, targets, up) is TargetStatus.ON_TRACK
    assert judge(D(20), D(30), base, targets, up) is TargetStatus.OFF_TRACK


def test_the_latest_year_with_data_is_judged() -> None:
    actuals = {2023: D(0), 2024: D(100), 2025: D(85), 2026: None}
    assert latest_status(actuals, BASE, TARGETS, Direction.DECREASE) == (
        TargetStatus.AT_RISK,
        2025,
    )
    assert latest_status({2023: D(1)}, BASE, TARGETS, Direction.DECREASE) == (
        TargetStatus.NO_DATA,
        None,
    )


@given(
    actual=st.decimals(min_value=0, max_value=1000, places=3),
    year=st.integers(min_value=2024, max_value=2032),
)
def test_on_track_exactly_when_at_or_below_the_trajectory(actual: Decimal, year: int) -> None:
    expected = trajectory_value(BASE, TARGETS, year)
    assert expected is not None
    status = judge(actual, expected, BASE, TARGETS, Direction.DECREASE)
    assert (status is TargetStatus.ON_TRACK) == (actual <= expected)
    if actual > expected:
        at_risk = actual - expected <= TOLERANCE * 100
        assert status is (TargetStatus.AT_RISK if at_risk else TargetStatus.OFF_TRACK)
