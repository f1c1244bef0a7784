"""The documentation pages in a real browser (Debian's chromium driven by Playwright), with
every request that leaves the machine blocked: what loads only from a CDN is broken on the
closed networks the ministries use."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import AsyncIterator
from urllib.parse import urlsplit

import pytest
import uvicorn
from fastapi import FastAPI
from playwright.async_api import Browser, Page, Route, async_playwright

from tests.conftest import TEST_SECRET, Tokens
from tests.support import closed_port

CHROMIUM = "/usr/bin/chromium"


@pytest.fixture
async def served(gateway_app: FastAPI) -> AsyncIterator[str]:
    """The test's gateway (lifespan already started) behind a real uvicorn server."""
    port = closed_port()
    config = uvicorn.Config(
        gateway_app, host="127.0.0.1", port=port, lifespan="off", log_level="warning"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture
async def browser() -> AsyncIterator[Browser]:
    if not shutil.which(CHROMIUM):
        pytest.fail(f"browser tests need Debian's chromium at {CHROMIUM} (.ci/run installs it)")
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            await browser.close()


async def offline_page(browser: Browser, base: str, blocked: list[str]) -> Page:
    """A page that may reach ``base`` only; every other request is aborted and recorded."""
    context = await browser.new_context()
    local = urlsplit(base).netloc

    async def only_local(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == local or url.startswith(("data:", "blob:")):
            await route.continue_()
        else:
            blocked.append(url)
            await route.abort()

    await context.route("**/*", only_local)
    return await context.new_page()


async def test_swagger_ui_works_offline_authorize_and_call_a_protected_route(
    served: str, browser: Browser, tokens: Tokens
) -> None:
    await tokens.register("docs-reader", "MINAM", "inventory:read")
    blocked: list[str] = []
    page = await offline_page(browser, served, blocked)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    await page.goto(f"{served}/docs")
    await page.locator(".swagger-ui .info .title").wait_for(timeout=20_000)
    assert "Enlace" in await page.locator(".swagger-ui .info .title").inner_text()

    await page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    await dialog.locator("input[id^='client_id']").first.fill("docs-reader")
    await dialog.locator("input[id^='client_secret']").first.fill(TEST_SECRET)
    scope = dialog.locator("input[data-value='inventory:read']").first
    await dialog.locator(f"label[for='{await scope.get_attribute('id')}']").first.click()
    await dialog.locator("button.modal-btn.authorize").first.click()
    await dialog.get_by_text("Authorized", exact=True).wait_for(timeout=20_000)
    await dialog.locator("button.btn-done").first.click()

    operation = page.locator("#operations-inventory-list_holders_inventory_v1_holders_get")
    if not await operation.count():
        operation = page.locator("[id^='operations-'][id$='v1_holders_get']").first
    await operation.locator(".opblock-summary").first.click()
    await operation.get_by_role("button", name="Try it out").click()
    await operation.get_by_role("button", name="Execute").click()
    status = operation.locator(".live-responses-table .response .response-col_status").first
    await status.wait_for(timeout=20_000)
    assert (await status.inner_text()).strip() == "200"

    assert blocked == []
    assert errors == []


async def test_redoc_renders_offline(served: str, browser: Browser) -> None:
    blocked: list[str] = []
    page = await offline_page(browser, served, blocked)
    await page.goto(f"{served}/redoc")
    await page.get_by_text("/inventory/v1/holders").first.wait_for(timeout=30_000)
    assert blocked == []


async def test_swagger_ui_shows_a_wrong_secret_in_the_dialog(
    served: str, browser: Browser, tokens: Tokens
) -> None:
    await tokens.register("docs-typo", "MINAM", "inventory:read")
    blocked: list[str] = []
    page = await offline_page(browser, served, blocked)
    await page.goto(f"{served}/docs")
    await page.locator("button.authorize").first.click()
    dialog = page.locator(".dialog-ux")
    await dialog.locator("input[id^='client_id']").first.fill("docs-typo")
    await dialog.locator("input[id^='client_secret']").first.fill("not-the-secret")
    await dialog.locator("button.modal-btn.authorize").first.click()
    error = dialog.locator(".errors")
    await error.first.wait_for(timeout=20_000)
    assert "invalid_client" in await error.first.inner_text()
    assert await dialog.get_by_text("Authorized", exact=True).count() == 0
    assert blocked == []


@pytest.mark.parametrize(
    ("locale", "heading", "lang"),
    [("es-PE", "Documentación", "es"), ("en-GB", "API documentation", "en")],
)
async def test_landing_page_speaks_the_browser_language_and_every_link_works(
    served: str, browser: Browser, locale: str, heading: str, lang: str
) -> None:
    context = await browser.new_context(locale=locale)
    blocked: list[str] = []

    async def only_local(route: Route) -> None:
        if urlsplit(route.request.url).netloc == urlsplit(served).netloc:
            await route.continue_()
        else:
            blocked.append(route.request.url)
            await route.abort()

    await context.route("**/*", only_local)
    page = await context.new_page()
    response = await page.goto(f"{served}/")
    assert response is not None
    assert response.status == 200
    assert await page.locator("html").get_attribute("lang") == lang
    await page.get_by_role("heading", name=heading).wait_for(timeout=10_000)
    hrefs = await page.locator("a").evaluate_all("links => links.map(a => a.href)")
    assert any(h.endswith("/docs") for h in hrefs)
    assert any("/public/" in h for h in hrefs)
    for href in hrefs:
        answer = await page.request.get(href)
        if answer.status == 404 and href.endswith(".xml"):
            # The test database holds no activity: the export says so (a valid IATI document
            # needs at least one), which shows the route is there.
            assert "nothing to export" in (await answer.json())["detail"]
            continue
        assert answer.status == 200, href
    # The switch to the other language.
    await page.locator("a[hreflang]").click()
    other = "en" if lang == "es" else "es"
    await page.wait_for_function(f"document.documentElement.lang === '{other}'")
    assert blocked == []
