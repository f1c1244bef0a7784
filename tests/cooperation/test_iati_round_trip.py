"""Nothing an IATI publisher sent is lost: the Standard's annotated example imported and
exported gives back the same activity, compared canonically (so does every should-pass
file: ``test_iati_standard_files``); an edit through the API changes only what it
touches."""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest

from services.cooperation.iati import schema_errors
from tests.cooperation.conftest import EPA_REF, PROGRAM, As, fetch
from tests.cooperation.test_iati_standard_files import (
    EXAMPLE,
    activities,
    as_reported_by,
    canonical,
)

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
IMPORT = f"{API}/imports/iati"
EXPORT = f"{API}/iati/activities.xml"
XML = {"Content-Type": "application/xml"}
XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
STAMP = "last-updated-datetime"


async def imported(
    gateway: httpx.AsyncClient, epa: dict[str, str], xml: bytes, **params: str
) -> dict[str, Any]:
    response = await gateway.post(
        IMPORT, content=xml, headers=epa | XML, params={"program": PROGRAM} | params
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


async def exported(gateway: httpx.AsyncClient, epa: dict[str, str]) -> bytes:
    response = await gateway.get(EXPORT, headers=epa, params={"program": PROGRAM})
    assert response.status_code == 200, response.text
    assert schema_errors(response.content) == []
    return response.content


async def test_the_annotated_example_round_trips_canonically(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = as_reported_by(EXAMPLE.read_bytes(), EPA_REF)
    ((identifier, sent),) = activities(xml).items()
    report = await imported(gateway, epa, xml)
    assert report["created"] == 1
    notes = " | ".join(n["note"] for n in report["notes"])
    assert "kept as sent and exported as received (not modelled): other-identifier, " in notes
    assert "crs-add, fss" in notes
    back = activities(await exported(gateway, epa))[identifier]
    # The same element, attribute, narrative in every language, in the same order;
    # unedited, it keeps even the publisher's last-updated-datetime.
    assert canonical(back) == canonical(sent)
    # The columns hold what the matrix and the API need, as before.
    body = (await fetch(gateway, identifier, epa)).json()
    assert (body["title_en"], body["title_es"]) == ("Activity title", "Título de la actividad")
    assert body["hierarchy"] == 1
    assert [s["code"] for s in body["sectors"]] == ["111", "112", "A1"]
    # Importing the export again changes nothing (the others' activities are refused).
    again = await imported(gateway, epa, await exported(gateway, epa), mode="partial")
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)


async def test_an_api_edit_changes_only_what_it_touches(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = as_reported_by(EXAMPLE.read_bytes(), EPA_REF)
    ((identifier, sent),) = activities(xml).items()
    await imported(gateway, epa, xml)
    current = await fetch(gateway, identifier, epa)
    changes = {"title_es": "Otro título", "status": 3}
    response = await gateway.patch(
        f"{API}/activities/{identifier}",
        json=changes,
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    updated = response.json()["updated_at"]
    back = activities(await exported(gateway, epa))[identifier]
    assert schema_errors(await exported(gateway, epa)) == []
    # What the edit touched: the Spanish title and the status; last-updated-datetime moves.
    expected = copy.deepcopy(sent)
    title = expected.find("title")
    spanish = next(n for n in title.iter("narrative") if n.get(XML_LANG) == "es")
    spanish.text = "Otro título"
    expected.find("activity-status").set("code", "3")
    assert canonical(back, drop=(STAMP,)) == canonical(expected, drop=(STAMP,))
    assert back.get(STAMP) != sent.get(STAMP)
    assert back.get(STAMP).replace("+00:00", "Z") == updated.replace("+00:00", "Z")


async def test_an_edited_transaction_keeps_its_unmodelled_parts(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    xml = as_reported_by(EXAMPLE.read_bytes(), EPA_REF)
    ((identifier, sent),) = activities(xml).items()
    await imported(gateway, epa, xml)
    current = await fetch(gateway, identifier, epa)
    transactions = [
        {k: v for k, v in t.items() if k != "id"} | {"value": "1500.00"}
        for t in current.json()["transactions"]
    ]
    response = await gateway.patch(
        f"{API}/activities/{identifier}",
        json={"transactions": transactions},
        headers=epa | {"If-Match": current.headers["etag"]},
    )
    assert response.status_code == 200, response.text
    back = activities(await exported(gateway, epa))[identifier]
    expected = copy.deepcopy(sent)
    expected.find("transaction/value").text = "1500.00"
    # The transaction's sector, recipient country, aid types ... are still there.
    assert canonical(back, drop=(STAMP,)) == canonical(expected, drop=(STAMP,))
