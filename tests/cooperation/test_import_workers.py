"""Imports are parsed in worker threads: the event loop keeps answering while a large IATI
file is read, and when every import worker is busy a further import is a 503 problem with
Retry-After that writes nothing (and leaves its Idempotency-Key unused)."""

from __future__ import annotations

import asyncio
import copy

import httpx
import pytest
from fastapi import FastAPI
from lxml import etree

from services.cooperation.settings import CooperationSettings
from shared.offload import Workers
from tests.cooperation.conftest import EPA_REF, OEFA_ENF, As, Headers
from tests.cooperation.test_imports import (
    API,
    NEW_ROW,
    export_xml,
    import_table,
    import_xml,
    only,
    table,
)
from tests.support import assert_problem

pytestmark = pytest.mark.usefixtures("seeded")
RETRY_AFTER = 7


@pytest.fixture
def cooperation_settings(clean_databases: dict[str, str]) -> CooperationSettings:
    """One import worker, no wait for it: a second import at once is refused."""
    return CooperationSettings(
        database_url=clean_databases["cooperation"],
        access_log=False,
        import_workers=1,
        import_queue_timeout_s=0,
        import_retry_after_s=RETRY_AFTER,
    )


def workers(app: FastAPI) -> Workers:
    found: Workers = app.state.import_workers
    return found


def large_iati(xml: bytes, size: int) -> tuple[bytes, int]:
    """A document of at least ``size`` bytes: EPA's activities of ``xml`` (an export) over
    and over, each copy under a new identifier; and how many activities it holds."""
    root = etree.fromstring(xml)
    activities = [
        a
        for a in root.findall("iati-activity")
        if a.findtext("iati-identifier", "").startswith(EPA_REF)
    ]
    assert activities
    head = xml[: xml.index(b"<iati-activity")]
    parts: list[bytes] = []
    total = 0
    while total < size:
        for activity in activities:
            clone = copy.deepcopy(activity)
            identifier = clone.find("iati-identifier")
            assert identifier is not None
            identifier.text = f"{identifier.text}-COPY-{len(parts):05d}"
            parts.append(etree.tostring(clone))
            total += len(parts[-1])
    return head + b"".join(parts) + b"</iati-activities>\n", len(parts)


async def test_the_loop_answers_while_a_large_iati_file_is_parsed(
    gateway: httpx.AsyncClient, as_org: As, seeded: FastAPI, cooperation: httpx.AsyncClient
) -> None:
    """``/health/live`` of the same app answers while the import's parse is still running
    in its worker (so before the import finished); had the parse run on the event loop,
    nothing else could have run until it was over."""
    epa = await as_org("EPA")
    xml, count = large_iati(await export_xml(gateway, epa), 4_000_000)
    pool = workers(seeded)
    importing = asyncio.create_task(
        import_xml(gateway, epa, xml, mode="partial", visibility="public")
    )
    while pool.running == 0:
        assert not importing.done(), "the import ended before its parse was seen in a worker"
        await asyncio.sleep(0.001)
    health = await cooperation.get("/health/live")
    assert health.status_code == 200
    assert pool.running == 1, "the parse was over before /health/live was answered"
    assert not importing.done()
    report = await importing
    assert report.status_code == 200, report.text
    assert report.json()["created"] == count


async def busy_answers(
    gateway: httpx.AsyncClient, app: FastAPI, epa: Headers, xml: bytes, csv: bytes
) -> list[httpx.Response]:
    """The IATI and the matrix imports while the one import worker is taken."""
    async with workers(app).slot():
        return [
            await import_xml(gateway, epa, xml, visibility="public"),
            await import_table(gateway, epa, csv),
        ]


async def test_imports_beyond_the_workers_are_503_with_retry_after_and_write_nothing(
    gateway: httpx.AsyncClient, as_org: As, seeded: FastAPI
) -> None:
    epa = await as_org("EPA") | {"Idempotency-Key": "busy-1"}
    original, _ = only(await export_xml(gateway, epa), {OEFA_ENF})
    xml = original.replace(OEFA_ENF.encode(), f"{OEFA_ENF}-NEW".encode())
    csv = table([NEW_ROW])
    for answer in await busy_answers(gateway, seeded, epa, xml, csv):
        assert_problem(answer, 503, "import-workers-busy")
        assert answer.headers["retry-after"] == str(RETRY_AFTER)
        assert answer.json()["request_id"]
    for identifier in (f"{OEFA_ENF}-NEW", NEW_ROW["identifier"]):
        missing = await gateway.get(f"{API}/activities/{identifier}", headers=epa)
        assert missing.status_code == 404, missing.text
    # The refused import kept nothing under its key: the same key works once a worker is free.
    done = await import_xml(gateway, epa, xml, visibility="public")
    assert done.status_code == 200, done.text
    assert done.json()["created"] == 1
    again = await import_xml(gateway, epa, xml, visibility="public")
    assert again.headers["idempotent-replayed"] == "true"
    assert again.json() == done.json()
