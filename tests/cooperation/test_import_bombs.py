"""XLSX bombs at the matrix import: refused (413) by the guard shared with the inventory
import, before openpyxl parses anything; every limit is a setting."""

from __future__ import annotations

import httpx
import pytest
from fastapi import FastAPI

from services.cooperation.exchange.table_import import XLSX
from tests.cooperation.conftest import As
from tests.cooperation.test_imports import NEW_ROW, import_table
from tests.support import assert_problem, limit
from tests.workbooks import ratio_bomb, with_shared_strings, workbook

pytestmark = pytest.mark.usefixtures("seeded")


@pytest.mark.parametrize("masked", [False, True])
async def test_a_ratio_bomb_is_refused(
    gateway: httpx.AsyncClient, as_org: As, masked: bool
) -> None:
    # Masked, the workbook as a whole is near 20:1: only its member's ratio is refused.
    bomb = ratio_bomb(list(NEW_ROW), masked=masked)
    response = await import_table(gateway, await as_org("EPA"), bomb, XLSX)
    assert_problem(response, 413, "xlsx-too-large")


async def test_cells_and_shared_strings_are_capped(
    gateway: httpx.AsyncClient, as_org: As, cooperation_app: FastAPI
) -> None:
    headers = await as_org("EPA")
    genuine = workbook([list(NEW_ROW), list(NEW_ROW.values())])
    limit(cooperation_app, import_max_xlsx_cells=2 * len(NEW_ROW) - 1)
    assert_problem(await import_table(gateway, headers, genuine, XLSX), 413, "xlsx-too-large")
    strings = with_shared_strings(genuine, 3)
    limit(cooperation_app, import_max_xlsx_cells=1000, import_max_shared_strings=2)
    assert_problem(await import_table(gateway, headers, strings, XLSX), 413, "xlsx-too-large")
    limit(cooperation_app, import_max_shared_strings=3)
    response = await import_table(gateway, headers, strings, XLSX)
    assert response.status_code == 200, response.text
