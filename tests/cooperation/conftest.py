"""Cooperation fixtures: the seeded database (organisations, the 2015-2018 program and the
demo activities) and callers with real tokens from the gateway."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from services.cooperation.seed import (
    DATA,
    load_demo_activities,
    load_organisations,
    load_program,
)
from tests.conftest import Tokens

PROGRAM = "US-PE-ECWP-2015-2018"
READ = "cooperation:read"
WRITE = "cooperation:read cooperation:write"
# Identifiers of demo activities (lead's IATI ref + own id) by visibility.
OEFA_ENF = "US-GOV-32-OEFA-ENF-01"  # public, led by EPA, OEFA implements
OEFA_PP = "PE-RUC-20521286769-OEFA-PP-03"  # partners, led by OEFA, EPA funds
IUU = "PE-RUC-20504794637-PRODUCE-IUU-10"  # participants only: NOAA and PRODUCE
ZIS = "PE-RUC-20504794637-PRODUCE-ZIS-07"  # partners, GEF funds, UNIDO implements

Headers = dict[str, str]
As = Callable[..., Awaitable[Headers]]


def read_data(name: str) -> Any:
    return json.loads((DATA / name).read_text(encoding="utf-8"))


async def seed(app: FastAPI, *, activities: bool = True) -> None:
    """Organisations, the work program and (unless told not to) the demo activities."""
    async with app.state.db.sessions() as session:
        await load_organisations(session, read_data("organisations.json"))
        await load_program(session, read_data("work_program_2015_2018.json"))
        await session.commit()
        if activities:
            await load_demo_activities(session, read_data("demo_activities.json"))
            await session.commit()


@pytest.fixture
async def seeded(cooperation_app: FastAPI) -> FastAPI:
    """The cooperation service with the demo data loaded."""
    await seed(cooperation_app)
    return cooperation_app


@pytest.fixture
def as_org(tokens: Tokens) -> As:
    """``await as_org("EPA")`` → headers of a client of that organisation (read and write
    scopes unless ``scopes=`` says otherwise); one client per organisation and scope set."""

    async def headers(org: str, scopes: str = WRITE) -> Headers:
        client_id = f"{org.lower()}-{'w' if 'write' in scopes else 'r'}"
        return await tokens.headers(client_id, org, scopes)

    return headers


async def fetch(client: httpx.AsyncClient, identifier: str, headers: Headers) -> httpx.Response:
    response = await client.get(f"/cooperation/v1/activities/{identifier}", headers=headers)
    assert response.status_code == 200, response.text
    return response


async def publish(gateway: httpx.AsyncClient, headers: Headers, body: dict[str, Any]) -> str:
    """Create the activity of ``body`` and publish it; its identifier."""
    created = await gateway.post("/cooperation/v1/activities", json=body, headers=headers)
    assert created.status_code == 201, created.text
    identifier = str(created.json()["identifier"])
    done = await gateway.post(
        f"/cooperation/v1/activities/{identifier}/publish",
        headers=headers | {"If-Match": created.headers["etag"]},
    )
    assert done.status_code == 200
    return identifier


EPA_REF = "US-GOV-32"


def new_activity(identifier: str = f"{EPA_REF}-TEST-01", **changes: Any) -> dict[str, Any]:
    """A body for POST /v1/activities by an EPA client (only what is required, and a bit)."""
    body: dict[str, Any] = {
        "identifier": identifier,
        "program": PROGRAM,
        "title_en": "Test activity",
        "description_en": "An activity made by a test.",
        "status": 2,
        "visibility": "public",
        "planned_start": "2025-01-01",
        "planned_end": "2026-12-31",
        "participants": [
            {"org": "EPA", "role": 1},
            {"org": "EPA", "role": 2},
            {"org": "OEFA", "role": 4},
        ],
        "priority_areas": ["A"],
        "action_areas": ["A.1"],
        "sectors": [{"code": "41010", "percentage": "100"}],
    }
    return body | changes


def full_activity(identifier: str = f"{EPA_REF}-FULL-01") -> dict[str, Any]:
    """Every optional part filled in."""
    return new_activity(
        identifier,
        title_es="Actividad de prueba",
        description_es="Una actividad creada por una prueba <con> & caracteres especiales.",
        status=3,
        actual_start="2025-02-01",
        actual_end="2025-12-15",
        default_currency="USD",
        participants=[
            {"org": "USAID", "role": 1},
            {"org": "EPA", "role": 2},
            {"org": "EPA", "role": 3},
            {"org": "OEFA", "role": 4},
            {"ref": "PE-RUC-20100000001", "name": "Ciudad Saludable", "type": "22", "role": 4},
        ],
        priority_areas=["A", "C"],
        action_areas=["A.1", "A.4", "C.2"],
        sectors=[
            {"code": "41010", "percentage": "33.33"},
            {"code": "41081", "percentage": "33.33"},
            {"code": "32265", "percentage": "33.34"},
        ],
        policy_markers=[
            {"code": "2", "significance": "2"},
            {"code": "5", "significance": "1"},
            {"code": "7", "significance": "0"},
        ],
        locations=["15", "07", "17"],
        budgets=[
            {
                "type": "1",
                "status": "2",
                "period_start": "2025-01-01",
                "period_end": "2025-12-31",
                "value": "125000.50",
                "currency": "USD",
                "value_date": "2025-01-01",
            },
            {
                "type": "2",
                "status": "1",
                "period_start": "2026-01-01",
                "period_end": "2026-12-31",
                "value": "80000",
                "value_date": "2026-01-01",
            },
        ],
        transactions=[
            {
                "type": "2",
                "date": "2025-01-15",
                "value": "200000.00",
                "currency": "USD",
                "description": "Commitment by USAID",
                "provider_org": {"org": "USAID"},
                "receiver_org": {"org": "EPA"},
            },
            {
                "type": "3",
                "date": "2025-03-01",
                "value": "50000.25",
                "value_date": "2025-02-28",
                "provider_org": {"ref": "US-GOV-1", "name": "USAID"},
                "receiver_org": {"name": "Ciudad Saludable", "type": "22"},
            },
            {"type": "4", "date": "2025-06-30", "value": "12000.00"},
        ],
        document_links=[
            {
                "url": "https://enlace.example/reports/full-01.pdf",
                "format": "application/pdf",
                "title": "Progress report 2025",
                "category": "A07",
                "document_date": "2025-12-20",
                "language": "es",
            },
            {
                "url": "https://enlace.example/results/full-01",
                "format": "text/html",
                "title": "Results page",
                "category": "A08",
            },
        ],
        results=[
            {
                "type": "1",
                "title": "Inspectors trained",
                "description": "OEFA inspectors complete the course",
                "aggregation_status": True,
                "indicators": [
                    {
                        "measure": "1",
                        "title": "Inspectors trained",
                        "ascending": True,
                        "baseline": {"year": 2024, "value": "0", "iso_date": "2024-12-31"},
                        "periods": [
                            {
                                "start": "2025-01-01",
                                "end": "2025-12-31",
                                "target": "40",
                                "actual": "42",
                            },
                            {"start": "2026-01-01", "end": "2026-12-31", "target": "60"},
                        ],
                    },
                    {"measure": "5", "title": "Quality of the course", "ascending": False},
                ],
            },
            {
                "type": "2",
                "title": "Better inspections",
                "indicators": [{"measure": "5", "title": "Inspection reports judged sound"}],
            },
        ],
    )
