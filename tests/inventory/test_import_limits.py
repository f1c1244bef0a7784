"""The import's edges: a header too wide, encodings that are no text encoding, XLSX bombs
(refused before parsing, by the guard shared with the cooperation import), and concurrent
imports of the same new items on PostgreSQL (409 or the first answer, never a 500)."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from unittest.mock import ANY

import pytest
from fastapi import FastAPI

from shared.offload import Workers
from tests.conftest import on_postgres
from tests.inventory.conftest import Caller, assert_problem
from tests.inventory.test_import_api import HEADER, row, to_csv
from tests.support import limit
from tests.workbooks import ratio_bomb, with_shared_strings, workbook

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSONL = "application/x-ndjson"


async def upload(
    caller: Caller, sid: int, body: bytes, kind: str = "text/csv", **params: Any
) -> Any:
    return await caller.post(
        f"/submissions/{sid}/imports", content=body, headers={"Content-Type": kind}, params=params
    )


async def test_a_wide_header_is_refused_quickly(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    wide = ",".join(f"c{i}" for i in range(16_000)).encode() + b"\r\n"
    started = time.perf_counter()
    response = await upload(minem, sid, wide)
    assert time.perf_counter() - started < 2
    assert_problem(response, 422, "unreadable-file")
    assert "more than 200 columns" in response.json()["detail"]
    duplicates = ",".join(["holder_ruc"] * 200).encode() + b"\r\n"
    assert "duplicate columns: holder_ruc" in (await upload(minem, sid, duplicates)).text


async def test_the_column_cap_is_a_setting(minem: Caller, inventory_app: FastAPI) -> None:
    sid = (await minem.submission(2024))["id"]
    limit(inventory_app, import_max_columns=len(HEADER) - 1)
    response = await upload(minem, sid, to_csv([row(1)]))
    assert_problem(response, 422, "unreadable-file")
    limit(inventory_app, import_max_columns=len(HEADER))
    assert (await upload(minem, sid, to_csv([row(1)]))).status_code == 200


@pytest.mark.parametrize(
    "encoding", ["zlib", "base64", "rot13", "hex", "undefined", "punycode", "idna", "klingon"]
)
async def test_only_text_encodings(minem: Caller, encoding: str) -> None:
    sid = (await minem.submission(2024))["id"]
    response = await upload(minem, sid, to_csv([row(1)]), encoding=encoding)
    assert_problem(response, 422, "unsupported-encoding")


async def test_text_encodings_still_read(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    body = to_csv([row(1, holder_name="Compañía")]).decode().encode("latin-1")
    assert (await upload(minem, sid, body, encoding="latin-1")).status_code == 200
    assert (await upload(minem, sid, to_csv([row(2)]), encoding="UTF8")).status_code == 200


async def test_xlsx_bombs_are_refused_before_parsing(minem: Caller, inventory_app: FastAPI) -> None:
    sid = (await minem.submission(2024))["id"]
    for masked in (False, True):
        bomb = ratio_bomb(HEADER, masked=masked)
        assert_problem(await upload(minem, sid, bomb, XLSX), 413, "xlsx-too-large")
    genuine = workbook([HEADER, [row(1)[c] or None for c in HEADER]])
    limit(inventory_app, import_max_xlsx_cells=len(HEADER))
    assert_problem(await upload(minem, sid, genuine, XLSX), 413, "xlsx-too-large")
    strings = with_shared_strings(genuine, 11)
    limit(inventory_app, import_max_xlsx_cells=10_000, import_max_shared_strings=10)
    assert_problem(await upload(minem, sid, strings, XLSX), 413, "xlsx-too-large")
    limit(inventory_app, import_max_shared_strings=11)
    response = await upload(minem, sid, strings, XLSX)
    assert response.status_code == 200, response.text


@pytest.mark.postgres_only
@pytest.mark.skipif(not on_postgres(), reason="the COPY path is PostgreSQL's")
@pytest.mark.parametrize("same_key", [True, False])
async def test_concurrent_imports_of_the_same_new_items(
    minem: Caller, inventory_app: FastAPI, same_key: bool
) -> None:
    """Ten identical imports at once, in rounds of new items: each answer is the import
    (200, or its replay), or a 409 problem; never a 500 from the COPY of the new items, and
    never a duplicate. The race is timing-bound, hence the rounds."""
    # As many import workers as imports, so that all ten race (none waits for a worker).
    inventory_app.state.import_workers = Workers(10, wait_s=30, retry_after_s=5)
    sid = (await minem.submission(2024))["id"]
    # Holders and sites known already: the imports meet first at the new items.
    known = to_csv([row(n, serial_number=f"K-{n}") for n in range(1, 16)])
    assert (await upload(minem, sid, known)).status_code == 200
    expected = [f"K-{n}" for n in range(1, 16)]
    for round_ in range(4):
        serials = [f"R{round_}-{n}" for n in range(1, 21)]
        body = to_csv([row(n, serial_number=s) for n, s in enumerate(serials, start=1)])
        expected += serials

        async def one(n: int, body: bytes = body, round_: int = round_) -> Any:
            key = f"same-{round_}" if same_key else f"import-{round_}-{n}"
            return await minem.post(
                f"/submissions/{sid}/imports",
                content=body,
                headers={"Content-Type": "text/csv", "Idempotency-Key": key},
            )

        answers = await asyncio.gather(*(one(n) for n in range(10)))
        assert {a.status_code for a in answers} <= {200, 409}, [a.text for a in answers]
        assert any(a.status_code == 200 for a in answers)
        for answer in answers:
            if answer.status_code == 409:
                assert_problem(answer, 409, "conflict")
    items = (await minem.get("/pcb-items", params={"submission_id": sid, "limit": 200})).json()
    assert sorted(i["serial_number"] for i in items["items"]) == sorted(expected)


async def test_an_import_written_in_batches(minem: Caller, inventory_app: FastAPI) -> None:
    """Two rows a batch (the next batch is checked while the previous one is written): an
    item repeated in a later batch moves its status once, a holder renamed in a later batch
    is updated, a row rejected near the end undoes every batch written before it, and so
    does a file unreadable past the rows already written."""
    limit(inventory_app, import_batch_rows=2)
    sid = (await minem.submission(2024))["id"]
    rows = [row(n) for n in range(1, 8)]
    rows += [row(1, status="out_of_service_stored"), row(9, fluid_volume_l="-5")]
    rows.append(row(4, holder_name="Empresa renombrada"))  # the holder of rows 1, 4 and 7
    assert_problem(await upload(minem, sid, to_csv(rows)), 422, "import-rejected")
    assert (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"] == []
    assert (await minem.get("/holders")).json()["items"] == []
    report = (await upload(minem, sid, to_csv(rows), mode="partial")).json()
    counts = ("rows_imported", "rows_rejected", "items_created", "status_changes")
    assert tuple(report[c] for c in counts) == (9, 1, 7, 1)
    assert (report["holders_created"], report["holders_updated"]) == (3, 1)
    names = {h["name"] for h in (await minem.get("/holders")).json()["items"]}
    assert names == {"Empresa 0", "Empresa renombrada", "Empresa 2"}
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(10, "fluid_volume_l")]
    items = (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"]
    first = next(i for i in items if i["serial_number"] == "S-1")
    history = (await minem.get(f"/pcb-items/{first['id']}/status-events")).json()
    assert [h["to_status"] for h in history] == ["in_use", "out_of_service_stored"]
    # JSON Lines whose line 8 is not UTF-8: three batches are written before it is read.
    other = (await minem.submission(2023))["id"]
    lines = [json.dumps(row(n, serial_number=f"L-{n}")).encode() for n in range(1, 8)]
    response = await upload(minem, other, b"\n".join([*lines, b'{"x": "\xff"}']), JSONL)
    assert_problem(response, 422, "unreadable-file")
    assert response.json()["errors"] == [
        {"row": 8, "column": None, "code": "unreadable", "message": ANY, "reason": ANY}
    ]
    assert (await minem.get("/pcb-items", params={"submission_id": other})).json()["items"] == []
