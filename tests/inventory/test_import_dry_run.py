"""``?dry_run=true`` on the inventory import: the same reading, checks and report, nothing
written (issue 14 item 5's ``enlace import pcb --dry-run``); and a refused ``mode=all``
import says it imported 0 rows, with the valid ones counted apart (issue 14 item 6)."""

from __future__ import annotations

from typing import Any

from tests.inventory.conftest import Caller
from tests.inventory.test_import_api import row, to_csv


async def _post(caller: Caller, sid: int, body: bytes, **params: Any) -> Any:
    return await caller.post(
        f"/submissions/{sid}/imports",
        content=body,
        headers={"Content-Type": "text/csv", "Idempotency-Key": "dry-then-real-1"},
        params=params,
    )


async def _items(caller: Caller, sid: int) -> list[str]:
    page = (await caller.get("/pcb-items", params={"submission_id": sid})).json()
    return sorted(i["serial_number"] for i in page["items"])


async def test_a_dry_run_reports_and_writes_nothing(minem: Caller, minam: Caller) -> None:
    sid = (await minem.submission(2031))["id"]
    body = to_csv([row(1), row(2), row(3, year_manufactured="nineteen")])
    history = (await minam.get("/changes", params={"limit": 1000})).json()["items"]

    dry = await _post(minem, sid, body, mode="partial", dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert report["dry_run"] is True
    assert (report["rows_total"], report["rows_imported"], report["rows_rejected"]) == (3, 2, 1)
    assert report["items_created"] == 2
    assert [(e["row"], e["column"]) for e in report["errors"]] == [(4, "year_manufactured")]
    assert await _items(minem, sid) == []
    assert (await minam.get("/changes", params={"limit": 1000})).json()["items"] == history

    # The real import with the same Idempotency-Key runs: the dry run stored no answer.
    real = await _post(minem, sid, body, mode="partial")
    assert real.status_code == 200, real.text
    assert real.json()["dry_run"] is False
    assert real.json()["rows_imported"] == 2
    assert await _items(minem, sid) == ["S-1", "S-2"]


async def test_a_refused_import_imported_nothing_and_says_so(minem: Caller) -> None:
    sid = (await minem.submission(2032))["id"]
    body = to_csv([row(1), row(2, fluid_volume_l="-1"), row(3)])
    for params in ({"dry_run": "true"}, {}):
        refused = await _post(minem, sid, body, **params)
        assert refused.status_code == 422, refused.text
        problem = refused.json()
        assert problem["rows_imported"] == 0
        assert problem["rows_valid"] == 2
        assert problem["rows_rejected"] == 1
        assert problem["dry_run"] is bool(params)
        assert "nothing was imported" in problem["detail"]
    assert await _items(minem, sid) == []
