"""The metric catalogue through the gateway: each metric's value derived by hand from a
small validated inventory (``inventory_data``), drafts never counted, no data never a
zero, bad parameters a 422 naming them."""

from __future__ import annotations

from typing import Any

import pytest

from services.inventory.plans.metrics import METRICS, compute_metric
from tests.inventory.conftest import Caller, assert_problem
from tests.inventory.inventory_data import build_2024

IDS = [
    "pcb_in_use",
    "pcb_eliminated_cumulative",
    "holders_validated_share",
    "pcb_unanalysed",
    "pcdd_pcdf_releases",
    "asgm_mercury_releases",
]


def parts(body: dict[str, Any]) -> dict[tuple[tuple[str, Any], ...], dict[str, float]]:
    """The breakdown as {sorted key items: {unit: value}}."""
    out: dict[tuple[tuple[str, Any], ...], dict[str, float]] = {}
    for part in body["breakdown"]:
        out.setdefault(tuple(sorted(part["key"].items())), {})[part["unit"]] = part["value"]
    return out


@pytest.fixture
async def data(minem: Caller, produce: Caller, minam: Caller) -> dict[str, Any]:
    return await build_2024(minem, produce, minam)


async def metric(caller: Caller, metric_id: str, **params: Any) -> dict[str, Any]:
    response = await caller.get(f"/metrics/{metric_id}", params={"year": 2024} | params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_catalogue_names_each_metric(oefa: Caller, anonymous: Caller) -> None:
    body = (await oefa.get("/metrics")).json()
    assert [m["id"] for m in body["items"]] == IDS
    by_id = {m["id"]: m for m in body["items"]}
    assert by_id["pcb_in_use"]["unit"] == "t"
    assert by_id["pcdd_pcdf_releases"]["unit"] == "g TEQ/a"
    assert by_id["asgm_mercury_releases"]["filters"] == ["department"]
    assert by_id["holders_validated_share"]["title_es"]
    assert (await anonymous.get("/metrics")).status_code == 401


async def test_pcb_metrics_count_validated_items_only(oefa: Caller, data: dict[str, Any]) -> None:
    in_use = await metric(oefa, "pcb_in_use")
    assert set(in_use) == {
        "metric",
        "year",
        "schedule",
        "scope",
        "unit",
        "value",
        "breakdown",
        "submissions",
        "computed_at",
        "status",
    }
    # P1 4 t + presumed 1 t; PRODUCE's 9 999 kg draft P1 is not there.
    assert (in_use["value"], in_use["unit"], in_use["status"]) == (5.0, "t", "ok")
    assert in_use["submissions"] == [data["pcb"]]
    assert in_use["scope"] == {"department": None, "sector": None}
    assert parts(in_use) == {
        (("pcb_class", "P1"),): {"items": 1, "t": 4.0},
        (("pcb_class", "presumed"),): {"items": 1, "t": 1.0},
    }
    assert (await metric(oefa, "pcb_in_use", department="08"))["value"] == 4.0
    assert (await metric(oefa, "pcb_in_use", department="15"))["value"] == 1.0
    mining = await metric(oefa, "pcb_in_use", sector="mining")  # only an unknown on standby
    assert (mining["value"], mining["status"], mining["submissions"]) == (0.0, "ok", [data["pcb"]])
    eliminated = await metric(oefa, "pcb_eliminated_cumulative")
    assert eliminated["value"] == 1.2
    assert parts(eliminated) == {(("pcb_class", "P2"),): {"items": 1, "t": 1.2}}
    unanalysed = await metric(oefa, "pcb_unanalysed")
    assert (unanalysed["value"], unanalysed["unit"]) == (2, "items")
    assert parts(unanalysed) == {
        (("pcb_class", "presumed"),): {"items": 1},
        (("pcb_class", "unknown"),): {"items": 1},
    }
    national = await metric(oefa, "pcb_in_use", schedule="national")
    assert (national["schedule"], national["value"]) == ("national", 5.0)


@pytest.mark.usefixtures("data")
async def test_no_validated_data_is_no_data_not_zero(oefa: Caller) -> None:
    for metric_id in IDS:
        body = await metric(oefa, metric_id, year=2023)
        assert (body["value"], body["status"], body["submissions"]) == (None, "no_data", [])
    health = await metric(oefa, "pcb_in_use", sector="health")  # C holds no equipment
    assert (health["value"], health["status"]) == (None, "no_data")
    assert (await metric(oefa, "pcb_in_use", department="21"))["status"] == "no_data"


async def test_share_of_holders_with_a_validated_inventory(
    oefa: Caller, data: dict[str, Any]
) -> None:
    share = await metric(oefa, "holders_validated_share")
    # A and B are named by validated data; C (MINEM) and D (PRODUCE, draft only) are not.
    assert (share["value"], share["unit"]) == (50.0, "%")
    assert parts(share) == {
        (("holders", "registered"),): {"holders": 4},
        (("holders", "validated"),): {"holders": 2},
    }
    assert share["submissions"] == [data["pcb"]]
    assert (await metric(oefa, "holders_validated_share", department="08"))["value"] == 50.0
    health = await metric(oefa, "holders_validated_share", sector="health")
    assert (health["value"], health["status"]) == (0.0, "ok")


async def test_releases_by_vector_and_pathway(oefa: Caller, data: dict[str, Any]) -> None:
    pcdd = await metric(oefa, "pcdd_pcdf_releases")
    # WHO-2005 only: 0.4 + 0.01; the I-TEQ 0.3 stays apart, never added.
    assert (round(pcdd["value"], 6), pcdd["unit"]) == (0.41, "g TEQ/a")
    assert {k: {u: round(v, 6) for u, v in units.items()} for k, units in parts(pcdd).items()} == {
        (("teq_scheme", "I-TEQ"), ("vector", "air")): {"g TEQ/a": 0.3},
        (("teq_scheme", "WHO-2005"), ("vector", "air")): {"g TEQ/a": 0.4},
        (("teq_scheme", "WHO-2005"), ("vector", "land")): {"g TEQ/a": 0.01},
    }
    assert pcdd["submissions"] == [data["upops"]]
    cusco = await metric(oefa, "pcdd_pcdf_releases", department="08")
    assert (cusco["value"], cusco["status"]) == (None, "ok")  # I-TEQ only: no WHO-2005 total
    assert len(cusco["breakdown"]) == 1
    asgm = await metric(oefa, "asgm_mercury_releases")
    assert (asgm["value"], asgm["unit"]) == (3300.0, "kg/a")  # (1 000 + 100) kg gold x 3
    assert parts(asgm)[(("department", "17"), ("pathway", "air"))] == {"kg/a": 750.0}
    assert parts(asgm)[(("department", "21"), ("pathway", "land"))] == {"kg/a": 135.0}
    assert asgm["submissions"] == [data["mercury"]]
    madre_de_dios = await metric(oefa, "asgm_mercury_releases", department="17")
    assert madre_de_dios["value"] == 3000.0


async def test_bad_parameters_are_named(oefa: Caller) -> None:
    assert_problem(await oefa.get("/metrics/made_up", params={"year": 2024}), 404, "not-found")
    for params, name in (
        ({}, "year"),
        ({"year": "1800"}, "year"),
        ({"year": "abc"}, "year"),
        ({"year": 2024, "schedule": "eu"}, "schedule"),
        ({"year": 2024, "department": "99"}, "department"),
        ({"year": 2024, "sector": "banking"}, "sector"),
    ):
        response = await oefa.get("/metrics/pcb_in_use", params=params)
        assert_problem(response, 422)
        assert [e["loc"][-1] for e in response.json()["errors"]] == [name], response.text
    response = await oefa.get(
        "/metrics/asgm_mercury_releases", params={"year": 2024, "sector": "mining"}
    )
    assert_problem(response, 422)
    assert response.json()["errors"][0]["loc"] == ["query", "sector"]


async def test_etag_and_in_process_calls_agree(
    oefa: Caller, data: dict[str, Any], inventory_app: Any
) -> None:
    first = await oefa.get("/metrics/pcb_in_use", params={"year": 2024})
    again = await oefa.get(
        "/metrics/pcb_in_use",
        params={"year": 2024},
        headers={"If-None-Match": first.headers["etag"]},
    )
    assert again.status_code == 304
    async with inventory_app.state.db.sessions() as session:
        found = await compute_metric(session, "pcb_in_use", year=2024, department="08")
    assert (float(found.value or 0), found.submissions) == (4.0, [data["pcb"]])
    assert set(METRICS) == set(IDS)
