"""RUC, UBIGEO and coordinate checks."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.inventory.registry.rules import (
    DEPARTMENTS,
    coordinates_in_peru,
    department_of,
    ruc_check_digit,
    ruc_is_valid,
    ubigeo_is_valid,
)

# Worked by hand with weights 5,4,3,2,7,6,5,4,3,2 so the test does not just echo the code:
# 2013131295: 10+0+3+6+7+18+5+8+27+10 = 94; 94 mod 11 = 6; 11-6 = 5 -> 20131312955
# 2013136882: 10+0+3+6+7+18+30+32+24+4 = 134; 134 mod 11 = 2; 11-2 = 9 -> 20131368829
# 1000000001: 5+2 = 7; 11-7 = 4 -> 10000000014
# 1000000000: 5; 11-5 = 6 -> 10000000006
# 2000000000: 10; 11-10 = 1 -> 20000000001
# 2000000001: 12; 12 mod 11 = 1; 11-1 = 10 -> 0 -> 20000000010
# 2000000007: 24; 24 mod 11 = 2; 11-2 = 9 -> 20000000079
# 1500000003: 5+20+6 = 31; 31 mod 11 = 9; 11-9 = 2 -> 15000000032
# 1700000000: 5+28 = 33; 33 mod 11 = 0; 11-0 = 11 -> 1 -> 17000000001
HAND_WORKED = [
    ("2013131295", 5),
    ("2013136882", 9),
    ("1000000001", 4),
    ("1000000000", 6),
    ("2000000000", 1),
    ("2000000001", 0),
    ("2000000007", 9),
    ("1500000003", 2),
    ("1700000000", 1),
]


@pytest.mark.parametrize(("first_ten", "digit"), HAND_WORKED)
def test_ruc_check_digit_matches_hand_computation(first_ten: str, digit: int) -> None:
    assert ruc_check_digit(first_ten) == digit
    assert ruc_is_valid(first_ten + str(digit))


def test_ruc_check_digit_maps_10_to_0_and_11_to_1() -> None:
    # sum mod 11 == 1 gives 10 -> 0; sum mod 11 == 0 gives 11 -> 1 (see table above).
    assert ruc_check_digit("2000000001") == 0
    assert ruc_check_digit("1700000000") == 1


@pytest.mark.parametrize(
    "ruc",
    [
        "20131368828",  # check digit off by one
        "20131368820",
        "20131312954",
        "30131368829",  # prefix 30 does not exist
        "11000000001",
        "2013136882",  # ten digits
        "201313688299",  # twelve digits
        "2013136882X",
        " 20131368829",
        "20131368829 ",
        "2013136882٩",  # Arabic-Indic nine: a digit to str.isdigit, not a RUC digit
        "",
    ],
)
def test_invalid_rucs_are_rejected(ruc: str) -> None:
    assert not ruc_is_valid(ruc)


@pytest.mark.parametrize("bad", ["", "123456789", "12345678901", "12345abcde", "²000000000"])
def test_ruc_check_digit_needs_ten_ascii_digits(bad: str) -> None:
    with pytest.raises(ValueError, match="ten digits"):
        ruc_check_digit(bad)


@given(
    prefix=st.sampled_from(["10", "15", "17", "20"]),
    body=st.text(alphabet="0123456789", min_size=8, max_size=8),
)
def test_exactly_one_check_digit_makes_a_ruc_valid(prefix: str, body: str) -> None:
    first_ten = prefix + body
    valid = [d for d in "0123456789" if ruc_is_valid(first_ten + d)]
    assert valid == [str(ruc_check_digit(first_ten))]


def _weighted_sum(first_ten: str) -> int:
    return sum(int(d) * w for d, w in zip(first_ten, (5, 4, 3, 2, 7, 6, 5, 4, 3, 2), strict=True))


@given(body=st.text(alphabet="0123456789", min_size=8, max_size=8))
def test_single_digit_substitution_is_detected(body: str) -> None:
    # Every weight is non-zero mod 11, so a changed digit always changes the sum mod 11.
    # The only blind spot is the wrap: sums = 0 and = 10 (mod 11) both give check digit 1.
    ruc = "20" + body
    ruc += str(ruc_check_digit(ruc))
    for pos in range(2, 10):
        for d in "0123456789":
            if d == ruc[pos]:
                continue
            mutated = ruc[:pos] + d + ruc[pos + 1 :]
            residues = {_weighted_sum(ruc[:10]) % 11, _weighted_sum(mutated[:10]) % 11}
            assert ruc_is_valid(mutated) is (residues == {0, 10})


def test_departments_are_the_25_inei_codes() -> None:
    assert list(DEPARTMENTS) == [f"{n:02d}" for n in range(1, 26)]
    assert DEPARTMENTS["01"] == "Amazonas"
    assert DEPARTMENTS["07"] == "Callao"
    assert DEPARTMENTS["15"] == "Lima"
    assert DEPARTMENTS["25"] == "Ucayali"
    assert DEPARTMENTS["02"] == "Áncash"


@pytest.mark.parametrize("ubigeo", ["150101", "070101", "010101", "250101", "080801", "259999"])
def test_valid_ubigeos(ubigeo: str) -> None:
    assert ubigeo_is_valid(ubigeo)
    assert department_of(ubigeo) == ubigeo[:2]


@pytest.mark.parametrize(
    "ubigeo",
    [
        "000101",  # department 00
        "260101",  # only 25 departments
        "990101",
        "150001",  # province 00
        "150100",  # district 00
        "15010",
        "1501011",
        "15O101",  # letter O
        "",
    ],
)
def test_invalid_ubigeos(ubigeo: str) -> None:
    assert not ubigeo_is_valid(ubigeo)
    with pytest.raises(ValueError, match="UBIGEO"):
        department_of(ubigeo)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (Decimal("-12.0464"), Decimal("-77.0428")),  # Lima
        (-13.5319, -71.9675),  # Cusco, as floats
        (Decimal("-18.4"), Decimal("-81.4")),  # corners are inside
        (Decimal("0.0"), Decimal("-68.6")),
        (-18.4, -68.6),
        (0.0, -81.4),
    ],
)
def test_points_in_peru(lat: Decimal | float, lon: Decimal | float) -> None:
    assert coordinates_in_peru(lat, lon)


@pytest.mark.parametrize(
    ("lat", "lon"),
    [
        (Decimal("-77.0428"), Decimal("-12.0464")),  # swapped
        (Decimal("12.0464"), Decimal("-77.0428")),  # sign of latitude lost
        (Decimal("-12.0464"), Decimal("77.0428")),
        (Decimal("-18.41"), Decimal("-70")),
        (Decimal("0.01"), Decimal("-75")),
        (Decimal("-10"), Decimal("-81.41")),
        (Decimal("-10"), Decimal("-68.59")),
        (float("nan"), -75.0),
        (-10.0, float("inf")),
        (Decimal("NaN"), Decimal("-75")),
    ],
)
def test_points_outside_peru(lat: Decimal | float, lon: Decimal | float) -> None:
    assert not coordinates_in_peru(lat, lon)


@given(
    lat=st.decimals(min_value=Decimal("-18.4"), max_value=Decimal("0"), places=6),
    lon=st.decimals(min_value=Decimal("-81.4"), max_value=Decimal("-68.6"), places=6),
)
def test_every_point_of_the_box_is_in_peru(lat: Decimal, lon: Decimal) -> None:
    assert coordinates_in_peru(lat, lon)
    assert coordinates_in_peru(float(lat), float(lon))
