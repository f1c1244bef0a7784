"""The projection rule of the PCB elimination curve, alone and by property."""

from __future__ import annotations

from decimal import Decimal
from fractions import Fraction

from hypothesis import given
from hypothesis import strategies as st

from services.inventory.reports.curve_rules import Tally, project


def test_the_rate_is_the_mean_of_the_last_three_years_with_changes() -> None:
    done = project(
        ["P1", "P2"],
        base_year=2024,
        in_use_at_base=5,
        removals_by_year={2018: 40, 2021: 1, 2023: 2, 2024: 3},
        years_with_changes=[2018, 2021, 2023, 2024, 2030],
    )
    assert done.window_years == (2021, 2023, 2024)  # 2030 is after the base year
    assert done.rate_items_per_year == Decimal("2.00")
    assert (done.projected_year, done.status) == (2027, "projected")  # ceil(5 / 2) = 3


def test_no_rate_means_never_and_no_history_means_no_data() -> None:
    never = project(
        ["P1"], base_year=2024, in_use_at_base=3, removals_by_year={}, years_with_changes=[2024]
    )
    assert (never.projected_year, never.status) == (None, "never_at_this_rate")
    nothing = project(
        ["P1"], base_year=2024, in_use_at_base=3, removals_by_year={}, years_with_changes=[]
    )
    assert (nothing.projected_year, nothing.status) == (None, "no_data")
    done = project(
        ["P1"], base_year=2024, in_use_at_base=0, removals_by_year={}, years_with_changes=[]
    )
    assert done.status == "none_in_use"
    assert done.out(2025)["meets_use_deadline"] is True


@given(
    in_use=st.integers(1, 10_000),
    removals=st.lists(st.integers(0, 500), min_size=1, max_size=3),
)
def test_the_projected_year_is_the_first_one_at_which_all_are_removed(
    in_use: int, removals: list[int]
) -> None:
    years = list(range(2024 - len(removals) + 1, 2025))
    done = project(
        ["P1", "P2"],
        base_year=2024,
        in_use_at_base=in_use,
        removals_by_year=dict(zip(years, removals, strict=True)),
        years_with_changes=years,
    )
    if sum(removals) == 0:
        assert done.projected_year is None
        return
    assert done.projected_year is not None
    rate = Fraction(sum(removals), len(removals))  # exact: 1/3 x 3 is 1
    n = done.projected_year - 2024
    assert rate * n >= in_use
    assert rate * (n - 1) < in_use


def test_an_item_that_cannot_be_weighed_is_counted_not_summed() -> None:
    tally = Tally()
    tally.add(2, Decimal("1500"), "measured")
    tally.add(1, Decimal("0"), "not_weighed")
    tally.add(1, Decimal("250"), "dry_plus_fluid")
    assert tally.out() == {
        "items": 4,
        "total_mass_t": Decimal("1.750"),
        "estimated_total_mass_t": Decimal("0.250"),
        "items_not_weighed": 1,
    }
