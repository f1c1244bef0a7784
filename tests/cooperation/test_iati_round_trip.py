"""Nothing an IATI publisher sent is lost: the Standard's annotated example imported and
exported gives back the same activity, compared canonically (so does every should-pass
file: ``test_iati_standard_files``); an edit through the API changes only what it
touches."""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import httpx
import pytest
from lxml import etree

from services.cooperation.iati import IatiRelatedActivity, schema_errors
from services.cooperation.iati._xml_read import activity_from_element
from services.cooperation.iati.kept import kept_element, merge_activity, read_kept
from services.cooperation.iati.xml import activity_element
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


# The merge itself, on small activities (no database): ``generated`` is the model edited.
SMALL = b"""<iati-activity xml:lang="fr" humanitarian="1">
 <iati-identifier>XM-1-A</iati-identifier>
 <reporting-org ref="XM-1"><narrative>Org</narrative></reporting-org>
 <title><narrative>Titre</narrative><narrative xml:lang="es">Titulo</narrative></title>
 <participating-org role="1" crs-channel-code="1"><narrative>A</narrative></participating-org>
 <activity-status code="2"/>
 <activity-date type="1" iso-date="2020-01-01"/>
 <contact-info><email>a@example.org</email></contact-info>
 <related-activity ref="XM-1-P" type="1"/>
 <result type="1">
  <title><narrative>R</narrative></title>
  <indicator measure="1">
   <title><narrative>I</narrative></title>
   <period>
    <period-start iso-date="2020-01-01"/><period-end iso-date="2020-12-31"/>
    <target value="10"><comment><narrative>first</narrative></comment></target>
    <target value="20"/>
   </period>
  </indicator>
 </result>
</iati-activity>"""


def merged(edit: Any) -> tuple[Any, Any]:
    """The small activity and its export after ``edit`` (of the model read from it)."""
    original = read_kept(kept_element(etree.fromstring(SMALL)))
    model = activity_from_element(original)
    projected = activity_element(model)
    return original, merge_activity(activity_element(edit(model)), projected, original)


def test_an_edit_replaces_only_the_value_the_model_read() -> None:
    def first_target(model: Any) -> Any:
        result = model.results[0]
        indicator = result.indicators[0]
        period = dataclasses.replace(indicator.periods[0], target="15")
        indicator = dataclasses.replace(indicator, periods=(period,))
        return dataclasses.replace(
            model, results=(dataclasses.replace(result, indicators=(indicator,)),)
        )

    original, out = merged(first_target)
    expected = copy.deepcopy(original)
    expected.find("result/indicator/period/target").set("value", "15")
    assert canonical(out) == canonical(expected)  # the comment and the second target stay


def test_a_new_title_language_is_added_and_the_french_one_stays() -> None:
    _original, out = merged(lambda m: dataclasses.replace(m, titles={**m.titles, "en": "T"}))
    narratives = [(n.get(XML_LANG), n.text) for n in out.find("title").iter("narrative")]
    assert narratives == [(None, "Titre"), ("es", "Titulo"), ("en", "T")]
    assert out.find("contact-info/email").text == "a@example.org"


def test_a_new_parent_link_keeps_the_publishers_own() -> None:
    # The model's one link is to the work program, which the publisher did not list.
    original = read_kept(kept_element(etree.fromstring(SMALL)))
    model = activity_from_element(original)

    def parent(ref: str) -> Any:
        link = (IatiRelatedActivity(ref, "1"),)
        return activity_element(dataclasses.replace(model, related_activities=link))

    out = merge_activity(parent("US-1-NEW"), parent("US-1-OLD"), original)
    links = [(r.get("ref"), r.get("type")) for r in out.iter("related-activity")]
    assert links == [("XM-1-P", "1"), ("US-1-NEW", "1")]
