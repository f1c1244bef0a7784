"""Public routes are public: a caller's token, whatever its scopes, changes nothing there."""

from __future__ import annotations

import httpx

from tests.conftest import Tokens
from tests.support import assert_problem

PUBLIC = (
    "/inventory/v1/public/vocabularies",
    "/inventory/v1/public/national-summary",
    "/cooperation/v1/public/vocabularies",
    "/cooperation/v1/public/activities",
)


async def test_a_token_without_the_services_scope_reads_public_routes(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    # A donor's token has cooperation:read only; the inventory's public pages are still
    # open to it, as to anyone.
    donor = await tokens.get("donor-public", "USAID", "cooperation:read")
    admin = await tokens.get("admin-public", "MINAM", "admin")
    for path in PUBLIC:
        anonymous = await gateway.get(path)
        assert anonymous.status_code == 200, (path, anonymous.text)
        for token in (donor, admin):
            signed = await gateway.get(path, headers={"Authorization": f"Bearer {token}"})
            assert signed.status_code == 200, (path, signed.text)
            assert signed.json() == anonymous.json()


async def test_the_scope_still_guards_everything_else(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    donor = await tokens.get("donor-private", "USAID", "cooperation:read")
    headers = {"Authorization": f"Bearer {donor}"}
    assert_problem(
        await gateway.get("/inventory/v1/pcb-items", headers=headers), 403, "insufficient-scope"
    )
    # A write to a public path is not a public read.
    assert_problem(
        await gateway.post("/inventory/v1/public/vocabularies", headers=headers),
        403,
        "insufficient-scope",
    )
    # A bad token is refused on public routes too: it is never silently ignored.
    bad = await gateway.get(PUBLIC[0], headers={"Authorization": "Bearer not.a.token"})
    assert_problem(bad, 401)
