"""Labels of codes, in English and Spanish, for anyone (the pages use them)."""

from __future__ import annotations

import httpx

API = "/cooperation/v1/public/vocabularies"


async def test_vocabularies_give_english_and_spanish_labels(gateway: httpx.AsyncClient) -> None:
    names = (await gateway.get(API)).json()
    assert {"activity-status", "organisation-role", "sector", "department", "visibility"} <= set(
        names
    )
    for name in names:
        body = (await gateway.get(f"{API}/{name}")).json()
        assert body["terms"], name
        assert all(t["en"] for t in body["terms"]), name
    status = {t["code"]: t for t in (await gateway.get(f"{API}/activity-status")).json()["terms"]}
    assert (status["2"]["en"], status["2"]["es"]) == ("Implementation", "Implementación")
    sectors = {t["code"] for t in (await gateway.get(f"{API}/sector")).json()["terms"]}
    assert {"41010", "41081", "14050", "32265"} <= sectors
    assert (await gateway.get(f"{API}/nope")).status_code == 404
    assert (await gateway.get(f"{API}/{'x' * 500}")).status_code == 422
