"""UP-POPs and mercury release arithmetic."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from services.inventory.estimates.rules import UnitMismatch, check_units
from services.inventory.factors.rules import (
    NA,
    ND,
    FactorValue,
    NotApplicable,
    NotDetermined,
    Vector,
    fit_value_unit,
    parse_factor,
    release_unit,
)
from services.inventory.mercury.rules import (
    DistributionError,
    Pathway,
    distribute,
    mercury_input_kg,
)
from services.inventory.reports.arithmetic import side_by_side, upops_summary
from services.inventory.upops.rules import (
    ReleaseTotal,
    ReleaseValue,
    release_g_teq_per_year,
    releases_by_vector,
    total_releases,
)

D = Decimal
rates = st.decimals(min_value=0, max_value=10**9, places=3)
factors = st.decimals(min_value=0, max_value=10**6, places=4)
release_values: st.SearchStrategy[ReleaseValue] = st.one_of(
    st.decimals(min_value=0, max_value=10**6, places=6), st.just(ND), st.just(NA)
)

# --- UP-POPs ------------------------------------------------------------------------


def test_worked_example_from_the_domain_reference() -> None:
    # 10 000 t/a x 40 µg TEQ/t = 0.4 g TEQ/a
    assert release_g_teq_per_year(D(10000), D(40)) == D("0.4")


def test_medical_waste_class_1_by_vector() -> None:
    # 1c class 1: air 40 000, residue 200 µg TEQ/t; 150 t/a -> 6 g air, 0.03 g residue.
    result = releases_by_vector(D(150), {Vector.AIR: D(40000), Vector.RESIDUE: D(200)})
    assert result[Vector.AIR] == D(6)
    assert result[Vector.RESIDUE] == D("0.03")
    # Vectors with no factor given are not determined, not zero.
    assert result[Vector.WATER] is ND
    assert set(result) == set(Vector)


@given(rate=rates)
def test_nd_is_never_zero(rate: Decimal) -> None:
    result = release_g_teq_per_year(rate, ND)
    assert result is ND
    assert not isinstance(result, Decimal)


@given(rate=rates)
def test_na_stays_na(rate: Decimal) -> None:
    assert release_g_teq_per_year(rate, NA) is NA


@given(rate=rates, factor=factors)
def test_release_is_exact_rate_times_factor_over_a_million(rate: Decimal, factor: Decimal) -> None:
    result = release_g_teq_per_year(rate, factor)
    assert isinstance(result, Decimal)
    assert result * D(10) ** 6 == rate * factor


def test_release_refuses_floats_and_negatives() -> None:
    with pytest.raises(TypeError):
        release_g_teq_per_year(10000.0, D(40))  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        release_g_teq_per_year(D(10000), 40.0)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="negative"):
        release_g_teq_per_year(D(-1), D(40))


@pytest.mark.parametrize(
    ("text", "expected"),
    [("NA", NA), (" nd ", ND), ("40000", D(40000)), ("0.5", D("0.5")), ("0", D(0))],
)
def test_parse_factor(text: str, expected: FactorValue) -> None:
    assert parse_factor(text) == expected


@pytest.mark.parametrize("text", ["", "n/a", "-5", "NaN", "Infinity", "4O"])
def test_parse_factor_rejects_garbage(text: str) -> None:
    with pytest.raises(ValueError, match="not a factor"):
        parse_factor(text)


def test_total_keeps_not_determined_visible() -> None:
    total = total_releases([D("0.4"), ND, D("0.1"), NA, ND])
    assert total == ReleaseTotal(D("0.5"), determined_parts=2, not_determined=2, not_applicable=1)
    assert not total.complete
    assert total.value == D("0.5")


def test_total_of_only_nd_is_nd_not_zero() -> None:
    total = total_releases([ND, NA])
    assert total.value is ND
    assert not total.complete
    assert total_releases([NA]).value == D(0)
    assert total_releases([]).complete


@given(parts=st.lists(release_values, max_size=20))
def test_total_sums_exactly_the_determined_parts(parts: list[ReleaseValue]) -> None:
    total = total_releases(parts)
    numbers = [p for p in parts if isinstance(p, Decimal)]
    assert total.determined_g_teq == sum(numbers, D(0))
    assert total.determined_parts == len(numbers)
    assert total.not_determined == sum(isinstance(p, NotDetermined) for p in parts)
    assert total.not_applicable == sum(isinstance(p, NotApplicable) for p in parts)
    assert total.complete == (ND not in parts)
    if total.not_determined and not numbers:
        assert total.value is ND


@given(a=st.lists(release_values, max_size=10), b=st.lists(release_values, max_size=10))
def test_totals_over_sources_add_up(a: list[ReleaseValue], b: list[ReleaseValue]) -> None:
    assert total_releases(a) + total_releases(b) == total_releases(a + b)


@pytest.mark.parametrize(
    ("activity", "factor"), [("t", "t"), (" t ", "T"), ("TJ", "tj"), ("m3  of gas", "m3 of gas")]
)
def test_matching_units(activity: str, factor: str) -> None:
    check_units(activity, factor)


@pytest.mark.parametrize(
    ("activity", "factor"), [("t", "TJ"), ("t", "kg"), ("", "t"), ("t", "  "), ("m3", "m³")]
)
def test_mismatched_units(activity: str, factor: str) -> None:
    with pytest.raises(UnitMismatch):
        check_units(activity, factor)


def test_unit_mismatch_is_a_value_error() -> None:
    with pytest.raises(ValueError, match=r"'t'.*'TJ'"):
        check_units("t", "TJ")


# --- Mercury ------------------------------------------------------------------------

ASGM = {
    Pathway.AIR: D("0.4"),
    Pathway.WATER: D("0.3"),
    Pathway.LAND: D("0.3"),
}


def test_mercury_input_is_rate_times_factor() -> None:
    assert mercury_input_kg(D(2000), D("1.3")) == D("2600.000")
    assert mercury_input_kg(D(3), D("0.00025")) == D("0.001")  # 0.00075 rounds half-up
    assert mercury_input_kg(D(1), D("0.0004")) == D("0.000")


def test_distribute_splits_by_factor_and_lists_every_pathway() -> None:
    result = distribute(D(1000), ASGM)
    assert result == {
        Pathway.AIR: D(400),
        Pathway.WATER: D(300),
        Pathway.LAND: D(300),
        Pathway.BY_PRODUCTS: D(0),
        Pathway.GENERAL_WASTE: D(0),
        Pathway.SECTOR_SPECIFIC: D(0),
    }


def test_distribute_rounding_does_not_lose_grams() -> None:
    thirds = {Pathway.AIR: D("0.3334"), Pathway.WATER: D("0.3333"), Pathway.LAND: D("0.3333")}
    result = distribute(D("0.010"), thirds)
    assert sum(result.values()) == D("0.010")
    assert result[Pathway.AIR] == D("0.004")


def test_distribute_accepts_pathway_names_as_strings() -> None:
    result = distribute(D(10), {"air": D(1)})  # type: ignore[dict-item]
    assert result[Pathway.AIR] == D(10)


@pytest.mark.parametrize(
    ("factors", "message"),
    [
        ({Pathway.AIR: D("0.5"), Pathway.WATER: D("0.4")}, "sum to"),
        ({Pathway.AIR: D("0.5"), Pathway.WATER: D("0.5011")}, "sum to"),
        ({Pathway.AIR: D("1.2"), Pathway.WATER: D("-0.2")}, "negative"),
        ({"soil": D(1)}, "unknown pathway"),
        ({Pathway.AIR: 1.0}, "finite Decimal"),
        ({}, "sum to"),
    ],
)
def test_distribute_rejects_bad_factors(factors: dict[Pathway, Decimal], message: str) -> None:
    with pytest.raises(DistributionError, match=message):
        distribute(D(100), factors)


def test_distribute_tolerance_is_inclusive_and_configurable() -> None:
    near = {Pathway.AIR: D("0.5"), Pathway.WATER: D("0.499")}
    assert sum(distribute(D(1000), near).values()) == D("999.000")
    with pytest.raises(DistributionError):
        distribute(D(1000), near, tolerance=D("0.0001"))


factor_lists = st.lists(st.integers(min_value=0, max_value=1000), min_size=1, max_size=6).filter(
    lambda xs: sum(xs) > 0
)


@given(
    input_kg=st.decimals(min_value=0, max_value=10**7, places=4),
    weights=factor_lists,
)
def test_distribution_sums_to_the_input(input_kg: Decimal, weights: list[int]) -> None:
    # Build factors that sum to exactly 1: k-1 rounded shares, the last takes the rest.
    shares = [(D(w) / sum(weights)).quantize(D("0.0001")) for w in weights[:-1]]
    shares.append(1 - sum(shares, D(0)))
    assume(shares[-1] >= 0)
    pathways = list(Pathway)[: len(shares)]
    result = distribute(input_kg, dict(zip(pathways, shares, strict=True)))
    quantum = D("0.001")
    assert sum(result.values()) == input_kg.quantize(quantum, rounding=ROUND_HALF_UP)
    for pathway, share in zip(pathways, shares, strict=True):
        # Each part is within one quantum of its exact share, never negative.
        assert abs(result[pathway] - input_kg * share) < quantum
        assert result[pathway] >= 0
    for pathway in list(Pathway)[len(shares) :]:
        assert result[pathway] == 0


# --- UP-POPs units: TEQ vs mass (issue 12, item 1) ------------------------------------


def test_factor_units_fit_the_pollutant() -> None:
    assert fit_value_unit("pcdd_pcdf", None) == "µg TEQ"
    assert fit_value_unit("dl_pcb", "ug teq") == "µg TEQ"
    assert fit_value_unit("hcb", None) == "µg"
    assert fit_value_unit("pecbz", "μg") == "µg"  # Greek mu read as the micro sign
    assert fit_value_unit("hcb", "MG") == "mg"
    for pollutant, unit in (("hcb", "µg TEQ"), ("pecbz", "ng TEQ"), ("pcdd_pcdf", "µg")):
        with pytest.raises(ValueError, match="factors are in"):
            fit_value_unit(pollutant, unit)
    assert (release_unit("pcdd_pcdf"), release_unit("hcb")) == ("g TEQ/a", "g/a")


def test_release_follows_the_factor_unit() -> None:
    # 10 000 t x 40 µg/t = 0.4 g; x 40 ng/t = 0.0004 g; x 0.1 mg/t = 1 g.
    assert release_g_teq_per_year(D(10000), D(40)) == D("0.4")
    assert release_g_teq_per_year(D(10000), D(40), -9) == D("0.0004")
    assert release_g_teq_per_year(D(10000), D("0.1"), -3) == D("1")
    out = releases_by_vector(D(10000), {Vector.AIR: D("0.1")}, {Vector.AIR: -3})
    assert out[Vector.AIR] == D("1")


def test_summary_totals_never_cross_pollutants_or_schemes() -> None:
    rows = [
        ("pcdd_pcdf", "WHO-2005", "6", "air", D("0.4"), 1, 0, 0),
        ("pcdd_pcdf", "I-TEQ", "6", "air", D("0.2"), 1, 0, 0),
        ("hcb", "", "6", "air", D("1"), 1, 0, 0),
        ("hcb", "", "6", "land", None, 0, 1, 0),
    ]
    summary = upops_summary(rows)
    assert [(t["pollutant"], t["teq_scheme"], t["unit"]) for t in summary["totals"]] == [
        ("pcdd_pcdf", "I-TEQ", "g TEQ/a"),
        ("pcdd_pcdf", "WHO-2005", "g TEQ/a"),
        ("hcb", None, "g/a"),
    ]
    assert [t["determined"] for t in summary["totals"]] == [D("0.2"), D("0.4"), D("1")]
    assert summary["by_vector"] is None
    assert summary["determined_g_teq_per_year"] is None
    assert summary["not_determined_parts"] == 1
    hcb = summary["totals"][2]
    assert hcb["by_vector"]["land"]["status"] == "not_determined"
    assert hcb["by_vector"]["air"]["release_g_teq_per_year"] is None
    only = upops_summary(rows[:1])
    assert only["determined_g_teq_per_year"] == D("0.4")
    assert only["by_vector"]["air"]["release_g_teq_per_year"] == D("0.4")
    assert upops_summary(rows[2:3])["determined_g_teq_per_year"] is None  # mass alone
    assert upops_summary([])["determined_g_teq_per_year"] == D(0)
    compared = side_by_side([upops_summary(rows[1:2])["totals"], upops_summary(rows[:1])["totals"]])
    assert [(r["teq_scheme"], [v and v["determined"] for v in r["values"]]) for r in compared] == [
        ("I-TEQ", [D("0.2"), None]),
        ("WHO-2005", [None, D("0.4")]),
    ]
