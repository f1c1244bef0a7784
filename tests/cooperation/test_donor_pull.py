"""Donor pull as from the IATI Datastore or d-portal: the filters select the same activities
in the JSON list, the CSV and the IATI XML; unknown parameters are a 400; a total count on
demand; all of it declared in the OpenAPI document."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from services.cooperation.iati import parse_activities
from tests.cooperation.conftest import EPA_REF, OEFA_ENF, PROGRAM, READ, As, Headers
from tests.cooperation.test_activities_read import all_pages
from tests.support import assert_problem

pytestmark = pytest.mark.usefixtures("seeded")
API = "/cooperation/v1"
OEFA_REF = "PE-RUC-20521286769"
Item = dict[str, Any]


def text(a: Item) -> str:
    parts = (a["title_en"], a["title_es"], a["description_en"], a["description_es"])
    return " ".join(p or "" for p in parts).lower()


def none(_: Item) -> bool:
    return False


def every(_: Item) -> bool:
    return True


# (query, which activities of the unfiltered list it selects)
CASES: list[tuple[dict[str, Any], Callable[[Item], bool]]] = [
    ({"iati_identifier": OEFA_ENF}, lambda a: a["identifier"] == OEFA_ENF),
    ({"iati_identifier": "PE-NO-SUCH-1"}, none),
    ({"reporting_org_ref": EPA_REF}, lambda a: a["reporting_org"] == "EPA"),
    (
        {"participating_org_ref": OEFA_REF},
        lambda a: any(p["org"] == "OEFA" for p in a["participants"]),
    ),
    ({"status": "2"}, lambda a: a["status"] == 2),
    ({"status": "2,3"}, lambda a: a["status"] in (2, 3)),
    ({"sector": "41010"}, lambda a: any(s["code"] == "41010" for s in a["sectors"])),
    (
        {"sector": ["32110", "15130"]},
        lambda a: any(s["code"] in ("32110", "15130") for s in a["sectors"]),
    ),
    ({"sector_vocabulary": "99"}, none),
    ({"policy_marker": "6"}, lambda a: any(m["code"] == "6" for m in a["policy_markers"])),
    ({"recipient_country": "PE"}, every),
    ({"recipient_country": "BO"}, none),
    ({"recipient_region": "489"}, none),
    ({"q": "MERCURY"}, lambda a: "mercury" in text(a)),
    ({"q": "100%_"}, none),  # LIKE wildcards are plain characters
    (
        {"planned_start_from": "2017-01-01", "planned_start_to": "2017-12-31"},
        lambda a: a["planned_start"] is not None and "2017" <= a["planned_start"] < "2018",
    ),
    (
        {"sector": "41010", "status": "4", "reporting_org_ref": EPA_REF},
        lambda a: (
            a["status"] == 4
            and a["reporting_org"] == "EPA"
            and any(s["code"] == "41010" for s in a["sectors"])
        ),
    ),
]


async def csv_identifiers(gateway: httpx.AsyncClient, headers: Headers, **params: Any) -> set[str]:
    response = await gateway.get(
        f"{API}/activities", params=params | {"format": "csv"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return {row["identifier"] for row in csv.DictReader(io.StringIO(response.text))}


async def xml_identifiers(gateway: httpx.AsyncClient, headers: Headers, **params: Any) -> set[str]:
    response = await gateway.get(f"{API}/iati/activities.xml", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {a.identifier for a in parse_activities(response.content) if a.hierarchy != 1}


@pytest.mark.parametrize(("params", "selects"), CASES)
async def test_a_filter_selects_the_same_activities_in_json_csv_and_xml(
    gateway: httpx.AsyncClient, as_org: As, params: dict[str, Any], selects: Callable[[Item], bool]
) -> None:
    usaid = await as_org("USAID", READ)
    everything = await all_pages(gateway, f"{API}/activities", usaid)
    expected = {a["identifier"] for a in everything if selects(a)}
    published = {a["identifier"] for a in everything if selects(a) and a["published"]}
    found = await all_pages(gateway, f"{API}/activities", usaid, **params, limit=3)
    assert {a["identifier"] for a in found} == expected, params
    assert len(found) == len(expected)
    assert await csv_identifiers(gateway, usaid, **params) == expected
    assert await xml_identifiers(gateway, usaid, **params) == published


async def test_the_filters_are_not_trivial(gateway: httpx.AsyncClient, as_org: As) -> None:
    """Each positive case above selects some activities but not all (so it proves a filter)."""
    usaid = await as_org("USAID", READ)
    everything = await all_pages(gateway, f"{API}/activities", usaid)
    for params, selects in CASES:
        selected = [a for a in everything if selects(a)]
        if selected and params != {"recipient_country": "PE"}:
            assert len(selected) < len(everything), params


async def test_the_public_list_filters_too(gateway: httpx.AsyncClient) -> None:
    found = await all_pages(gateway, f"{API}/public/activities", iati_identifier=OEFA_ENF)
    assert [a["identifier"] for a in found] == [OEFA_ENF]


@pytest.mark.parametrize(
    ("query", "slug"),
    [
        ("status=7", "validation-error"),
        ("sector=1%27%20OR", "validation-error"),
        ("planned_start_from=soon", "validation-error"),
        ("q=", "validation-error"),
        ("q=" + "x" * 201, "validation-error"),
        ("participating_org_ref=" + ",".join(["X"] * 101), "validation-error"),
    ],
)
async def test_bad_filter_values_are_422(
    gateway: httpx.AsyncClient, as_org: As, query: str, slug: str
) -> None:
    usaid = await as_org("USAID", READ)
    assert_problem(await gateway.get(f"{API}/activities?{query}", headers=usaid), 422, slug)


@pytest.mark.parametrize(
    "path",
    [
        "/activities",
        "/activities?format=csv",
        "/iati/activities.xml",
        "/public/activities",
        "/public/iati/activities.xml",
        "/changes",
    ],
)
async def test_an_unknown_parameter_is_a_400_not_everything(
    gateway: httpx.AsyncClient, as_org: As, path: str
) -> None:
    usaid = await as_org("USAID", READ)
    sep = "&" if "?" in path else "?"
    response = await gateway.get(f"{API}{path}{sep}iati_identifer={OEFA_ENF}", headers=usaid)
    assert_problem(response, 400, "unknown-query-parameter")
    assert response.json()["unknown"] == ["iati_identifer"]


async def test_the_accepted_parameters_are_the_declared_ones(
    gateway: httpx.AsyncClient, cooperation: httpx.AsyncClient, as_org: As
) -> None:
    usaid = await as_org("USAID", READ)
    response = await gateway.get(f"{API}/activities?bogus=1", headers=usaid)
    accepted = set(response.json()["accepted"])
    document = (await cooperation.get("/openapi.json")).json()
    declared = {
        p["name"]
        for p in document["paths"]["/v1/activities"]["get"]["parameters"]
        if p["in"] == "query"
    }
    assert accepted == declared
    for path, methods in document["paths"].items():
        for method, operation in methods.items():
            assert "400" in operation["responses"], (method, path)
    listing = document["components"]["schemas"]["ActivityPage"]["properties"]
    assert "total" in listing
    assert {"cursor", "limit", "format", "count", "iati_identifier", "q"} <= declared
    everything = {
        "cursor": None,
        "limit": "2",
        "format": "json",
        "count": "true",
        "program": PROGRAM,
    }
    known = await gateway.get(
        f"{API}/activities", params={k: v for k, v in everything.items() if v}, headers=usaid
    )
    assert known.status_code == 200, known.text


async def test_an_unknown_parameter_on_an_import_writes_nothing(
    gateway: httpx.AsyncClient, as_org: As
) -> None:
    epa = await as_org("EPA")
    response = await gateway.post(
        f"{API}/imports/matrix?dry-run=true",
        content=b"identifier,title_en\n" + OEFA_ENF.encode() + b",Renamed\n",
        headers=epa | {"Content-Type": "text/csv"},
    )
    assert_problem(response, 400, "unknown-query-parameter")
    body = (await gateway.get(f"{API}/activities/{OEFA_ENF}", headers=epa)).json()
    assert body["title_en"] != "Renamed"


async def test_a_total_on_demand(gateway: httpx.AsyncClient, as_org: As) -> None:
    usaid = await as_org("USAID", READ)
    everything = await all_pages(gateway, f"{API}/activities", usaid)
    plain = (await gateway.get(f"{API}/activities", params={"limit": 2}, headers=usaid)).json()
    assert plain["total"] is None
    counted = await gateway.get(
        f"{API}/activities", params={"limit": 2, "count": "true"}, headers=usaid
    )
    assert counted.json()["total"] == len(everything) > 2
    assert len(counted.json()["items"]) == 2
    nxt = await gateway.get(
        f"{API}/activities",
        params={"limit": 2, "count": "true", "cursor": counted.json()["next_cursor"]},
        headers=usaid,
    )
    assert nxt.json()["total"] == len(everything)  # every page counts every match
    sector = {"sector": "41010", "count": "true"}
    filtered = (await gateway.get(f"{API}/activities", params=sector, headers=usaid)).json()
    assert filtered["total"] == len(
        [a for a in everything if any(s["code"] == "41010" for s in a["sectors"])]
    )
    assert (
        counted.headers["etag"]
        != (await gateway.get(f"{API}/activities", params={"limit": 2}, headers=usaid)).headers[
            "etag"
        ]
    )
