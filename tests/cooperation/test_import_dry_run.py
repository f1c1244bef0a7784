"""``dry_run=true`` on the imports: the same checks and the same report as the real run,
marked ``dry_run``, and nothing written (activities, change feed, Idempotency-Key)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.cooperation.conftest import EPA_REF, PROGRAM, As, Headers
from tests.cooperation.test_iati_standard_files import (
    DATA,
    EXAMPLE,
    SHOULD_FAIL,
    SHOULD_PASS,
    as_reported_by,
)
from tests.cooperation.test_imports import (
    API,
    NEW_ROW,
    export_csv,
    export_xml,
    import_table,
    import_xml,
    table,
)

pytestmark = pytest.mark.usefixtures("seeded")
ADJ = f"{EPA_REF}-OEFA-ADJ-02"
NEW_ADJ = f"{EPA_REF}-OEFA-ADJ-99"


async def snapshot(gateway: httpx.AsyncClient, headers: Headers) -> tuple[Any, str]:
    """What a write would change: the change feed and every activity (the CSV)."""
    changes = await gateway.get(f"{API}/changes", params={"after": 0}, headers=headers)
    assert changes.status_code == 200, changes.text
    return changes.json(), await export_csv(gateway, headers)


def real(report: dict[str, Any]) -> dict[str, Any]:
    assert report.pop("dry_run") is True
    return report


async def test_an_iati_dry_run_reports_what_the_import_does_and_writes_nothing(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = await export_xml(gateway, epa)
    xml = xml.replace(b"Environmental inspection and enforcement training", b"Renamed")
    xml = xml.replace(ADJ.encode(), NEW_ADJ.encode())
    before = await snapshot(gateway, epa)
    dry = await import_xml(gateway, epa, xml, mode="partial", dry_run="true")
    assert dry.status_code == 200, dry.text
    report = dry.json()
    assert (report["created"], report["updated"], report["rejected_rows"]) == (1, 1, 12)
    assert report["notes"] or report["rejected"]
    assert await snapshot(gateway, epa) == before
    assert (await gateway.get(f"{API}/activities/{NEW_ADJ}", headers=epa)).status_code == 404
    done = await import_xml(gateway, epa, xml, mode="partial")
    assert done.status_code == 200, done.text
    assert done.json() == real(report) | {"dry_run": False}
    assert (await gateway.get(f"{API}/activities/{NEW_ADJ}", headers=epa)).status_code == 200
    assert await snapshot(gateway, epa) != before


async def test_a_rejected_dry_run_is_the_same_422_as_the_real_one(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = await export_xml(gateway, epa)  # others' activities: rejected (mode=all)
    dry = await import_xml(gateway, epa, xml, dry_run="true")
    done = await import_xml(gateway, epa, xml)
    assert dry.status_code == done.status_code == 422
    dry_problem, problem = dry.json(), done.json()
    assert dry_problem["report"]["dry_run"] is True
    assert real(dry_problem["report"]) | {"dry_run": False} == problem["report"]
    assert dry_problem["errors"] == problem["errors"]


async def test_a_matrix_dry_run_creates_nothing_then_the_real_run_does(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    before = await snapshot(gateway, epa)
    rows = table([NEW_ROW])
    dry = await import_table(gateway, epa, rows, dry_run="true")
    assert dry.status_code == 200, dry.text
    assert dry.json()["created"] == 1
    assert await snapshot(gateway, epa) == before
    path = f"{API}/activities/{NEW_ROW['identifier']}"
    assert (await gateway.get(path, headers=epa)).status_code == 404
    done = await import_table(gateway, epa, rows)
    assert done.status_code == 200, done.text
    assert done.json() == real(dry.json()) | {"dry_run": False}
    assert (await gateway.get(path, headers=epa)).status_code == 200


async def test_a_dry_run_keeps_no_idempotency_key(gateway: httpx.AsyncClient, as_org: As) -> None:
    epa = await as_org("EPA") | {"Idempotency-Key": "dry-1"}
    rows = table([NEW_ROW])
    for _ in range(2):  # never replayed
        dry = await import_table(gateway, epa, rows, dry_run="true")
        assert dry.status_code == 200, dry.text
        assert "idempotent-replayed" not in dry.headers
    done = await import_table(gateway, epa, rows)
    assert done.status_code == 200, done.text
    assert "idempotent-replayed" not in done.headers
    assert done.json()["created"] == 1
    again = await import_table(gateway, epa, rows)
    assert again.headers["idempotent-replayed"] == "true"


async def test_every_standard_file_dry_runs_as_it_imports(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    """The IATI Standard's files (should-pass, the example, a sample of should-fail): the dry
    run answers what the import then answers (status and body, but for ``dry_run``) and
    leaves the change feed as it was."""
    epa = await as_org("EPA")
    failures: list[str] = []
    for path in [*SHOULD_PASS, EXAMPLE, *SHOULD_FAIL[::25]]:
        name = str(path.relative_to(DATA))
        xml = as_reported_by(path.read_bytes(), EPA_REF)
        before = await gateway.get(f"{API}/changes", params={"after": 0}, headers=epa)
        dry = await import_xml(gateway, epa, xml, program=PROGRAM, dry_run="true")
        after = await gateway.get(f"{API}/changes", params={"after": 0}, headers=epa)
        done = await import_xml(gateway, epa, xml, program=PROGRAM)
        dry_body, body = dry.json(), done.json()
        report = dry_body.get("report", dry_body)
        if "dry_run" in report:
            report["dry_run"] = not report["dry_run"]
        for answer in (dry_body, body):
            answer.pop("request_id", None)
        if after.json() != before.json():
            failures.append(f"{name}: the dry run changed the feed")
        if (dry.status_code, dry_body) != (done.status_code, body):
            failures.append(f"{name}: {dry.status_code} {dry.text[:300]} / {done.text[:300]}")
    assert not failures, f"{len(failures)} file(s):\n" + "\n".join(failures)
