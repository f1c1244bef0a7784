"""The inventory import holds one of the import workers while its file is read: past them
it is a 503 problem with Retry-After that writes nothing and leaves its Idempotency-Key
unused; a worker is free again after an import, also one whose file could not be read."""

from __future__ import annotations

import pytest
from fastapi import FastAPI

from services.inventory.settings import InventorySettings
from shared.offload import Workers
from tests.inventory.conftest import Caller
from tests.inventory.test_import_api import row, to_csv
from tests.inventory.test_import_limits import upload
from tests.support import assert_problem

RETRY_AFTER = 7


@pytest.fixture
def inventory_settings(clean_databases: dict[str, str]) -> InventorySettings:
    """One import worker, no wait for it."""
    return InventorySettings(
        database_url=clean_databases["inventory"],
        access_log=False,
        import_workers=1,
        import_queue_timeout_s=0,
        import_retry_after_s=RETRY_AFTER,
    )


async def test_an_import_past_the_workers_is_503_and_writes_nothing(
    minem: Caller, inventory_app: FastAPI
) -> None:
    sid = (await minem.submission(2024))["id"]
    body = to_csv([row(n) for n in range(1, 6)])
    key = {"Idempotency-Key": "busy-1"}
    workers: Workers = inventory_app.state.import_workers
    async with workers.slot():
        busy = await minem.post(
            f"/submissions/{sid}/imports", content=body, headers={"Content-Type": "text/csv"} | key
        )
    assert_problem(busy, 503, "import-workers-busy")
    assert busy.headers["retry-after"] == str(RETRY_AFTER)
    assert (await minem.get("/pcb-items", params={"submission_id": sid})).json()["items"] == []
    assert (await minem.get("/holders")).json()["items"] == []
    done = await minem.post(
        f"/submissions/{sid}/imports", content=body, headers={"Content-Type": "text/csv"} | key
    )
    assert done.status_code == 200, done.text
    assert done.json()["items_created"] == 5
    assert workers.running == 0


async def test_the_worker_is_free_again_after_an_unreadable_file(minem: Caller) -> None:
    sid = (await minem.submission(2024))["id"]
    broken = to_csv([row(1)]) + b"\xff\xfe not utf-8\r\n"
    assert_problem(await upload(minem, sid, broken), 422, "unreadable-file")
    assert_problem(await upload(minem, sid, b"[1, 2", "application/json"), 422, "unreadable-file")
    response = await upload(minem, sid, to_csv([row(1)]))
    assert response.status_code == 200, response.text
