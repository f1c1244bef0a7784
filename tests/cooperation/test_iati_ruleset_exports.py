"""Every IATI export of the demo data passes the IATI Standard ruleset and the codelists (the
IATI Validator's checks beyond the schema): no error, and only the documented warnings."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
import pytest
from lxml import etree

from services.cooperation.iati.ruleset import document_findings
from tests.cooperation.conftest import READ, As, read_data

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"


def findings(xml: bytes) -> list[str]:
    root = etree.fromstring(xml)
    today = datetime.now(UTC).date()
    return [f"{f.line} {f.rule} {f.severity}: {f.message}" for f in document_findings(root, today)]


async def test_every_export_of_the_demo_data_passes_the_ruleset_and_codelists(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    public = await gateway.get(f"{API}/public/iati/activities.xml")
    assert public.status_code == 200
    exports = {"public": public.content}
    for org in read_data("organisations.json"):
        headers = await as_org(org["code"], READ)
        response = await gateway.get(f"{API}/iati/activities.xml", headers=headers)
        assert response.status_code == 200, response.text
        exports[org["code"]] = response.content
    assert exports["public"].count(b"<iati-activity ") >= 10
    for name, xml in exports.items():
        found = findings(xml)
        assert found == [], f"{name}: " + "; ".join(found)
