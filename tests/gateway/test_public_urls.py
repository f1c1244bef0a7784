"""Every URL a caller receives through the gateway is the public one (GATEWAY_PUBLIC_URL and
the service's prefix): pagination links, redirects, problem instances, and the gateway's own
links; never a backend's address, nor a host or prefix the caller sent."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request, Response

from services.gateway.settings import GatewaySettings
from services.inventory.seed import DEMO, load_demo
from tests.conftest import Tokens
from tests.cooperation.conftest import seed
from tests.gateway.support import running_gateway
from tests.support import PUBLIC_URL, asgi_transport, assert_problem

ADMIN = ("admin-test", "MINAM", "admin")
# What a caller may send to steer the URLs it gets back; the gateway drops all of it.
STEERING = {
    "Host": "evil.example",
    "X-Forwarded-Host": "evil.example",
    "X-Forwarded-Proto": "http",
    "X-Forwarded-Prefix": "/evil",
    "Forwarded": "host=evil.example;proto=http",
}


def next_url(response: httpx.Response) -> str:
    """The target of the response's ``Link: <...>; rel="next"``."""
    match = re.fullmatch(r'<([^>]+)>; rel="next"', response.headers["link"])
    assert match, response.headers["link"]
    return match.group(1)


@pytest.fixture
async def demo_inventory(inventory_app: FastAPI) -> None:
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text()))
        await session.commit()


@pytest.mark.usefixtures("demo_inventory")
@pytest.mark.parametrize("path", ["/v1/pcb-items", "/v1/holders"])
async def test_inventory_pages_link_to_the_public_url_and_the_link_works(
    gateway: httpx.AsyncClient, tokens: Tokens, path: str
) -> None:
    auth = await tokens.headers("minem-test", "MINEM", "inventory:read")
    first = await gateway.get(f"/inventory{path}?limit=2", headers=auth | STEERING)
    assert first.status_code == 200, first.text
    link = next_url(first)
    assert link.startswith(f"{PUBLIC_URL}/inventory{path}?"), link
    assert "limit=2" in link
    # Followed as given (the gateway is what answers at the public URL).
    second = await gateway.get(link, headers=auth)
    assert second.status_code == 200, second.text
    assert second.json()["items"]
    assert {i["id"] for i in second.json()["items"]}.isdisjoint(
        i["id"] for i in first.json()["items"]
    )


async def test_cooperation_pages_link_to_the_public_url_and_the_link_works(
    gateway: httpx.AsyncClient, cooperation_app: FastAPI, tokens: Tokens
) -> None:
    await seed(cooperation_app)
    auth = await tokens.headers("usaid-r", "USAID", "cooperation:read")
    seen: list[str] = []
    url = "/cooperation/v1/activities?limit=4"
    while url:
        response = await gateway.get(url, headers=auth | STEERING)
        assert response.status_code == 200, response.text
        seen += [a["identifier"] for a in response.json()["items"]]
        if response.json()["next_cursor"] is None:
            break
        url = next_url(response)
        assert url.startswith(f"{PUBLIC_URL}/cooperation/v1/activities?"), url
    assert len(seen) == len(set(seen)) > 4


