"""How a target is judged against its trajectory. Pure functions, Decimal only.

The trajectory runs through the baseline and the target points, linearly between two
consecutive points, and stays at the last point's value after it. For the latest year
with validated data (``latest_status``):

- ``on_track``: the actual is at or better than the trajectory's value for that year
  (better: lower for a ``decrease`` target, higher for an ``increase`` one);
- ``at_risk``: worse, by no more than ``TOLERANCE`` (10 %) of the distance from the
  baseline to the final target;
- ``off_track``: worse by more;
- ``no_data``: the metric has no validated data in the target's years and scope.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from itertools import pairwise
from typing import Final

# Share of the baseline-to-final-target distance an actual may fall behind the trajectory
# and still be "at risk" rather than "off track".
TOLERANCE: Final = Decimal("0.10")


class Direction(StrEnum):
    DECREASE = "decrease"
    INCREASE = "increase"


class TargetStatus(StrEnum):
    ON_TRACK = "on_track"
    AT_RISK = "at_risk"
    OFF_TRACK = "off_track"
    NO_DATA = "no_data"


@dataclass(frozen=True)
class Point:
    """A value for a year (the baseline, or a target value)."""

    year: int
    value: Decimal


def path(baseline: Point, targets: Sequence[Point]) -> list[Point]:
    """The points the trajectory runs through, by year: the baseline first."""
    return [baseline, *sorted((p for p in targets if p.year > baseline.year), key=lambda p: p.year)]


def trajectory_value(baseline: Point, targets: Sequence[Point], year: int) -> Decimal | None:
    """The trajectory's value for ``year`` (None before the baseline year)."""
    points = path(baseline, targets)
    if year < baseline.year:
        return None
    for before, after in pairwise(points):
        if before.year <= year <= after.year:
            share = Decimal(year - before.year) / Decimal(after.year - before.year)
            return before.value + (after.value - before.value) * share
    return points[-1].value


def judge(
    actual: Decimal | None,
    expected: Decimal,
    baseline: Point,
    targets: Sequence[Point],
    direction: Direction,
) -> TargetStatus:
    """The status of one actual against the trajectory's value for its year."""
    if actual is None:
        return TargetStatus.NO_DATA
    final = path(baseline, targets)[-1].value
    tolerance = TOLERANCE * abs(final - baseline.value)
    behind = actual - expected if direction is Direction.DECREASE else expected - actual
    if behind <= 0:
        return TargetStatus.ON_TRACK
    if behind <= tolerance:
        return TargetStatus.AT_RISK
    return TargetStatus.OFF_TRACK


def latest_status(
    actuals: Mapping[int, Decimal | None],
    baseline: Point,
    targets: Sequence[Point],
    direction: Direction,
) -> tuple[TargetStatus, int | None]:
    """The status in the latest year (from the baseline year on) with an actual value,
    and that year; ``no_data`` and None when there is none."""
    years = sorted(y for y, v in actuals.items() if v is not None and y >= baseline.year)
    if not years:
        return TargetStatus.NO_DATA, None
    year = years[-1]
    expected = trajectory_value(baseline, targets, year)
    assert expected is not None  # the year is not before the baseline
    return judge(actuals[year], expected, baseline, targets, direction), year
