"""The shared XLSX guard on its own: sizes, ratios and counts, exactly, across chunks."""

from __future__ import annotations

import io

import pytest

from shared.problems import Problem
from shared.spreadsheets import CHUNK, NotAWorkbook, XlsxLimits, check_xlsx
from tests.workbooks import ratio_bomb, with_member, workbook

LOOSE = XlsxLimits(
    max_expanded=1 << 30, max_ratio=10_000, max_cells=10**9, max_shared_strings=10**9
)


def check(data: bytes, **limits: int) -> None:
    check_xlsx(io.BytesIO(data), XlsxLimits(**(vars(LOOSE) | limits)), sent=len(data))


def refused(data: bytes, **limits: int) -> str:
    with pytest.raises(Problem) as caught:
        check(data, **limits)
    assert (caught.value.status, caught.value.slug) == (413, "xlsx-too-large")
    return caught.value.detail or ""


def test_a_genuine_workbook_passes_the_default_ratio() -> None:
    check(workbook([["a", "b"], *[[f"text {i}", i] for i in range(5000)]]), max_ratio=100)


def test_ratio_per_member_and_overall() -> None:
    assert "times its size" in refused(ratio_bomb(["a"]), max_ratio=100)
    check(ratio_bomb(["a"]), max_ratio=2000)
    masked = ratio_bomb(["a"], masked=True)
    assert "'xl/padding.xml' unpacks" in refused(masked, max_ratio=100)


def test_expanded_size() -> None:
    assert "unpacks to more than" in refused(ratio_bomb(["a"]), max_expanded=1 << 20)


def test_cells_and_shared_strings_are_counted_exactly_across_chunks() -> None:
    # Tags with and without a namespace prefix, straddling chunk boundaries.
    cells = b'<c r="A1"/><x:c r="B1">' * 100_000
    strings = b"<si><t>s</t></si><x:si>" * 100_000
    assert len(cells) > 2 * CHUNK
    data = with_member(with_member(workbook([]), "xl/a.xml", cells), "b.bin", strings)
    check(data, max_cells=200_000, max_shared_strings=200_000)
    assert "cells" in refused(data, max_cells=199_999)
    assert "shared strings" in refused(data, max_shared_strings=199_999)


def test_cells_of_a_real_workbook_and_a_shared_string_table() -> None:
    data = workbook([[f"distinct {i}" for i in range(60)]])  # openpyxl writes inline strings
    check(data, max_cells=60)
    assert "more than 59 cells" in refused(data, max_cells=59)
    table = b'<sst count="1" uniqueCount="1">' + b"<si><t>x</t></si>" * 60 + b"</sst>"
    data = with_member(data, "xl/sharedStrings.xml", table)
    check(data, max_shared_strings=60)
    assert "more than 59 shared strings" in refused(data, max_shared_strings=59)


def test_not_a_zip() -> None:
    with pytest.raises(NotAWorkbook):
        check(b"PK\x03\x04 garbage")