async def test_a_trailing_slash_redirect_stays_public(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    auth = await tokens.headers("usaid-r", "USAID", "cooperation:read")
    response = await gateway.get("/cooperation/v1/programs/?limit=1", headers=auth | STEERING)
    assert response.status_code == 307
    location = response.headers["location"]
    assert location == f"{PUBLIC_URL}/cooperation/v1/programs?limit=1"
    assert (await gateway.get(location, headers=auth)).status_code == 200


async def test_problem_instances_are_public_paths(
    gateway: httpx.AsyncClient, tokens: Tokens
) -> None:
    auth = await tokens.headers("usaid-r", "USAID", "cooperation:read")
    from_service = await gateway.get("/cooperation/v1/programs/NOPE", headers=auth | STEERING)
    assert_problem(from_service, 404, "not-found")
    assert from_service.json()["instance"] == "/cooperation/v1/programs/NOPE"
    no_route = await gateway.get("/cooperation/v1/nothing", headers=auth | STEERING)
    assert no_route.json()["instance"] == "/cooperation/v1/nothing"
    assert no_route.json()["detail"] == "No resource at /cooperation/v1/nothing."
    invalid = await gateway.get("/cooperation/v1/activities?limit=0", headers=auth | STEERING)
    assert_problem(invalid, 422, "validation-error")
    assert invalid.json()["instance"] == "/cooperation/v1/activities"
    from_gateway = await gateway.get("/cooperation/v1/activities", headers=STEERING)
    assert_problem(from_gateway, 401, "unauthorized")
    assert from_gateway.json()["instance"] == "/cooperation/v1/activities"


async def test_the_gateway_own_links_ignore_the_callers_host(
    gateway: httpx.AsyncClient, gateway_app: FastAPI, tokens: Tokens
) -> None:
    admin = await tokens.headers(*ADMIN)
    for _ in range(3):
        await gateway.get("/inventory/v1/holders", headers=admin)  # 403s, audited
    await gateway_app.state.audit.flush()
    first = await gateway.get("/admin/audit?limit=1", headers=admin | STEERING)
    assert first.status_code == 200, first.text
    link = next_url(first)
    assert link.startswith(f"{PUBLIC_URL}/admin/audit?"), link
    assert (await gateway.get(link, headers=admin)).status_code == 200
    redirect = await gateway.get("/admin/audit/", headers=admin | STEERING)
    assert redirect.status_code == 307
    assert redirect.headers["location"] == f"{PUBLIC_URL}/admin/audit"


# -- defence in depth: a service that does not trust the gateway --------------------------


def naive_service() -> FastAPI:
    """A backend that builds its URLs from the Host it is sent (no trusted proxy)."""
    app = FastAPI()

    @app.get("/v1/things")
    async def things(request: Request) -> Response:
        more = request.url.include_query_params(cursor="x")
        return Response(
            status_code=201,
            headers={
                "Location": str(request.url_for("things")),
                "Link": f'<{more}>; rel="next", <https://elsewhere.example/v1/x>; rel="about"',
            },
        )

    return app


@pytest.fixture
async def naive_gateway(gateway_settings: GatewaySettings) -> AsyncIterator[httpx.AsyncClient]:
    transports = {"inventory": asgi_transport(naive_service())}
    async with running_gateway(gateway_settings, transports) as (app, client):
        client.headers.update(await Tokens(app, client).headers("r", "MINEM", "inventory:read"))
        yield client


async def test_backend_addresses_in_url_headers_are_made_public(
    naive_gateway: httpx.AsyncClient,
) -> None:
    response = await naive_gateway.get("/inventory/v1/things?a=1")
    assert response.status_code == 201
    assert response.headers["location"] == f"{PUBLIC_URL}/inventory/v1/things"
    assert response.headers["link"] == (
        f'<{PUBLIC_URL}/inventory/v1/things?a=1&cursor=x>; rel="next", '
        '<https://elsewhere.example/v1/x>; rel="about"'
    )


# -- services reached directly ------------------------------------------------------------


async def test_a_service_called_directly_ignores_forwarding_headers(
    cooperation: httpx.AsyncClient, cooperation_app: FastAPI
) -> None:
    """The direct test client (127.0.0.1) is not the services' trusted proxy."""
    await seed(cooperation_app)
    steering = {k: v for k, v in STEERING.items() if k != "Host"}
    page = await cooperation.get("/v1/activities?limit=1", headers=steering)
    assert next_url(page).startswith("http://cooperation/v1/activities?")
    missing = await cooperation.get("/v1/programs/NOPE", headers=steering)
    assert missing.json()["instance"] == "/v1/programs/NOPE"
    redirect = await cooperation.get("/v1/programs/", headers=steering)
    assert redirect.headers["location"] == "http://cooperation/v1/programs"


async def test_a_service_behind_its_trusted_proxy_builds_public_urls(
    cooperation_app: FastAPI, direct_headers: dict[str, str]
) -> None:
    """What the gateway's rewriting of backend addresses never needs to do: from the gateway's
    address, the service takes origin and prefix from its forwarding headers."""
    await seed(cooperation_app)
    forwarded = {
        "X-Forwarded-Prefix": "/cooperation",
        "X-Forwarded-Host": "enlace.test",
        "X-Forwarded-Proto": "https",
    }
    async with httpx.AsyncClient(
        transport=asgi_transport(cooperation_app), base_url="http://cooperation"
    ) as client:
        client.headers.update(direct_headers | forwarded)
        page = await client.get("/v1/activities?limit=1")
        missing = await client.get("/v1/programs/NOPE")
        redirect = await client.get("/v1/programs/")
    assert next_url(page).startswith(f"{PUBLIC_URL}/cooperation/v1/activities?")
    assert missing.json()["instance"] == "/cooperation/v1/programs/NOPE"
    assert redirect.headers["location"] == f"{PUBLIC_URL}/cooperation/v1/programs"
