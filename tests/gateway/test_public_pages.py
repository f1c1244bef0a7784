"""Issue 14 item 4: public transparency pages served by the gateway from the public API, in
Spanish and English, with charts that carry text alternatives, in a real browser with every
request that leaves the machine blocked."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from playwright.async_api import Browser

from services.cooperation.seed import DATA, load_demo_activities, load_organisations, load_program
from services.inventory.seed import DEMO, load_demo
from tests.gateway.test_docs_browser import browser, offline_page, served
from tests.support import closed_port

__all__ = ["browser", "served"]  # fixtures shared with the docs' browser tests


@pytest.fixture
async def demo(inventory_app: FastAPI, cooperation_app: FastAPI) -> str:
    """Both services loaded with the demo data; the identifier of a public activity."""
    async with inventory_app.state.db.sessions() as session:
        await load_demo(session, json.loads(DEMO.read_text(encoding="utf-8")))
        await session.commit()

    def read(name: str) -> object:
        return json.loads((DATA / name).read_text(encoding="utf-8"))

    async with cooperation_app.state.db.sessions() as session:
        await load_organisations(session, read("organisations.json"))  # type: ignore[arg-type]
        await load_program(session, read("work_program_2015_2018.json"))  # type: ignore[arg-type]
        await session.commit()
        await load_demo_activities(session, read("demo_activities.json"))  # type: ignore[arg-type]
        await session.commit()
    return "US-GOV-32-OEFA-ENF-01"


async def test_country_view_in_the_callers_language(gateway: httpx.AsyncClient, demo: str) -> None:
    spanish = await gateway.get("/public", headers={"Accept-Language": "es-PE,es;q=0.9"})
    assert spanish.status_code == 200
    assert spanish.headers["content-language"] == "es"
    assert "Accept-Language" in spanish.headers["vary"]
    html = spanish.text
    assert '<html lang="es">' in html
    for text in (
        "Equipos con PCB",
        "Equipos con PCB por departamento",
        "Callao",  # a department of the demo's PCB sites
        "Incineración de desechos",  # a UP-POPs source group's Spanish label
        "(MAPE)",  # ASGM in the mercury chart
        "Matriz del programa US-PE-ECWP-2015-2018",
        "sin actividades",  # a coverage gap, highlighted
        "A. Fortalecimiento institucional y de políticas",  # a priority area in Spanish
        "hasta el 2025-12-31",
    ):
        assert text in html, text
    assert f"/public/activities/{demo}?lang=es" in html
    assert "https://" not in html.replace("https://enlace.example", "")  # nothing external

    english = await gateway.get("/public", params={"lang": "en"})
    assert english.headers["content-language"] == "en"
    assert "PCB items by department" in english.text
    assert "Waste incineration" in english.text
    assert "A. Institutional and Policy Strengthening" in english.text
    assert '<a href="?lang=es" hreflang="es" lang="es">Español</a>' in english.text


@pytest.mark.usefixtures("demo")
async def test_country_view_shows_the_curve_the_map_and_the_plan_targets(
    gateway: httpx.AsyncClient,
) -> None:
    spanish = (await gateway.get("/public", params={"lang": "es"})).text
    for text in (
        "Curva de eliminación de PCB",
        "Retiro de uso 2025",
        "Gestión racional 2028",
        "Mapa de equipos con PCB por departamento",
        "Metas de los planes de acción nacionales",
        "Plan de acción PCB y COP-NI 2026-2030",
    ):
        assert text in spanish, text
    # The projection sentence is one of its documented forms.
    assert any(
        phrase in spanish
        for phrase in ("Al ritmo reciente", "No quedan equipos", "No hay cambios de estado")
    )
    # Every department is a tile of the map; the demo's PCB sites are counted in theirs.
    assert spanish.count('class="tile l') == 25
    assert "Equipos con PCB por departamento: " in spanish
    # Each target with its status, labelled.
    statuses = ("En camino", "En riesgo", "Desviado", "Sin datos")
    assert sum(spanish.count(f">{s}</span>") for s in statuses) == 5
    english = (await gateway.get("/public", params={"lang": "en"})).text
    assert "PCB elimination curve" in english
    assert "PCB and UP-POPs action plan 2026-2030" in english
    assert "Removal from use 2025" in english


@pytest.mark.usefixtures("demo")
async def test_the_curve_and_the_plans_are_public_api(gateway: httpx.AsyncClient) -> None:
    curve = await gateway.get("/inventory/v1/public/pcb-curve")
    assert curve.status_code == 200
    assert curve.json()["years"]
    plans = await gateway.get("/inventory/v1/public/plans")
    assert plans.status_code == 200
    (plan,) = plans.json()["items"]
    detail = await gateway.get(f"/inventory/v1/public/plans/{plan['id']}")
    assert detail.status_code == 200
    assert len(detail.json()["targets"]) == 5
    # Writing stays guarded.
    assert (await gateway.post("/inventory/v1/plans", json={})).status_code == 401


async def test_activity_page_shows_money_and_indicators(
    gateway: httpx.AsyncClient, demo: str
) -> None:
    page = await gateway.get(f"/public/activities/{demo}", params={"lang": "en"})
    assert page.status_code == 200
    html = page.text
    assert "Environmental inspection and enforcement training for OEFA" in html
    # Budgets 60,000 + 45,000 + 40,000 + 15,000 USD; a 145,000 USD commitment.
    assert "160,000 USD" in html
    assert "145,000 USD" in html
    assert "OEFA staff trained as inspection trainers" in html
    assert html.count("<svg") >= 3  # money, and an indicator's two periods
    assert html.count("<desc") == html.count("<svg")

    spanish = await gateway.get(f"/public/activities/{demo}", params={"lang": "es"})
    assert "160\u00a0000 USD" in spanish.text
    assert "Capacitación en inspecciones y fiscalización ambiental" in spanish.text

    missing = await gateway.get("/public/activities/NOT-AN-ACTIVITY", params={"lang": "en"})
    assert missing.status_code == 404
    assert "does not exist or is not public" in missing.text


@pytest.mark.usefixtures("demo")
async def test_a_service_down_leaves_the_rest_of_the_page(
    gateway_app: FastAPI, gateway: httpx.AsyncClient
) -> None:
    clients = gateway_app.state.clients
    healthy = clients["inventory"]
    clients["inventory"] = httpx.AsyncClient(base_url=f"http://127.0.0.1:{closed_port()}")
    try:
        page = await gateway.get("/public", params={"lang": "en"})
    finally:
        await clients["inventory"].aclose()
        clients["inventory"] = healthy
    assert page.status_code == 200
    assert "These figures are not available right now." in page.text
    assert "Matrix of program US-PE-ECWP-2015-2018" in page.text


async def test_pages_in_a_browser_offline(
    served: str, browser: Browser, demo: str, tmp_path: Path
) -> None:
    for path in ("/public?lang=es", f"/public/activities/{demo}?lang=en"):
        blocked: list[str] = []
        page = await offline_page(browser, served, blocked)
        problems: list[str] = []
        page.on(
            "console", lambda m, seen=problems: seen.append(m.text) if m.type == "error" else None
        )
        page.on("pageerror", lambda e, seen=problems: seen.append(str(e)))
        answer = await page.goto(served + path)
        assert answer is not None
        assert answer.status == 200
        await page.screenshot(path=str(tmp_path / "page.png"), full_page=True)
        assert blocked == []
        assert problems == []
        checks = await page.evaluate(
            """() => ({
                lang: document.documentElement.lang,
                h1: document.querySelectorAll('h1').length,
                tables: document.querySelectorAll('table').length,
                uncaptioned: [...document.querySelectorAll('table')].filter(t => !t.caption).length,
                charts: document.querySelectorAll('svg[role=img]').length,
                unlabelled: [...document.querySelectorAll('svg')].filter(
                    s => !s.getAttribute('aria-labelledby') || !s.querySelector('desc')).length,
                styled: getComputedStyle(document.body).fontFamily.includes('system-ui'),
            })"""
        )
        assert checks["lang"] == path[-2:]
        assert checks["h1"] == 1
        assert checks["tables"] > 0
        assert checks["uncaptioned"] == 0
        assert checks["charts"] > 0
        assert checks["unlabelled"] == 0
        assert checks["styled"]  # the stylesheet came from the gateway itself
        await page.context.close()
