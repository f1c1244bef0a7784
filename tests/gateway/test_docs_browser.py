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
