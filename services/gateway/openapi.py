"""One OpenAPI 3.1 document for the whole suite, and the documentation pages.

The gateway's own routes plus every service's document with its paths under the service
prefix, its schemas renamed ``<service>.<Name>`` (no collisions) and its operation ids
prefixed. Services declare per-route scopes with the same ``OAuth2`` client-credentials
scheme, so Swagger UI's "Authorize" works for every route.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import secrets
import time
from pathlib import Path
from typing import Any

import fastapi_offline
import httpx
from fastapi import APIRouter, FastAPI, Request
from fastapi.openapi.docs import get_redoc_html, get_swagger_ui_html
from fastapi.openapi.utils import get_openapi
from fastapi.responses import HTMLResponse, JSONResponse
from fastapi.staticfiles import StaticFiles

from shared.openapi_contract import apply_contract
from shared.security import bearer_scheme

log = logging.getLogger("enlace.gateway.openapi")
router = APIRouter(include_in_schema=False)
CACHE_S = 60.0
REF_PREFIX = "#/components/schemas/"


def _rename_refs(node: Any, service: str) -> Any:
    if isinstance(node, dict):
        return {
            k: (
                REF_PREFIX + f"{service}.{v[len(REF_PREFIX) :]}"
                if k == "$ref" and isinstance(v, str) and v.startswith(REF_PREFIX)
                else _rename_refs(v, service)
            )
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [_rename_refs(v, service) for v in node]
    return node


def merge(own: dict[str, Any], services: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The gateway's document with each service's paths and schemas folded in."""
    doc = copy.deepcopy(own)
    paths = doc.setdefault("paths", {})
    schemas = doc.setdefault("components", {}).setdefault("schemas", {})
    tags = {t["name"]: t for t in doc.get("tags", [])}
    for service, spec in services.items():
        spec = _rename_refs(spec, service)
        for name, schema in spec.get("components", {}).get("schemas", {}).items():
            schemas[f"{service}.{name}"] = schema
        for path, item in spec.get("paths", {}).items():
            for operation in item.values():
                if not isinstance(operation, dict):
                    continue
                if "operationId" in operation:
                    operation["operationId"] = f"{service}_{operation['operationId']}"
                operation["tags"] = [f"{service}: {t}" for t in operation.get("tags", [])] or [
                    service
                ]
                for tag in operation["tags"]:
                    tags.setdefault(tag, {"name": tag})
            paths[f"/{service}{path}"] = item
    doc["tags"] = list(tags.values())
    for service in services:  # one Problem schema for the whole suite
        for name in ("Problem", "ProblemError"):
            schemas.pop(f"{service}.{name}", None)
    apply_contract(doc)
    doc["components"]["securitySchemes"] = {
        "OAuth2": bearer_scheme.model.model_dump(mode="json", by_alias=True, exclude_none=True)
    }
    return doc


class MergedDocument:
    """The merged document, rebuilt at most once a minute (sooner while a service is missing)."""

    def __init__(self) -> None:
        self._doc: dict[str, Any] | None = None
        self._built = float("-inf")
        self._lock = asyncio.Lock()

    async def get(self, app: FastAPI) -> dict[str, Any]:
        async with self._lock:
            if self._doc is None or time.monotonic() - self._built > CACHE_S:
                self._doc, complete = await self._build(app)
                # A document missing a service is rebuilt on the next request.
                self._built = time.monotonic() if complete else float("-inf")
            return self._doc

    async def _build(self, app: FastAPI) -> tuple[dict[str, Any], bool]:
        own = get_openapi(
            title=app.title,
            version=app.version,
            description=app.description,
            routes=app.routes,
        )
        clients: dict[str, httpx.AsyncClient] = app.state.clients
        names = list(clients)
        results = await asyncio.gather(
            *(clients[n].get("/openapi.json", timeout=5.0) for n in names), return_exceptions=True
        )
        services = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, httpx.Response) and result.status_code == 200:
                services[name] = result.json()
            else:
                log.warning("no OpenAPI document from %s", name)
        return merge(own, services), len(services) == len(names)


@router.get("/openapi.json")
async def openapi_json(request: Request) -> JSONResponse:
    """The merged OpenAPI 3.1 document."""
    merged: MergedDocument = request.app.state.openapi
    return JSONResponse(await merged.get(request.app))


# Swagger UI, ReDoc and the favicon are served by the gateway itself, from the pinned
# fastapi-offline package: the pages work on closed networks and nothing loads from a CDN.
# Inline scripts run only with the page's nonce; Swagger UI and ReDoc set inline styles.
ASSETS_PATH = "/docs/assets"
_ASSETS_DIR = Path(fastapi_offline.__file__).parent / "static"
_DOCS_CSP = (
    "default-src 'none'; "
    "script-src 'self' 'nonce-{nonce}'; "
    "style-src 'self' 'unsafe-inline'; "
    "font-src 'self' data:; "
    "img-src 'self' data:; "
    "connect-src 'self'; "
    "worker-src blob:; "
    "base-uri 'none'; form-action 'self'; object-src 'none'; frame-ancestors 'none'"
)


def mount_assets(app: FastAPI) -> None:
    """Serve the documentation pages' scripts, styles and favicon under ``ASSETS_PATH``."""
    app.mount(ASSETS_PATH, StaticFiles(directory=_ASSETS_DIR), name="docs-assets")


def docs_page(page: HTMLResponse) -> HTMLResponse:
    """``page`` that cannot be framed (people type client secrets there), under a strict CSP."""
    nonce = secrets.token_urlsafe(16)
    html = bytes(page.body).decode().replace("<script>", f'<script nonce="{nonce}">')
    return HTMLResponse(
        html,
        headers={
            "Content-Security-Policy": _DOCS_CSP.format(nonce=nonce),
            "X-Frame-Options": "DENY",
            "Referrer-Policy": "no-referrer",
            "Cache-Control": "no-store",
        },
    )


@router.get("/docs")
async def swagger_ui() -> HTMLResponse:
    """Swagger UI; "Authorize" takes a client id and secret (client credentials)."""
    return docs_page(
        get_swagger_ui_html(
            openapi_url="/openapi.json",
            title="Enlace API",
            swagger_js_url=f"{ASSETS_PATH}/swagger-ui-bundle.js",
            swagger_css_url=f"{ASSETS_PATH}/swagger-ui.css",
            swagger_favicon_url=f"{ASSETS_PATH}/favicon.png",
            init_oauth={"clientId": "", "scopes": ""},
            # No badge fetched from validator.swagger.io.
            swagger_ui_parameters={"validatorUrl": None},
        )
    )


@router.get("/redoc")
async def redoc() -> HTMLResponse:
    """ReDoc."""
    return docs_page(
        get_redoc_html(
            openapi_url="/openapi.json",
            title="Enlace API",
            redoc_js_url=f"{ASSETS_PATH}/redoc.standalone.js",
            redoc_favicon_url=f"{ASSETS_PATH}/favicon.png",
            with_google_fonts=False,
        )
    )
